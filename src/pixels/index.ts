/**
 * Chooses how new pixels are produced for a file whose orientation is not 1: the lossless
 * DCT-domain transform for JPEG where it is perfect (DESIGN.md section 4), else the sharp
 * re-encode path.
 */
import type { Container, ContainerInfo, EncodedPixels } from '../containers/types.js';
import { ExifFixError } from '../errors.js';
import type { Orientation } from '../orientation.js';
import type { PixelMethod } from '../report.js';
import { transformJpegLosslessInWorker } from './lossless-pool.js';
import { DEFAULT_FAIL_ON, reencode, sourceForPixels, type FailOn } from './reencode.js';

/**
 * JPEG lossless transform policy (`--lossless`):
 * - `auto`: lossless where the transform is perfect, re-encode otherwise (default);
 * - `always`: fail a JPEG that cannot be transformed losslessly rather than re-encode it;
 * - `never`: always re-encode.
 */
export type LosslessMode = 'auto' | 'always' | 'never';

/** New pixels and how they were made. */
export interface PixelOutcome {
  readonly pixels: EncodedPixels;
  readonly method: PixelMethod;
  /** Why this method was chosen, in one sentence. */
  readonly reason: string;
}

/**
 * Produces the upright pixels of `bytes`.
 *
 * @param bytes - the whole input file.
 * @param container - its container module.
 * @param info - what the container's reader found.
 * @param orientation - the value to bake in (2-8).
 * @param lossless - see {@link LosslessMode}; only JPEG has a lossless path.
 * @param failOn - which decoder complaints fail the file (reencode.ts {@link FailOn}); default `'warning'`.
 * @throws {ExifFixError} code `'lossless'` with `always` when no lossless path applies; code
 *   `'corrupt'` when damaged pixel data is refused under `failOn`.
 * @throws {Error} when the pixel data cannot be decoded.
 */
export async function producePixels<I extends ContainerInfo>(
  bytes: Uint8Array,
  container: Container<I>,
  info: I,
  orientation: Orientation,
  lossless: LosslessMode = 'auto',
  failOn: FailOn = DEFAULT_FAIL_ON,
): Promise<PixelOutcome> {
  if (info.lossless) {
    return { pixels: await reencode(bytes, container, info, orientation, { failOn }), method: 'reencode', reason: 'lossless format: re-encoded bit-exact' };
  }
  let reason = lossless === 'never' ? 're-encoded (--lossless never)' : `re-encoded: no lossless path for ${info.format}`;
  if (info.format === 'jpeg' && lossless !== 'never') {
    const result = await transformJpegLosslessInWorker(sourceForPixels(bytes, info), orientation);
    if (result.ok) {
      return {
        pixels: { data: result.jpeg, width: result.width, height: result.height },
        method: 'lossless',
        reason: 'lossless DCT-domain transform',
      };
    }
    reason = `re-encoded: the lossless transform does not apply (${result.refusal}: ${result.reason})`;
    if (lossless === 'always') {
      throw new ExifFixError(`cannot transform losslessly (${result.refusal}: ${result.reason}); --lossless auto would re-encode it`, 'lossless');
    }
  } else if (lossless === 'always') {
    throw new ExifFixError(`no lossless transform is available for ${info.format}; --lossless auto would re-encode it`, 'lossless');
  }
  return { pixels: await reencode(bytes, container, info, orientation, { failOn }), method: 'reencode', reason };
}
