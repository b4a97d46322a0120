/**
 * The one place where policy lives: from what a container's reader found in the header, decide
 * what happens to a file: copy it (already upright), rewrite its metadata only, produce new
 * pixels along one path (lossless or re-encode), or refuse it, and why. `--check` and
 * `--dry-run` use the same decision as the real run, so they cannot disagree with it.
 */
import type { JpegInfo } from './containers/jpeg.js';
import type { ContainerInfo, ImageFormat } from './containers/types.js';
import type { Refusal } from './errors.js';
import { decideOrientation, ORIENTATIONS, type Orientation, type OrientationPlace, type OrientationSource, type Transform } from './orientation.js';
import { losslessRefusal, type LosslessMode, type PixelMethod } from './pixels/index.js';
import type { ConvertTarget } from './pixels/heif-convert.js';
import { damageRefusal, type FailOn } from './pixels/reencode.js';

/** The policy options a decision depends on. */
export interface PlanOptions {
  /** Refuse headers declaring more pixels (width x height) than this; 0 = no limit. */
  readonly limitInputPixels: number;
  /** See {@link LosslessMode}. */
  readonly lossless: LosslessMode;
  /**
   * Which damage read past by a reader (or complained of by the decoder) refuses new pixels:
   * sharp's `failOn` levels, see `pixels/reencode.ts` `FailOn`. Default `'warning'`: any.
   */
  readonly failOn?: FailOn;
  /** Write HEIF/AVIF inputs as this format instead (`--to`); see `pixels/heif-convert.ts`. Default: keep each container. */
  readonly to?: ConvertTarget;
}

/**
 * What will happen to one file:
 * - `upright`: nothing to change (copied byte for byte, or left untouched in place);
 * - `metadata`: pixels stay, orientation places are rewritten to 1;
 * - `rotate`: new pixels along `method`, then orientation 1 everywhere;
 * - `convert`: a HEIF/AVIF written as `convertTo` (`--to`), upright, with its metadata carried;
 * - `refuse`: see `refusal`; nothing is written for the file.
 */
export type Verdict = 'upright' | 'metadata' | 'rotate' | 'convert' | 'refuse';

/** The decision for one file, from its header alone. */
export interface Decision {
  readonly verdict: Verdict;
  readonly format: ImageFormat;
  /** The orientation to apply (1 for upright and metadata-only). */
  readonly orientation: Orientation;
  /** The place the orientation came from, or `null`. */
  readonly source: OrientationSource | null;
  /** Every orientation place found, with its raw value. */
  readonly places: readonly OrientationPlace[];
  /** Whether `--check` lists the file: some place holds a valid value other than 1. */
  readonly needsFix: boolean;
  readonly transform: Transform;
  /** The pixel path for `rotate`, else `null`. */
  readonly method: PixelMethod | null;
  /** Why that path, in one sentence, or `null`. */
  readonly methodReason: string | null;
  /** Stored size in pixels. */
  readonly width: number;
  readonly height: number;
  /** Output size in pixels. */
  readonly outWidth: number;
  readonly outHeight: number;
  /** The format a `convert` writes, else `null`. */
  readonly convertTo: ConvertTarget | null;
  /** Why the file is refused, for `refuse`; else `null`. */
  readonly refusal: Refusal | null;
  /** Warnings of the reader and of the decision, without the file name. */
  readonly warnings: readonly string[];
}

/**
 * Decides what happens to a file. Rules, in order:
 * 1. over `limitInputPixels` (width x height from the header): refuse, code `limit`;
 * 2. a HEIF/AVIF with `to` set: `convert`, whatever its orientation (every output in that format);
 *    otherwise, every orientation place says 1 (or there is none): `upright`;
 * 3. the orientation to apply is 1 (only an invalid value or a losing place disagreed): `metadata`;
 * 4. the reader's `refusal` (a variant whose pixels cannot be made: animated, multi-page, a codec
 *    without a decoder): refuse with it; damage the reader read past that leaves the pixel data
 *    incomplete, unless `failOn` accepts it: refuse, code `corrupt` (an upright damaged file is
 *    copied byte for byte by rule 2, with the damage among its warnings);
 * 5. lossless formats (PNG, lossless TIFF and WebP): `reencode`, bit-exact;
 * 6. JPEG: `lossless` where {@link losslessRefusal} allows and `lossless` is not `never`; with
 *    `always`, a JPEG it does not allow is refused (code `lossless`); otherwise `reencode`.
 *
 * @param info - what the container's reader found (a header-only read is enough).
 * @param options - see {@link PlanOptions}.
 * @returns the decision; never throws.
 */
