/**
 * Chooses how new pixels are produced for a file whose orientation is not 1.
 */
import type { Container, ContainerInfo, EncodedPixels } from '../containers/types.js';
import type { Orientation } from '../orientation.js';
import type { PixelMethod } from '../report.js';
import { reencode } from './reencode.js';

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
 * @throws {Error} when the pixel data cannot be decoded.
 */
export async function producePixels<I extends ContainerInfo>(
  bytes: Uint8Array,
  container: Container<I>,
  info: I,
  orientation: Orientation,
): Promise<PixelOutcome> {
  const pixels = await reencode(bytes, container, info, orientation);
  const reason = info.lossless ? 'lossless re-encode of a lossless format' : `re-encoded to match the source`;
  return { pixels, method: 'reencode', reason };
}
