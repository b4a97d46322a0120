/**
 * A second opinion on every written file: exifr, a reader independent of ours, must read
 * orientation 1 (or none) in it. DESIGN.md section 1: never trust one library's reading blindly;
 * here the library not trusted blindly is our own writer.
 */
import type { ImageFormat } from './containers/types.js';

/** Containers whose EXIF exifr reads (it does not read WebP, nor HEIF written by libheif). */
const CHECKED: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'tiff']);

/**
 * Reads the orientation of an output with exifr.
 *
 * @param data - the whole output file.
 * @param format - its container.
 * @returns `null` when exifr reads 1 or no orientation (or cannot judge this container), else a
 *   reason naming the value it read.
 */
export async function verifyUpright(data: Uint8Array, format: ImageFormat): Promise<string | null> {
  if (!CHECKED.has(format)) return null;
  const { default: exifr } = await import('exifr');
  let value: number | undefined;
  try {
    value = await exifr.orientation(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch {
    return null; // exifr could not parse it: no second opinion, not a failure of ours
  }
  return value === undefined || value === 1 ? null : `exifr (an independent reader) still reads orientation ${value} in the output`;
}
