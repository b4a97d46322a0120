import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJpeg, type DecodedJpeg, type DecodeLayout } from '../src/pixels/jpeg-lossless/decode.js';
import { LosslessError } from '../src/pixels/jpeg-lossless/errors.js';
import {
  LosslessKernel, readCoefficients, transformJpegLossless, type LosslessResult, type Orientation,
} from '../src/pixels/jpeg-lossless/index.js';
import { KERNEL_WASM_BASE64 } from '../src/pixels/jpeg-lossless/kernel/wasm.js';
import { texture } from './helpers/jpeg-lossless-images.js';

const ORIENTATIONS: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];
const LAYOUTS: DecodeLayout[] = ['natural', 'zigzag', 'transposed'];
const root = path.resolve(import.meta.dirname, '..');

/** Every JPEG under `dir`, recursively, as [relative name, bytes]. */
function jpegsUnder(dir: string): Array<[string, Buffer]> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.jpe?g$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
    .map((file) => [path.relative(root, file), readFileSync(file)]);
}

async function sharpSample(width: number, height: number, options: {
  quality: number; chromaSubsampling: '4:2:0' | '4:4:4'; progressive: boolean; optimiseCoding: boolean;
  mozjpeg?: boolean; cmyk?: boolean; gray?: boolean; seed?: number;
}): Promise<Buffer> {
  let img = sharp(texture(width, height, 3, options.seed ?? width * 17 + height), { raw: { width, height, channels: 3 } });
  if (options.cmyk) img = img.toColourspace('cmyk');
  if (options.gray) img = img.toColourspace('b-w');
  return img.jpeg({
    quality: options.quality, chromaSubsampling: options.chromaSubsampling, progressive: options.progressive,
    optimiseCoding: options.optimiseCoding, mozjpeg: options.mozjpeg ?? false,
  }).toBuffer();
}

/** The same inputs as test/jpeg-lossless.test.ts makes with sharp, plus standard Huffman tables as cameras write them. */
const SHARP_SAMPLES: Array<[string, () => Promise<Buffer>]> = [
  ['4:2:0 baseline, optimized tables', () => sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: true })],
  ['4:2:0 baseline, standard tables', () => sharpSample(96, 64, { quality: 92, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: false })],
  ['4:2:0 progressive', () => sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true })],
  ['4:2:0 progressive, mozjpeg scans and trellis', () => sharpSample(96, 64, { quality: 85, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true, mozjpeg: true })],
  ['4:4:4 baseline', () => sharpSample(96, 64, { quality: 95, chromaSubsampling: '4:4:4', progressive: false, optimiseCoding: true })],
  ['4:4:4 progressive', () => sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:4:4', progressive: true, optimiseCoding: true })],
  ['CMYK baseline', () => sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: true, cmyk: true })],
  ['CMYK progressive', () => sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true, cmyk: true })],
  ['4:2:0 baseline of an odd size (not iMCU-aligned)', () => sharpSample(45, 29, { quality: 90, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: false })],
];

/**
 * Full storage from the kernel's packed storage (decode.ts DecodedComponent.offsets): each
 * block's DC, then its nonzero coefficients at their output zigzag positions (the storage index
 * within a block in the 'zigzag' and 'transposed' layouts); blocks at offset 0 were not coded.
 */
function unpack(coef: Int16Array, offsets: Uint32Array, nz: Int32Array): Int16Array {
  const full = new Int16Array(offsets.length * 64);
  for (let b = 0; b < offsets.length; b++) {
    let at = offsets[b];
    if (at === 0) continue; // a block no scan coded (MCU padding of a non-interleaved scan)
    full[b * 64] = coef[at];
    for (let q = 1; q < 64; q++) {
      if ((nz[2 * b + (q >> 5)] >>> (31 - (q & 31))) & 1) full[b * 64 + q] = coef[++at];
    }
  }
  return full;
}

/** Decodes with the kernel; the result's arrays are copied out of the kernel's memory, packed storage unpacked. */
function kernelDecode(kernel: LosslessKernel, jpeg: Uint8Array, layout: DecodeLayout): DecodedJpeg {
  const session = kernel.session(jpeg);
  try {
    const dec = decodeJpeg(jpeg, undefined, layout, session.scans);
    return {
      ...dec,
      comps: dec.comps.map((c) => ({
        ...c, offsets: undefined, coef: c.offsets ? unpack(c.coef, c.offsets, c.nz) : c.coef.slice(),
        nz: c.nz.slice(), nzIn: c.nzIn.slice(), acFreq: c.acFreq.slice(),
      })),
    };
  } finally {
    session.end();
  }
}

