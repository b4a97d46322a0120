import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { png } from '../src/containers/png.js';
import { normalizeFile, readOrientation } from '../src/index.js';
import { fixPngCrcs } from '../scripts/fuzz-long.js';
import { EXIFR_OPTIONS, expectDamagedFilesHandled, expectExifFactsKept, FIXTURES, copyToTemp, pixels, tempDir, normalizeFixtureCopy } from './helpers.js';

interface PngSet {
  readonly name: string;
  readonly ext: string;
  /** The orientation places the fixture has, in file order. */
  readonly sources: ReadonlyArray<'exif' | 'exif-raw-profile' | 'xmp'>;
  readonly depth16: boolean;
  /** PNG colour type of the output (PNG spec table 11.1): grey stays grey, palette with tRNS becomes RGBA. */
  readonly colourType: number;
}

const SETS: PngSet[] = [
  { name: 'png-exif', ext: 'png', sources: ['exif'], depth16: false, colourType: 2 },
  { name: 'png-xmp', ext: 'png', sources: ['xmp'], depth16: false, colourType: 2 },
  { name: 'png-rawprofile', ext: 'PNG', sources: ['exif-raw-profile'], depth16: false, colourType: 2 },
  { name: 'png-16bit', ext: 'png', sources: ['exif'], depth16: true, colourType: 2 },
  { name: 'png-alpha', ext: 'png', sources: ['exif', 'xmp'], depth16: false, colourType: 6 },
  { name: 'png-grey', ext: 'png', sources: ['exif'], depth16: false, colourType: 0 },
  { name: 'png-palette', ext: 'png', sources: ['exif'], depth16: false, colourType: 6 },
];
const fixture = (set: PngSet, o: number) => path.join(FIXTURES, 'orientation', set.name, `${set.name}_${o}.${set.ext}`);

/** A chunk as this test's own walker sees it (PNG spec section 5.3), independent of src/. */
interface Chunk {
  type: string;
  data: Buffer;
  crcOk: boolean;
}

