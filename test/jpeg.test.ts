import { readFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseJpeg } from '../src/containers/jpeg-structure.js';
import { normalizeFile, readOrientation } from '../src/index.js';
import { EXIFR_OPTIONS, expectExifFactsKept, FIXTURES, meanAbsDiff, normalizeFixtureCopy, pixels, tempDir } from './helpers.js';

const SETS = [
  { name: 'jpeg-420', ext: 'jpg', chroma: '4:2:0', cmyk: false },
  { name: 'jpeg-444', ext: 'JPG', chroma: '4:4:4', cmyk: false },
  { name: 'jpeg-cmyk', ext: 'jpeg', chroma: undefined, cmyk: true },
];
const fixture = (set: (typeof SETS)[number], o: number) => path.join(FIXTURES, 'orientation', set.name, `${set.name}_${o}.${set.ext}`);

/** The bytes of every APP2 ICC_PROFILE segment payload, concatenated (ICC.1 annex B.4). */
function iccBytes(jpeg: Buffer): Buffer {
  const s = parseJpeg(jpeg);
  const parts = s.segments
    .filter((g) => g.marker === 0xe2 && jpeg.subarray(g.dataOffset, g.dataOffset + 12).toString('latin1') === 'ICC_PROFILE\0')
    .map((g) => jpeg.subarray(g.dataOffset + 14, g.dataOffset + g.dataLength));
  return Buffer.concat(parts);
}

function xmpText(jpeg: Buffer): string {
  const s = parseJpeg(jpeg);
  const seg = s.segments.find((g) => g.marker === 0xe1 && jpeg.subarray(g.dataOffset, g.dataOffset + 28).toString('latin1') === 'http://ns.adobe.com/xap/1.0/');
  return seg ? jpeg.subarray(seg.dataOffset + 29, seg.dataOffset + seg.dataLength).toString('utf8') : '';
}

const EXIFR_WITH_IPTC = { ...EXIFR_OPTIONS, iptc: true };

describe.each(SETS)('$name', (set) => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i comes out upright with its metadata kept', async (o) => {
    const { dir, input, output, result } = await normalizeFixtureCopy(fixture(set, o), o);
    expect(result.source).toBe('exif');

    const out = await readFile(output);
    const reference = await pixels(fixture(set, 1), { cmyk: set.cmyk });
    const actual = await pixels(out, { cmyk: set.cmyk });
    expect([actual.width, actual.height]).toEqual([reference.width, reference.height]);
    expect(actual.channels).toBe(set.cmyk ? 4 : 3);
    expect(meanAbsDiff(actual, reference)).toBeLessThan(3);
    if (o === 3) expect(meanAbsDiff(await pixels(fixture(set, 3), { cmyk: set.cmyk }), reference)).toBeGreaterThan(30);

    const meta = await sharp(out).metadata();
    expect(meta.space).toBe(set.cmyk ? 'cmyk' : 'srgb');
    if (set.chroma) expect(meta.chromaSubsampling).toBe(set.chroma);
    // 45x29 is not a multiple of any iMCU size, so only transpose (5) is perfect: it takes the
    // lossless path (baseline output by design); every other value is re-encoded, keeping the
    // progressive mode.
    if (o > 1) expect(result.method).toBe(o === 5 ? 'lossless' : 'reencode');
    const before = await sharp(fixture(set, o)).metadata();
    if (result.method === 'reencode') expect(meta.isProgressive).toBe(before.isProgressive);

    const reading = readOrientation(out);
    expect(reading?.places).toEqual([
      { source: 'exif', value: 1 },
      { source: 'xmp', value: 1 },
    ]);
    const tags = await exifr.parse(out, EXIFR_WITH_IPTC);
    expect(tags.ifd0.Orientation).toBe(1);
    expect(tags.ifd1.Orientation).toBe(1);
    expectExifFactsKept(tags, reference);
    expect(tags.iptc.Keywords).toEqual(['cat', 'train']);
    const xmp = xmpText(out);
    expect(xmp).toContain('tiff:Orientation="1"');
    expect(xmp).toContain(`exif:PixelXDimension="${reference.width}"`);
    expect(xmp).toContain('<rdf:li>train</rdf:li>');
    expect(iccBytes(out)).toEqual(iccBytes(await readFile(fixture(set, o))));

    // The thumbnail is upright too: it matches the upright file's thumbnail.
    const thumb = await pixels(Buffer.from((await exifr.thumbnail(out)) as Uint8Array));
    const uprightThumb = await pixels(Buffer.from((await exifr.thumbnail(fixture(set, 1))) as Uint8Array));
    expect([thumb.width, thumb.height]).toEqual([uprightThumb.width, uprightThumb.height]);
    expect(meanAbsDiff(thumb, uprightThumb)).toBeLessThan(20);
    if (o === 3) {
      // The threshold tells orientations apart: the sideways thumbnail is far from the upright one.
      const sideways = await pixels(Buffer.from((await exifr.thumbnail(fixture(set, 3))) as Uint8Array));
      expect(meanAbsDiff(sideways, uprightThumb)).toBeGreaterThan(40);
    }

    // Idempotent: the output is already upright, so a second run copies it byte for byte.
    const again = path.join(dir, 'again', path.basename(input));
    const second = await normalizeFile(output, again);
    expect(second.action).toBe('copied');
    expect(await readFile(again)).toEqual(out);
  });
});