/** Runs `decode`, returning its result or the refusal it threw. */
function attempt(decode: () => DecodedJpeg): DecodedJpeg | { refusal: string; reason: string } {
  try {
    return decode();
  } catch (error) {
    if (error instanceof LosslessError) return { refusal: error.refusal, reason: error.message };
    throw error;
  }
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectSameDecode(kernel: ReturnType<typeof attempt>, reference: ReturnType<typeof attempt>): void {
  if (!('comps' in reference) || !('comps' in kernel)) {
    expect(kernel).toEqual(reference);
    return;
  }
  expect([kernel.width, kernel.height, kernel.comps.length]).toEqual([reference.width, reference.height, reference.comps.length]);
  reference.comps.forEach((r, i) => {
    const k = kernel.comps[i];
    expect({ id: k.id, h: k.h, v: k.v, bw: k.bw, bh: k.bh, pw: k.pw, ph: k.ph, sx: k.sx, sy: k.sy })
      .toEqual({ id: r.id, h: r.h, v: r.v, bw: r.bw, bh: r.bh, pw: r.pw, ph: r.ph, sx: r.sx, sy: r.sy });
    const coef = firstDifference(k.coef, r.coef);
    expect(coef, `component ${r.id}: first differing coefficient (block ${Math.floor(coef / 64)}, index ${coef % 64})`).toBe(-1);
    expect(firstDifference(k.nz, r.nz), `component ${r.id}: first differing nonzero map word`).toBe(-1);
    expect(firstDifference(k.nzIn, r.nzIn), `component ${r.id}: first differing progressive nonzero map word`).toBe(-1);
    expect([...k.acFreq]).toEqual([...r.acFreq]);
  });
  expect(kernel.quantTables.map((t) => (t ? [...t] : null))).toEqual(reference.quantTables.map((t) => (t ? [...t] : null)));
}

/** Both engines' results for one transform, comparable with toEqual (bytes as Buffers). */
function bothEngines(jpeg: Uint8Array, o: Orientation, kernel: LosslessKernel): [unknown, unknown] {
  const plain = (r: LosslessResult): unknown => (r.ok ? { ...r, jpeg: Buffer.from(r.jpeg) } : r);
  return [plain(transformJpegLossless(jpeg, o, { kernel })), plain(transformJpegLossless(jpeg, o, { engine: 'reference' }))];
}

const INPUTS: Array<[string, () => Promise<Buffer> | Buffer]> = [
  ...SHARP_SAMPLES,
  ...jpegsUnder(path.join(root, 'fixtures')).map(([name, bytes]): [string, () => Buffer] => [name, () => bytes]),
];

describe.each(INPUTS.map(([name, make]) => ({ name, make })))('$name', ({ make }) => {
  let jpeg: Buffer;
  const kernel = new LosslessKernel();
  beforeAll(async () => {
    jpeg = await make();
  });

  it('decodes to the same coefficients, nonzero maps and statistics as the TypeScript reference, in every layout', () => {
    for (const layout of LAYOUTS) {
      expectSameDecode(attempt(() => kernelDecode(kernel, jpeg, layout)), attempt(() => decodeJpeg(jpeg, undefined, layout)));
    }
  });

  it('transforms to the same bytes (or the same refusal) as the TypeScript reference in every orientation', () => {
    for (const o of ORIENTATIONS) {
      const [k, r] = bothEngines(jpeg, o, kernel);
      expect(k, `orientation ${o}`).toEqual(r);
    }
  });
});

describe('the kernel on random inputs', () => {
  it('agrees with the reference, byte for byte, on random sizes, qualities, samplings and codings (seeded)', async () => {
    const kernel = new LosslessKernel();
    await fc.assert(fc.asyncProperty(
      fc.record({
        width: fc.integer({ min: 1, max: 90 }), height: fc.integer({ min: 1, max: 90 }),
        quality: fc.integer({ min: 1, max: 100 }), chromaSubsampling: fc.constantFrom('4:2:0' as const, '4:4:4' as const),
        progressive: fc.boolean(), optimiseCoding: fc.boolean(), mozjpeg: fc.boolean(), gray: fc.boolean(),
        seed: fc.integer({ min: 1, max: 1 << 30 }), orientation: fc.constantFrom(...ORIENTATIONS),
      }),
      async (p) => {
        const jpeg = await sharpSample(p.width, p.height, p);
        const [k, r] = bothEngines(jpeg, p.orientation, kernel);
        expect(k).toEqual(r);
        expectSameDecode(attempt(() => kernelDecode(kernel, jpeg, 'zigzag')), attempt(() => decodeJpeg(jpeg, undefined, 'zigzag')));
      },
    ), { seed: 15, numRuns: 40 });
  });

  it('gives the same result or the same refusal as the reference on mutated and truncated files (seeded)', () => {
    const kernel = new LosslessKernel();
    const seeds = jpegsUnder(path.join(root, 'fixtures', 'lossless-kernel')).map(([, bytes]) => bytes);
    fc.assert(fc.property(
      fc.nat({ max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat()),
      fc.constantFrom(...ORIENTATIONS),
      (which, edits, cut, o) => {
        const jpeg = Buffer.from(seeds[which]);
        // Mostly in the entropy-coded data, which is most of every file.
        for (const [at, value] of edits) jpeg[at % jpeg.length] = value;
        const input = cut === null ? jpeg : jpeg.subarray(0, cut % jpeg.length);
        const [k, r] = bothEngines(input, o, kernel);
        expect(k).toEqual(r);
      },
    ), { seed: 11, numRuns: 600 });
  });
});

describe('one-pass encoding with the input\'s own Huffman tables', () => {
  it('writes the same coefficients as the optimal tables do, with the input\'s DHT, the same bytes in both engines', async () => {
    const kernel = new LosslessKernel();
    const jpeg = await sharpSample(96, 64, { quality: 92, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: false });
    for (const o of ORIENTATIONS) {
      const source = transformJpegLossless(jpeg, o, { kernel, huffman: 'source' });
      const reference = transformJpegLossless(jpeg, o, { engine: 'reference', huffman: 'source' });
      const optimal = transformJpegLossless(jpeg, o, { kernel });
      if (!source.ok || !reference.ok || !optimal.ok) throw new Error(`orientation ${o} refused`);
      expect(Buffer.from(source.jpeg).equals(Buffer.from(reference.jpeg))).toBe(true);
      expect(readCoefficients(source.jpeg)).toEqual(readCoefficients(optimal.jpeg));
      // The standard tables (T.81 K.3) code everything, so they are not optimal for this picture.
      expect(source.jpeg.length).toBeGreaterThan(optimal.jpeg.length);
    }
  });

  it('falls back to optimal tables for progressive input, which has no single table per component', async () => {
    const jpeg = await sharpSample(96, 64, { quality: 90, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true });
    const source = transformJpegLossless(jpeg, 6, { huffman: 'source' });
    const optimal = transformJpegLossless(jpeg, 6);
    expect(source.ok && optimal.ok && Buffer.from(source.jpeg).equals(Buffer.from(optimal.jpeg))).toBe(true);
  });
});

describe('LosslessKernel', () => {
  it('stores sequential input packed for the transform, and progressive input in full', async () => {
    const kernel = new LosslessKernel();
    const layouts = (jpeg: Buffer): Array<boolean> => LAYOUTS.map((layout) => {
      const session = kernel.session(jpeg);
      try {
        return decodeJpeg(jpeg, undefined, layout, session.scans).comps.every((c) => c.offsets !== undefined);
      } finally {
        session.end();
      }
    });
    const sequential = await sharpSample(48, 32, { quality: 90, chromaSubsampling: '4:2:0', progressive: false, optimiseCoding: false });
    const progressive = await sharpSample(48, 32, { quality: 90, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true });
    expect(layouts(sequential)).toEqual([false, true, true]);
    expect(layouts(progressive)).toEqual([false, false, false]);
  });

  it('loads the committed kernel.wasm (wasm.ts holds the same bytes; npm run kernel:check rebuilds both from kernel.c)', () => {
    const committed = readFileSync(path.join(root, 'src/pixels/jpeg-lossless/kernel/kernel.wasm'));
    expect(Buffer.from(KERNEL_WASM_BASE64, 'base64').equals(committed)).toBe(true);
  });

  it('reuses its memory from file to file and gives the same bytes the second time', async () => {
    const kernel = new LosslessKernel();
    const a = await sharpSample(160, 96, { quality: 90, chromaSubsampling: '4:2:0', progressive: true, optimiseCoding: true });
    const b = await sharpSample(64, 48, { quality: 80, chromaSubsampling: '4:4:4', progressive: false, optimiseCoding: false });
    const first = transformJpegLossless(a, 6, { kernel });
    const grown = kernel.memoryBytes;
    transformJpegLossless(b, 3, { kernel });
    const again = transformJpegLossless(a, 6, { kernel });
    expect(kernel.memoryBytes).toBe(grown);
    expect(first.ok && again.ok && Buffer.from(again.jpeg).equals(Buffer.from(first.jpeg))).toBe(true);
  });
});