export function decide(info: ContainerInfo, options: PlanOptions): Decision {
  const oriented = decideOrientation(info.places);
  const warnings = [...info.warnings, ...oriented.warnings];
  const base = {
    format: info.format,
    orientation: 1 as Orientation,
    source: oriented.source,
    places: info.places,
    needsFix: oriented.needsFix,
    transform: 'none' as Transform,
    method: null,
    methodReason: null,
    width: info.width,
    height: info.height,
    outWidth: info.width,
    outHeight: info.height,
    convertTo: null,
    refusal: null,
    warnings,
  };
  const limit = options.limitInputPixels;
  if (limit > 0 && info.width * info.height > limit) {
    const reason = `the header declares ${info.width}x${info.height} = ${info.width * info.height} pixels, more than the limit of ${limit} (limitInputPixels)`;
    return { ...base, verdict: 'refuse', refusal: { code: 'limit', reason } };
  }
  const o = oriented.orientation;
  const row = ORIENTATIONS[o];
  if (options.to && (info.format === 'heif' || info.format === 'avif')) {
    const upright = { outWidth: row.swapsDimensions ? info.height : info.width, outHeight: row.swapsDimensions ? info.width : info.height };
    return { ...base, ...upright, orientation: o, transform: row.transform, verdict: 'convert', method: 'reencode', methodReason: `converted to ${options.to} (--to ${options.to})`, convertTo: options.to };
  }
  if (!oriented.needsRewrite) return { ...base, verdict: 'upright' };
  if (oriented.orientation === 1) return { ...base, verdict: 'metadata' };
  const rotated = {
    ...base,
    orientation: o,
    transform: row.transform,
    outWidth: row.swapsDimensions ? info.height : info.width,
    outHeight: row.swapsDimensions ? info.width : info.height,
  };
  if (info.refusal) return { ...rotated, verdict: 'refuse', refusal: info.refusal };
  const damaged = damageRefusal(info, options.failOn);
  if (damaged) return { ...rotated, verdict: 'refuse', refusal: { code: 'corrupt', reason: damaged } };
  if (info.lossless) return { ...rotated, verdict: 'rotate', method: 'reencode', methodReason: 'lossless format: re-encoded bit-exact' };
  if (info.format !== 'jpeg') {
    if (options.lossless === 'always') {
      return { ...rotated, verdict: 'refuse', refusal: { code: 'lossless', reason: `no lossless transform is available for ${info.format}; --lossless auto would re-encode it` } };
    }
    return { ...rotated, verdict: 'rotate', method: 'reencode', methodReason: options.lossless === 'never' ? 're-encoded (--lossless never)' : `re-encoded: no lossless path for ${info.format}` };
  }
  if (options.lossless === 'never') return { ...rotated, verdict: 'rotate', method: 'reencode', methodReason: 're-encoded (--lossless never)' };
  const refusal = losslessRefusal(info as JpegInfo, o);
  if (!refusal) return { ...rotated, verdict: 'rotate', method: 'lossless', methodReason: 'lossless DCT-domain transform' };
  if (options.lossless === 'always') {
    return { ...rotated, verdict: 'refuse', refusal: { code: 'lossless', reason: `cannot transform losslessly (${refusal.reason}); --lossless auto would re-encode it` } };
  }
  return { ...rotated, verdict: 'rotate', method: 'reencode', methodReason: `re-encoded: the lossless transform does not apply (${refusal.reason})` };
}
