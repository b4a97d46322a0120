/**
 * The per-file job on bytes: recognise the container, read every orientation place, let the plan
 * decide, and carry the decision out into output bytes. No file system access here: `step.ts`
 * does the I/O, so the same job serves files, in-place rewrites and stdin/stdout pipes.
 */
import { recognise } from './containers/index.js';
import { parseJpeg } from './containers/jpeg-structure.js';
import type { Container, ContainerInfo, ImageFormat } from './containers/types.js';
import { refusalOf, type Refusal } from './errors.js';
import { readThumbnail, type ThumbnailLookup } from './metadata/exif.js';
import { isOrientation, ORIENTATIONS, type Orientation } from './orientation.js';
import { decide, type Decision, type PlanOptions } from './plan.js';
import { producePixels, type PixelMethod } from './pixels/index.js';
import type { LosslessPool } from './pixels/lossless-pool.js';
import { pixelMemory, type MemoryBudget } from './pool.js';
import { transformThumbnail } from './pixels/thumbnail.js';
import type { HeifInfo } from './containers/heif.js';
import { convertHeif, type ConvertTarget } from './pixels/heif-convert.js';

/** Options of {@link runJob}. */
export interface JobOptions extends PlanOptions {
  /**
   * Stop at the decision (`--check`): read headers only and produce no pixels. The result's
   * outcome is what the run would do; `data` is `null`. Default `false`.
   */
  readonly headerOnly?: boolean;
  /** The run's lossless worker pool; without one the lossless transform runs on this thread. */
  readonly pool?: LosslessPool;
  /** The run's memory budget: pixel work takes its estimated share first (`pool.ts`). Default: none. */
  readonly memory?: MemoryBudget;
}

/**
 * What the job found and made. `outcome`:
 * - `unknown`: not a recognised image;
 * - `upright`: nothing to change (the input bytes are the output);
 * - `metadata`: only orientation places rewritten;
 * - `rotated`: new pixels;
 * - `converted`: a HEIF/AVIF written in another format (`--to`), upright;
 * - `failed`: see `error`.
 */
export interface JobResult {
  readonly outcome: 'unknown' | 'upright' | 'metadata' | 'rotated' | 'converted' | 'failed';
  /** The container, or `null` when not recognised. */
  readonly format: ImageFormat | null;
  /** The plan's decision, or `null` when the header could not be read (or the format carries no orientation). */
  readonly decision: Decision | null;
  /** The pixel path taken (for `rotated`), else `null`. */
  readonly method: PixelMethod | null;
  /** Why that path, or `null`. */
  readonly methodReason: string | null;
  /** Output size in pixels (the stored size when pixels are not changed; 0 when unknown). */
  readonly outWidth: number;
  readonly outHeight: number;
  /** The output bytes for `metadata`/`rotated` (not with `headerOnly`), else `null`. */
  readonly data: Uint8Array | null;
  /** Warnings, without the file name. */
  readonly warnings: readonly string[];
  /** Why the file failed, or `null`. */
  readonly error: Refusal | null;
}

/**
 * Reads a file's header and decides what happens to it, without producing pixels: what
 * `--check` needs, and the first half of every run.
 *
 * @param bytes - the whole file, or with `headerOnly` possibly only its beginning.
 * @param options - see {@link JobOptions}.
 * @returns the container module and its info with the decision, or a finished result for files
 *   that need no container (unknown, GIF/BMP) or whose header cannot be read.
 */
export function planJob(bytes: Uint8Array, options: JobOptions): { container: Container; info: ContainerInfo; decision: Decision } | JobResult {
  if (bytes.length === 0) return finished('failed', null, null, { code: 'empty', reason: 'the file is empty' });
  const found = recognise(bytes);
  if (found.kind === 'unknown') return finished('unknown', null, null, { code: 'not-image', reason: 'not an image (unrecognised bytes; exif-fix reads JPEG, PNG, WebP, TIFF, HEIF/AVIF, GIF and BMP)' });
  if (found.kind === 'upright') return finished('upright', found.format, null, null);
  const { container } = found;
  let info: ContainerInfo;
  try {
    info = container.read(bytes, { headerOnly: options.headerOnly });
  } catch (error) {
    return finished('failed', container.format, null, refusalOf(error));
  }
  return { container, info, decision: decide(info, options) };
}

/**
 * Runs the job on one file's bytes: {@link planJob}, then the decision carried out. Never throws
 * for bad input: `outcome: 'failed'` with the reason in `error` (a bug still throws).
 *
 * @param bytes - the whole file (or, with `headerOnly`, its beginning).
 * @param options - see {@link JobOptions}.
 * @returns what was found and made.
 */
