/**
 * exif-fix: bake the EXIF orientation into the pixels and write orientation 1, losing nothing else.
 *
 * Data flows one way: paths -> {@link discover} (plan) -> {@link normalizeFile} per file ->
 * {@link FileResult} -> summary. The CLI uses only this module.
 *
 * @packageDocumentation
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { IMAGE_EXTENSIONS, recognise } from './containers/index.js';
import type { ContainerInfo, OrientationPlace } from './containers/types.js';
import { discover, type PlannedFile } from './discover.js';
import { ExifFixError, invalidParameterMessage } from './errors.js';
import { decideOrientation, ORIENTATIONS, type Orientation } from './orientation.js';
import { producePixels } from './pixels/index.js';
import type { FileResult } from './report.js';
import { writeAtomic } from './write.js';

export { ExifFixError } from './errors.js';
export type { ExifFixErrorCode } from './errors.js';
export type { ImageFormat, OrientationPlace, OrientationSource } from './containers/types.js';
export { ORIENTATIONS, decideOrientation, mapPoint, uprightSize } from './orientation.js';
export type { Orientation, OrientationDecision, OrientationInfo, Transform } from './orientation.js';
export type { Action, FileResult, PixelMethod, Summary } from './report.js';
export { EXIT, exitCode, formatSummary, summarize } from './report.js';
export { discover } from './discover.js';
export type { PlannedFile, DiscoverOptions } from './discover.js';

/** The default pixel limit: 0x3FFF x 0x3FFF = 268,402,689 pixels (sharp's and libvips' default). */
export const DEFAULT_LIMIT_INPUT_PIXELS = 0x3fff * 0x3fff;

/** Options for one file. */
export interface FileOptions {
  /**
   * Refuse files whose header declares more pixels (width x height) than this, before decoding.
   * `0` removes the limit.
   * @default 268402689
   */
  readonly limitInputPixels?: number;
}

/** Options of {@link normalize}. */
export interface NormalizeOptions extends FileOptions {
  /** Output directory; each output goes to `<out>/<path relative to its input's base>`. */
  readonly out?: string;
  /** Rewrite inputs atomically in place, keeping mode and mtime. Exactly one of `out` and `inPlace` is required. */
  readonly inPlace?: boolean;
  /**
   * Files processed at once.
   * @default os.availableParallelism()
   */
  readonly concurrency?: number;
  /** Working directory for relative paths. @default process.cwd() */
  readonly cwd?: string;
  /** Stops scheduling new files when aborted; files already running finish. */
  readonly signal?: AbortSignal;
  /** Called with each file's result as soon as it is known (in completion order). */
  readonly onResult?: (result: FileResult) => void;
}

/** What {@link readOrientation} finds in a file. */
export interface OrientationReading {
  readonly format: ContainerInfo['format'];
  /** Stored size in pixels. */
  readonly width: number;
  readonly height: number;
  /** The orientation a viewer would apply. */
  readonly orientation: Orientation;
  readonly source: OrientationPlace['source'] | null;
  readonly places: readonly OrientationPlace[];
  /** Whether some place says something other than 1. */
  readonly needsRewrite: boolean;
  readonly warnings: readonly string[];
}

/**
 * Reads where a file's orientation lives and what it says, from the headers only (no pixel
 * decoding).
 *
 * @param bytes - the whole file, or at least all of its metadata.
 * @returns the reading, or `null` when the bytes are not a recognised image.
 * @throws {ExifFixError} code `'corrupt'` or `'unsupported'` (reason without a file name).
 */
export function readOrientation(bytes: Uint8Array): OrientationReading | null {
  const found = recognise(bytes);
  if (found.kind === 'unknown') return null;
  if (found.kind === 'upright') {
    return { format: found.format, width: 0, height: 0, orientation: 1, source: null, places: [], needsRewrite: false, warnings: [] };
  }
  const info = found.container.read(bytes);
  const decision = decideOrientation(info.places);
  return {
    format: info.format,
    width: info.width,
    height: info.height,
    orientation: decision.orientation,
    source: decision.source,
    places: info.places,
    needsRewrite: decision.needsRewrite,
    warnings: [...info.warnings, ...decision.warnings],
  };
}

