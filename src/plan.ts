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

/** The policy options a decision depends on. */
export interface PlanOptions {
  /** Refuse headers declaring more pixels (width x height) than this; 0 = no limit. */
  readonly limitInputPixels: number;
  /** See {@link LosslessMode}. */
  readonly lossless: LosslessMode;
}

/**
 * What will happen to one file:
 * - `upright`: nothing to change (copied byte for byte, or left untouched in place);
 * - `metadata`: pixels stay, orientation places are rewritten to 1;
 * - `rotate`: new pixels along `method`, then orientation 1 everywhere;
 * - `refuse`: see `refusal`; nothing is written for the file.
 */
export type Verdict = 'upright' | 'metadata' | 'rotate' | 'refuse';

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
  /** Why the file is refused, for `refuse`; else `null`. */
  readonly refusal: Refusal | null;
  /** Warnings of the reader and of the decision, without the file name. */
  readonly warnings: readonly string[];
}

/**
 * Decides what happens to a file. Rules, in order:
 * 1. over `limitInputPixels` (width x height from the header): refuse, code `limit`;
 * 2. every orientation place says 1 (or there is none): `upright`;
 * 3. the orientation to apply is 1 (only an invalid value or a losing place disagreed): `metadata`;
 * 4. the reader's `refusal` (a variant whose pixels cannot be made: animated, multi-page, a codec
 *    without a decoder): refuse with it;
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
    refusal: null,
    warnings,
  };
  const limit = options.limitInputPixels;
  if (limit > 0 && info.width * info.height > limit) {
    const reason = `the header declares ${info.width}x${info.height} = ${info.width * info.height} pixels, more than the limit of ${limit} (limitInputPixels)`;
    return { ...base, verdict: 'refuse', refusal: { code: 'limit', reason } };
  }
  if (!oriented.needsRewrite) return { ...base, verdict: 'upright' };
  if (oriented.orientation === 1) return { ...base, verdict: 'metadata' };
  const o = oriented.orientation;
  const row = ORIENTATIONS[o];
  const rotated = {
    ...base,
    orientation: o,
    transform: row.transform,
    outWidth: row.swapsDimensions ? info.height : info.width,
    outHeight: row.swapsDimensions ? info.width : info.height,
  };
  if (info.refusal) return { ...rotated, verdict: 'refuse', refusal: info.refusal };
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
