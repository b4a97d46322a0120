// Bilevel document TIFFs (fixtures/documents, made by scripts/make-document-fixtures.sh): every
// orientation comes out as exactly the upright bits, in its own compression, still 1 bit per
// sample, with its metadata; a multi-page file keeps its further pages byte for byte.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { entryInt, readIfd, tiffByteOrder, TiffView, type Ifd } from '../src/metadata/tiff.js';
import { normalizeFile } from '../src/index.js';
import { copyToTemp, FIXTURES, tempDir } from './helpers.js';

const DOCS = path.join(FIXTURES, 'documents');
const TAGS = { BitsPerSample: 258, Compression: 259, Photometric: 262, StripOffsets: 273, Orientation: 274, StripByteCounts: 279, XResolution: 282, YResolution: 283, Make: 271, XMP: 700 };

/** Every IFD of the main chain with a view to read it. */
function pages(bytes: Uint8Array): { t: TiffView; ifds: Ifd[] } {
  const t = new TiffView(bytes, tiffByteOrder(bytes));
  const ifds: Ifd[] = [];
  for (let at = t.u32(4); at !== 0; at = ifds.at(-1)!.next) ifds.push(readIfd(t, at));
  return { t, ifds };
}

const int = (t: TiffView, ifd: Ifd, tag: number) => entryInt(t, ifd.entries.get(tag));
const valueBytes = (t: TiffView, ifd: Ifd, tag: number) => {
  const e = ifd.entries.get(tag)!;
  return Buffer.from(t.bytes.subarray(e.valueOffset, e.valueOffset + e.byteLength));
};

/** The decoded bits of a page as one byte per pixel (0 black, 255 white). */
async function bits(file: string | Buffer, page = 0) {
  const { data, info } = await sharp(file, { page }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function normalizeDoc(name: string) {
  const input = await copyToTemp(path.join(DOCS, name));
  const output = path.join(await tempDir(), name);
  const result = await normalizeFile(input, output);
  expect(result.error).toBeNull();
  return { result, out: await readFile(output), original: await readFile(input) };
}

describe.each([
  { set: 'g4', compression: 4 },
  { set: 'packbits', compression: 32773 },
  { set: 'lzw-1bit', compression: 5 },
])('$set bilevel TIFF', ({ set, compression }) => {
  it.each([2, 3, 4, 5, 6, 7, 8])('orientation %i becomes bit-exactly the upright page, compression and 1 bit per sample kept', async (o) => {
    const { result, out, original } = await normalizeDoc(`${set}_${o}.tif`);
    expect(result.action).toBe('rotated');
    expect(await bits(out)).toEqual(await bits(path.join(DOCS, 'upright.png')));
    const { t, ifds } = pages(out);
    const src = pages(original);
    expect(ifds).toHaveLength(1);
    const ifd = ifds[0];
    expect(int(t, ifd, TAGS.Compression)).toBe(compression);
    expect(int(t, ifd, TAGS.BitsPerSample)).toBe(1);
    expect(int(t, ifd, TAGS.Photometric)).toBe(int(src.t, src.ifds[0], TAGS.Photometric));
    expect(int(t, ifd, TAGS.Orientation)).toBe(1);
    expect(valueBytes(t, ifd, TAGS.Make).toString('latin1')).toBe('ScanCo\0');
    expect(valueBytes(t, ifd, TAGS.XMP).toString('utf8')).toMatch(/<tiff:Orientation>1<\/tiff:Orientation>/);
    const swapped = o >= 5;
    const xres = valueBytes(src.t, src.ifds[0], swapped ? TAGS.YResolution : TAGS.XResolution);
    expect(valueBytes(t, ifd, TAGS.XResolution).equals(xres)).toBe(true);
  });
});

describe('CCITT Group 3 TIFF', () => {
  it.each([3, 6])('orientation %i becomes the same bits in Group 4, with a warning', async (o) => {
    const { result, out } = await normalizeDoc(`g3_${o}.tif`);
    expect(await bits(out)).toEqual(await bits(path.join(DOCS, 'upright.png')));
    const { t, ifds } = pages(out);
    expect(int(t, ifds[0], TAGS.Compression)).toBe(4);
    expect(int(t, ifds[0], TAGS.BitsPerSample)).toBe(1);
    expect(result.warnings).toContain('CCITT Group 3 TIFF re-encoded as Group 4 (the same bits): libvips cannot write Group 3');
  });
});

describe('multi-page TIFF', () => {
  it('normalizes the first page by its own orientation and keeps the other pages byte for byte', async () => {
    const { result, out, original } = await normalizeDoc('multipage-g4_6.tif');
    expect(result.action).toBe('rotated');
    expect(result.warnings).toContain('page 3 has its own orientation 3; only the first page is normalized, the others are kept as they are');
    expect(await bits(out, 0)).toEqual(await bits(path.join(DOCS, 'upright.png')));
    const before = pages(original);
    const after = pages(out);
    expect(after.ifds).toHaveLength(3);
    expect(int(after.t, after.ifds[0], TAGS.Compression)).toBe(4);
    for (const k of [1, 2]) {
      const a = before.ifds[k];
      const b = after.ifds[k];
      expect([...b.entries.keys()]).toEqual([...a.entries.keys()]);
      for (const tag of a.entries.keys()) {
        if (tag === TAGS.StripOffsets) continue;
        expect(valueBytes(after.t, b, tag).equals(valueBytes(before.t, a, tag)), `page ${k + 1} tag ${tag}`).toBe(true);
      }
      const strip = (p: ReturnType<typeof pages>, ifd: Ifd) => Buffer.from(p.t.bytes.subarray(int(p.t, ifd, TAGS.StripOffsets)!, int(p.t, ifd, TAGS.StripOffsets)! + int(p.t, ifd, TAGS.StripByteCounts)!));
      expect(strip(after, b).equals(strip(before, a))).toBe(true);
      expect((await bits(out, k)).data.equals((await bits(original, k)).data)).toBe(true);
    }
  });
});