describe('JPEG re-encoding', () => {
  it('keeps the estimated quality of the source within one step', async () => {
    const dir = await tempDir();
    for (const q of [60, 85, 95]) {
      const src = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
        .withMetadata({ orientation: 6 })
        .jpeg({ quality: q })
        .toBuffer();
      const input = path.join(dir, `q${q}.jpg`);
      await import('node:fs/promises').then((fs) => fs.writeFile(input, src));
      const result = await normalizeFile(input, path.join(dir, `out-q${q}.jpg`));
      expect(result.action).toBe('rotated');
      const { estimateQuality } = await import('../src/containers/jpeg-structure.js');
      expect(estimateQuality(parseJpeg(src).quantTables)).toBe(q);
      const outQuality = estimateQuality(parseJpeg(await readFile(path.join(dir, `out-q${q}.jpg`))).quantTables);
      expect(Math.abs(outQuality - q)).toBeLessThanOrEqual(1);
    }
  });

  it('rewrites an invalid orientation (0) as 1 without touching the pixel data', async () => {
    const dir = await tempDir();
    const src = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#a33' } })
      .withExif({ IFD0: { Make: 'x' } })
      .jpeg()
      .toBuffer();
    // Set IFD0 Orientation to 0 by hand: sharp refuses to write an invalid value.
    const s = parseJpeg(src);
    const app1 = s.segments.find((g) => g.marker === 0xe1)!;
    const { parseTiff, TAG } = await import('../src/metadata/tiff.js');
    const tiffStart = app1.dataOffset + 6;
    const t = parseTiff(src.subarray(tiffStart, app1.dataOffset + app1.dataLength));
    const entry = t.ifd0.entries.get(TAG.Orientation)!;
    const patched = Buffer.from(src);
    patched.writeUInt16LE(0, tiffStart + entry.valueOffset); // sharp writes little-endian EXIF
    const input = path.join(dir, 'zero.jpg');
    await import('node:fs/promises').then((fs) => fs.writeFile(input, patched));
    const result = await normalizeFile(input, path.join(dir, 'out.jpg'));
    expect(result.action).toBe('metadata');
    expect(result.warnings.join('\n')).toMatch(/orientation 0 .* outside 1-8/);
    const out = await readFile(path.join(dir, 'out.jpg'));
    expect(readOrientation(out)?.places).toEqual([{ source: 'exif', value: 1 }]);
    // Same entropy-coded data: the scan bytes are untouched.
    const scan = (b: Buffer) => {
      const g = parseJpeg(b).segments.find((x) => x.marker === 0xda)!;
      return b.subarray(g.offset, g.end);
    };
    expect(scan(out)).toEqual(scan(patched));
  });

  it('lets EXIF win over a disagreeing XMP value, with a warning, and sets both to 1', async () => {
    const dir = await tempDir();
    const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/"><tiff:Orientation>8</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>';
    const src = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a3' } })
      .withMetadata({ orientation: 6 })
      .withXmp(xmp)
      .jpeg()
      .toBuffer();
    const input = path.join(dir, 'conflict.jpg');
    await import('node:fs/promises').then((fs) => fs.writeFile(input, src));
    const result = await normalizeFile(input, path.join(dir, 'out.jpg'));
    expect(result.orientation).toBe(6);
    expect(result.warnings.join('\n')).toMatch(/XMP tiff:Orientation says 8 but EXIF IFD0 says 6/);
    const out = await readFile(path.join(dir, 'out.jpg'));
    expect(readOrientation(out)?.places.map((p) => p.value)).toEqual([1, 1]);
    expect((await sharp(out).metadata()).width).toBe(30);
  });

  it('applies an XMP-only orientation', async () => {
    const dir = await tempDir();
    const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:Orientation="8"/></rdf:RDF></x:xmpmeta>';
    const src = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#33a' } }).withXmp(xmp).jpeg().toBuffer();
    const input = path.join(dir, 'xmp-only.jpg');
    await import('node:fs/promises').then((fs) => fs.writeFile(input, src));
    const result = await normalizeFile(input, path.join(dir, 'out.jpg'));
    expect(result.action).toBe('rotated');
    expect(result.source).toBe('xmp');
    const out = await readFile(path.join(dir, 'out.jpg'));
    expect(readOrientation(out)?.places).toEqual([{ source: 'xmp', value: 1 }]);
    expect((await sharp(out).metadata()).height).toBe(40);
  });
});

