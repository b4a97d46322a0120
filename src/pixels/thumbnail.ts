/**
 * The EXIF thumbnail (IFD1, a small JPEG) is transformed with the main image so that it is
 * never left sideways (docs/DESIGN.md section 3).
 */
import { estimateQuality, parseJpeg } from '../containers/jpeg-structure.js';
import type { Orientation } from '../orientation.js';
import { transformJpegLossless } from './jpeg-lossless/index.js';
import { applyOrientation } from './sharp-transform.js';

/**
 * Transforms an EXIF JPEG thumbnail: losslessly in the DCT domain where the transform is perfect
 * for its size, else re-encoded at its own estimated quality.
 *
 * @param thumbnail - the JPEG bytes from IFD1 (JPEGInterchangeFormat).
 * @param orientation - the value being applied to the main image.
 * @returns the new thumbnail, or `null` when it cannot be decoded (the caller removes it).
 */
export async function transformThumbnail(thumbnail: Uint8Array, orientation: Orientation): Promise<Uint8Array | null> {
  const lossless = transformJpegLossless(thumbnail, orientation);
  if (lossless.ok) return lossless.jpeg;
  try {
    const quality = estimateQuality(parseJpeg(thumbnail).quantTables);
    const { default: sharp } = await import('sharp');
    const image = applyOrientation(sharp(thumbnail, { failOn: 'error' }), orientation);
    return new Uint8Array(await image.jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer());
  } catch {
    return null;
  }
}