function chunksOf(png: Buffer): Chunk[] {
  const out: Chunk[] = [];
  let p = 8;
  while (p + 12 <= png.length) {
    const length = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    const data = png.subarray(p + 8, p + 8 + length);
    const crcOk = zlib.crc32(png.subarray(p + 4, p + 8 + length)) === png.readUInt32BE(p + 8 + length);
    out.push({ type, data, crcOk });
    p += 12 + length;
    if (type === 'IEND') break;
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** Inserts chunks right after IHDR. */
function withChunks(png: Buffer, ...chunks: Buffer[]): Buffer {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

function textOf(c: Chunk): { keyword: string; text: string } {
  const k = c.data.indexOf(0);
  const keyword = c.data.toString('latin1', 0, k);
  if (c.type === 'tEXt') return { keyword, text: c.data.toString('latin1', k + 1) };
  if (c.type === 'zTXt') return { keyword, text: zlib.inflateSync(c.data.subarray(k + 2)).toString('latin1') };
  const compressed = c.data[k + 1] === 1;
  const lang = c.data.indexOf(0, k + 3);
  const translated = c.data.indexOf(0, lang + 1);
  const field = c.data.subarray(translated + 1);
  return { keyword, text: (compressed ? zlib.inflateSync(field) : field).toString('utf8') };
}

/** The EXIF TIFF structures of a PNG: eXIf chunks and hex-decoded ImageMagick raw profiles. */
function exifBlobs(chunks: Chunk[]): Buffer[] {
  const blobs: Buffer[] = [];
  for (const c of chunks) {
    if (c.type === 'eXIf') blobs.push(c.data);
    if (c.type === 'tEXt' || c.type === 'zTXt' || c.type === 'iTXt') {
      const { keyword, text } = textOf(c);
      if (keyword !== 'Raw profile type exif') continue;
      const [, name, length, ...hex] = text.split('\n');
      expect(name).toBe('exif');
      const bytes = Buffer.from(hex.join(''), 'hex');
      expect(bytes.length).toBe(Number(length));
      expect(hex.slice(0, -2).every((line) => line.length === 72)).toBe(true);
      blobs.push(bytes.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? bytes.subarray(6) : bytes);
    }
  }
  return blobs;
}

function xmpOf(chunks: Chunk[]): string | undefined {
  const c = chunks.find((k) => k.type === 'iTXt' && textOf(k).keyword === 'XML:com.adobe.xmp');
  return c ? textOf(c).text : undefined;
}


/** Chunks the writer must carry over byte for byte (with new pixels too). */
const VERBATIM = new Set(['iCCP', 'tEXt', 'tIME', 'prVt', 'gAMA', 'sBIT']);

describe.each(SETS)('$name', (set) => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i comes out upright, bit-exact, with its metadata kept', async (o) => {
    const { dir, input, output, result } = await normalizeFixtureCopy(fixture(set, o), o);
    expect(result.places.map((p) => p.source)).toEqual(set.sources);

    const inBytes = await readFile(input);
    const out = await readFile(output);
    const reference = await pixels(fixture(set, 1), { depth16: set.depth16 });
    const actual = await pixels(out, { depth16: set.depth16 });
    expect([actual.width, actual.height]).toEqual([reference.width, reference.height]);
    expect(actual.channels).toBe(set.colourType === 6 ? 4 : 3); // sharp's raw output expands grey to RGB
    expect(actual.data.equals(reference.data)).toBe(true);
    if (o !== 1) expect((await pixels(inBytes, { depth16: set.depth16 })).data.equals(reference.data)).toBe(false);
    const meta = await sharp(out).metadata();
    expect(meta.depth).toBe(set.depth16 ? 'ushort' : 'uchar');

    // Every place says 1, by exif-fix's reader and by this test's own.
    const reading = readOrientation(out);
    expect(reading?.places).toEqual(set.sources.map((source) => ({ source, value: 1 })));
    const inChunks = chunksOf(inBytes);
    const outChunks = chunksOf(out);
    expect(outChunks.every((c) => c.crcOk)).toBe(true);
    expect(outChunks[0].type).toBe('IHDR');
    expect(outChunks[0].data[9]).toBe(o === 1 ? inBytes[25] : set.colourType); // a copy keeps its palette
    expect(outChunks[0].data[8]).toBe(set.depth16 ? 16 : 8);
    expect(outChunks.at(-1)?.type).toBe('IEND');
    const firstIdat = outChunks.findIndex((c) => c.type === 'IDAT');
    const lastIdat = outChunks.findLastIndex((c) => c.type === 'IDAT');
    expect(outChunks.slice(firstIdat, lastIdat + 1).every((c) => c.type === 'IDAT')).toBe(true);

    const blobs = exifBlobs(outChunks);
    expect(blobs.length).toBe(set.sources.filter((s) => s !== 'xmp').length);
    for (const blob of blobs) {
      const tags = await exifr.parse(blob, EXIFR_OPTIONS);
      expect(tags.ifd0.Orientation).toBe(1);
      if (tags.ifd1?.Orientation !== undefined) expect(tags.ifd1.Orientation).toBe(1);
      expectExifFactsKept(tags, reference);
    }
    if (set.sources.includes('exif')) {
      const whole = await exifr.parse(out, EXIFR_OPTIONS);
      expect(whole.ifd0.Orientation).toBe(1);
    }
    const xmp = xmpOf(outChunks);
    expect(xmp !== undefined).toBe(set.sources.includes('xmp'));
    if (xmp !== undefined) {
      expect(xmp).toMatch(/tiff:Orientation(="1"|>1<)/);
      expect(xmp).toContain(`exif:PixelXDimension="${reference.width}"`);
      expect(xmp).toContain(`exif:PixelYDimension="${reference.height}"`);
      expect(xmp).toContain('exif-fix fixture');
      expect(xmp).toContain('<rdf:li>train</rdf:li>');
    }

    // Other chunks: kept byte for byte, on the same side of the image data.
    const inIdat = inChunks.findIndex((c) => c.type === 'IDAT');
    for (const [i, c] of inChunks.entries()) {
      if (!VERBATIM.has(c.type)) continue;
      const j = outChunks.findIndex((k) => k.type === c.type && k.data.equals(c.data));
      expect(j, `${c.type} kept`).toBeGreaterThan(0);
      expect(j < firstIdat).toBe(i < inIdat);
    }
    const pHYs = chunksOf(await readFile(fixture(set, 1))).find((c) => c.type === 'pHYs');
    if (pHYs) expect(outChunks.find((c) => c.type === 'pHYs')?.data).toEqual(pHYs.data);
    const thumb = set.sources.includes('exif') ? await exifr.thumbnail(out) : undefined;
    if (thumb) {
      const got = await sharp(thumb).metadata();
      const expected = await sharp((await exifr.thumbnail(fixture(set, 1))) as Uint8Array).metadata();
      expect([got.width, got.height]).toEqual([expected.width, expected.height]);
    }
    const bkgd = outChunks.find((c) => c.type === 'bKGD');
    const inBkgd = inChunks.find((c) => c.type === 'bKGD');
    expect(bkgd !== undefined).toBe(inBkgd !== undefined);
    if (set.name === 'png-palette' && bkgd && inBkgd && o !== 1) {
      const plte = inChunks.find((c) => c.type === 'PLTE')!.data;
      const i = inBkgd.data[0];
      expect([...bkgd.data]).toEqual([0, plte[3 * i], 0, plte[3 * i + 1], 0, plte[3 * i + 2]]);
    } else if (bkgd && inBkgd) expect(bkgd.data).toEqual(inBkgd.data);

    // Running again on the output changes nothing.
    const again = path.join(dir, 'again', path.basename(input));
    const second = await normalizeFile(output, again);
    expect(second.action).toBe('copied');
    expect((await readFile(again)).equals(out)).toBe(true);
  });
});

