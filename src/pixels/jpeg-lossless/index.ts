/**
 * Lossless JPEG orientation: applies an EXIF orientation to a JPEG in the DCT domain, the
 * way libjpeg-turbo's jpegtran does with `-perfect`, but refusing (never trimming, never leaving
 * a wrong edge strip) whenever the transform is not perfect.
 *
 * Pipeline: decode.ts (parse + Huffman-decode to quantized DCT coefficients) ->
 * transform.ts (block mapping, within-block permutation and sign, quantization table
 * transposition) -> encode.ts (baseline encode with optimized Huffman tables). The
 * entropy-coded work of decode.ts and encode.ts runs in a WebAssembly kernel (kernel/kernel.c,
 * kernel/index.ts); the TypeScript code stays the reference it is tested against.
 */
import type { Orientation } from '../../orientation.js';
import type { DecodedJpeg } from './decode.js';
import { LosslessError } from './errors.js';
import { decodeJpeg as decode, type ScanBackend } from './decode.js';
import { encodeBaseline, type EncodeBackend, type EncodeComponent } from './encode.js';
import { LosslessKernel } from './kernel/index.js';
import { huffmanTableChoice } from './markers.js';
import { blockMapping, blockPermutation, swapsAxes, TRANSFORM_NAME, transposeTable } from './transform.js';

export { LosslessKernel, KERNEL_MEMORY_KEEP } from './kernel/index.js';

/** EXIF orientation value 1-8 (EXIF 2.32, tag 0x0112): the project's one definition. */
export type { Orientation } from '../../orientation.js';

/**
 * Why the lossless path was not taken:
 * - `imperfect`: the transform is not perfect for this size and sampling (see `checkPerfect`)
 * - `arithmetic`: arithmetic coding (SOF9-SOF15, or a DAC segment)
 * - `precision`: samples other than 8-bit (e.g. 12-bit SOF1)
 * - `lossless-sof3`: SOF3 lossless, hierarchical (SOF5-7, DHP/EXP) or another unsupported
 *   process or feature (a height defined by DNL)
 * - `components`: a component count other than 1, 3 or 4
 * - `corrupt`: cannot be parsed, truncated, bad Huffman data, or larger than the limits
 *   (2^28 pixels, 2^24 DCT blocks, 256 scans)
 */
export type LosslessRefusal =
  | 'imperfect'
  | 'arithmetic'
  | 'precision'
  | 'lossless-sof3'
  | 'components'
  | 'corrupt';

/**
 * Result of `transformJpegLossless`. On success, `jpeg` is the whole new file and
 * `width`/`height` are the output size in pixels (swapped for orientations 5-8). On refusal,
 * `reason` is one human sentence.
 */
export type LosslessResult =
  | { ok: true; jpeg: Uint8Array; width: number; height: number }
  | { ok: false; refusal: LosslessRefusal; reason: string };

const ORIENTATION_NEEDS: Record<Orientation, { width: boolean; height: boolean }> = {
  1: { width: false, height: false },
  2: { width: true, height: false },
  3: { width: true, height: true },
  4: { width: false, height: true },
  5: { width: false, height: false },
  6: { width: false, height: true },
  7: { width: true, height: true },
  8: { width: true, height: false },
};

function validateOrientation(orientation: unknown): asserts orientation is Orientation {
  if (typeof orientation !== 'number' || !Number.isInteger(orientation) || orientation < 1 || orientation > 8) {
    throw new TypeError(`Expected integer between 1 and 8 for orientation but received ${String(orientation)} of type ${typeof orientation}`);
  }
}

/**
 * Checks, from the frame header only, whether the transform for `orientation` is perfect,
 * i.e. needs no edge blocks to be moved away from the right or bottom edge (JPEG can pad only
 * there). With the iMCU of 8*maxH x 8*maxV pixels: 1 and 5 are always perfect; 2 and 8 need
 * `width % iMCU width === 0`; 4 and 6 need `height % iMCU height === 0`; 3 and 7 need both.
 * The rule of libjpeg-turbo transupp.c jtransform_perfect_transform.
 *
 * @param width - frame width in pixels
 * @param height - frame height in pixels
 * @param maxH - largest horizontal sampling factor of the frame (pass 1 for a single-component frame)
 * @param maxV - largest vertical sampling factor of the frame (pass 1 for a single-component frame)
 * @param orientation - EXIF orientation value 1-8
 * @returns `{ perfect: true }`, or `{ perfect: false, reason }` naming the dimension at fault
 * @throws TypeError when `orientation` is not an integer 1-8
 * @example
 * checkPerfect(4000, 3000, 2, 2, 6);
 * // { perfect: false, reason: 'height 3000 is not a multiple of the iMCU height 16 needed for orientation 6 (rotate 90 clockwise)' }
 */
