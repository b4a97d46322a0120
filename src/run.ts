/**
 * Runs the per-file job over a plan with a bounded pool: file I/O, in-place rules, dry runs,
 * --skip-existing, and results delivered in plan (sorted) order while the pool works ahead.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { IMAGE_EXTENSIONS } from './containers/index.js';
import { isJpeg } from './containers/jpeg-structure.js';
import { discover, type Discovery, type DiscoverOptions, type PlannedFile, type Shard } from './discover.js';
import { ExifFixError, invalidParameterMessage } from './errors.js';
import { runJob, type JobResult } from './job.js';
import type { LosslessMode } from './pixels/index.js';
import type { Action, FileResult } from './report.js';
import { removeStaleTemporaries, writeAtomic } from './write.js';

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
  /**
   * JPEG lossless transform policy: `auto` (lossless where perfect), `always` (fail otherwise),
   * `never` (always re-encode).
   * @default 'auto'
   */
  readonly lossless?: LosslessMode;
}

/** Options shared by {@link normalize} and {@link check}. */
export interface WalkOptions {
  /** Working directory for relative paths. @default process.cwd() */
  readonly cwd?: string;
  /**
   * Files processed at once.
   * @default os.availableParallelism()
   */
  readonly concurrency?: number;
  /** Extra files listed explicitly (`--files-from`); a missing one fails as that file. */
  readonly files?: readonly string[];
  /** Whether a glob pattern matching nothing is a usage error. @default true */
  readonly errorOnUnmatchedPattern?: boolean;
  /** Process only this shard of the sorted plan; see {@link inShard}. */
  readonly shard?: Shard;
  /** Stops scheduling new files when aborted; files already running finish. */
  readonly signal?: AbortSignal;
  /** Called with each file's result, in sorted input order, as soon as it and all before it are done. */
  readonly onResult?: (result: FileResult) => void;
  /**
   * Called once the plan is known, with the number of entries in it (for progress bars) and
   * what discovery counted: `skippedSymlinks`, see {@link Discovery.skippedSymlinks}.
   */
  readonly onPlan?: (total: number, info: { readonly skippedSymlinks: number }) => void;
  /**
   * Collect every result for the returned array. A caller that streams results through
   * `onResult` can pass `false` so memory does not grow with the number of files (the returned
   * array is then empty).
   * @default true
   */
  readonly keepResults?: boolean;
  /**
   * Follow symbolic links: walk linked directories (each real directory once, so loops end) and
   * read linked files; in place, the file the link points to is rewritten and the link kept.
   * Default `false`: links found by walking are not listed, and a named link fails.
   */
  readonly followSymlinks?: boolean;
  /** Glob patterns of paths to leave out (`--ignore`); see {@link DiscoverOptions.ignore}. */
  readonly ignore?: readonly string[];
}

/** Options of {@link normalize}. */
export interface NormalizeOptions extends FileOptions, WalkOptions {
  /** Output directory; each output goes to `<out>/<path relative to its input's base>`. */
  readonly out?: string;
  /** Rewrite inputs atomically in place, keeping mode and mtime. Exactly one of `out` and `inPlace`. */
  readonly inPlace?: boolean;
  /** Decide and report what would be written, and how, without writing anything. @default false */
  readonly dryRun?: boolean;
  /** Skip files whose output exists and is not older than the input (resuming a run). @default false */
  readonly skipExisting?: boolean;
}

function validate(options: NormalizeOptions): { concurrency: number; limit: number; lossless: LosslessMode } {
  const concurrency = options.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ExifFixError(invalidParameterMessage('integer of at least 1', 'concurrency', concurrency), 'usage');
  }
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ExifFixError(invalidParameterMessage('integer of at least 0', 'limitInputPixels', limit), 'usage');
  }
  const lossless = options.lossless ?? 'auto';
  if (!['auto', 'always', 'never'].includes(lossless)) {
    throw new ExifFixError(invalidParameterMessage('one of auto, always, never', 'lossless', lossless), 'usage');
  }
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count)) {
    throw new ExifFixError(invalidParameterMessage('K/N with 1 <= K <= N', 'shard', `${shard.index}/${shard.count}`), 'usage');
  }
  return { concurrency, limit, lossless };
}