describe('PNG edge cases', () => {
  it('reads and rewrites damaged files only ever to a result or an ExifFixError', async () => {
    const files = await Promise.all(SETS.map((set) => readFile(fixture(set, 6))));
    // Recompute the CRCs so the damage reaches the chunk contents, not just the CRC check.
    await expectDamagedFilesHandled(png, files, fixPngCrcs);
  });

  it('fails a PNG with a bad CRC, naming the file and the CRC', async () => {
    const input = await copyToTemp(path.join(FIXTURES, 'bad', 'bad-crc.png'));
    const result = await normalizeFile(input, path.join(path.dirname(input), 'out.png'));
    expect(result.action).toBe('failed');
    expect(result.error).toContain('bad-crc.png');
    expect(result.error).toMatch(/IDAT has a bad CRC/);
  });

  it('skips only the IDAT CRCs when reading for orientation alone (headerOnly)', async () => {
    const bad = await readFile(path.join(FIXTURES, 'bad', 'bad-crc.png'));
    expect(() => png.read(bad)).toThrow(/IDAT has a bad CRC/);
    expect(png.read(bad, { headerOnly: true }).width).toBe(bad.readUInt32BE(16));
    const badText = withChunks(await readFile(fixture(SETS[0], 6)), chunk('tEXt', Buffer.from('Note\0x')));
    badText[badText.indexOf('tEXtNote') + 10] ^= 0xff;
    expect(() => png.read(badText, { headerOnly: true })).toThrow(/tEXt has a bad CRC/);
  });

  it('rejects a zTXt bomb without inflating it all', async () => {
    const dir = await tempDir();
    const base = await readFile(fixture(SETS[0], 6));
    const bomb = zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x30), { level: 9 });
    const input = path.join(dir, 'bomb.png');
    await writeFile(input, withChunks(base, chunk('zTXt', Buffer.concat([Buffer.from('Raw profile type exif\0\0', 'latin1'), bomb]))));
    const result = await normalizeFile(input, path.join(dir, 'out.png'));
    expect(result.action).toBe('failed');
    expect(result.error).toContain('bomb.png');
    expect(result.error).toMatch(/inflates to more than 16777216 bytes/);
  });

  it('fixes an XMP orientation that disagrees with eXIf without touching the pixels', async () => {
    const dir = await tempDir();
    const base = await readFile(fixture(SETS[0], 1));
    const xmp = (await readFile(fixture(SETS[1], 6))).subarray(0);
    const itxt = chunksOf(xmp).find((c) => c.type === 'iTXt')!;
    const input = path.join(dir, 'disagree.png');
    await writeFile(input, withChunks(base, chunk('iTXt', itxt.data)));
    const output = path.join(dir, 'out.png');
    const result = await normalizeFile(input, output);
    expect(result.error).toBeNull();
    expect(result.action).toBe('metadata');
    expect(result.warnings.join('\n')).toMatch(/XMP tiff:Orientation says 6/);
    const out = await readFile(output);
    const inChunks = chunksOf(await readFile(input));
    const outChunks = chunksOf(out);
    expect(outChunks.map((c) => c.type)).toEqual(inChunks.map((c) => c.type));
    for (const [i, c] of inChunks.entries()) if (c.type !== 'iTXt') expect(outChunks[i].data.equals(c.data)).toBe(true);
    expect(xmpOf(outChunks)).toMatch(/<tiff:Orientation>1<\/tiff:Orientation>/);
    expect(readOrientation(out)?.places).toEqual([{ source: 'xmp', value: 1 }, { source: 'exif', value: 1 }]);
  });

  it('refuses an animated PNG whose orientation is not 1', async () => {
    const dir = await tempDir();
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(1, 0);
    const input = path.join(dir, 'animated.png');
    await writeFile(input, withChunks(await readFile(fixture(SETS[0], 6)), chunk('acTL', actl)));
    const result = await normalizeFile(input, path.join(dir, 'out.png'));
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/animated\.png.*animated PNG \(acTL chunk\) is not supported when the pixels must change/);
  });

  it('drops an unknown chunk that is not safe to copy when the pixels change, with a warning', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'unsafe.png');
    await writeFile(input, withChunks(await readFile(fixture(SETS[0], 8)), chunk('prVT', Buffer.from('depends on pixels'))));
    const output = path.join(dir, 'out.png');
    const result = await normalizeFile(input, output);
    expect(result.action).toBe('rotated');
    expect(result.warnings.join('\n')).toMatch(/prVT is unknown and not safe to copy/);
    const types = chunksOf(await readFile(output)).map((c) => c.type);
    expect(types).not.toContain('prVT');
    expect(types).toContain('prVt');
  });
});
