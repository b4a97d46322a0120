/**
 * The re-encode path: decode with sharp (libvips), apply the orientation's transform, encode in
 * the input's container with settings matching the input. Colour is never converted: the
 * embedded ICC profile is ignored for the pixel data (its bytes are carried over by the
 * container writer) and the pipeline runs in the input's own colour space, so CMYK stays CMYK
 * and 16-bit stays 16-bit.
 *
 * sharp (libvips, about 100 ms to load) is imported on first use, so this module adds nothing to
 * the start-up of runs that decode no pixels (`--check`, `--dry-run`, `--version`).
 */
import type { Container, ContainerInfo, EncodedPixels } from '../containers/types.js';
import type { Orientation } from '../orientation.js';
import { applyOrientation } from './sharp-transform.js';

/**
 * Re-encodes `bytes` with `orientation` baked in.
 *
 * @param bytes - the whole input file.
 * @param container - the input's container module (sets the encoder options).
 * @param info - what the container's reader found.
 * @param orientation - the value to apply; ignored when the decoder applies it itself (HEIF).
 * @returns the encoded file without metadata, and its size in pixels.
 * @throws {Error} from sharp when the pixel data cannot be decoded.
 */
export async function reencode<I extends ContainerInfo>(
  bytes: Uint8Array,
  container: Container<I>,
  info: I,
  orientation: Orientation,
): Promise<EncodedPixels> {
  const { default: sharp } = await import('sharp');
  let image = sharp(bytes, { ignoreIcc: true, failOn: 'error', limitInputPixels: false });
  if (info.space !== 'srgb') image = image.pipelineColourspace(info.space);
  image = applyOrientation(image, info.decoderApplies ? 1 : orientation);
  if (info.space !== 'srgb') image = image.toColourspace(info.space);
  image = container.encode(image, info);
  const { data, info: out } = await image.toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: out.width, height: out.height };
}
