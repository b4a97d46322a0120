import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { heif } from '../src/containers/heif.js';
import { itemProperties, Reader } from '../src/containers/isobmff.js';
import { readOrientation } from '../src/index.js';
import { convertedName, convertHeif, DEFAULT_CONVERT_QUALITY } from '../src/pixels/heif-convert.js';
import { decodeHeif } from '../src/pixels/heif-decode.js';

// Fixtures made once by scripts/make-heif-fixtures.mjs with heif-enc (fixtures/heif/README.md).
const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'heif');
const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** The upright picture: 64x48, four quadrants (the same values as the generating script). */
const QUADRANTS = { topLeft: [220, 40, 40], topRight: [40, 180, 60], bottomLeft: [40, 60, 200], bottomRight: [230, 210, 40] };
/** HEVC at quality 90 plus 4:2:0 chroma: a quadrant's centre stays within this of its colour, per channel. */
const TOLERANCE = 24;
const EXIFR = { tiff: true, exif: true, ifd1: true, xmp: true, translateValues: false, mergeOutput: false };

const load = (name: string) => readFile(path.join(FIXTURES, `${name}.heic`));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-heif-convert-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Mean colour of an 8x8 block at a quadrant's centre of an upright 64x48 RGB(A) raster. */
function quadrantColours(data: Uint8Array | Buffer, width: number, height: number, channels: number) {
  const mean = (cx: number, cy: number) => {
    const sum = [0, 0, 0];
    for (let y = cy - 4; y < cy + 4; y++) for (let x = cx - 4; x < cx + 4; x++) for (let c = 0; c < 3; c++) sum[c] += data[(y * width + x) * channels + c];
    return sum.map((s) => s / 64);
  };
  return {
    topLeft: mean(width / 4, height / 4),
    topRight: mean((3 * width) / 4, height / 4),
    bottomLeft: mean(width / 4, (3 * height) / 4),
    bottomRight: mean((3 * width) / 4, (3 * height) / 4),
  };
}

function expectUprightPattern(colours: ReturnType<typeof quadrantColours>, tolerance = TOLERANCE) {
  for (const [where, want] of Object.entries(QUADRANTS)) {
    const got = colours[where as keyof typeof QUADRANTS];
    for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - want[c]), `${where} channel ${c}: ${got.join(',')}`).toBeLessThanOrEqual(tolerance);
  }
}

