// Property tests of the label geometry: every format's box covers, in the normalized picture, the
// pixels it covered in the stored one (checked against masks moved by sharp, an independent pixel
// transform), and transforming then applying the inverse orientation gives the original back.
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  decodeCompressedCounts,
  decodeRle,
  encodeCompressedCounts,
  encodeRle,
  mapContinuous,
  mapNormalized,
  mapPixel,
  transformCocoBox,
  transformCorners,
  transformKeypoints,
  transformPolygon,
  transformRle,
  transformRowMajorMask,
  transformVocBox,
  transformYoloBox,
} from '../src/annotations/geometry.js';
import { ORIENTATIONS, uprightSize, type Orientation } from '../src/orientation.js';

const orientation = fc.constantFrom<Orientation>(1, 2, 3, 4, 5, 6, 7, 8);
const oddSize = fc.integer({ min: 0, max: 8 }).map((k) => 2 * k + 1);

/** A row-major 0/255 mask of the pixels `[x0, x1) x [y0, y1)` of a `width` x `height` picture. */
function rectMask(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * width + x] = 255;
  return m;
}

/**
 * Applies orientation `o` to a row-major one-channel picture with sharp, one operation per pass
 * (rotation, then mirror), so no reliance on sharp's operation order.
 */
async function sharpTransform(mask: Uint8Array, width: number, height: number, o: Orientation): Promise<{ data: Uint8Array; width: number; height: number }> {
  const steps: Array<(s: Sharp) => Sharp> = {
    1: [],
    2: [(s: Sharp) => s.flop()],
    3: [(s: Sharp) => s.rotate(180)],
    4: [(s: Sharp) => s.flip()],
    5: [(s: Sharp) => s.rotate(90), (s: Sharp) => s.flop()],
    6: [(s: Sharp) => s.rotate(90)],
    7: [(s: Sharp) => s.rotate(90), (s: Sharp) => s.flip()],
    8: [(s: Sharp) => s.rotate(270)],
  }[o];
  let cur = { data: mask, width, height };
  for (const step of steps) {
    const { data, info } = await step(sharp(Buffer.from(cur.data), { raw: { width: cur.width, height: cur.height, channels: 1 } }))
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    cur = { data: new Uint8Array(data), width: info.width, height: info.height };
  }
  return cur;
}

/** A stored picture size and a pixel-aligned box inside it: `[x0, x1) x [y0, y1)`. */
const pictureWithBox = fc
  .record({ width: oddSize, height: oddSize, o: orientation })
  .chain(({ width, height, o }) =>
    fc
      .record({
        xa: fc.integer({ min: 0, max: width }),
        xb: fc.integer({ min: 0, max: width }),
        ya: fc.integer({ min: 0, max: height }),
        yb: fc.integer({ min: 0, max: height }),
      })
      .filter(({ xa, xb, ya, yb }) => xa !== xb && ya !== yb)
      .map(({ xa, xb, ya, yb }) => ({ width, height, o, x0: Math.min(xa, xb), x1: Math.max(xa, xb), y0: Math.min(ya, yb), y1: Math.max(ya, yb) })),
  );

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('a box transformed with its image covers the same pixels', () => {
  it('for the COCO, labelme, VOC and YOLO conventions, every orientation and odd sizes', async () => {
    await fc.assert(
      fc.asyncProperty(pictureWithBox, async ({ width, height, o, x0, x1, y0, y1 }) => {
        const expected = await sharpTransform(rectMask(width, height, x0, y0, x1, y1), width, height, o);
        const up = uprightSize(width, height, o);
        expect([expected.width, expected.height]).toEqual([up.width, up.height]);

        const [cx, cy, cw, ch] = transformCocoBox([x0, y0, x1 - x0, y1 - y0], width, height, o);
        expect(rectMask(up.width, up.height, cx, cy, cx + cw, cy + ch)).toEqual(expected.data);

        const [lx0, ly0, lx1, ly1] = transformCorners([x1, y0, x0, y1], width, height, o); // labelme corners in any order
        expect(rectMask(up.width, up.height, lx0, ly0, lx1, ly1)).toEqual(expected.data);

        const [vx0, vy0, vx1, vy1] = transformVocBox([x0 + 1, y0 + 1, x1, y1], width, height, o); // 1-based inclusive
        expect(rectMask(up.width, up.height, vx0 - 1, vy0 - 1, vx1, vy1)).toEqual(expected.data);

        const [ycx, ycy, yw, yh] = transformYoloBox([(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height], o);
        const px = (v: number, size: number) => Math.round(v * size);
        expect(
          rectMask(up.width, up.height, px(ycx - yw / 2, up.width), px(ycy - yh / 2, up.height), px(ycx + yw / 2, up.width), px(ycy + yh / 2, up.height)),
        ).toEqual(expected.data);
      }),
      { numRuns: 300 },
    );
  });

  it('for COCO RLE masks and row-major masks of any shape', async () => {
    const pictureWithMask = fc
      .record({ width: oddSize, height: oddSize, o: orientation })
      .chain(({ width, height, o }) =>
        fc.uint8Array({ minLength: width * height, maxLength: width * height, max: 1 }).map((bits) => ({ width, height, o, bits })),
      );
    await fc.assert(
      fc.asyncProperty(pictureWithMask, async ({ width, height, o, bits }) => {
        const rowMajor = bits.map((b) => b * 255);
        const expected = await sharpTransform(rowMajor, width, height, o);
        expect(transformRowMajorMask(rowMajor, width, height, o)).toEqual(expected.data);
        const columnMajor = new Uint8Array(width * height);
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) columnMajor[x * height + y] = bits[y * width + x];
        const moved = transformRle({ counts: encodeRle(columnMajor), size: [height, width] }, o);
        expect(moved.size).toEqual([expected.height, expected.width]);
        const back = decodeRle(moved.counts, moved.size[0], moved.size[1]);
        const asRowMajor = new Uint8Array(back.length);
        for (let y = 0; y < expected.height; y++) for (let x = 0; x < expected.width; x++) asRowMajor[y * expected.width + x] = back[x * expected.height + y] * 255;
        expect(asRowMajor).toEqual(expected.data);
      }),
      { numRuns: 200 },
    );
  });
});

