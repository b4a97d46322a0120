import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import * as corpus from '../bench/corpus.js';
import * as verify from '../bench/verify.js';

// Plain JavaScript benchmark modules, used untyped: their JSDoc names file paths and the sharp
// module where these tests pass buffers and sharp's default export, both of which they accept.
const { phonePhoto, photoOrientation, photoPixels } = corpus as any;
const { checkOutput, orientRaw, reference } = verify as any;

const W = 96;
const H = 64;

function meanDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

describe('benchmark corpus', () => {
  it('has half orientation 6, a quarter 1, and the rest 3 and 8 over 40 photos and over any 8', () => {
    const values = Array.from({ length: 40 }, (_, i) => photoOrientation(i));
    const count = (v: number) => values.filter((x) => x === v).length;
    expect([count(6), count(1), count(3) + count(8), count(3) > 0 && count(8) > 0]).toEqual([20, 10, 10, true]);
    const first8 = values.slice(0, 8);
    expect(first8.filter((x) => x === 6).length).toBe(4);
    expect(first8.filter((x) => x === 1).length).toBe(2);
  });

  it('generates the same pixels for the same seed and different ones for another', async () => {
    const a = await photoPixels(sharp, 7, W, H);
    const b = await photoPixels(sharp, 7, W, H);
    const c = await photoPixels(sharp, 8, W, H);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });

  for (const orientation of [1, 3, 6, 8]) {
    it(`stores a photo with orientation ${orientation} so that it shows the upright picture`, async () => {
      const jpeg = await phonePhoto(sharp, 42, orientation, { width: W, height: H });
      const meta = await sharp(jpeg).metadata();
      expect([meta.width, meta.height, meta.orientation, meta.chromaSubsampling]).toEqual([W, H, orientation, '4:2:0']);
      const swap = orientation >= 5;
      const uw = swap ? H : W;
      const uh = swap ? W : H;
      const upright = await photoPixels(sharp, 42, uw, uh);
      const shown = await sharp(jpeg).autoOrient().raw().toBuffer({ resolveWithObject: true });
      expect([shown.info.width, shown.info.height]).toEqual([uw, uh]);
      expect(meanDifference(shown.data, upright)).toBeLessThan(6);
    });
  }
});

describe('benchmark upright check', () => {
  for (let orientation = 1; orientation <= 8; orientation++) {
    it(`turns stored pixels with orientation ${orientation} upright as sharp's autoOrient does`, async () => {
      const pixels = await photoPixels(sharp, 3, 12, 8);
      const file = await sharp(pixels, { raw: { width: 12, height: 8, channels: 3 } }).png().withMetadata({ orientation }).toBuffer();
      const expected = await sharp(file).autoOrient().raw().toBuffer({ resolveWithObject: true });
      const ours = orientRaw(pixels, 12, 8, orientation);
      expect([ours.width, ours.height]).toEqual([expected.info.width, expected.info.height]);
      expect(Buffer.compare(Buffer.from(ours.data), expected.data)).toBe(0);
    });
  }

  it('accepts a right output and rejects a sideways, a mirrored and an untouched one', async () => {
    const input = await phonePhoto(sharp, 5, 6, { width: W, height: H });
    const ref = await reference(sharp, input);
    const right = await sharp(input).autoOrient().jpeg({ quality: 92 }).toBuffer();
    const sideways = await sharp(input).rotate(270).jpeg({ quality: 92 }).toBuffer();
    const mirrored = await sharp(input).autoOrient().flop().jpeg({ quality: 92 }).toBuffer();
    expect(await checkOutput(sharp, right, ref)).toBeNull();
    expect(await checkOutput(sharp, sideways, ref)).toMatch(/pixels differ/);
    expect(await checkOutput(sharp, mirrored, ref)).toMatch(/pixels differ/);
    expect(await checkOutput(sharp, input, ref)).toMatch(/orientation 6 left/);
  });
});
