// The lossless JPEG kernel against libjpeg-turbo: every sample's transforms are compared with
// the committed outputs of `jpegtran -perfect -optimize -copy all` (fixtures/golden/, made by
// scripts/make-golden.js), pixel for pixel and scan byte for scan byte. The system suite
// (test/system/jpegtran.test.ts) repeats the comparisons with freshly made inputs and the live
// jpegtran.
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkPerfect, readCoefficients, transformJpegLossless,
  type CoefficientImage, type Orientation,
} from '../src/pixels/jpeg-lossless/index.js';
import {
  decode, goldenInput, goldenJpegtran, goldenSingle, headerSegments, meanAbsDiff, scanBytes, segment, sharpJpeg, transformPixels, withSegments,
} from './helpers/jpeg-lossless-images.js';
import { ALIGNED, H, UNALIGNED, UNALIGNED_SIZES, W } from '../scripts/golden/jpeg-lossless.js';

const ORIENTATIONS: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];
/** The orientation whose transform undoes the transform of `o`. */
const INVERSE: Record<Orientation, Orientation> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6 };

function mustTransform(jpeg: Uint8Array, o: Orientation): Uint8Array {
  const r = transformJpegLossless(jpeg, o);
  if (!r.ok) throw new Error(`orientation ${o} refused (${r.refusal}): ${r.reason}`);
  return r.jpeg;
}

function expectSameCoefficients(actual: CoefficientImage, expected: CoefficientImage): void {
  expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
  expect(actual.components.length).toBe(expected.components.length);
  actual.components.forEach((a, i) => {
    const e = expected.components[i];
    expect({ id: a.id, h: a.h, v: a.v, tq: a.tq, bw: a.blocksWide, bh: a.blocksHigh })
      .toEqual({ id: e.id, h: e.h, v: e.v, tq: e.tq, bw: e.blocksWide, bh: e.blocksHigh });
    const diff = a.coefficients.findIndex((c, k) => c !== e.coefficients[k]);
    expect(diff, `component ${a.id}: first differing coefficient (block ${Math.floor(diff / 64)}, index ${diff % 64})`).toBe(-1);
  });
  expect(actual.quantTables.map((t) => (t ? [...t] : null))).toEqual(expected.quantTables.map((t) => (t ? [...t] : null)));
}

function iMcu(jpeg: Uint8Array): { w: number; h: number } {
  const c = readCoefficients(jpeg);
  if (c.components.length === 1) return { w: 8, h: 8 };
  return { w: 8 * Math.max(...c.components.map((x) => x.h)), h: 8 * Math.max(...c.components.map((x) => x.v)) };
}

