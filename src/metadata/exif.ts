/**
 * Rewriting an EXIF TIFF structure for an upright image, the same in every container: orientation
 * 1 in IFD0 and IFD1, the new pixel size, and the thumbnail transformed with the image.
 */
import { isOrientation, type Orientation } from '../orientation.js';
import { transformThumbnail } from '../pixels/thumbnail.js';
import { patchExif, readExifOrientation } from './tiff.js';

/**
 * The 6 bytes before the TIFF structure in a JPEG APP1 EXIF segment (EXIF 2.32 section 4.7.2),
 * also left in front of it by some writers of PNG eXIf chunks and WebP EXIF chunks.
 */
export const EXIF_HEADER: Uint8Array = Buffer.from('Exif\0\0', 'latin1');

/** What {@link rewriteExif} needs besides the EXIF bytes. */
export interface ExifRewrite {
  /** New width in pixels. */
  readonly width: number;
  /** New height in pixels. */
  readonly height: number;
  /** The orientation being applied to the image (1 for a metadata-only rewrite: the thumbnail stays). */
  readonly orientation: Orientation;
  /** The largest size the result may have in bytes (65527 inside a JPEG APP1); see {@link patchExif}. */
  readonly maxLength?: number;
  /** Where the EXIF lives, for the warning when it is unreadable (e.g. "PNG eXIf chunk"). */
  readonly where?: string;
}

/**
 * Returns a rewritten copy of an EXIF TIFF structure (EXIF 2.32): orientation 1 in IFD0 and IFD1,
 * PixelXDimension/PixelYDimension set, the JPEG thumbnail made upright (by IFD1's own orientation
 * when it has a valid one, else by the image's; removed when it cannot be transformed).
 * Everything else is kept byte for byte.
 *
 * @param tiff - the TIFF structure (without any "Exif\0\0" prefix).
 * @param rewrite - see {@link ExifRewrite}.
 * @param warnings - receives warnings, without the file name.
 * @returns the new bytes, or `undefined` when the EXIF is unreadable (a warning says so, and the
 *   caller keeps the original bytes).
 */
export async function rewriteExif(tiff: Uint8Array, rewrite: ExifRewrite, warnings: string[]): Promise<Uint8Array | undefined> {
  const unreadable = (error: unknown) => {
    warnings.push(`EXIF${rewrite.where ? ` in the ${rewrite.where}` : ''} is unreadable (${(error as Error).message}); it is kept as it is`);
    return undefined;
  };
  let exif: ReturnType<typeof readExifOrientation>;
  try {
    exif = readExifOrientation(tiff);
  } catch (error) {
    return unreadable(error);
  }
  // IFD1's own Orientation describes the thumbnail's pixels (EXIF 2.32 section 4.6.2); a
  // writer that set it has told how the thumbnail is stored. Without it, the thumbnail is
  // stored like the main image.
  const own = exif.thumbnailOrientation;
  const thumbnailOrientation = isOrientation(own) ? own : rewrite.orientation;
  let thumbnail: Uint8Array | null | undefined;
  if (exif.thumbnail && thumbnailOrientation !== 1) {
    const { offset, length } = exif.thumbnail;
    thumbnail = await transformThumbnail(tiff.subarray(offset, offset + length), thumbnailOrientation);
  }
  // A damaged IFD1 can make storing the new thumbnail fail; then the thumbnail is removed, and
  // failing that left alone, so that orientation 1 and the pixel size are written regardless.
  const attempts = thumbnail === undefined ? [undefined] : [thumbnail, null, undefined];
  let lastError: unknown;
  for (const attempt of attempts) {
    try {
      const patched = patchExif(tiff, { width: rewrite.width, height: rewrite.height, thumbnail: attempt, maxLength: rewrite.maxLength });
      warnings.push(...patched.warnings);
      if (attempt !== thumbnail) warnings.push('the EXIF thumbnail could not be replaced; it was ' + (attempt === null ? 'removed' : 'left as it was'));
      return patched.bytes;
    } catch (error) {
      lastError = error;
    }
  }
  return unreadable(lastError);
}