export function checkPerfect(width: number, height: number, maxH: number, maxV: number, orientation: Orientation): { perfect: boolean; reason?: string } {
  validateOrientation(orientation);
  const iw = 8 * maxH;
  const ih = 8 * maxV;
  const needs = ORIENTATION_NEEDS[orientation];
  const what = `orientation ${orientation} (${TRANSFORM_NAME[orientation]})`;
  if (needs.width && width % iw !== 0) {
    return { perfect: false, reason: `width ${width} is not a multiple of the iMCU width ${iw} needed for ${what}` };
  }
  if (needs.height && height % ih !== 0) {
    return { perfect: false, reason: `height ${height} is not a multiple of the iMCU height ${ih} needed for ${what}` };
  }
  return { perfect: true };
}

/**
 * Transforms a whole JPEG file losslessly so that a viewer ignoring orientation sees it
 * upright, i.e. applies the transform the EXIF orientation value asks for (2 flip-h,
 * 3 rotate 180, 4 flip-v, 5 transpose, 6 rotate 90 CW, 7 transverse, 8 rotate 270 CW; 1 only
 * re-encodes). The quantized DCT coefficients are moved, never requantized (libjpeg-turbo
 * transupp.c rules); for 5-8 the sampling factors of every component are swapped and every
 * quantization table is transposed.
 *
 * Input: baseline (SOF0), extended 8-bit Huffman (SOF1) or progressive Huffman (SOF2), 1, 3
 * or 4 components, any sampling factors, any restart interval. Output: a baseline sequential
 * JPEG (SOF1 only if a quantization table has 16-bit entries) with one interleaved scan (one
 * scan per component when there is one component or an MCU would exceed 10 blocks),
 * optimized Huffman tables and no restart markers. Blocks past the image edge inside the
 * last MCUs are written as dummies (DC difference 0, EOB), as libjpeg does. The tables are
 * built and assigned to the components as libjpeg does, so the entropy-coded data is byte
 * for byte what `jpegtran -perfect -optimize` writes for the same transform.
 *
 * Metadata: every APPn and COM segment is copied byte for byte and in file order right after
 * SOI (the EXIF orientation tag is NOT changed here). DQT, DHT, SOF, SOS and DRI are
 * regenerated; anything after EOI (e.g. the extra images of an MPO) is not carried over.
 *
 * @param jpeg - the whole JPEG file
 * @param orientation - EXIF orientation value 1-8 of the input
 * @param options - which engine runs the entropy-coded work (see {@link LosslessOptions});
 *   default: the WebAssembly kernel of this thread
 * @returns `{ ok: true, jpeg, width, height }` (output size in pixels) or
 *   `{ ok: false, refusal, reason }`; never throws for bad or hostile input
 * @throws TypeError only for a wrong argument type or an orientation outside 1-8
 * @example
 * const r = transformJpegLossless(bytes, 6);
 * if (r.ok) await fs.writeFile(out, r.jpeg); else console.warn(r.reason);
 */
export function transformJpegLossless(jpeg: Uint8Array, orientation: Orientation, options: LosslessOptions = {}): LosslessResult {
  if (!(jpeg instanceof Uint8Array)) throw new TypeError(`Expected Uint8Array for jpeg but received ${typeof jpeg}`);
  validateOrientation(orientation);
  const engine = options.engine ?? (options.kernel || jpeg.length >= KERNEL_MIN_BYTES ? 'kernel' : 'reference');
  if (engine === 'kernel') {
    const kernel = options.kernel ?? threadKernel();
    if (kernel) {
      let session: ReturnType<LosslessKernel['session']> | undefined;
      try {
        session = kernel.session(jpeg);
        return transform(jpeg, orientation, options.huffman === 'source', session.scans, session.encoder);
      } catch (err) {
        if (err instanceof LosslessError) return { ok: false, refusal: err.refusal, reason: err.message };
        // The kernel could not run (no WebAssembly, or its memory could not grow): the reference does.
      } finally {
        session?.end();
      }
    }
  }
  try {
    return transform(jpeg, orientation, options.huffman === 'source');
  } catch (err) {
    if (err instanceof LosslessError) return { ok: false, refusal: err.refusal, reason: err.message };
    // Allocation failures and anything unforeseen: still a refusal, as promised.
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, refusal: 'corrupt', reason: `internal error while transcoding: ${msg}` };
  }
}

/**
 * Options of {@link transformJpegLossless}.
 * - `engine`: `'kernel'` runs the entropy-coded work in the WebAssembly kernel (kernel/kernel.c),
 *   falling back to the JavaScript reference when WebAssembly cannot run; `'reference'` runs the
 *   JavaScript reference only. Both give the same bytes. Default: the kernel for files of
 *   {@link KERNEL_MIN_BYTES} or more or when `kernel` is given, else the reference (faster for
 *   tiny files, measured in bench/lossless-cpu.js notes).
 * - `kernel`: the kernel instance to use (one file at a time each); default: one per thread,
 *   made on first use.
 * - `huffman`: `'optimal'` (default) writes optimized Huffman tables, byte for byte as
 *   `jpegtran -optimize`; `'source'` writes a sequential input's own tables in one pass, without
 *   statistics, when they code every possible symbol (the standard tables of T.81 K.3 that
 *   cameras use do), else optimal ones. Measured in bench/lossless-cpu.js: faster, larger.
 */