function validateLimit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT_INPUT_PIXELS;
  if (!Number.isInteger(value) || value < 0) {
    throw new ExifFixError(invalidParameterMessage('integer of at least 0', 'limitInputPixels', value), 'usage');
  }
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Normalizes one file: reads every orientation place, bakes the orientation into the pixels
 * (or copies an upright file byte for byte) and writes `output` atomically with orientation 1
 * everywhere and all other metadata kept. When `output` is `input`, an upright file is left
 * untouched and a rewritten one keeps its mode and mtime.
 *
 * Never throws for a bad file: the result has `action: 'failed'` and `error` names the file and
 * the reason, and nothing is written for it.
 *
 * @param input - path of the image.
 * @param output - path to write (may equal `input`).
 * @param options - see {@link FileOptions}.
 * @returns the file's result.
 * @throws {ExifFixError} code `'usage'` for invalid options only.
 * @example
 * const result = await normalizeFile('IMG_0001.jpg', 'fixed/IMG_0001.jpg');
 * console.log(result.action, result.orientation, result.source); // 'rotated' 6 'exif'
 */
export async function normalizeFile(input: string, output: string, options: FileOptions = {}): Promise<FileResult> {
  return processFile({ source: input, target: output, relative: path.basename(input), walked: false }, validateLimit(options.limitInputPixels), process.cwd());
}

/**
 * The per-file job. `file.source`/`file.target` are shown in results and messages; I/O uses
 * them resolved against `cwd`.
 */