describe('MPO (multi-picture) files', () => {
  /** An APP2 MPF segment listing two images (CIPA DC-007), with room for the entries. */
  function mpfSegment(sizeA: number, sizeB: number, offsetB: number): Buffer {
    const tiff = Buffer.alloc(8 + 2 + 3 * 12 + 4 + 32);
    tiff.write('II', 0, 'latin1');
    tiff.writeUInt16LE(42, 2);
    tiff.writeUInt32LE(8, 4);
    tiff.writeUInt16LE(3, 8);
    const entry = (i: number, tag: number, type: number, count: number, value: number | Buffer) => {
      const at = 10 + i * 12;
      tiff.writeUInt16LE(tag, at);
      tiff.writeUInt16LE(type, at + 2);
      tiff.writeUInt32LE(count, at + 4);
      if (typeof value === 'number') tiff.writeUInt32LE(value, at + 8);
      else value.copy(tiff, at + 8);
    };
    entry(0, 0xb000, 7, 4, Buffer.from('0100', 'latin1'));
    entry(1, 0xb001, 4, 1, 2);
    entry(2, 0xb002, 7, 32, 8 + 2 + 36 + 4);
    const entries = 8 + 2 + 36 + 4;
    tiff.writeUInt32LE(0x20030000, entries);
    tiff.writeUInt32LE(sizeA, entries + 4);
    tiff.writeUInt32LE(0, entries + 8);
    tiff.writeUInt32LE(0x00020002, entries + 16);
    tiff.writeUInt32LE(sizeB, entries + 20);
    tiff.writeUInt32LE(offsetB, entries + 24);
    const payload = Buffer.concat([Buffer.from('MPF\0', 'latin1'), tiff]);
    const head = Buffer.from([0xff, 0xe2, 0, 0]);
    head.writeUInt16BE(payload.length + 2, 2);
    return Buffer.concat([head, payload]);
  }

  function entriesOf(file: Buffer): Array<{ size: number; offset: number; header: number }> {
    const header = file.indexOf('MPF\0', 0, 'latin1') + 4;
    const at = header + 8 + 2 + 36 + 4;
    return [0, 1].map((i) => ({ size: file.readUInt32LE(at + i * 16 + 4), offset: file.readUInt32LE(at + i * 16 + 8), header }));
  }

  it('keeps the second image reachable through the MPF index after the first is rotated', async () => {
    const dir = await tempDir();
    const a = await sharp({ create: { width: 40, height: 24, channels: 3, background: '#c33' } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const b = await sharp({ create: { width: 40, height: 24, channels: 3, background: '#33c' } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    // Insert the MPF segment after the EXIF segment of A, then fill in sizes and offsets.
    const exifEnd = 2 + 2 + a.readUInt16BE(4);
    const provisional = mpfSegment(0, 0, 0);
    const sizeA = a.length + provisional.length;
    const header = exifEnd + 4 + 4;
    const mpo = Buffer.concat([a.subarray(0, exifEnd), mpfSegment(sizeA, b.length, sizeA - header), a.subarray(exifEnd), b]);
    expect(mpo.subarray(entriesOf(mpo)[1].offset + header, entriesOf(mpo)[1].offset + header + b.length)).toEqual(b);

    const input = path.join(dir, 'stereo.mpo');
    await import('node:fs/promises').then((fs) => fs.writeFile(input, mpo));
    const result = await normalizeFile(input, path.join(dir, 'out.mpo'));
    expect(result.action).toBe('rotated');
    const out = await readFile(path.join(dir, 'out.mpo'));
    const [first, second] = entriesOf(out);
    expect(first.offset).toBe(0);
    expect(out.subarray(first.size - 2, first.size)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(out.subarray(second.header + second.offset, second.header + second.offset + second.size)).toEqual(b);
    expect((await sharp(out).metadata()).width).toBe(24);
  });
});

describe('EXIF thumbnail', () => {
  it('judges the thumbnail by its shape, not IFD1: a sideways thumbnail marked 1 (as the Panasonic LZ2 writes) is rotated with the image', async () => {
    const dir = await tempDir();
    const bytes = Buffer.from(await readFile(fixture(SETS[0], 6)));
    const s = parseJpeg(bytes);
    const app1 = s.segments.find((g) => g.marker === 0xe1)!;
    const { parseTiff, TAG, readExifOrientation } = await import('../src/metadata/tiff.js');
    const tiffStart = app1.dataOffset + 6;
    const tiff = bytes.subarray(tiffStart, app1.dataOffset + app1.dataLength);
    const ifd1 = parseTiff(tiff).ifd1!;
    bytes.writeUInt16LE(1, tiffStart + ifd1.entries.get(TAG.Orientation)!.valueOffset); // the fixture's EXIF is little-endian
    const { offset, length } = readExifOrientation(tiff).thumbnail!;
    const thumbBefore = Buffer.from(tiff.subarray(offset, offset + length));
    const input = path.join(dir, 'in.jpg');
    await import('node:fs/promises').then((fs) => fs.writeFile(input, bytes));
    const result = await normalizeFile(input, path.join(dir, 'out.jpg'));
    expect(result.action).toBe('rotated');
    const thumbAfter = Buffer.from((await exifr.thumbnail(path.join(dir, 'out.jpg'))) as Uint8Array);
    const before = await sharp(thumbBefore).metadata();
    const after = await sharp(thumbAfter).metadata();
    expect(thumbAfter.equals(thumbBefore)).toBe(false);
    expect([after.width, after.height]).toEqual([before.height, before.width]);
    expect(await exifr.parse(path.join(dir, 'out.jpg'), { ifd1: true, translateValues: false })).toMatchObject({ Orientation: 1 });
  });
});