export interface LosslessOptions {
  readonly engine?: 'kernel' | 'reference';
  readonly kernel?: LosslessKernel;
  readonly huffman?: 'optimal' | 'source';
}

/**
 * Smallest file (bytes) that the default engine gives to the kernel: below it the kernel's fixed
 * cost per file (about 0.4 ms of CPU) outweighs its speed (measured: 3.8 kB 1.0 ms kernel vs
 * 0.65 ms reference; 19 kB 1.26 vs 1.45 ms; 12 MP about 3x faster).
 */
export const KERNEL_MIN_BYTES = 16 * 1024;

let ownKernel: LosslessKernel | undefined;

/** This thread's kernel for callers that pass none (kernels are not shared between threads). */
function threadKernel(): LosslessKernel {
  ownKernel ??= new LosslessKernel();
  return ownKernel;
}

/** Decode, transform and encode with the given backends (the JavaScript reference when absent). */
function transform(jpeg: Uint8Array, orientation: Orientation, sourceTables: boolean, scans?: ScanBackend,
  encoder?: EncodeBackend): LosslessResult {
  // The decoder stores every coefficient at its output zigzag position and counts the output
  // AC symbols; for 5-8 the encoder walks source block columns, so they are stored
  // column-major (sequential input) for it to read memory in order.
  const dec = decode(jpeg, (f) => {
    const p = checkPerfect(f.width, f.height, f.maxH, f.maxV, orientation);
    if (!p.perfect) throw new LosslessError('imperfect', p.reason!);
  }, swapsAxes(orientation) ? 'transposed' : 'zigzag', scans, !sourceTables);
  const out = encodeTransformed(dec, orientation, encoder, sourceTables);
  const swap = swapsAxes(orientation);
  return { ok: true, jpeg: out, width: swap ? dec.height : dec.width, height: swap ? dec.width : dec.height };
}

function encodeTransformed(dec: DecodedJpeg, o: Orientation, backend: EncodeBackend | undefined, sourceTables: boolean): Uint8Array {
  const swap = swapsAxes(o);
  const comps: EncodeComponent[] = dec.comps.map((c) => {
    const m = blockMapping(o, c.pw, c.ph, c.sx, c.sy);
    return {
      id: c.id, tq: c.tq,
      h: swap ? c.v : c.h, v: swap ? c.h : c.v,
      bw: swap ? c.bh : c.bw, bh: swap ? c.bw : c.bh,
      src: c.coef, nz: c.nz, acFreq: c.acFreq, offsets: c.offsets, origin: m.origin, stepX: m.stepX, stepY: m.stepY,
    };
  });
  const quantTables = dec.quantTables.map((t) => (t && swap ? transposeTable(t) : t));
  return encodeBaseline({
    width: swap ? dec.height : dec.width,
    height: swap ? dec.width : dec.height,
    comps, quantTables, metadata: dec.metadata, flip: blockPermutation(o).flip,
    huffmanTables: huffmanTableChoice(dec.metadata, dec.comps.map((c) => c.id)), backend,
    sourceTables: sourceTables ? dec.comps.map((c) => c.huffman) : undefined,
  });
}

/**
 * For tests and diagnostics: the quantized DCT coefficients of each component, in natural
 * (row-major, not zigzag) order per block, blocks row-major. Only blocks that hold image
 * samples are included: `blocksWide = ceil(ceil(width * h / maxH) / 8)` (libjpeg's
 * width_in_blocks), likewise `blocksHigh`; the padding blocks that complete the last MCUs
 * are left out.
 */
export interface CoefficientImage {
  /** Frame size in pixels. */
  width: number;
  height: number;
  components: Array<{
    /** Component identifier, sampling factors and quantization table selector from SOF. */
    id: number; h: number; v: number; tq: number;
    blocksWide: number; blocksHigh: number;
    /** blocksHigh * blocksWide * 64 quantized DCT coefficients. */
    coefficients: Int16Array;
  }>;
  /** Quantization tables by selector (0..3), natural order, as latched by the components. */
  quantTables: Array<Uint16Array | undefined>;
}

/**
 * Decodes a JPEG down to its quantized DCT coefficients (no IDCT).
 *
 * @param jpeg - the whole JPEG file (baseline, extended 8-bit or progressive Huffman)
 * @returns the coefficient image
 * @throws Error (name `LosslessError`, with a `refusal` property) on unsupported or corrupt input
 */
export function readCoefficients(jpeg: Uint8Array): CoefficientImage {
  const dec = decode(jpeg);
  return {
    width: dec.width,
    height: dec.height,
    components: dec.comps.map((c) => {
      const coefficients = new Int16Array(c.bw * c.bh * 64);
      for (let y = 0; y < c.bh; y++) {
        coefficients.set(c.coef.subarray(y * c.pw * 64, (y * c.pw + c.bw) * 64), y * c.bw * 64);
      }
      return { id: c.id, h: c.h, v: c.v, tq: c.tq, blocksWide: c.bw, blocksHigh: c.bh, coefficients };
    }),
    quantTables: dec.quantTables.map((t) => t?.slice()),
  };
}
