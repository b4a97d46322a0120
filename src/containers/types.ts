/**
 * The contract every container module (jpeg, png, webp, tiff, heif) fulfils: recognise the
 * container by its bytes, read where orientation lives, tell the pixel path how to re-encode,
 * and write the file back with orientation 1 everywhere and everything else kept.
 */
import type { Sharp } from 'sharp';
import type { Refusal } from '../errors.js';
import type { ThumbnailLookup } from '../metadata/exif.js';
import type { Orientation, OrientationPlace } from '../orientation.js';

/** Image containers exif-fix recognises by their bytes. GIF and BMP carry no orientation. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'heif' | 'avif' | 'gif' | 'bmp';

export type { OrientationPlace, OrientationSource } from '../orientation.js';

/**
 * Colour space of the stored pixels, as sharp names it, so the pixel path keeps it:
 * `srgb` (8-bit RGB/YCbCr), `b-w` (8-bit grey), `cmyk`, `rgb16`, `grey16` (16 bits per sample).
 */
export type PixelSpace = 'srgb' | 'b-w' | 'cmyk' | 'rgb16' | 'grey16';

/** What a container's reader found, from the header only (no pixel decoding). */
export interface ContainerInfo {
  readonly format: ImageFormat;
  /** Stored width in pixels, as the header declares it. */
  readonly width: number;
  /** Stored height in pixels, as the header declares it. */
  readonly height: number;
  /** Every orientation place present in the file, in the order found. */
  readonly places: readonly OrientationPlace[];
  /** Whether the pixel data is lossless (PNG, lossless TIFF, VP8L WebP): re-encoding must be bit-exact. */
  readonly lossless: boolean;
  /** Colour space to keep through the pixel path. */
  readonly space: PixelSpace;
  /** Whether the decoder already applies the orientation (HEIF irot/imir), so pixels need no transform. */
  readonly decoderApplies?: boolean;
  /** Warnings raised while reading, without the file name. */
  readonly warnings: string[];
  /**
   * Why new pixels cannot be made for this file (an animated or multi-page file, a codec without
   * a decoder, a variant the encoder cannot keep), or absent. Readers report it as data; only
   * the plan (`plan.ts`) decides, and only when pixels must change.
   */
  readonly refusal?: Refusal;
  /**
   * Every EXIF TIFF structure in the file (without any "Exif\0\0" prefix), so the job can
   * transform their thumbnails before the container writes them (docs/DESIGN.md section 3).
   */
  readonly exif?: readonly Uint8Array[];
  /**
   * Damage the reader read past the way libjpeg does (JPEG only so far); absent or empty for a
   * well-formed file. The plan applies the damaged-file policy (docs/DESIGN.md): an upright file
   * is copied byte for byte, new pixels are refused unless `--fail-on` accepts the damage
   * (`pixels/reencode.ts` `damageRefusal`).
   */
  readonly damage?: readonly ReadDamage[];
}

/** One departure from the format's spec that a reader read past (see containers/jpeg-structure.ts JpegDamage). */
export interface ReadDamage {
  /** The lowest sharp `failOn` level that rejects it: `'warning'`, `'truncated'` or `'error'`. */
  readonly level: 'warning' | 'truncated' | 'error';
  /** Whether the pixel data is complete (the damage lies outside it and is dropped on rewrite). */
  readonly pixelsIntact: boolean;
  /** The decoder's own wording (libjpeg's for JPEG), without the file name. */
  readonly message: string;
}

/** A freshly encoded image from the pixel path: a whole file in the same container, without metadata. */
export interface EncodedPixels {
  /** The encoded file bytes. */
  readonly data: Uint8Array;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** Options of {@link Container.read}. */
export interface ReadOptions {
  /**
   * Only orientation and size are needed (`--check`, `--dry-run`): the reader may skip walking
   * the image data. The result must not be passed to {@link Container.write}. Default `false`.
   */
  readonly headerOnly?: boolean;
}

/** Extra context a container writer may need. */
export interface WriteContext {
  /** The orientation being baked in (1 for a metadata-only rewrite). */
  readonly orientation: Orientation;
  /** The EXIF thumbnails the job prepared; see {@link ThumbnailLookup}. */
  readonly thumbnails?: ThumbnailLookup;
  /** Collects warnings (without the file name). */
  readonly warnings: string[];
}

/**
 * One container module.
 *
 * @typeParam I - the container's own info, extending {@link ContainerInfo} with what its writer needs.
 */
export interface Container<I extends ContainerInfo = ContainerInfo> {
  /** The format this module handles. */
  readonly format: ImageFormat;
  /**
   * Whether `bytes` start like this container (magic bytes only, at most the first 32 bytes).
   */
  sniff(bytes: Uint8Array): boolean;
  /**
   * Parses the header and every orientation place. Never decodes pixels.
   *
   * @param bytes - the whole file; with `options.headerOnly`, possibly only its beginning
   *   (containers that need more may throw a `'corrupt'` error, and the caller retries with the
   *   whole file).
   * @param options - see {@link ReadOptions}.
   * @throws {ExifFixError} code `'corrupt'` (reason without the file name) for a broken
   *   structure, `'unsupported'` for a variant exif-fix cannot normalize.
   */
  read(bytes: Uint8Array, options?: ReadOptions): I;
  /**
   * Sets sharp's output format and options so the re-encode matches the input (quality,
   * chroma subsampling, lossless, bit depth). Called only when pixels must change.
   */
  encode(image: Sharp, info: I): Sharp;
  /**
   * Builds the output file: orientation 1 (or gone) in every place, pixel size fields updated,
   * everything else kept from `original`.
   *
   * @param original - the input file bytes.
   * @param info - what {@link read} returned for them.
   * @param pixels - the re-encoded image, or `null` for a metadata-only rewrite that keeps the
   *   original pixel data.
   * @param context - orientation applied and a warning sink.
   * @returns the whole output file.
   */
  write(original: Uint8Array, info: I, pixels: EncodedPixels | null, context: WriteContext): Uint8Array;
}
