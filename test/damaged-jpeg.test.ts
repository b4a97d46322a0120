// JPEGs with the small defects libjpeg reads past (fixtures/damaged, made by
// scripts/make-damaged-fixtures.js): read with a warning, upright ones copied byte for byte,
// pixels refused by default when the image data itself is damaged.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpeg } from '../src/containers/jpeg.js';
import { parseJpeg, repairJpeg } from '../src/containers/jpeg-structure.js';
import { ExifFixError } from '../src/errors.js';
import { normalizeBuffer, readOrientation } from '../src/index.js';
import { reencode } from '../src/pixels/reencode.js';
import { FIXTURES } from './helpers.js';

const damaged = (name: string) => readFile(path.join(FIXTURES, 'damaged', name));
const clean = (o: number) => readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`));

describe('reading damaged JPEGs the way libjpeg does', () => {
  it.each([
    ['stray-after-app1_1.jpg', 'Corrupt JPEG data: 4 extraneous bytes before marker 0xe1'],
    ['stray-after-icc_1.jpg', 'Corrupt JPEG data: 2 extraneous bytes before marker 0xdb'],
  ])('%s reports the extraneous bytes in libjpeg words and keeps the image data whole', async (name, message) => {
    const bytes = await damaged(name);
    const info = jpeg.read(bytes);
    expect(info.damage).toEqual([expect.objectContaining({ kind: 'extraneous-bytes', level: 'warning', pixelsIntact: true, message })]);
    expect(info.warnings).toEqual([expect.stringContaining(`damaged JPEG: ${message}`)]);
    expect(info.warnings.join('')).not.toMatch(/stray-after/);
    expect(Buffer.from(repairJpeg(bytes, info.structure)).equals(await clean(1))).toBe(true);
  });

  it('reads fill bytes before markers silently, as T.81 allows', async () => {
    const info = jpeg.read(await damaged('fill-bytes_6.jpg'));
    expect(info.damage).toEqual([]);
    expect(info.warnings).toEqual([]);
    expect(info.places).toEqual([{ source: 'exif', value: 6 }, { source: 'xmp', value: 6 }]);
  });

  it('reads a file without EOI up to its end and calls it a premature end', async () => {
    const bytes = await damaged('missing-eoi_1.jpg');
    const info = jpeg.read(bytes);
    expect(info.damage).toEqual([expect.objectContaining({ kind: 'premature-end', level: 'truncated', pixelsIntact: false, message: 'Premature end of JPEG file' })]);
    expect(info.structure.eoiEnd).toBe(bytes.length);
    expect(info.structure.segments.at(-1)?.marker).toBe(0xda);
  });

  it('still refuses a file that ends before its first scan', async () => {
    const bytes = await clean(1);
    const sos = parseJpeg(bytes).segments.find((s) => s.marker === 0xda)!;
    expect(() => parseJpeg(bytes.subarray(0, sos.offset - 3))).toThrow(ExifFixError);
  });
});

describe('the damaged-file policy', () => {
  it.each(['stray-after-app1_1.jpg', 'stray-after-icc_1.jpg', 'missing-eoi_1.jpg', 'scan-ends-early_1.jpg', 'fill-bytes_1.jpg'])(
    'an upright %s is copied byte for byte',
    async (name) => {
      const bytes = await damaged(name);
      const { data, result } = await normalizeBuffer(bytes);
      expect(result.error).toBeNull();
      expect(result.action).toBe('copied');
      expect(Buffer.from(data!).equals(bytes)).toBe(true);
    },
  );

  it('an upright file with stray bytes whose XMP says 6 is rewritten, metadata only, without the stray bytes', async () => {
    const bytes = await damaged('stray-after-app1-xmp6_1.jpg');
    const { data, result } = await normalizeBuffer(bytes);
    expect(result.error).toBeNull();
    expect(result.action).toBe('metadata');
    expect(result.warnings.some((w) => w.startsWith('damaged JPEG: Corrupt JPEG data: 4 extraneous bytes'))).toBe(true);
    const out = Buffer.from(data!);
    expect(parseJpeg(out).damage).toEqual([]);
    expect(readOrientation(out)?.places.every((p) => p.value === 1)).toBe(true);
    const scan = (b: Uint8Array) => { const s = parseJpeg(b).segments.find((g) => g.marker === 0xda)!; return Buffer.from(b.subarray(s.offset, s.end)); };
    expect(scan(out).equals(scan(bytes))).toBe(true);
  });

  it.each(['stray-after-app1_6.jpg', 'stray-after-icc_6.jpg', 'fill-bytes_6.jpg'])(
    '%s (image data whole) is rotated exactly as the same file without the stray bytes',
    async (name) => {
      const { data, result } = await normalizeBuffer(await damaged(name));
      const reference = await normalizeBuffer(await clean(6));
      expect(result.error).toBeNull();
      expect(result.action).toBe('rotated');
      expect(Buffer.from(data!).equals(Buffer.from(reference.data!))).toBe(true);
    },
  );

  it('a file with stray bytes and a whole number of iMCUs still takes the lossless path', async () => {
    const raw = Buffer.alloc(64 * 48 * 3, 0);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) & 255;
    const whole = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer();
    const app1 = parseJpeg(whole).segments.find((s) => s.marker === 0xe1)!;
    const stray = Buffer.concat([whole.subarray(0, app1.end), Buffer.from([0, 0, 0]), whole.subarray(app1.end)]);
    const { data, result } = await normalizeBuffer(stray);
    const reference = await normalizeBuffer(whole);
    expect(result.error).toBeNull();
    expect(result.method).toBe('lossless');
    expect(Buffer.from(data!).equals(Buffer.from(reference.data!))).toBe(true);
  });

  it.each([
    ['missing-eoi_6.jpg', /the file is truncated \(Premature end of JPEG file\); --fail-on none accepts/],
    ['scan-ends-early_6.jpg', /rejects the pixel data \(Corrupt JPEG data: premature end of data segment\); --fail-on error accepts/],
  ])('%s, which needs new pixels, fails by default naming the decoder complaint', async (name, reason) => {
    const { data, result } = await normalizeBuffer(await damaged(name));
    expect(data).toBeNull();
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(reason);
  });
});

describe('reencode failOn', () => {
  /** A 320x240 JPEG with detail in every column, cut in half with EOI appended. */
  async function halfWithEoi(): Promise<{ whole: Buffer; half: Buffer }> {
    const width = 320;
    const height = 240;
    const raw = Buffer.alloc(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      raw[3 * i] = (i * 7) & 255;
      raw[3 * i + 1] = ((i % width) * 3) & 255;
      raw[3 * i + 2] = (Math.floor(i / width) * 5) & 255;
    }
    const whole = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    return { whole, half: Buffer.concat([whole.subarray(0, whole.length >> 1), Buffer.from([0xff, 0xd9])]) };
  }

  it('refuses a JPEG cut in half with EOI appended by default, and gives best-effort pixels with failOn error', async () => {
    const { half } = await halfWithEoi();
    const info = jpeg.read(half);
    expect(info.damage).toEqual([]);
    await expect(reencode(half, jpeg, info, 6)).rejects.toThrow(/premature end of data segment/);
    const best = await reencode(half, jpeg, info, 6, { failOn: 'error' });
    expect([best.width, best.height]).toEqual([240, 320]);
  });

  it('refuses a truncated file before decoding unless failOn is none', async () => {
    const bytes = await damaged('missing-eoi_6.jpg');
    const info = jpeg.read(bytes);
    for (const failOn of ['truncated', 'error', 'warning'] as const) {
      await expect(reencode(bytes, jpeg, info, 6, { failOn })).rejects.toThrow(/Premature end of JPEG file/);
    }
    const best = await reencode(bytes, jpeg, info, 6, { failOn: 'none' });
    expect([best.width, best.height]).toEqual([45, 29]);
  });

  it('re-encodes a whole JPEG under the strictest level', async () => {
    const { whole } = await halfWithEoi();
    const out = await reencode(whole, jpeg, jpeg.read(whole), 6, { failOn: 'warning' });
    expect([out.width, out.height]).toEqual([240, 320]);
  });
});
