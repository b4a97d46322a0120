// The --lossless policy end to end: iMCU-aligned JPEGs take the DCT-domain path in every
// orientation and decode to exactly what `jpegtran -perfect` makes (the committed golden
// outputs of fixtures/golden/lossless-path, made by scripts/make-golden.js; the system suite
// runs jpegtran live); others fall back to a full-size re-encode (auto), fail (always), or are
// always re-encoded (never).
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { normalizeFile } from '../src/index.js';
import { losslessPathJpeg, sharpRaw, storedPixels, uprightPixels } from '../scripts/fixtures/common.js';
import { FIXTURES, meanAbsDiff, pixels, tempDir } from './helpers.js';

const GOLDEN = path.join(FIXTURES, 'golden', 'lossless-path');



describe('lossless JPEG path', () => {
  it.each([2, 3, 4, 5, 6, 7, 8])('orientation %i of an iMCU-aligned JPEG matches jpegtran -perfect exactly', async (o) => {
    // The input is losslessPathJpeg(o) as made once with the golden reference beside it.
    const dir = await tempDir();
    const input = path.join(dir, `in_${o}.jpg`);
    await copyFile(path.join(GOLDEN, `in_${o}.jpg`), input);
    const output = path.join(dir, `out_${o}.jpg`);
    const result = await normalizeFile(input, output);
    expect(result.action).toBe('rotated');
    expect(result.method).toBe('lossless');
    const reference = path.join(GOLDEN, `jpegtran_${o}.jpg`);
    const ours = await pixels(output);
    const theirs = await pixels(reference);
    expect([ours.width, ours.height]).toEqual([64, 48]);
    expect(ours.data.equals(theirs.data)).toBe(true);
    const upright = await pixels(await sharpRaw(uprightPixels({ width: 64, height: 48 })).png().toBuffer());
    expect(meanAbsDiff(ours, upright)).toBeLessThan(4);
    const out = await readFile(output);
    expect(Math.abs(out.length - (await readFile(input)).length) / out.length).toBeLessThan(0.1);
    const tags = await exifr.parse(out, { tiff: true, ifd1: true, exif: true, translateValues: false, mergeOutput: false });
    expect(tags.ifd0.Orientation).toBe(1);
    expect(tags.ifd1.Orientation).toBe(1);
    expect([tags.exif.ExifImageWidth, tags.exif.ExifImageHeight]).toEqual([64, 48]);
  });

  it('falls back to a full-size re-encode when the transform is not perfect, and says why', async () => {
    const dir = await tempDir();
    const px = storedPixels(uprightPixels({ width: 45, height: 29 }), 6);
    const input = path.join(dir, 'odd.jpg');
    await writeFile(input, await sharpRaw(px).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer());
    const auto = await normalizeFile(input, path.join(dir, 'auto.jpg'));
    expect(auto.method).toBe('reencode');
    expect(auto.methodReason).toMatch(/imperfect/);
    const meta = await sharp(path.join(dir, 'auto.jpg')).metadata();
    expect([meta.width, meta.height]).toEqual([45, 29]);

    const always = await normalizeFile(input, path.join(dir, 'always.jpg'), { lossless: 'always' });
    expect(always.action).toBe('failed');
    expect(always.error).toMatch(/odd\.jpg`: cannot transform losslessly \(imperfect/);
    await expect(readFile(path.join(dir, 'always.jpg'))).rejects.toThrow(/ENOENT/);
  });

  it('always re-encodes with --lossless never', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'aligned.jpg');
    await writeFile(input, await losslessPathJpeg(6));
    const never = await normalizeFile(input, path.join(dir, 'never.jpg'), { lossless: 'never' });
    expect(never.method).toBe('reencode');
    expect(never.methodReason).toMatch(/--lossless never/);
  });
});