async function expectUprightFile(bytes: Uint8Array) {
  // The samples as stored (no colour conversion through the embedded profile), 8 bits.
  const { data, info } = await sharp(bytes, { ignoreIcc: true }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([64, 48]);
  expectUprightPattern(quadrantColours(data, info.width, info.height, info.channels));
}

describe.each(['irot-imir', 'exif-only'] as const)('HEIC set %s', (set) => {
  it.each(ORIENTATIONS)('decodes orientation %i to the upright picture', async (o) => {
    const bytes = await load(`${set}_${o}`);
    const info = heif.read(bytes);
    expect(info.codec).toBe('hvc1');
    expect(info.transforms.length > 0).toBe(set === 'irot-imir' && o !== 1);
    const pixels = await decodeHeif(bytes, info);
    expect([pixels.width, pixels.height, pixels.channels, pixels.depth]).toEqual([64, 48, 3, 'uchar']);
    // EXIF is applied only when the file has no irot/imir, never on top of them (libheif#227).
    expect(pixels.appliedOrientation).toBe(set === 'exif-only' ? o : 1);
    expectUprightPattern(quadrantColours(pixels.data, 64, 48, 3));
  });

  it.each(ORIENTATIONS)('converts orientation %i to an upright JPEG that says 1 everywhere', async (o) => {
    const bytes = await load(`${set}_${o}`);
    const info = heif.read(bytes);
    const reading = readOrientation(bytes);
    expect(reading?.orientation).toBe(o);
    expect(reading?.needsRewrite).toBe(o !== 1);
    expect(info.refusal === undefined).toBe(o === 1);
    if (o !== 1) expect(info.refusal?.reason).toMatch(/--to jpeg/);

    const out = await convertHeif(bytes, info, { to: 'jpeg' });
    expect(out.warnings).toEqual([]);
    expect([out.format, out.width, out.height, out.orientation, out.bitDepth]).toEqual(['jpeg', 64, 48, o, 8]);
    await expectUprightFile(out.data);

    // Every place says 1: this library, and exifr for IFD0, IFD1 and XMP.
    const again = readOrientation(out.data);
    expect(again?.format).toBe('jpeg');
    expect(again?.orientation).toBe(1);
    expect(again?.needsRewrite).toBe(false);
    const meta = await exifr.parse(Buffer.from(out.data), EXIFR);
    expect(meta.ifd0.Orientation).toBe(1);
    expect(meta.ifd1.Orientation ?? 1).toBe(1);
    expect(meta.ifd0.Make).toBe('exif-fix fixtures');
    expect(meta.exif.DateTimeOriginal).toBeInstanceOf(Date);
    expect([meta.exif.ExifImageWidth, meta.exif.ExifImageHeight]).toEqual([64, 48]);
    const xmp = (await sharp(out.data).metadata()).xmp?.toString('utf8') ?? '';
    expect(xmp).toMatch(/tiff:Orientation(="|>)1/);
    expect(xmp).not.toMatch(/tiff:Orientation(="|>)[02-9]/);
    expect(xmp).toContain('exif-fix HEIC fixture');

    // The thumbnail (stored like the main image) is upright too.
    const thumb = await exifr.thumbnail(Buffer.from(out.data));
    expect(thumb).toBeDefined();
    const t = await sharp(thumb as Uint8Array).raw().toBuffer({ resolveWithObject: true });
    expect([t.info.width, t.info.height]).toEqual([16, 12]);
    expectUprightPattern(quadrantColoursSmall(t.data, t.info.channels), 40);
  });
});

/** Quadrant centres of the 16x12 thumbnail (one pixel each, averaged over 2x2). */
function quadrantColoursSmall(data: Uint8Array | Buffer, channels: number) {
  const at = (cx: number, cy: number) => {
    const sum = [0, 0, 0];
    for (const [x, y] of [[cx - 1, cy - 1], [cx, cy - 1], [cx - 1, cy], [cx, cy]]) for (let c = 0; c < 3; c++) sum[c] += data[(y * 16 + x) * channels + c];
    return sum.map((s) => s / 4);
  };
  return { topLeft: at(4, 3), topRight: at(12, 3), bottomLeft: at(4, 9), bottomRight: at(12, 9) };
}

describe('HEIC conversion', () => {
  it('carries the Display P3 ICC profile of a colr prof box byte for byte', async () => {
    const bytes = await load('icc-p3_6');
    const info = heif.read(bytes);
    const r = new Reader(bytes);
    const prof = itemProperties(info.meta, info.primary).find((p) => p.type === 'colr' && r.fourcc(p.payload) === 'prof');
    expect(prof).toBeDefined();
    const icc = Buffer.from(bytes.subarray((prof?.payload ?? 0) + 4, prof?.end));
    expect(icc.length).toBeGreaterThan(100);
    for (const to of ['jpeg', 'png', 'webp'] as const) {
      const out = await convertHeif(bytes, info, { to });
      const meta = await sharp(out.data).metadata();
      expect(meta.format).toBe(to);
      expect(Buffer.from(meta.icc ?? []).equals(icc)).toBe(true);
      await expectUprightFile(out.data);
      if (to === 'jpeg') expect(String((await exifr.parse(Buffer.from(out.data), { icc: true, tiff: false, exif: false })).ProfileDescription)).toMatch(/P3/);
    }
  });

  it('builds a Display P3 ICC profile from an nclx colr box with P3 primaries', async () => {
    const bytes = await load('nclx-p3_6');
    const info = heif.read(bytes);
    const out = await convertHeif(bytes, info, { to: 'jpeg' });
    expect(out.warnings).toEqual([]);
    const icc = await exifr.parse(Buffer.from(out.data), { icc: true, tiff: false, exif: false, translateValues: false });
    expect(String(icc.ProfileDescription)).toMatch(/P3/);
    await expectUprightFile(out.data);
  });

  it('reduces 10-bit samples to 8 bits for JPEG and WebP with a warning, and keeps 16 bits in PNG', async () => {
    const bytes = await load('10bit_6');
    const info = heif.read(bytes);
    expect(info.bitDepth).toBe(10);
    const pixels = await decodeHeif(bytes, info);
    expect([pixels.depth, pixels.bitDepth]).toEqual(['ushort', 10]);
    for (const to of ['jpeg', 'webp'] as const) {
      const out = await convertHeif(bytes, info, { to });
      expect(out.bitDepth).toBe(8);
      expect(out.warnings).toEqual([`10-bit samples were reduced to 8 bits for ${to === 'jpeg' ? 'JPEG' : 'WebP'} (--to png keeps 16 bits)`]);
      await expectUprightFile(out.data);
    }
    const png = await convertHeif(bytes, info, { to: 'png' });
    expect(png.warnings).toEqual([]);
    expect(png.bitDepth).toBe(16);
    expect((await sharp(png.data).metadata()).depth).toBe('ushort');
    await expectUprightFile(png.data);
  });

  it('writes EXIF and XMP at orientation 1 with the new size into PNG and WebP', async () => {
    const bytes = await load('exif-only_8');
    const info = heif.read(bytes);
    for (const to of ['png', 'webp'] as const) {
      const out = await convertHeif(bytes, info, { to });
      expect(out.warnings).toEqual([]);
      await expectUprightFile(out.data);
      const reading = readOrientation(out.data);
      expect(reading?.format).toBe(to);
      expect(reading?.orientation).toBe(1);
      expect(reading?.needsRewrite).toBe(false);
      expect(reading?.places.map((p) => p.source).sort()).toEqual(['exif', 'xmp']);
      const meta = await sharp(out.data).metadata();
      const exif = await exifr.parse(meta.exif as Buffer, { tiff: true, exif: true, translateValues: false });
      expect(exif).toMatchObject({ Orientation: 1, Make: 'exif-fix fixtures', ExifImageWidth: 64, ExifImageHeight: 48 });
      expect(meta.xmp?.toString('utf8')).toMatch(/tiff:Orientation(="|>)1/);
    }
  });

  it('writes JPEG at the documented default quality', async () => {
    const bytes = await load('irot-imir_6');
    const info = heif.read(bytes);
    const byDefault = await convertHeif(bytes, info, { to: 'jpeg' });
    const explicit = await convertHeif(bytes, info, { to: 'jpeg', quality: DEFAULT_CONVERT_QUALITY });
    const lower = await convertHeif(bytes, info, { to: 'jpeg', quality: 50 });
    expect(Buffer.from(byDefault.data).equals(Buffer.from(explicit.data))).toBe(true);
    expect(lower.data.length).toBeLessThan(byDefault.data.length);
  });

  it('converts a file written to disk and read back like the CLI does', async () => {
    const file = path.join(dir, 'IMG_0001.HEIC');
    await writeFile(file, await load('exif-only_6'));
    const bytes = await readFile(file);
    const out = await convertHeif(bytes, heif.read(bytes), { to: 'jpeg' });
    const target = convertedName(file, 'jpeg');
    expect(target).toBe(path.join(dir, 'IMG_0001.jpg'));
    await writeFile(target, out.data);
    expect(await exifr.orientation(target)).toBe(1);
    await expectUprightFile(await readFile(target));
  });
});

describe('what a conversion does not carry', () => {
  it('reports the thumbnails and the other image of a collection, and converts the primary', async () => {
    const bytes = await load('collection_6');
    const info = heif.read(bytes);
    const out = await convertHeif(bytes, info, { to: 'jpeg' });
    expect(out.warnings).toEqual([
      'not carried into the converted file: 2 thumbnails, 1 other image; only the primary image and its EXIF, XMP and colour profile are',
    ]);
    await expectUprightFile(out.data);
  });

  it('reports a depth map', async () => {
    const bytes = await load('depth_6');
    const out = await convertHeif(bytes, heif.read(bytes), { to: 'png' });
    expect(out.warnings).toEqual([
      'not carried into the converted file: 1 depth map; only the primary image and its EXIF, XMP and colour profile are',
    ]);
    await expectUprightFile(out.data);
  });
});

describe.each([
  { set: 'avif', ext: 'avif', bitDepth: 8 },
  { set: 'avif-10bit-420', ext: 'AVIF', bitDepth: 10 },
])('AVIF set $set', ({ set, ext, bitDepth }) => {
  const file = (o: number) => path.resolve(import.meta.dirname, '..', 'fixtures', 'orientation', set, `${set}_${o}.${ext}`);
  it.each(ORIENTATIONS)('converts orientation %i to an upright JPEG (decoded by sharp: libheif-js has no AV1 decoder)', async (o) => {
    const bytes = await readFile(file(o));
    const out = await convertHeif(bytes, heif.read(bytes), { to: 'jpeg' });
    expect(out.warnings).toEqual(bitDepth > 8 ? ['10-bit samples were reduced to 8 bits for JPEG (--to png keeps 16 bits)'] : []);
    expect([out.width, out.height]).toEqual([45, 29]);
    const raw = async (b: Uint8Array, flop = false) => {
      let image = sharp(b, { ignoreIcc: true }).toColourspace('srgb');
      if (flop) image = image.flop();
      return image.raw().toBuffer();
    };
    const mad = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
    const want = await raw(await readFile(file(1)));
    const mirrored = await raw(await readFile(file(1)), true);
    // Closer to the upright picture than a quarter of the way to its mirror image.
    expect(mad(await raw(out.data), want)).toBeLessThan(mad(mirrored, want) / 4);
    expect(readOrientation(out.data)?.places.every((p) => p.value === 1)).toBe(true);
    expect(await exifr.orientation(Buffer.from(out.data))).toBe(1);
  });
});

describe('convertedName', () => {
  it('replaces the extension whatever its case, and adds one when there is none', () => {
    expect(convertedName('photo.HEIC', 'jpeg')).toBe('photo.jpg');
    expect(convertedName('a/b.c/photo.heif', 'png')).toBe('a/b.c/photo.png');
    expect(convertedName('photo.hif', 'webp')).toBe('photo.webp');
    expect(convertedName('a.b/photo', 'jpeg')).toBe('a.b/photo.jpg');
  });
});
