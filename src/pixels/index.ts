/**
 * The pixel layer's entry: which pixel paths apply to a file (from its header alone, for the
 * plan), and producing new pixels along the path the plan chose: the lossless DCT-domain
 * transform for JPEG where it is perfect (docs/DESIGN.md section 4), else the sharp re-encode.
 */
import type { JpegInfo } from '../containers/jpeg.js';
import type { Container, ContainerInfo, EncodedPixels } from '../containers/types.js';
import { ExifFixError, type Refusal } from '../errors.js';
import type { Orientation } from '../orientation.js';
import { checkPerfect, transformJpegLossless } from './jpeg-lossless/index.js';
import type { LosslessPool } from './lossless-pool.js';
import { DEFAULT_FAIL_ON, reencode, sourceForPixels, type FailOn } from './reencode.js';

/**
 * JPEG lossless transform policy (`lossless` option, `--lossless`):
 * - `auto`: lossless where the transform is perfect, re-encode otherwise (default);
 * - `always`: fail a JPEG that cannot be transformed losslessly rather than re-encode it;
 * - `never`: always re-encode.
 */
export type LosslessMode = 'auto' | 'always' | 'never';

/**
 * How new pixels are produced: `lossless` (DCT-domain JPEG transform, coefficients moved and
 * never requantized) or `reencode` (decoded and encoded again by sharp; bit-exact for lossless
 * formats).
 */
export type PixelMethod = 'lossless' | 'reencode';

/** New pixels and how they were made. */
export interface PixelOutcome {
  readonly pixels: EncodedPixels;
  readonly method: PixelMethod;
  /** Why the planned method was not taken, in one sentence; `null` when it was. */
  readonly reason: string | null;
}

/** SOF markers whose DCT coefficients the lossless path decodes: baseline, extended and progressive Huffman. */
const LOSSLESS_FRAMES = new Set([0xc0, 0xc1, 0xc2]);

/**
 * Whether the lossless transform applies to a JPEG, judged from its header alone: an 8-bit
 * Huffman-coded DCT frame (SOF0/1/2) with 1, 3 or 4 components, no arithmetic conditioning (DAC)
 * or hierarchical (DHP/EXP) segment, and a transform that is perfect for its size and sampling
 * (libjpeg-turbo transupp.c `jtransform_perfect_transform`; docs/DESIGN.md section 4). Damaged
 * entropy-coded data can still make the transform fail when it runs.
 *
 * @param info - what the JPEG reader found (a header-only read is enough).
 * @param orientation - the value to apply, 2-8.
 * @returns `null` when it applies, else why not (code `lossless`; the reason starts with
 *   `imperfect:` or `unsupported:`).
 */
export function losslessRefusal(info: JpegInfo, orientation: Orientation): Refusal | null {
  const { frame, segments } = info.structure;
  const refuse = (reason: string, kind = 'unsupported'): Refusal => ({ code: 'lossless', reason: `${kind}: ${reason}` });
  if (!LOSSLESS_FRAMES.has(frame.marker)) return refuse(`the frame (SOF${frame.marker - 0xc0}) is not Huffman-coded DCT, so it has no coefficients the lossless path can move`);
  if (frame.precision !== 8) return refuse(`the frame has ${frame.precision}-bit samples; only 8-bit JPEGs are transformed losslessly`);
  const n = frame.components.length;
  if (n !== 1 && n !== 3 && n !== 4) return refuse(`the frame has ${n} components; only 1, 3 or 4 are supported`);
  if (segments.some((s) => s.marker === 0xcc)) return refuse('the file defines arithmetic conditioning (DAC), so it is arithmetic coded');
  if (segments.some((s) => s.marker === 0xde || s.marker === 0xdf)) return refuse('the file uses the hierarchical process (DHP/EXP)');
  const maxH = Math.max(...frame.components.map((c) => c.h));
  const maxV = Math.max(...frame.components.map((c) => c.v));
  const perfect = checkPerfect(frame.width, frame.height, maxH, maxV, orientation);
  return perfect.perfect ? null : refuse(perfect.reason as string, 'imperfect');
}

/**
 * Produces the upright pixels of `bytes` along the path the plan chose.
 *
 * @param bytes - the whole input file.
 * @param container - its container module.
 * @param info - what the container's reader found (a full read, not header-only).
 * @param orientation - the value to bake in (2-8).
 * @param method - the path the plan chose (`plan.ts`).
 * @param mode - the `lossless` option: with `auto`, a lossless transform that fails on the scan
 *   data (which the header cannot show) falls back to re-encoding; with `always` it fails.
 * @param pool - the run's lossless worker pool; without one the transform runs on this thread.
 * @param failOn - which decoder complaints fail the re-encode (`reencode.ts` {@link FailOn}).
 *   Default `'warning'`.
 * @returns the new pixels, encoded without metadata, and the path actually taken.
 * @throws {ExifFixError} code `'lossless'` with `always` when the lossless transform fails; code
 *   `'corrupt'` when the decoder complains at or above `failOn`.
 * @throws {Error} from sharp when the pixel data cannot be decoded, or when the pool's worker died
 *   while transforming the file.
 */
export async function producePixels<I extends ContainerInfo>(
  bytes: Uint8Array,
  container: Container<I>,
  info: I,
  orientation: Orientation,
  method: PixelMethod,
  mode: LosslessMode,
  pool?: LosslessPool,
  failOn: FailOn = DEFAULT_FAIL_ON,
): Promise<PixelOutcome> {
  if (method === 'lossless') {
    // Stray bytes between segments (read past as libjpeg does) are left out of the stream the
    // lossless transform reads; the metadata segments are kept by the container writer.
    const source = sourceForPixels(bytes, info);
    const result = pool ? await pool.transform(source, orientation) : transformJpegLossless(source, orientation);
    if (result.ok) return { pixels: { data: result.jpeg, width: result.width, height: result.height }, method: 'lossless', reason: null };
    if (mode === 'always') throw new ExifFixError(`cannot transform losslessly (${result.refusal}: ${result.reason}); --lossless auto would re-encode it`, 'lossless');
    return { pixels: await reencode(bytes, container, info, orientation, { failOn }), method: 'reencode', reason: `re-encoded: the lossless transform failed on the scan data (${result.reason})` };
  }
  return { pixels: await reencode(bytes, container, info, orientation, { failOn }), method: 'reencode', reason: null };
}
