/**
 * The per-file job on bytes: recognise the container, read every orientation place, decide,
 * and produce the output bytes. No file system access here; `run.ts` does the I/O, so the same
 * job serves files, in-place rewrites and stdin/stdout pipes.
 */
import { recognise } from './containers/index.js';
import type { ContainerInfo, ImageFormat, OrientationPlace, OrientationSource } from './containers/types.js';
import { ExifFixError, printable } from './errors.js';
import { decideOrientation, ORIENTATIONS, type Orientation, type Transform } from './orientation.js';
import { producePixels, type LosslessMode } from './pixels/index.js';
import type { PixelMethod } from './report.js';

/** Options of {@link runJob}. */
export interface JobOptions {
  /** Refuse headers declaring more pixels than this; 0 = no limit. */
  readonly limitInputPixels: number;
  /** JPEG lossless transform policy; see {@link LosslessMode}. */
  readonly lossless: LosslessMode;
  /** Only decide what would happen (headers only, no pixels produced). */
  readonly plan?: boolean;
}

/**
 * What the job found and made. `outcome`:
 * - `unknown`: not a recognised image;
 * - `upright`: nothing to change (the input bytes are the output);
 * - `metadata`: only orientation places rewritten;
 * - `rotated`: new pixels;
 * - `failed`: see `error`.
 */
export interface JobResult {
  readonly outcome: 'unknown' | 'upright' | 'metadata' | 'rotated' | 'failed';
  readonly format: ImageFormat | null;
  readonly orientation: Orientation;
  readonly source: OrientationSource | null;
  readonly places: readonly OrientationPlace[];
  readonly transform: Transform;
  readonly method: PixelMethod | null;
  readonly methodReason: string | null;
  /** Stored size in pixels (0 x 0 when the container has no size we read, GIF/BMP). */
  readonly width: number;
  readonly height: number;
  /** Output size in pixels. */
  readonly outWidth: number;
  readonly outHeight: number;
  /** The output bytes for `metadata`/`rotated` (not in plan mode), else `null`. */
  readonly data: Uint8Array | null;
  readonly warnings: string[];
  /** The reason of a failure, without the file name. */
  readonly error: string | null;
}

/** A decoder's (possibly multi-line) message on one printable line. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return printable(text.trim().split(/\r?\n/).join('; '));
}

/**
 * Runs the job on one file's bytes. Never throws for bad input: `outcome: 'failed'` with the
 * reason in `error` (a bug still throws).
 *
 * @param bytes - the whole file.
 * @param options - see {@link JobOptions}.
 */
export async function runJob(bytes: Uint8Array, options: JobOptions): Promise<JobResult> {
  const warnings: string[] = [];
  let result: JobResult = {
    outcome: 'failed',
    format: null,
    orientation: 1,
    source: null,
    places: [],
    transform: 'none',
    method: null,
    methodReason: null,
    width: 0,
    height: 0,
    outWidth: 0,
    outHeight: 0,
    data: null,
    warnings,
    error: null,
  };
  const fail = (reason: string): JobResult => ({ ...result, outcome: 'failed', data: null, error: reason });
  if (bytes.length === 0) return fail('the file is empty');
  const found = recognise(bytes);
  if (found.kind === 'unknown') return { ...result, outcome: 'unknown' };
  if (found.kind === 'upright') return { ...result, outcome: 'upright', format: found.format };

  const { container } = found;
  let info: ContainerInfo;
  try {
    info = container.read(bytes, { headerOnly: options.plan });
  } catch (error) {
    if (error instanceof ExifFixError) return fail(error.message);
    throw error;
  }
  warnings.push(...info.warnings);
  result = { ...result, format: info.format, places: info.places, width: info.width, height: info.height, outWidth: info.width, outHeight: info.height };
  const limit = options.limitInputPixels;
  if (limit > 0 && info.width * info.height > limit) {
    return fail(`the header declares ${info.width}x${info.height} = ${info.width * info.height} pixels, more than the limit of ${limit} (--limit-input-pixels)`);
  }
  const decision = decideOrientation(info.places);
  warnings.push(...decision.warnings);
  result = { ...result, orientation: decision.orientation, source: decision.source };
  if (!decision.needsRewrite) return { ...result, outcome: 'upright' };
  const context = { orientation: decision.orientation, warnings };
  if (decision.orientation === 1) {
    if (options.plan) return { ...result, outcome: 'metadata' };
    try {
      return { ...result, outcome: 'metadata', data: await container.write(bytes, info, null, context) };
    } catch (error) {
      if (error instanceof ExifFixError) return fail(error.message);
      throw error;
    }
  }
  const swapped = ORIENTATIONS[decision.orientation].swapsDimensions;
  result = {
    ...result,
    transform: ORIENTATIONS[decision.orientation].transform,
    outWidth: swapped ? info.height : info.width,
    outHeight: swapped ? info.width : info.height,
  };
  if (options.plan) return { ...result, outcome: 'rotated' };
  try {
    const pixels = await producePixels(bytes, container, info, decision.orientation, options.lossless);
    const data = await container.write(bytes, info, pixels.pixels, context);
    return {
      ...result,
      outcome: 'rotated',
      method: pixels.method,
      methodReason: pixels.reason,
      outWidth: pixels.pixels.width,
      outHeight: pixels.pixels.height,
      data,
    };
  } catch (error) {
    if (error instanceof ExifFixError) return fail(error.message);
    return fail(`cannot decode the pixels: ${messageOf(error)}`);
  }
}
