/**
 * The contract every container module (jpeg, png, webp, tiff, heif) fulfils: recognise the
 * container by its bytes, read where orientation lives, tell the pixel path how to re-encode,
 * and write the file back with orientation 1 everywhere and everything else kept.
 */
import type { Sharp } from 'sharp';

/** Image containers exif-fix recognises by their bytes. GIF and BMP carry no orientation. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'heif' | 'avif' | 'gif' | 'bmp';

/**
 * Where an orientation value was found (DESIGN.md section 2):
 * - `exif`: EXIF IFD0 tag 0x0112 (JPEG APP1, PNG `eXIf`, WebP `EXIF`);
 * - `exif-raw-profile`: EXIF in ImageMagick's PNG text chunk "Raw profile type exif";
 * - `xmp`: XMP `tiff:Orientation`;
 * - `tiff`: tag 0x0112 of a TIFF file's first IFD;
 * - `irot-imir`: the HEIF/AVIF item properties `irot` and `imir` (ISO/IEC 23008-12 section 6.5.10/6.5.12).
 */
export type OrientationSource = 'exif' | 'exif-raw-profile' | 'xmp' | 'tiff' | 'irot-imir';

/** One place in a file that holds an orientation value. */
export interface OrientationPlace {
  readonly source: OrientationSource;
  /** The raw value found; may be outside 1-8 (such values mean upright). */
  readonly value: number;
}

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
  readonly orientation: import('../orientation.js').Orientation;
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
  write(original: Uint8Array, info: I, pixels: EncodedPixels | null, context: WriteContext): Promise<Uint8Array>;
}
