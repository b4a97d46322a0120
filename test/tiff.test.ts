import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeFile, readOrientation } from '../src/index.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'orientation');
const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

/** The TIFF fixture sets, how to decode them in their own colour space, and whether they are lossless. */
const SETS = [
  { name: 'tiff-lzw', ext: 'tif', space: 'srgb', lossless: true, littleEndian: true, icc: true },
  { name: 'tiff-cmyk-deflate', ext: 'TIFF', space: 'cmyk', lossless: true, littleEndian: false, icc: false },
  { name: 'tiff-16bit', ext: 'tiff', space: 'rgb16', lossless: true, littleEndian: true, icc: false },
  { name: 'tiff-jpeg', ext: 'tif', space: 'srgb', lossless: false, littleEndian: true, icc: false },
] as const;

type SetSpec = (typeof SETS)[number];

const fixture = (set: SetSpec, o: number) => path.join(FIXTURES, set.name, `${set.name}_${o}.${set.ext}`);

/** Decoded samples in the file's own colour space (CMYK stays CMYK, 16-bit stays 16-bit), alpha included. */
async function samples(bytes: Uint8Array, space: SetSpec['space']) {
  let image = sharp(bytes, { ignoreIcc: true });
  if (space !== 'srgb') image = image.pipelineColourspace(space).toColourspace(space);
  const { data, info } = await image.raw(space === 'rgb16' ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  const values = space === 'rgb16' ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
  return { values, width: info.width, height: info.height, channels: info.channels };
}

function meanAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Finds one entry of the IFD at `ifd` (IFD0 by default) of a classic TIFF, independently of src/ (TIFF 6.0 section 2). */
function ifd0Entry(bytes: Uint8Array, tag: number, at?: number) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[0] === 0x49;
  const ifd = at ?? view.getUint32(4, le);
  const n = view.getUint16(ifd, le);
  for (let i = 0; i < n; i++) {
    const p = ifd + 2 + 12 * i;
    if (view.getUint16(p, le) !== tag) continue;
    const type = view.getUint16(p + 2, le);
    const count = view.getUint32(p + 4, le);
    const size = ({ 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 } as Record<number, number>)[type] * count;
    const at = size <= 4 ? p + 8 : view.getUint32(p + 8, le);
    return { entryOffset: p, type, count, bytes: bytes.subarray(at, at + size), ifdOffset: ifd, entries: n };
  }
  return undefined;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-tiff-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(SETS)('TIFF set $name', (set) => {
  it.each(ORIENTATIONS)('normalizes orientation %i to the upright picture with every tag kept', async (o) => {
    const input = fixture(set, o);
    const output = path.join(dir, `out.${set.ext}`);
    const result = await normalizeFile(input, output);
    expect(result.error).toBeNull();
    expect(result.format).toBe('tiff');
    expect(result.action).toBe(o === 1 ? 'copied' : 'rotated');
    expect(result.orientation).toBe(o);
    expect(result.source).toBe('tiff');

    const inBytes = new Uint8Array(await readFile(input));
    const out = new Uint8Array(await readFile(output));
    const reference = new Uint8Array(await readFile(fixture(set, 1)));

    // size and pixels
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([45, 29]);
    const got = await samples(out, set.space);
    const want = await samples(reference, set.space);
    expect([got.width, got.height, got.channels]).toEqual([want.width, want.height, want.channels]);
    if (set.lossless) {
      expect(Buffer.from(got.values.buffer, got.values.byteOffset, got.values.byteLength).equals(
        Buffer.from(want.values.buffer, want.values.byteOffset, want.values.byteLength))).toBe(true);
    } else {
      // A re-encoded JPEG is close to the reference; the same picture mirrored is far from it.
      const mirrored = await samples(await sharp(reference).flop().tiff({ compression: 'jpeg', quality: 85 }).toBuffer(), set.space);
      const threshold = meanAbsoluteDifference(mirrored.values, want.values) / 4;
      expect(threshold).toBeGreaterThan(5);
      expect(meanAbsoluteDifference(got.values, want.values)).toBeLessThan(threshold);
    }

    // orientation 1 in every place, read by this library and independently
    const reading = readOrientation(out);
    expect(reading?.orientation).toBe(1);
    expect(reading?.places.every((p) => p.value === 1)).toBe(true);
    expect(reading?.places.map((p) => p.source).sort()).toEqual(['tiff', 'xmp']);
    const parsed = await exifr.parse(out, { tiff: true, xmp: true, gps: true, interop: true, userComment: true, mergeOutput: false, translateValues: false, silentErrors: false } as any);
    expect(parsed.ifd0.Orientation ?? 1).toBe(1);
    const xmp = (await sharp(out).metadata()).xmp?.toString('utf8') ?? '';
    expect(xmp).toMatch(/tiff:Orientation="1"/);
    expect(xmp).toMatch(/exif:PixelXDimension="45"/);
    expect(xmp).toMatch(/exif:PixelYDimension="29"/);
    expect(xmp).toContain('exif-fix fixture');

    // every other tag kept
    expect(parsed.ifd0).toMatchObject({
      Make: 'exif-fix fixtures',
      Model: 'Generator 1',
      Software: 'make-fixtures.js',
      Artist: 'exif-fix test suite',
      Copyright: 'CC0 exif-fix fixtures',
      ImageDescription: expect.stringContaining('quadrants'),
    });
    expect(parsed.exif).toMatchObject({ ExifImageWidth: 45, ExifImageHeight: 29 });
    expect(parsed.exif.DateTimeOriginal).toBeDefined();
    const exifIfd = ifd0Entry(out, 0x8769)?.bytes;
    const exifOffset = exifIfd ? new DataView(exifIfd.buffer, exifIfd.byteOffset).getUint32(0, set.littleEndian) : 0;
    expect(Buffer.from(ifd0Entry(out, 0x9286, exifOffset)?.bytes ?? []).toString('latin1')).toBe('ASCII\0\0\0label=cat;split=train');
    expect(parsed.gps.GPSLatitude).toEqual([48, 51, 30]);
    expect(parsed.interop.InteropIndex).toBe('R98');
    for (const tag of [33723, 34675]) {
      expect(Buffer.from(ifd0Entry(out, tag)?.bytes ?? []).equals(Buffer.from(ifd0Entry(inBytes, tag)?.bytes ?? [])), `tag ${tag}`).toBe(true);
    }
    if (set.icc) expect(Buffer.from(meta.icc ?? []).equals(Buffer.from((await sharp(inBytes).metadata()).icc ?? [1]))).toBe(true);
    expect(out[0]).toBe(set.littleEndian ? 0x49 : 0x4d);

    // a second run finds nothing to do
    const again = path.join(dir, `again.${set.ext}`);
    const second = await normalizeFile(output, again);
    expect(second.action).toBe('copied');
    expect(Buffer.from(await readFile(again)).equals(Buffer.from(out))).toBe(true);
  });
});

describe('TIFF metadata-only rewrite', () => {
  it('patches XMP in place when only XMP disagrees with the Orientation tag', async () => {
    const input = new Uint8Array(await readFile(fixture(SETS[0], 6)));
    const patched = input.slice();
    const orientation = ifd0Entry(patched, 0x0112);
    expect(orientation?.type).toBe(3);
    new DataView(patched.buffer).setUint16((orientation?.entryOffset ?? 0) + 8, 1, true);
    const file = path.join(dir, 'xmp-only.tif');
    await writeFile(file, patched);
    const result = await normalizeFile(file, file);
    expect(result.action).toBe('metadata');
    const out = new Uint8Array(await readFile(file));
    expect(out.length).toBe(patched.length);
    const differing = [...out].filter((b, i) => b !== patched[i]).length;
    expect(differing).toBe(1); // the one digit of tiff:Orientation
    expect((await sharp(out).metadata()).xmp?.toString('utf8')).toMatch(/tiff:Orientation="1"/);
    expect(readOrientation(out)?.needsRewrite).toBe(false);
  });
});

describe('hostile and refused TIFF files', () => {
  async function run(name: string, bytes: Uint8Array) {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    const result = await normalizeFile(file, path.join(dir, `out-${name}`));
    return { result };
  }

  it('fails with one clean error on an IFD chain that loops', async () => {
    const bytes = new Uint8Array(await readFile(fixture(SETS[0], 6)));
    const e = ifd0Entry(bytes, 0x0112);
    const next = (e?.ifdOffset ?? 0) + 2 + 12 * (e?.entries ?? 0);
    new DataView(bytes.buffer).setUint32(next, e?.ifdOffset ?? 0, true);
    const { result } = await run('loop.tif', bytes);
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/^`[^`]*loop\.tif`: IFD chain loops back to byte \d+$/);
  });

  it('fails with one clean error on an entry with a huge count', async () => {
    const bytes = new Uint8Array(await readFile(fixture(SETS[0], 6)));
    const make = ifd0Entry(bytes, 0x010f);
    new DataView(bytes.buffer).setUint32((make?.entryOffset ?? 0) + 4, 0x7fffffff, true);
    const { result } = await run('huge.tif', bytes);
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/tag 0x10f points outside the TIFF structure/);
  });

  it('refuses BigTIFF', async () => {
    const bytes = new Uint8Array(16);
    bytes.set([0x49, 0x49, 43, 0, 8, 0, 0, 0]);
    const { result } = await run('big.tif', bytes);
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/BigTIFF/);
  });

  it('rotates the first page of a multi-page TIFF and keeps the second page as it was', async () => {
    const input = new Uint8Array(await readFile(fixture(SETS[0], 6)));
    const e = ifd0Entry(input, 0x0112);
    const start = e?.ifdOffset ?? 0;
    const size = 2 + 12 * (e?.entries ?? 0) + 4;
    // page 2: a copy of IFD0 (its values still point into the file) appended at the end
    const at = input.length + (input.length & 1);
    const bytes = new Uint8Array(at + size);
    bytes.set(input);
    bytes.set(input.subarray(start, start + size), at);
    new DataView(bytes.buffer).setUint32(at + size - 4, 0, true);
    new DataView(bytes.buffer).setUint32(start + size - 4, at, true);
    const { result } = await run('pages.tif', bytes);
    expect(result.error).toBeNull();
    expect(result.action).toBe('rotated');
    expect(result.warnings).toContain('page 2 has its own orientation 6; only the first page is normalized, the others are kept as they are');
    const out = await readFile(path.join(dir, 'out-pages.tif'));
    expect((await sharp(out).metadata()).pages).toBe(2);
    const page2 = (b: Uint8Array) => sharp(b, { page: 1 }).raw().toBuffer();
    expect((await page2(out)).equals(await page2(bytes))).toBe(true);
  });

  it('refuses to rotate a DNG', async () => {
    const bytes = new Uint8Array(await readFile(fixture(SETS[0], 6)));
    const artist = ifd0Entry(bytes, 0x013b);
    new DataView(bytes.buffer).setUint16(artist?.entryOffset ?? 0, 0xc612, true);
    const { result } = await run('camera.tif', bytes);
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/camera raw and DNG/);
  });
});

describe('TIFF layouts without a fixture set', () => {
  it('keeps a tiled 8-bit grey TIFF tiled, grey and bit-exact', async () => {
    const { sharpRaw, storedPixels, uprightPixels } = await import('../scripts/fixtures/common.js');
    // sharp writes Orientation 1 into every TIFF; the stored value is patched in
    // (withMetadata would also convert the grey pixels to sRGB).
    const tiled = async (px: ReturnType<typeof uprightPixels>, o: number) => {
      const bytes = new Uint8Array(await sharpRaw(px).toColourspace('b-w').tiff({ compression: 'deflate', predictor: 'horizontal', tile: true, tileWidth: 16, tileHeight: 16 }).toBuffer());
      const entry = ifd0Entry(bytes, 0x0112);
      expect(entry?.type).toBe(3);
      new DataView(bytes.buffer).setUint16((entry?.entryOffset ?? 0) + 8, o, true);
      return bytes;
    };
    const file = path.join(dir, 'tiled.tif');
    const input = await tiled(storedPixels(uprightPixels(), 6), 6);
    expect((await sharp(input).metadata()).channels).toBe(1);
    await writeFile(file, input);
    const result = await normalizeFile(file, path.join(dir, 'out.tif'));
    expect(result.action).toBe('rotated');
    const out = new Uint8Array(await readFile(path.join(dir, 'out.tif')));
    expect(ifd0Entry(out, 0x0142)).toBeDefined(); // TileWidth
    expect(ifd0Entry(out, 0x0112)?.bytes[0]).toBe(1);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([45, 29, 1]);
    const got = await sharp(out).raw().toBuffer();
    const want = await sharp(await tiled(uprightPixels(), 1)).raw().toBuffer();
    expect(got.equals(want)).toBe(true);
  });
});