// The samples are 96x64, a multiple of every iMCU among them (at most 32 wide, 16 high).
describe.each(ALIGNED)('$name', (sample) => {
  const input = goldenInput(sample.id);

  it('is iMCU-aligned, so every orientation is perfect', () => {
    const m = iMcu(input);
    expect(W % m.w).toBe(0);
    expect(H % m.h).toBe(0);
  });

  it('every orientation followed by its inverse gives back the same coefficients and quantization tables', () => {
    const original = readCoefficients(input);
    for (const o of ORIENTATIONS) {
      const there = mustTransform(input, o);
      const back = mustTransform(there, INVERSE[o]);
      expectSameCoefficients(readCoefficients(back), original);
    }
  });

  it('four rotations by 90 degrees give back the same coefficients', () => {
    let jpeg: Uint8Array = input;
    for (let i = 0; i < 4; i++) jpeg = mustTransform(jpeg, 6);
    expectSameCoefficients(readCoefficients(jpeg), readCoefficients(input));
  });

  it('every orientation decodes to exactly the pixels of jpegtran -perfect with the matching transform', async () => {
    for (const o of ORIENTATIONS) {
      const out = mustTransform(input, o);
      const reference = goldenJpegtran(sample.id, o);
      const ours = await decode(out);
      const theirs = await decode(reference);
      expect([ours.width, ours.height, ours.channels]).toEqual([theirs.width, theirs.height, theirs.channels]);
      expect(ours.data.equals(theirs.data), `orientation ${o}: pixels differ from jpegtran`).toBe(true);
      // Same coefficients, same dummy blocks, same optimal tables: the same entropy-coded bytes.
      expect(scanBytes(out).equals(scanBytes(reference)), `orientation ${o}: scan differs from jpegtran -optimize`).toBe(true);
    }
  });

  it('every orientation decodes close to the upright reference and keeps the file size', async () => {
    const source = await decode(input);
    for (const o of ORIENTATIONS) {
      const r = transformJpegLossless(input, o);
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      const reference = transformPixels(source, o);
      const ours = await decode(r.jpeg);
      expect([r.width, r.height]).toEqual([reference.width, reference.height]);
      expect([ours.width, ours.height]).toEqual([reference.width, reference.height]);
      expect(meanAbsDiff(ours.data, reference.data), `orientation ${o}`).toBeLessThan(1.5);
      // Optimized Huffman tables: never bigger than the input by more than a few percent; and
      // against an optimized baseline input, not smaller by more either (progressive and
      // unoptimized inputs legitimately shrink).
      expect(r.jpeg.length / input.length, `orientation ${o} size ratio`).toBeLessThan(1.03);
      if (sample.optimized) expect(r.jpeg.length / input.length, `orientation ${o} size ratio`).toBeGreaterThan(0.97);
    }
  });
});

describe('sizes that are not iMCU multiples', () => {
  // Just under and just over the aligned size, in one dimension at a time and in both.
  it.each(UNALIGNED)('$name: refuses exactly the imperfect orientations and matches jpegtran on the rest', async (c) => {
    for (const [w, h] of UNALIGNED_SIZES) {
      const input = goldenInput(c.id, [w, h]);
      const m = iMcu(input);
      const original = readCoefficients(input);
      for (const o of ORIENTATIONS) {
        const needsWidth = o === 2 || o === 3 || o === 7 || o === 8;
        const needsHeight = o === 3 || o === 4 || o === 6 || o === 7;
        const perfect = !(needsWidth && w % m.w !== 0) && !(needsHeight && h % m.h !== 0);
        const r = transformJpegLossless(input, o);
        if (!perfect) {
          expect(r.ok, `${w}x${h} orientation ${o} must be refused`).toBe(false);
          if (!r.ok) {
            expect(r.refusal).toBe('imperfect');
            expect(r.reason).toMatch(needsWidth && w % m.w !== 0 ? /^width \d+ is not a multiple of the iMCU width/ : /^height \d+ is not a multiple of the iMCU height/);
          }
          continue;
        }
        if (!r.ok) throw new Error(`${w}x${h} orientation ${o} refused: ${r.reason}`);
        const ours = await decode(r.jpeg);
        const reference = goldenJpegtran(c.id, o, [w, h]);
        const theirs = await decode(reference);
        expect(ours.data.equals(theirs.data), `${w}x${h} orientation ${o}: pixels differ from jpegtran`).toBe(true);
        expect(scanBytes(r.jpeg).equals(scanBytes(reference)), `${w}x${h} orientation ${o}: scan differs from jpegtran -optimize`).toBe(true);
        const back = transformJpegLossless(r.jpeg, INVERSE[o]);
        if (!back.ok) throw new Error(`${w}x${h} inverse of orientation ${o} refused: ${back.reason}`);
        expectSameCoefficients(readCoefficients(back.jpeg), original);
      }
      expect(transformJpegLossless(input, 5).ok, 'transpose is always perfect').toBe(true);
    }
  });
});