export async function runJob(bytes: Uint8Array, options: JobOptions): Promise<JobResult> {
  const planned = planJob(bytes, options);
  if ('outcome' in planned) return planned;
  const { container, info, decision } = planned;
  const warnings = [...decision.warnings];
  const base = { format: decision.format, decision, outWidth: decision.outWidth, outHeight: decision.outHeight, warnings };
  if (decision.verdict === 'refuse') return { ...base, outcome: 'failed', method: decision.method, methodReason: decision.methodReason, data: null, error: decision.refusal };
  if (decision.verdict === 'upright') return { ...base, outcome: 'upright', method: null, methodReason: null, data: null, error: null };
  const outcome = decision.verdict === 'metadata' ? 'metadata' : decision.verdict === 'convert' ? 'converted' : 'rotated';
  if (options.headerOnly) return { ...base, outcome, method: decision.method, methodReason: decision.methodReason, data: null, error: null };
  const sixteenBit = info.space === 'rgb16' || info.space === 'grey16';
  const release = decision.verdict === 'metadata' || !options.memory ? undefined : await options.memory.acquire(pixelMemory(info.width, info.height, sixteenBit));
  try {
    if (decision.verdict === 'convert') {
      const thumbnails = await prepareThumbnails(info, decision.orientation);
      const converted = await convertHeif(bytes, info as HeifInfo, { to: decision.convertTo as ConvertTarget, thumbnails });
      warnings.push(...converted.warnings);
      return { ...base, outcome, method: 'reencode', methodReason: decision.methodReason, outWidth: converted.width, outHeight: converted.height, data: converted.data, error: null };
    }
    if (decision.verdict === 'metadata') {
      const thumbnails = await prepareThumbnails(info, 1);
      const data = container.write(bytes, info, null, { orientation: 1, thumbnails, warnings });
      return { ...base, outcome, method: null, methodReason: null, data, error: null };
    }
    const [pixels, thumbnails] = await Promise.all([
      producePixels(bytes, container, info, decision.orientation, decision.method as PixelMethod, options.lossless, options.pool, options.failOn),
      prepareThumbnails(info, decision.orientation),
    ]);
    const data = container.write(bytes, info, pixels.pixels, { orientation: decision.orientation, thumbnails, warnings });
    return {
      ...base,
      outcome,
      method: pixels.method,
      methodReason: pixels.reason ?? decision.methodReason,
      outWidth: pixels.pixels.width,
      outHeight: pixels.pixels.height,
      data,
      error: null,
    };
  } catch (error) {
    const refusal = refusalOf(error);
    return { ...base, outcome: 'failed', method: null, methodReason: null, data: null, error: refusal.code === 'corrupt' && !refusal.reason.startsWith('cannot') ? { code: 'corrupt', reason: `cannot decode the pixels: ${refusal.reason}` } : refusal };
  } finally {
    release?.();
  }
}

function finished(outcome: JobResult['outcome'], format: ImageFormat | null, decision: Decision | null, error: Refusal | null): JobResult {
  return { outcome, format, decision, method: null, methodReason: null, outWidth: decision?.outWidth ?? 0, outHeight: decision?.outHeight ?? 0, data: null, warnings: decision?.warnings ?? [], error };
}

/** Thumbnails whose shape and the image's differ by less than this (as a ratio of aspect ratios) tell nothing. */
const ASPECT_EVIDENCE = 1.1;

/**
 * Which transform a thumbnail needs, by evidence (docs/DESIGN.md section 6): cameras usually store
 * the EXIF thumbnail like the main image whatever IFD1 says; some write IFD1 1 over a sideways
 * thumbnail, others IFD1 6 over an upright main image. When the image's orientation swaps width
 * and height (5-8) or IFD1 says it does, the thumbnail's own shape decides: shaped like the stored
 * image, it is stored like it and gets the image's transform; shaped the other way, it gets IFD1's
 * swapping value when it has one, and nothing otherwise (it is upright already). Without such
 * evidence (a square thumbnail, or no swap anywhere), IFD1's valid value wins, else the image's.
 *
 * @param thumb - the thumbnail's stored size in pixels.
 * @param image - the main image's stored size in pixels.
 * @param orientation - the orientation applied to the main image (1 for a metadata-only rewrite).
 * @param ifd1 - IFD1's raw orientation value, if any.
 * @returns the orientation to apply to the thumbnail.
 */
export function thumbnailOrientation(thumb: { width: number; height: number }, image: { width: number; height: number }, orientation: Orientation, ifd1: number | undefined): Orientation {
  const own = isOrientation(ifd1) ? ifd1 : undefined;
  const swapInPlay = ORIENTATIONS[orientation].swapsDimensions || (own !== undefined && ORIENTATIONS[own].swapsDimensions);
  const thumbAspect = thumb.width / thumb.height;
  const imageAspect = image.width / image.height;
  const evident = Math.abs(Math.log(thumbAspect)) > Math.log(ASPECT_EVIDENCE) && Math.abs(Math.log(imageAspect)) > Math.log(ASPECT_EVIDENCE);
  if (swapInPlay && evident) {
    const sameShape = thumbAspect > 1 === imageAspect > 1;
    if (sameShape) return orientation;
    return own !== undefined && ORIENTATIONS[own].swapsDimensions ? own : 1;
  }
  return own ?? orientation;
}

/**
 * Transforms every EXIF thumbnail of a file before its container is written, so that the
 * metadata layer stays synchronous and free of pixel work. A thumbnail that cannot be decoded is
 * removed rather than left sideways.
 *
 * @param info - the container's info (its `exif` structures and stored size).
 * @param orientation - the orientation applied to the main image (1 for a metadata-only rewrite).
 * @returns the lookup the container passes to `rewriteExif`.
 */
async function prepareThumbnails(info: ContainerInfo, orientation: Orientation): Promise<ThumbnailLookup> {
  const prepared = new Map<string, Uint8Array | null | 'keep'>();
  const key = (jpeg: Uint8Array) => Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength).toString('latin1');
  for (const tiff of info.exif ?? []) {
    const thumbnail = readThumbnail(tiff);
    if (!thumbnail) continue;
    let size: { width: number; height: number };
    try {
      size = parseJpeg(thumbnail.jpeg, { headerOnly: true }).frame;
    } catch {
      prepared.set(key(thumbnail.jpeg), orientation === 1 ? 'keep' : null);
      continue;
    }
    const wanted = thumbnailOrientation(size, info, orientation, thumbnail.ifd1Orientation);
    prepared.set(key(thumbnail.jpeg), wanted === 1 ? 'keep' : await transformThumbnail(thumbnail.jpeg, wanted));
  }
  return (old) => {
    const found = prepared.get(key(old));
    if (found === undefined) return orientation === 1 ? undefined : null;
    return found === 'keep' ? undefined : found;
  };
}
