/**
 * Rewriting an EXIF TIFF structure for an upright image, the same in every container: orientation
 * 1 in IFD0 and IFD1, the new pixel size, and the thumbnail replaced by the one the job prepared.
 * Synchronous and free of pixel work: thumbnails are transformed by the job before the container
 * writes (docs/ARCHITECTURE.md, "Layers").
 */
import type { OrientationPlace, OrientationSource } from '../orientation.js';
import { patchExif, readExifOrientation, type ExifOrientationInfo } from './tiff.js';

/**
 * The 6 bytes before the TIFF structure in a JPEG APP1 EXIF segment (EXIF 2.32 section 4.7.2),
 * also left in front of it by some writers of PNG eXIf chunks and WebP EXIF chunks.
 */
export const EXIF_HEADER: Uint8Array = Buffer.from('Exif\0\0', 'latin1');

/**
 * The thumbnail to store for an old one: the new JPEG bytes, `null` to remove it, or `undefined`
 * to keep it as it is. Built by the job (`job.ts`), which transforms thumbnails before writing.
 */
export type ThumbnailLookup = (old: Uint8Array) => Uint8Array | null | undefined;

/** What {@link rewriteExif} needs besides the EXIF bytes. */
export interface ExifRewrite {
  /** New width in pixels. */
  readonly width: number;
  /** New height in pixels. */
  readonly height: number;
  /**
   * The new thumbnail for the old one. Without a lookup the thumbnail is kept, or, when
   * `pixelsChanged`, removed, so that it is never left sideways (docs/DESIGN.md section 3).
   */
  readonly thumbnails?: ThumbnailLookup;
  /** Whether the main image's pixels were transformed. @default false */
  readonly pixelsChanged?: boolean;
  /** The largest size the result may have in bytes (65527 inside a JPEG APP1); see {@link patchExif}. */
  readonly maxLength?: number;
  /** Where the EXIF lives, for the warning when it is unreadable (e.g. "PNG eXIf chunk"). */
  readonly where?: string;
}

/**
 * The orientation places of one EXIF structure, the same for every container: IFD0's value, and
 * IFD1's (the thumbnail's, EXIF 2.32 section 4.6.2) when it says something else than IFD0, so
 * that a file whose IFD0 says 1 but IFD1 says 6 (Panasonic FZ30, Sony DSC-P12) gets 1 written
 * there too.
 *
 * @param exif - what `readExifOrientation` found.
 * @param source - the place IFD0 counts as: `exif`, or `exif-raw-profile` in a PNG text chunk.
 * @returns zero, one or two places.
 */
export function exifPlaces(exif: ExifOrientationInfo, source: Extract<OrientationSource, 'exif' | 'exif-raw-profile'> = 'exif'): OrientationPlace[] {
  const places: OrientationPlace[] = [];
  if (exif.orientation !== undefined) places.push({ source, value: exif.orientation });
  const ifd1 = exif.thumbnailOrientation;
  if (ifd1 !== undefined && ifd1 !== (exif.orientation ?? 1)) places.push({ source: 'exif-ifd1', value: ifd1 });
  return places;
}

/**
 * The EXIF thumbnail of a TIFF structure (IFD1 JPEGInterchangeFormat), with IFD1's own
 * orientation (EXIF 2.32 section 4.6.2).
 *
 * @param tiff - the TIFF structure (without any "Exif\0\0" prefix).
 * @returns the thumbnail's JPEG bytes (a view into `tiff`) and IFD1's raw orientation value, or
 *   `undefined` when there is no thumbnail in range or the structure is unreadable.
 */
export function readThumbnail(tiff: Uint8Array): { readonly jpeg: Uint8Array; readonly ifd1Orientation?: number } | undefined {
  try {
    const exif = readExifOrientation(tiff);
    if (!exif.thumbnail) return undefined;
    const { offset, length } = exif.thumbnail;
    return { jpeg: tiff.subarray(offset, offset + length), ifd1Orientation: exif.thumbnailOrientation };
  } catch {
    return undefined;
  }
}

/**
 * Returns a rewritten copy of an EXIF TIFF structure (EXIF 2.32): orientation 1 in IFD0 and IFD1,
 * PixelXDimension/PixelYDimension set, the JPEG thumbnail replaced as `rewrite.thumbnails` says.
 * Everything else is kept byte for byte.
 *
 * @param tiff - the TIFF structure (without any "Exif\0\0" prefix).
 * @param rewrite - see {@link ExifRewrite}.
 * @param warnings - receives warnings, without the file name.
 * @returns the new bytes, or `undefined` when the EXIF is unreadable (a warning says so, and the
 *   caller keeps the original bytes).
 */
export function rewriteExif(tiff: Uint8Array, rewrite: ExifRewrite, warnings: string[]): Uint8Array | undefined {
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
  let thumbnail: Uint8Array | null | undefined;
  if (exif.thumbnail) {
    const { offset, length } = exif.thumbnail;
    const old = tiff.subarray(offset, offset + length);
    thumbnail = rewrite.thumbnails ? rewrite.thumbnails(old) : rewrite.pixelsChanged ? null : undefined;
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