describe('checkPerfect', () => {
  it('follows the iMCU rule of docs/DESIGN.md section 4 for every orientation', () => {
    for (const o of ORIENTATIONS) {
      expect(checkPerfect(4032, 3024, 2, 2, o).perfect, `4032x3024 4:2:0 orientation ${o}`).toBe(true);
    }
    // 4000x3000 4:2:0: 4000 = 250 * 16, 3000 = 187.5 * 16.
    const expected: Record<Orientation, boolean> = { 1: true, 2: true, 3: false, 4: false, 5: true, 6: false, 7: false, 8: true };
    for (const o of ORIENTATIONS) expect(checkPerfect(4000, 3000, 2, 2, o).perfect, `4000x3000 orientation ${o}`).toBe(expected[o]);
    expect(checkPerfect(4000, 3000, 2, 2, 6).reason).toBe('height 3000 is not a multiple of the iMCU height 16 needed for orientation 6 (rotate 90 clockwise)');
    expect(checkPerfect(1800, 1200, 2, 1, 8).reason).toBe('width 1800 is not a multiple of the iMCU width 16 needed for orientation 8 (rotate 270 clockwise)');
    expect(checkPerfect(1801, 1203, 1, 1, 5).perfect).toBe(true);
  });

  it('rejects an orientation outside 1-8 with a message naming the value', () => {
    expect(() => checkPerfect(16, 16, 1, 1, 9 as Orientation)).toThrow('Expected integer between 1 and 8 for orientation but received 9 of type number');
    expect(() => transformJpegLossless(new Uint8Array(4), 0 as Orientation)).toThrow(TypeError);
  });
});

describe('readCoefficients', () => {
  it('reports the blocks that hold samples (libjpeg width_in_blocks), without the MCU padding', async () => {
    // 4:2:0 at 72x40: luma 9x5 blocks; chroma 36x20 samples, so 5x3 blocks, while whole MCUs
    // would make the grids 10x6 and 5x3.
    const c = readCoefficients(await sharpJpeg(72, 40, { chromaSubsampling: '4:2:0' }));
    const maxH = Math.max(...c.components.map((x) => x.h));
    const maxV = Math.max(...c.components.map((x) => x.v));
    for (const comp of c.components) {
      expect(comp.blocksWide).toBe(Math.ceil(Math.ceil((72 * comp.h) / maxH) / 8));
      expect(comp.blocksHigh).toBe(Math.ceil(Math.ceil((40 * comp.v) / maxV) / 8));
      expect(comp.coefficients.length).toBe(comp.blocksWide * comp.blocksHigh * 64);
    }
    expect(c.components.map((x) => [x.blocksWide, x.blocksHigh])).toEqual([[9, 5], [5, 3], [5, 3]]);
  });

  it('throws an Error with the refusal on unsupported input', () => {
    expect(() => readCoefficients(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toThrow(/no frame header/);
  });
});

describe('metadata', () => {
  it('carries every APPn and COM segment over byte for byte and in order, Adobe APP14 included', async () => {
    const base = await sharpJpeg(W, H, { chromaSubsampling: '4:2:0' });
    const exif = segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'latin1'), Buffer.alloc(40, 7)]));
    const icc = segment(0xe2, Buffer.concat([Buffer.from('ICC_PROFILE\0\x01\x01', 'latin1'), Buffer.alloc(300, 3)]));
    const iptc = segment(0xed, 'Photoshop 3.0\0 8BIM payload');
    const comment = segment(0xfe, 'a comment that must survive');
    const adobe = segment(0xee, Buffer.from([0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 1]));
    const late = segment(0xfe, 'a comment between DQT and SOF');
    const input = withSegments(base, [exif, icc, iptc, comment, adobe], [late]);
    const expected = headerSegments(input).filter((s) => (s.marker >= 0xe0 && s.marker <= 0xef) || s.marker === 0xfe);
    expect(expected.length).toBeGreaterThanOrEqual(6); // the six added, after any APP0 sharp wrote
    for (const o of ORIENTATIONS) {
      const out = mustTransform(input, o);
      const segs = headerSegments(out);
      const firstTable = segs.findIndex((s) => !((s.marker >= 0xe0 && s.marker <= 0xef) || s.marker === 0xfe));
      expect(firstTable).toBe(expected.length);
      segs.slice(0, firstTable).forEach((s, i) => {
        expect(Buffer.from(s.bytes).equals(Buffer.from(expected[i].bytes)), `orientation ${o} segment ${i}`).toBe(true);
      });
      expect(segs.some((s) => s.marker === 0xdd), 'no DRI in the output').toBe(false);
      expect(segs.find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4)?.marker, 'baseline SOF0').toBe(0xc0);
    }
  });

  it('writes the swapped sampling factors and transposed quantization tables for orientations 5-8', async () => {
    const input = goldenSingle('meta-422');
    const before = readCoefficients(input);
    const after = readCoefficients(mustTransform(input, 6));
    expect(after.components.map((c) => [c.h, c.v])).toEqual(before.components.map((c) => [c.v, c.h]));
    for (let t = 0; t < 4; t++) {
      const q = before.quantTables[t];
      if (!q) continue;
      for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(after.quantTables[t]![j * 8 + i]).toBe(q[i * 8 + j]);
    }
    expect([after.width, after.height]).toEqual([before.height, before.width]);
  });
});