describe('transforming then applying the inverse orientation gives the original', () => {
  const coordinate = (max: number) => fc.double({ min: 0, max, noNaN: true });
  const size = fc.integer({ min: 1, max: 6000 });

  it('for continuous, normalized and pixel-index points', () => {
    fc.assert(
      fc.property(orientation, size, size, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (o, W, H, u, v) => {
        const inv = ORIENTATIONS[o].inverse;
        const up = uprightSize(W, H, o);
        const [cx, cy] = mapContinuous(u * W, v * H, W, H, o);
        const [bx, by] = mapContinuous(cx, cy, up.width, up.height, inv);
        expect(close(bx, u * W) && close(by, v * H)).toBe(true);
        const [nu, nv] = mapNormalized(u, v, o);
        const [bu, bv] = mapNormalized(nu, nv, inv);
        expect(close(bu, u) && close(bv, v)).toBe(true);
        const [px, py] = mapPixel(u * (W - 1), v * (H - 1), W, H, o);
        const [qx, qy] = mapPixel(px, py, up.width, up.height, inv);
        expect(close(qx, u * (W - 1)) && close(qy, v * (H - 1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('for COCO boxes, VOC boxes and YOLO boxes', () => {
    fc.assert(
      fc.property(orientation, size, size, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), (o, W, H, r) => {
        const inv = ORIENTATIONS[o].inverse;
        const up = uprightSize(W, H, o);
        const [a, b] = [Math.min(r[0], r[1]), Math.max(r[0], r[1])];
        const [c, d] = [Math.min(r[2], r[3]), Math.max(r[2], r[3])];
        const coco: [number, number, number, number] = [a * W, c * H, (b - a) * W, (d - c) * H];
        const cocoBack = transformCocoBox(transformCocoBox(coco, W, H, o), up.width, up.height, inv);
        cocoBack.forEach((v, i) => expect(close(v, coco[i]), `coco ${i}`).toBe(true));
        const voc: [number, number, number, number] = [1 + a * (W - 1), 1 + c * (H - 1), 1 + b * (W - 1), 1 + d * (H - 1)];
        const vocBack = transformVocBox(transformVocBox(voc, W, H, o), up.width, up.height, inv);
        vocBack.forEach((v, i) => expect(close(v, voc[i]), `voc ${i}`).toBe(true));
        const yolo: [number, number, number, number] = [(a + b) / 2, (c + d) / 2, b - a, d - c];
        const yoloBack = transformYoloBox(transformYoloBox(yolo, o), inv);
        yoloBack.forEach((v, i) => expect(close(v, yolo[i]), `yolo ${i}`).toBe(true));
      }),
      { numRuns: 500 },
    );
  });

  it('for polygons and keypoints, leaving points that are not labelled alone', () => {
    fc.assert(
      fc.property(
        orientation,
        size,
        size,
        fc.array(fc.tuple(coordinate(1), coordinate(1), fc.constantFrom(0, 1, 2)), { minLength: 1, maxLength: 20 }),
        (o, W, H, pts) => {
          const inv = ORIENTATIONS[o].inverse;
          const up = uprightSize(W, H, o);
          const poly = pts.flatMap(([u, v]) => [u * W, v * H]);
          const polyBack = transformPolygon(transformPolygon(poly, W, H, o), up.width, up.height, inv);
          polyBack.forEach((v, i) => expect(close(v, poly[i])).toBe(true));
          const kps = pts.flatMap(([u, v, vis]) => (vis === 0 ? [0, 0, 0] : [Math.round(u * (W - 1)), Math.round(v * (H - 1)), vis]));
          const moved = transformKeypoints(kps, W, H, o);
          for (let i = 0; i < kps.length; i += 3) {
            if (kps[i + 2] === 0) expect(moved.slice(i, i + 3)).toEqual([0, 0, 0]);
            else {
              expect(Number.isInteger(moved[i]) && moved[i] >= 0 && moved[i] < up.width).toBe(true);
              expect(Number.isInteger(moved[i + 1]) && moved[i + 1] >= 0 && moved[i + 1] < up.height).toBe(true);
            }
          }
          expect(transformKeypoints(moved, up.width, up.height, inv)).toEqual(kps);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('compressed COCO RLE strings', () => {
  it('decode to the counts they were encoded from', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000_000 }), { maxLength: 60 }), (counts) => {
        const s = encodeCompressedCounts(counts);
        expect(s).toMatch(/^[0-o]*$/);
        expect(decodeCompressedCounts(s)).toEqual(counts);
      }),
      { numRuns: 500 },
    );
  });

  it('reject characters outside the alphabet and truncated values', () => {
    expect(() => decodeCompressedCounts('ab~')).toThrow(RangeError);
    expect(() => decodeCompressedCounts('P')).toThrow(RangeError); // 'P' - 48 = 32: "more" set, then nothing
  });
});