async function processFile(file: PlannedFile, limit: number, cwd: string): Promise<FileResult> {
  const started = performance.now();
  const sourcePath = path.resolve(cwd, file.source);
  const targetPath = path.resolve(cwd, file.target);
  const inPlace = sourcePath === targetPath;
  const warnings: string[] = [];
  let result: Omit<FileResult, 'elapsedMs' | 'warnings'> = {
    input: file.source,
    output: file.target,
    format: null,
    orientation: 1,
    source: null,
    places: [],
    action: 'failed',
    transform: 'none',
    method: null,
    methodReason: null,
    before: null,
    after: null,
    error: null,
  };
  const done = () => ({ ...result, warnings, elapsedMs: performance.now() - started });
  const fail = (reason: string) => {
    result = { ...result, action: 'failed', after: null, error: `\`${file.source}\`: ${reason}` };
    return done();
  };

  let bytes: Uint8Array;
  let mode = 0;
  let times = { atimeMs: 0, mtimeMs: 0 };
  try {
    const s = await stat(sourcePath);
    if (!s.isFile()) return fail('not a regular file');
    mode = s.mode;
    times = { atimeMs: s.atimeMs, mtimeMs: s.mtimeMs };
    bytes = await readFile(sourcePath);
  } catch (error) {
    return fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
  }
  if (bytes.length === 0) return fail('the file is empty');

  const found = recognise(bytes);
  if (found.kind === 'unknown') {
    const ext = path.extname(file.source).toLowerCase();
    if (file.walked && !IMAGE_EXTENSIONS.has(ext)) {
      result = { ...result, action: 'skipped' };
      return done();
    }
    return fail('not an image (unrecognised bytes; exif-fix reads JPEG, PNG, WebP, TIFF, HEIF/AVIF, GIF and BMP)');
  }

  const writeOut = async (data: Uint8Array, width: number, height: number, action: FileResult['action']) => {
    if (inPlace && action === 'unchanged') {
      result = { ...result, action, after: { width, height, bytes: data.length } };
      return;
    }
    await writeAtomic(targetPath, data, inPlace ? { mode, times } : {});
    result = { ...result, action, after: { width, height, bytes: data.length } };
  };

  try {
    if (found.kind === 'upright') {
      result = { ...result, format: found.format, before: { width: 0, height: 0, bytes: bytes.length } };
      await writeOut(bytes, 0, 0, inPlace ? 'unchanged' : 'copied');
      return done();
    }
    const { container } = found;
    let info: ContainerInfo;
    try {
      info = container.read(bytes);
    } catch (error) {
      if (error instanceof ExifFixError) return fail(error.message);
      throw error;
    }
    warnings.push(...info.warnings);
    result = { ...result, format: info.format, places: info.places, before: { width: info.width, height: info.height, bytes: bytes.length } };
    if (limit > 0 && info.width * info.height > limit) {
      return fail(`the header declares ${info.width}x${info.height} = ${info.width * info.height} pixels, more than the limit of ${limit} (--limit-input-pixels)`);
    }
    const decision = decideOrientation(info.places);
    warnings.push(...decision.warnings);
    result = { ...result, orientation: decision.orientation, source: decision.source };
    if (!decision.needsRewrite) {
      await writeOut(bytes, info.width, info.height, inPlace ? 'unchanged' : 'copied');
      return done();
    }
    const context = { orientation: decision.orientation, warnings };
    if (decision.orientation === 1) {
      const data = await container.write(bytes, info, null, context);
      await writeOut(data, info.width, info.height, 'metadata');
      return done();
    }
    let outcome;
    try {
      outcome = await producePixels(bytes, container, info, decision.orientation);
    } catch (error) {
      if (error instanceof ExifFixError) return fail(error.message);
      return fail(`cannot decode the pixels: ${messageOf(error)}`);
    }
    const data = await container.write(bytes, info, outcome.pixels, context);
    result = { ...result, transform: ORIENTATIONS[decision.orientation].transform, method: outcome.method, methodReason: outcome.reason };
    await writeOut(data, outcome.pixels.width, outcome.pixels.height, 'rotated');
    return done();
  } catch (error) {
    if (error instanceof ExifFixError) {
      if (error.code === 'write') {
        const cause = error.cause as NodeJS.ErrnoException | undefined;
        return fail(`cannot write \`${file.target}\`: ${cause?.code ?? cause?.message ?? error.message}`);
      }
      return fail(error.message);
    }
    return fail(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

/**
 * Normalizes every image found in `paths` (files, directories walked recursively, or glob
 * patterns), writing to `options.out` (mirroring the tree) or in place.
 *
 * @param paths - inputs; images are recognised by their bytes, not their extension.
 * @param options - see {@link NormalizeOptions}; exactly one of `out` and `inPlace`.
 * @returns one result per file, sorted by input path.
 * @throws {ExifFixError} code `'usage'` before any work for invalid options or a refused plan
 *   (see {@link discover}).
 * @example
 * const results = await normalize(['photos'], { out: 'fixed' });
 * const failed = results.filter((r) => r.action === 'failed');
 */
export async function normalize(paths: readonly string[], options: NormalizeOptions): Promise<FileResult[]> {
  if (options.inPlace && options.out !== undefined) throw new ExifFixError('Use either --out or --in-place, not both', 'usage');
  if (!options.inPlace && options.out === undefined) throw new ExifFixError('Expected --out <dir> or --in-place', 'usage');
  if (paths.length === 0) throw new ExifFixError('Expected at least one path', 'usage');
  const concurrency = options.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ExifFixError(invalidParameterMessage('integer of at least 1', 'concurrency', concurrency), 'usage');
  }
  const limitPixels = validateLimit(options.limitInputPixels);
  const cwd = options.cwd ?? process.cwd();
  const plan = await discover(paths, { out: options.out, cwd });
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    plan.map((file) =>
      limit(async () => {
        if (options.signal?.aborted) return undefined;
        const result = await processFile(file, limitPixels, cwd);
        options.onResult?.(result);
        return result;
      }),
    ),
  );
  return results.filter((r): r is FileResult => r !== undefined);
}