describe('refusals', () => {
  let baseline: Buffer;
  let progressive: Buffer;
  beforeAll(async () => {
    baseline = await sharpJpeg(64, 48, { chromaSubsampling: '4:2:0' });
    progressive = goldenSingle('refusal-progressive');
  });

  function sofOffset(jpeg: Uint8Array): number {
    const s = headerSegments(jpeg).find((g) => g.marker >= 0xc0 && g.marker <= 0xc2)!;
    return s.bytes.byteOffset - jpeg.byteOffset;
  }

  it('refuses arithmetic coding made by jpegtran -arithmetic', () => {
    const arith = goldenSingle('arithmetic');
    expect(headerSegments(arith).some((s) => s.marker === 0xc9)).toBe(true);
    const r = transformJpegLossless(arith, 6);
    expect(r).toMatchObject({ ok: false, refusal: 'arithmetic' });
  });

  it('refuses 12-bit, lossless and 2-component frame headers', () => {
    const at = sofOffset(baseline);
    const twelve = Buffer.from(baseline);
    twelve[at + 1] = 0xc1; // SOF1, extended
    twelve[at + 4] = 12; // P = 12
    expect(transformJpegLossless(twelve, 6)).toMatchObject({ ok: false, refusal: 'precision' });
    const lossless = Buffer.from(baseline);
    lossless[at + 1] = 0xc3;
    expect(transformJpegLossless(lossless, 6)).toMatchObject({ ok: false, refusal: 'lossless-sof3' });
    const two = Buffer.from(baseline);
    two[at + 9] = 2;
    expect(transformJpegLossless(two, 6)).toMatchObject({ ok: false, refusal: 'components' });
  });

  it('refuses a height defined by a DNL marker (height 0 in the frame header)', () => {
    const dnl = Buffer.from(baseline);
    dnl.writeUInt16BE(0, sofOffset(dnl) + 5);
    expect(transformJpegLossless(dnl, 6)).toMatchObject({ ok: false, refusal: 'lossless-sof3' });
  });

  it('refuses truncated files as corrupt, wherever they are cut', () => {
    for (const src of [baseline, progressive]) {
      for (const cut of [3, 20, 200, Math.floor(src.length / 2), src.length - 40, src.length - 2]) {
        const r = transformJpegLossless(src.subarray(0, cut), 3);
        expect(r, `cut at ${cut} of ${src.length}`).toMatchObject({ ok: false, refusal: 'corrupt' });
        expect(() => readCoefficients(src.subarray(0, cut))).toThrow();
      }
    }
  });

  it('refuses random garbage as corrupt without throwing', () => {
    const garbage = Buffer.alloc(5000);
    let s = 12345;
    for (let i = 0; i < garbage.length; i++) { s = (s * 1103515245 + 12345) >>> 0; garbage[i] = s >>> 24; }
    expect(transformJpegLossless(garbage, 6)).toMatchObject({ ok: false, refusal: 'corrupt' });
    garbage[0] = 0xff; garbage[1] = 0xd8;
    expect(transformJpegLossless(garbage, 6)).toMatchObject({ ok: false, refusal: 'corrupt' });
    expect(transformJpegLossless(new Uint8Array(0), 1)).toMatchObject({ ok: false, refusal: 'corrupt' });
  });

  it('refuses a frame that declares more blocks than its bytes can hold, before allocating', () => {
    const huge = Buffer.from(baseline);
    const at = sofOffset(huge);
    huge.writeUInt16BE(16000, at + 5); // height
    huge.writeUInt16BE(16000, at + 7); // width
    const r = transformJpegLossless(huge, 5);
    expect(r).toMatchObject({ ok: false, refusal: 'corrupt' });
    if (!r.ok) expect(r.reason).toMatch(/declares \d+ DCT blocks/);
  });

  it('refuses a file with more scans than the limit', () => {
    // Repeat the DC refinement scan (SOS header + entropy-coded data; one bit per block, so
    // every copy decodes) of a progressive file right after itself (later scans may come
    // with another restart interval).
    let at = -1;
    for (let p = progressive.indexOf(Buffer.from([0xff, 0xda])); p >= 0; p = progressive.indexOf(Buffer.from([0xff, 0xda]), p + 2)) {
      const ns = progressive[p + 4];
      const ss = progressive[p + 5 + 2 * ns];
      const ah = progressive[p + 7 + 2 * ns] >> 4;
      if (ss === 0 && ah > 0) { at = p; break; }
    }
    expect(at, 'the sample has a DC refinement scan').toBeGreaterThan(0);
    let end = at + 2 + progressive.readUInt16BE(at + 2);
    while (!(progressive[end] === 0xff && progressive[end + 1] !== 0 && (progressive[end + 1] < 0xd0 || progressive[end + 1] > 0xd7))) end++;
    const scan = progressive.subarray(at, end);
    const repeat = (n: number): Buffer => Buffer.concat([progressive.subarray(0, end), ...Array.from({ length: n }, () => scan), progressive.subarray(end)]);
    expect(transformJpegLossless(repeat(100), 6).ok, '100 extra scans are still accepted').toBe(true);
    const many = repeat(300);
    const r = transformJpegLossless(many, 6);
    expect(r).toMatchObject({ ok: false, refusal: 'corrupt' });
    if (!r.ok) expect(r.reason).toMatch(/more than 256 scans/);
  });

  it('never throws or fails internally on mutated JPEG bytes (seeded fuzz)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { freq: 4 }),
        fc.constantFrom<Orientation>(...ORIENTATIONS),
        (which, mutations, cut, o) => {
          const bytes = Buffer.from(which === 0 ? baseline : progressive);
          for (const m of mutations) bytes[m.at % bytes.length] = m.value;
          const input = cut === null ? bytes : bytes.subarray(0, cut % bytes.length);
          const r = transformJpegLossless(input, o);
          if (r.ok) {
            expect(() => readCoefficients(r.jpeg)).not.toThrow();
          } else {
            expect(r.reason).not.toMatch(/^internal error/);
            expect(typeof r.reason).toBe('string');
          }
        },
      ),
      { seed: 20240611, numRuns: 1500 },
    );
  });
});

describe('the raw-pixel reference transform', () => {
  it('agrees with sharp for every orientation', async () => {
    const raw = await decode(await sharpJpeg(24, 16, { chromaSubsampling: '4:4:4' }));
    const input = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 } });
    // sharp mirrors before it rotates, whatever the call order.
    const ops: Record<Orientation, (s: Sharp) => Sharp> = {
      1: (s) => s, 2: (s) => s.flop(), 3: (s) => s.rotate(180), 4: (s) => s.flip(), 5: (s) => s.flop().rotate(270),
      6: (s) => s.rotate(90), 7: (s) => s.flop().rotate(90), 8: (s) => s.rotate(270),
    };
    for (const o of ORIENTATIONS) {
      const theirs = await ops[o](input.clone()).raw().toBuffer();
      expect(theirs.equals(transformPixels(raw, o).data), `orientation ${o}`).toBe(true);
    }
  });
});