function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'EISDIR') return 'is a directory';
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** Settings of one run, validated. */
interface Settings {
  readonly cwd: string;
  readonly limit: number;
  readonly lossless: LosslessMode;
  readonly dryRun: boolean;
  readonly skipExisting: boolean;
  /** `--check`: headers only, nothing written, action `needs-fix` or `unchanged`. */
  readonly check: boolean;
  /** When aborted, files not yet written are not written (they fail as interrupted). */
  readonly signal?: AbortSignal;
  readonly followSymlinks: boolean;
}

/** How much of a file `--check` reads first; a JPEG's orientation places all come before its first scan. */
const HEAD_BYTES = 256 * 1024;

/**
 * Reads the first {@link HEAD_BYTES} of a file, or all of it when it is smaller. Synchronous:
 * `--check` does nothing else per file, and on a local disk the synchronous calls are about twice
 * as fast as the promise-based ones (bench/results.md).
 *
 * @param file - path.
 * @param size - its size in bytes, from the stat already made.
 */
function readHeadSync(file: string, size: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const length = Math.min(size, HEAD_BYTES);
    const bytes = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const read = readSync(fd, bytes, offset, length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return bytes.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * One {@link FileResult}, built as a single object literal. Built by spreading
 * (`{ ...defaults, ...fields, action }`), every result of a `--check` over 10^5 files survived
 * into V8's old generation (64 MB promoted, against 11 MB this way; `node --trace-gc-nvp`), which
 * was most of the run's memory growth (bench/results.md).
 *
 * @param input - the input path as shown.
 * @param output - the output path as shown, unless `more.output` says otherwise.
 * @param fields - what the job found; the rest takes the values of a failed, unread file.
 * @param more - the outcome (action, output size, error), taking precedence over `fields`.
 * @param elapsedMs - time spent on the file, in milliseconds.
 */
function fileResult(input: string, output: string, fields: Partial<FileResult>, more: Partial<FileResult>, elapsedMs: number): FileResult {
  return {
    input,
    output: more.output ?? output,
    format: fields.format ?? null,
    orientation: fields.orientation ?? 1,
    source: fields.source ?? null,
    places: fields.places ?? [],
    action: more.action ?? 'failed',
    transform: fields.transform ?? 'none',
    method: fields.method ?? null,
    methodReason: fields.methodReason ?? null,
    before: fields.before ?? null,
    after: more.after ?? null,
    warnings: fields.warnings ?? [],
    error: more.error ?? null,
    elapsedMs,
  };
}

/**
 * What a job found, as the fields of a {@link FileResult}.
 *
 * @param job - the job's result.
 * @param size - the input's size in bytes.
 */
function jobFields(job: JobResult, size: number): Partial<FileResult> {
  return {
    format: job.format,
    orientation: job.orientation,
    source: job.source,
    places: job.places,
    transform: job.transform,
    method: job.method,
    methodReason: job.methodReason,
    before: job.format ? { width: job.width, height: job.height, bytes: size } : null,
    warnings: job.warnings,
  };
}

/**
 * The per-file step of a run: reads, runs the job, writes. Never throws for a bad file.
 * `file.source`/`file.target` are shown in results and messages; I/O resolves them against `cwd`.
 */
async function processFile(file: PlannedFile, settings: Settings): Promise<FileResult> {
  const started = performance.now();
  let sourcePath = path.resolve(settings.cwd, file.source);
  let targetPath = file.target === file.source ? sourcePath : path.resolve(settings.cwd, file.target);
  const inPlace = sourcePath === targetPath;
  const finish = (fields: Partial<FileResult>, more: Partial<FileResult>): FileResult => fileResult(file.source, file.target, fields, more, performance.now() - started);
  const fail = (reason: string, fields: Partial<FileResult> = {}) => finish(fields, { action: 'failed', error: `\`${file.source}\`: ${reason}` });
  if (file.error !== undefined) return fail(file.error);

  let bytes: Uint8Array;
  let size: number;
  let mode = 0;
  let times = { atimeMs: 0, mtimeMs: 0 };
  let identity = { ino: 0, size: 0, mtimeMs: 0 };
  try {
    let s = settings.check ? lstatSync(sourcePath) : await lstat(sourcePath);
    if (s.isSymbolicLink()) {
      if (!settings.followSymlinks) return fail('is a symbolic link; not followed (use --follow-symlinks)');
      sourcePath = await realpath(sourcePath);
      if (inPlace) targetPath = sourcePath;
      s = await stat(sourcePath);
    }
    if (!s.isFile()) return fail('not a regular file');
    mode = s.mode;
    times = { atimeMs: s.atimeMs, mtimeMs: s.mtimeMs };
    identity = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    if (settings.skipExisting && !inPlace) {
      const existing = await stat(targetPath).catch(() => undefined);
      if (existing?.isFile() && existing.mtimeMs >= s.mtimeMs) return finish({}, { action: 'existing' });
    }
    if (settings.check) {
      // Only a JPEG can be judged from its head (every orientation place precedes its first
      // scan); anything else is read whole from the start rather than parsed twice.
      size = s.size;
      bytes = readHeadSync(sourcePath, size);
      if (bytes.length < size && !isJpeg(bytes)) bytes = await readFile(sourcePath);
    } else {
      bytes = await readFile(sourcePath);
      size = bytes.length;
    }
  } catch (error) {
    return fail(`cannot read: ${errnoReason(error)}`);
  }

  const plan = settings.check || settings.dryRun;
  let job: JobResult = await runJob(bytes, { limitInputPixels: settings.limit, lossless: settings.lossless, plan });
  if (settings.check && bytes.length < size && job.outcome === 'failed') {
    // A JPEG whose metadata runs past the head is read whole. Pixels are still never decoded.
    try {
      bytes = await readFile(sourcePath);
    } catch (error) {
      return fail(`cannot read: ${errnoReason(error)}`);
    }
    job = await runJob(bytes, { limitInputPixels: settings.limit, lossless: settings.lossless, plan });
  }
  const fields = jobFields(job, size);
  if (job.outcome === 'unknown') {
    if (file.walked && !IMAGE_EXTENSIONS.has(path.extname(file.source).toLowerCase())) return finish({}, { action: 'skipped' });
    return fail('not an image (unrecognised bytes; exif-fix reads JPEG, PNG, WebP, TIFF, HEIF/AVIF, GIF and BMP)');
  }
  if (job.outcome === 'failed') return fail(job.error ?? 'failed', fields);
  if (settings.check) {
    return finish(fields, { action: job.outcome === 'upright' ? 'unchanged' : 'needs-fix', output: file.source });
  }
  const upright = job.outcome === 'upright';
  const action: Action = job.outcome === 'upright' ? (inPlace ? 'unchanged' : 'copied') : job.outcome;
  const data = upright ? bytes : job.data;
  const after = { width: job.outWidth, height: job.outHeight, bytes: data ? data.length : size };
  if (settings.dryRun || (upright && inPlace)) return finish(fields, { action, after: settings.dryRun && !upright ? { ...after, bytes: 0 } : after });
  if (settings.signal?.aborted) return fail('interrupted before writing; nothing written', fields);
  try {
    await writeAtomic(targetPath, data as Uint8Array, inPlace ? { mode, times, expect: identity } : {});
  } catch (error) {
    if (error instanceof ExifFixError && error.code === 'changed') return fail('changed while it was being processed; not overwritten', fields);
    const cause = (error as ExifFixError).cause;
    return fail(`cannot write \`${file.target}\`: ${errnoReason(cause ?? error)}`, fields);
  }
  return finish(fields, { action, after });
}

/**
 * Runs `step` over `plan` with at most `concurrency` at once and at most twice that many
 * scheduled, delivering results to `deliver` in plan order.
 */
async function pool(
  plan: readonly PlannedFile[],
  concurrency: number,
  signal: AbortSignal | undefined,
  step: (file: PlannedFile) => Promise<FileResult>,
  deliver: (result: FileResult) => void,
): Promise<void> {
  const limit = pLimit(concurrency);
  const running = new Set<Promise<void>>();
  const done = new Map<number, FileResult>();
  let next = 0;
  const flush = () => {
    while (done.has(next)) {
      const r = done.get(next) as FileResult;
      done.delete(next);
      next++;
      deliver(r);
    }
  };
  for (let i = 0; i < plan.length; i++) {
    if (signal?.aborted) break;
    const index = i;
    const task: Promise<void> = limit(() => step(plan[index])).then((r) => {
      done.set(index, r);
      flush();
    });
    running.add(task);
    void task.finally(() => running.delete(task));
    if (running.size >= concurrency * 2) await Promise.race(running);
  }
  await Promise.all(running);
}

async function runAll(paths: readonly string[], options: NormalizeOptions, settings: Settings, concurrency: number): Promise<FileResult[]> {
  const { files: plan, skippedSymlinks } = await discover(paths, {
    out: options.out,
    cwd: settings.cwd,
    files: options.files,
    errorOnUnmatchedPattern: options.errorOnUnmatchedPattern,
    shard: options.shard,
    followSymlinks: options.followSymlinks,
    ignore: options.ignore,
  });
  options.onPlan?.(plan.length, { skippedSymlinks });
  if (!settings.check && !settings.dryRun) {
    await removeStaleTemporaries(new Set(plan.filter((f) => f.error === undefined).map((f) => path.dirname(path.resolve(settings.cwd, f.target)))));
  }
  const results: FileResult[] = [];
  const keep = options.keepResults !== false;
  await pool(plan, concurrency, options.signal, (file) => processFile(file, settings), (r) => {
    options.onResult?.(r);
    if (keep) results.push(r);
  });
  return results;
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
  if (paths.length === 0 && !options.files?.length) throw new ExifFixError('Expected at least one path', 'usage');
  const { concurrency, limit, lossless } = validate(options);
  const settings: Settings = {
    cwd: options.cwd ?? process.cwd(),
    limit,
    lossless,
    dryRun: options.dryRun ?? false,
    skipExisting: options.skipExisting ?? false,
    check: false,
    signal: options.signal,
    followSymlinks: options.followSymlinks ?? false,
  };
  return runAll(paths, options, settings, concurrency);
}

/** Options of {@link check}. */
export interface CheckOptions extends WalkOptions {
  /** See {@link FileOptions.limitInputPixels}. @default 268402689 */
  readonly limitInputPixels?: number;
}

/**
 * Reads the orientation of every image found in `paths` from its headers only (never decoding
 * pixels, never writing). Each result's action is `needs-fix` when some orientation place says
 * other than 1, `unchanged` when upright, `skipped` for non-images found by walking, or `failed`.
 *
 * @param paths - as for {@link normalize}.
 * @param options - see {@link CheckOptions}.
 * @returns one result per file, sorted by input path.
 * @throws {ExifFixError} code `'usage'` as {@link normalize} does.
 */
export async function check(paths: readonly string[], options: CheckOptions = {}): Promise<FileResult[]> {
  if (paths.length === 0 && !options.files?.length) throw new ExifFixError('Expected at least one path', 'usage');
  const { concurrency, limit } = validate(options);
  const settings: Settings = {
    cwd: options.cwd ?? process.cwd(),
    limit,
    lossless: 'auto',
    dryRun: true,
    skipExisting: false,
    check: true,
    followSymlinks: options.followSymlinks ?? false,
  };
  return runAll(paths, options, settings, concurrency);
}

/**
 * Normalizes one image held in memory (the `exif-fix -` pipe).
 *
 * @param bytes - the whole input file.
 * @param options - see {@link FileOptions}.
 * @returns the output bytes (the input itself when already upright) and the result, or
 *   `data: null` with `result.action === 'failed'`.
 */
export async function normalizeBuffer(bytes: Uint8Array, options: FileOptions = {}): Promise<{ data: Uint8Array | null; result: FileResult }> {
  const { limit, lossless } = validate(options);
  const started = performance.now();
  const job = await runJob(bytes, { limitInputPixels: limit, lossless });
  const action: Action = job.outcome === 'upright' ? 'copied' : job.outcome === 'unknown' ? 'failed' : job.outcome;
  const error = job.outcome === 'unknown' ? 'not an image (unrecognised bytes)' : job.error;
  const data = action === 'failed' ? null : action === 'copied' ? bytes : job.data;
  const after = data ? { width: job.outWidth, height: job.outHeight, bytes: data.length } : null;
  const result = fileResult('-', '-', jobFields(job, bytes.length), { action, after, error: error ? `\`-\` (stdin): ${error}` : null }, performance.now() - started);
  return { data, result };
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
  const { limit, lossless } = validate(options);
  const settings: Settings = { cwd: process.cwd(), limit, lossless, dryRun: false, skipExisting: false, check: false, followSymlinks: true };
  return processFile({ source: input, target: output, relative: path.basename(input), walked: false }, settings);
}
