/**
 * One file of a run: read it (checking what it is), run the job, and write the output
 * atomically, or, for `check` and `dry-run`, report what would be written. Never throws for a bad
 * file: the result says `failed` with a code and a reason, and nothing is written for it.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from './containers/index.js';
import { isJpeg } from './containers/jpeg-structure.js';
import type { PlannedFile } from './discover.js';
import { ExifFixError, refusalOf, type Refusal } from './errors.js';
import { runJob, type JobResult } from './job.js';
import type { Settings } from './options.js';
import type { Action, FileResult } from './report.js';
import { writeAtomic } from './write.js';

/** How much of a file `check` reads first; a JPEG's orientation places all come before its first scan. */
const HEAD_BYTES = 256 * 1024;

/**
 * Reads the first {@link HEAD_BYTES} of a file, or all of it when it is smaller. Synchronous:
 * `check` does nothing else per file, and on a local disk the synchronous calls are about twice
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
 * @param output - the output path as shown, or `null` when nothing is (or would be) written.
 * @param job - what the job found, or `null` when the file was not read.
 * @param size - the input's size in bytes (for `before`).
 * @param action - what happened.
 * @param after - the output's size, or `null`.
 * @param error - why it failed, or `null`.
 * @param elapsedMs - time spent on the file, in milliseconds.
 */
export function fileResult(
  input: string,
  output: string | null,
  job: JobResult | null,
  size: number,
  action: Action,
  after: FileResult['after'],
  error: Refusal | null,
  elapsedMs: number,
): FileResult {
  const d = job?.decision ?? null;
  return {
    input,
    output,
    format: job?.format ?? null,
    orientation: d?.orientation ?? 1,
    source: d?.source ?? null,
    places: d?.places ?? [],
    action,
    transform: d?.transform ?? 'none',
    method: job?.method ?? null,
    methodReason: job?.methodReason ?? null,
    before: job?.format ? { width: d?.width ?? 0, height: d?.height ?? 0, bytes: size } : null,
    after,
    warnings: job?.warnings ?? [],
    code: error?.code ?? null,
    error: error ? `\`${input}\`: ${error.reason}` : null,
    elapsedMs,
  };
}

/**
 * The per-file step of a run: reads, runs the job, writes. `file.source`/`file.target` are shown
 * in results and messages; I/O resolves them against `settings.cwd`.
 *
 * @param file - one entry of the plan.
 * @param settings - the run's validated settings.
 * @returns the file's result; never throws for a bad file.
 */
export async function processFile(file: PlannedFile, settings: Settings): Promise<FileResult> {
  const started = performance.now();
  let sourcePath = path.resolve(settings.cwd, file.source);
  let targetPath = file.target === file.source ? sourcePath : path.resolve(settings.cwd, file.target);
  const inPlace = sourcePath === targetPath;
  const check = settings.mode === 'check';
  const done = (job: JobResult | null, size: number, action: Action, after: FileResult['after'], error: Refusal | null, output: string | null) =>
    fileResult(file.source, output, job, size, action, after, error, performance.now() - started);
  const fail = (error: Refusal, job: JobResult | null = null, size = 0) => done(job, size, 'failed', null, error, null);

  let bytes: Uint8Array;
  let size: number;
  let mode = 0;
  let times = { atimeMs: 0, mtimeMs: 0 };
  let identity = { ino: 0, size: 0, mtimeMs: 0 };
  try {
    let s = check ? lstatSync(sourcePath) : await lstat(sourcePath);
    if (s.isSymbolicLink()) {
      if (!settings.followSymlinks) return fail({ code: 'read', reason: 'is a symbolic link; not followed (use --follow-symlinks)' });
      sourcePath = await realpath(sourcePath);
      if (inPlace) targetPath = sourcePath;
      s = await stat(sourcePath);
    }
    if (!s.isFile()) return fail({ code: 'read', reason: 'not a regular file' });
    mode = s.mode;
    times = { atimeMs: s.atimeMs, mtimeMs: s.mtimeMs };
    identity = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    if (settings.skipExisting && !inPlace) {
      const existing = await stat(targetPath).catch(() => undefined);
      if (existing?.isFile() && existing.mtimeMs >= s.mtimeMs) return done(null, s.size, 'existing', null, null, file.target);
    }
    size = s.size;
    // Only a JPEG can be judged from its head (every orientation place precedes its first scan);
    // anything else is read whole from the start rather than parsed twice.
    bytes = check ? readHeadSync(sourcePath, size) : await readFile(sourcePath);
    if (check && bytes.length < size && !isJpeg(bytes)) bytes = await readFile(sourcePath);
  } catch (error) {
    return fail(withPrefix(refusalOf(error), 'cannot read: '));
  }

  const options = { limitInputPixels: settings.limitInputPixels, lossless: settings.lossless, headerOnly: check };
  let job = await runJob(bytes, options);
  if (check && bytes.length < size && job.outcome === 'failed') {
    // A JPEG whose metadata runs past the head is read whole. Pixels are still never decoded.
    try {
      bytes = await readFile(sourcePath);
    } catch (error) {
      return fail(withPrefix(refusalOf(error), 'cannot read: '));
    }
    job = await runJob(bytes, options);
  }
  if (job.outcome === 'unknown') {
    if (file.walked && !IMAGE_EXTENSIONS.has(path.extname(file.source).toLowerCase())) return done(null, size, 'skipped', null, null, null);
    return fail(job.error as Refusal);
  }
  if (job.outcome === 'failed') return fail(job.error as Refusal, job, size);
  if (check) return done(job, size, job.decision?.needsFix ? 'needs-fix' : 'unchanged', null, null, null);

  const upright = job.outcome === 'upright';
  const action: Action = upright ? (inPlace ? 'unchanged' : 'copied') : job.outcome === 'metadata' ? 'metadata' : 'rotated';
  const data = upright ? bytes : (job.data as Uint8Array);
  const after = { width: job.outWidth, height: job.outHeight, bytes: data.length };
  if (settings.mode === 'dry-run' || (upright && inPlace)) return done(job, size, action, after, null, file.target);
  if (settings.signal?.aborted) return fail({ code: 'interrupted', reason: 'interrupted before writing; nothing written' }, job, size);
  try {
    await writeAtomic(targetPath, data, inPlace ? { mode, times, expect: identity } : {});
  } catch (error) {
    if (error instanceof ExifFixError && error.code === 'changed') return fail({ code: 'changed', reason: 'changed while it was being processed; not overwritten' }, job, size);
    const cause = (error as ExifFixError).cause ?? error;
    return fail(withPrefix(refusalOf(cause, 'write'), `cannot write \`${file.target}\`: `), job, size);
  }
  return done(job, size, action, after, null, file.target);
}

function withPrefix(refusal: Refusal, prefix: string): Refusal {
  return { code: refusal.code, reason: prefix + refusal.reason };
}
