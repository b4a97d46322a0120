/**
 * One file of a run: read it (checking what it is), run the job, and write the output
 * atomically, or, for `check` and `dry-run`, report what would be written. Never throws for a bad
 * file: the result says `failed` with a code and a reason, and nothing is written for it.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { lstat, readFile, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LABEL_EXTENSION } from './annotations/locate.js';
import { IMAGE_EXTENSIONS } from './containers/index.js';
import { isJpeg, jpegHeadLength } from './containers/jpeg-structure.js';
import { assertInside, type PlannedFile } from './discover.js';
import { ExifFixError, refusalOf, type Refusal } from './errors.js';
import { runJob, type JobResult } from './job.js';
import { convertedName, type ConvertTarget } from './pixels/heif-convert.js';
import type { Settings } from './options.js';
import type { Action, FileResult } from './report.js';
import { writeAtomic, type WriteOptions } from './write.js';

/**
 * How much of a file `check` reads first. Most JPEG headers (EXIF with its thumbnail, XMP, ICC)
 * fit; a longer one is read on, segment by segment ({@link readHeadSync}).
 */
const FIRST_READ_BYTES = 16 * 1024;

/**
 * Reads the head of a file for `check`: for a JPEG, everything up to and including its first SOS
 * segment ({@link jpegHeadLength}), read in as few reads as its segment lengths allow; for
 * anything else, or a JPEG whose markers stop making sense, the first {@link FIRST_READ_BYTES}
 * (the caller reads a file whole when the head is not enough). Synchronous: `check` does nothing
 * else per file, and on a local disk the synchronous calls are about twice as fast as the
 * promise-based ones (bench/results.md).
 *
 * @param file - path.
 * @param size - its size in bytes, from the stat already made.
 * @returns the bytes read, from offset 0: at most `size`.
 */
function readHeadSync(file: string, size: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    let bytes = new Uint8Array(Math.min(size, FIRST_READ_BYTES));
    let have = readFully(fd, bytes, 0);
    if (have < bytes.length || !isJpeg(bytes)) return bytes.subarray(0, have);
    for (;;) {
      const head = jpegHeadLength(bytes.subarray(0, have));
      if (head.complete || have >= size) return bytes.subarray(0, have);
      // Read on past the next segment's start, at least doubling, to keep the reads few.
      const grown = new Uint8Array(Math.min(size, Math.max(head.length + FIRST_READ_BYTES, 2 * have)));
      grown.set(bytes.subarray(0, have));
      bytes = grown;
      const before = have;
      have = readFully(fd, bytes, have);
      if (have === before) return bytes.subarray(0, have);
    }
  } finally {
    closeSync(fd);
  }
}

/** Fills `bytes` from file offset `from` on (the same offset in `bytes`); returns the bytes now held. */
function readFully(fd: number, bytes: Uint8Array, from: number): number {
  let offset = from;
  while (offset < bytes.length) {
    const read = readSync(fd, bytes, offset, bytes.length - offset, offset);
    if (read === 0) break;
    offset += read;
  }
  return offset;
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
 * @param moreWarnings - warnings of the write (what it could not keep), after the job's. Default none.
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
  moreWarnings: readonly string[] = [],
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
    warnings: moreWarnings.length ? [...(job?.warnings ?? []), ...moreWarnings] : (job?.warnings ?? []),
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
  const done = (job: JobResult | null, size: number, action: Action, after: FileResult['after'], error: Refusal | null, output: string | null, warnings?: readonly string[]) =>
    fileResult(file.source, output, job, size, action, after, error, performance.now() - started, warnings);
  const fail = (error: Refusal, job: JobResult | null = null, size = 0) => done(job, size, 'failed', null, error, null);

  if (file.error !== undefined) return fail({ code: 'read', reason: file.error });
  let bytes: Uint8Array;
  let size: number;
  let mode = 0;
  let times = { atimeMs: 0, mtimeMs: 0 };
  let identity = { ino: 0, size: 0, mtimeMs: 0 };
  let owner = { uid: 0, gid: 0 };
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
    owner = { uid: s.uid, gid: s.gid };
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

  // `--check` decodes no pixels, so the pixel limit (a guard for decoding) does not apply to it.
  const options = { limitInputPixels: check ? 0 : settings.limitInputPixels, lossless: settings.lossless, failOn: settings.failOn, to: settings.to, headerOnly: check, pool: settings.pool, memory: settings.memory };
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
    if (file.walked && !IMAGE_EXTENSIONS.has(path.extname(file.source).toLowerCase())) {
      if (!mirrorsOther(file, settings, inPlace)) return done(null, size, 'skipped', null, null, null);
      if (settings.mode !== 'run') return done(null, size, 'mirrored', { width: 0, height: 0, bytes: size }, null, file.target);
      try {
        if (settings.outRoot !== undefined) await assertInside(settings.outRoot, targetPath);
        await writeAtomic(targetPath, bytes);
      } catch (error) {
        const cause = (error as ExifFixError).cause ?? error;
        return fail(withPrefix(refusalOf(cause, 'write'), `cannot write \`${file.target}\`: `));
      }
      return done(null, size, 'mirrored', { width: 0, height: 0, bytes: size }, null, file.target);
    }
    return fail(job.error as Refusal);
  }
  // `--check` judges orientation from the header: a file the run would refuse for its pixels (a
  // HEIC without --to, a multi-page TIFF) is still listed when it is not upright; only a header
  // that cannot be read fails.
  if (check && job.decision) return done(job, size, job.decision.needsFix ? 'needs-fix' : 'unchanged', null, null, null);
  if (job.outcome === 'failed') return fail(job.error as Refusal, job, size);

  const upright = job.outcome === 'upright';
  const action: Action = upright ? (inPlace ? 'unchanged' : 'copied') : job.outcome === 'rotated' || job.outcome === 'converted' || job.outcome === 'metadata' ? job.outcome : 'failed';
  const data = upright ? bytes : (job.data as Uint8Array);
  const after = { width: job.outWidth, height: job.outHeight, bytes: data.length };
  const labels = upright && inPlace ? undefined : settings.labelRefusals?.get(file.source);
  if (labels !== undefined) return fail({ code: 'labels', reason: `its labels cannot be transformed, so neither is written: ${labels}` }, job, size);
  if (job.outcome === 'converted') {
    const keep = inPlace ? { mode, times, owner, copyXattrsFrom: sourcePath } : {};
    return convert(file, settings, job, size, data, after, sourcePath, targetPath, inPlace, keep, started);
  }
  if (settings.mode === 'dry-run' || (upright && inPlace)) return done(job, size, action, after, null, file.target);
  if (settings.signal?.aborted) return fail({ code: 'interrupted', reason: 'interrupted before writing; nothing written' }, job, size);
  try {
    // Containment is proven for every target before any work; proven again right before the
    // write, so a link planted in the output tree during the run is refused, not followed.
    if (settings.outRoot !== undefined && !inPlace) await assertInside(settings.outRoot, targetPath);
    // In place keeps owner, group, mode, times and extended attributes, and refuses to part a
    // hard link unless told to; a new output keeps nothing of the input's (write.ts).
    const written = await writeAtomic(targetPath, data, inPlace ? { mode, times, owner, copyXattrsFrom: targetPath, expect: identity, breakHardLinks: settings.breakHardLinks } : {});
    return done(job, size, action, after, null, file.target, written.warnings);
  } catch (error) {
    if (error instanceof ExifFixError && error.code === 'changed') return fail({ code: 'changed', reason: 'changed while it was being processed; not overwritten' }, job, size);
    if (error instanceof ExifFixError && error.code === 'linked') return fail({ code: 'linked', reason: error.message.replace(/^`[^`]*`:? ?/, '') }, job, size);
    const cause = (error as ExifFixError).cause ?? error;
    return fail(withPrefix(refusalOf(cause, 'write'), `cannot write \`${file.target}\`: `), job, size);
  }
  return done(job, size, action, after, null, file.target);
}

/**
 * Writes a converted file (`--to`) under its new name: `<out>/photo.jpg` for `photo.HEIC`, or in
 * place `photo.jpg` beside `photo.HEIC`, written durably first, then the old file removed. A
 * new name that already exists (another input, or an earlier output in place) is refused, never
 * overwritten. In place, the new file keeps the old one's mode, times, owner and extended
 * attributes (`keep`).
 */
async function convert(
  file: PlannedFile,
  settings: Settings,
  job: JobResult,
  size: number,
  data: Uint8Array,
  after: NonNullable<FileResult['after']>,
  sourcePath: string,
  targetPath: string,
  inPlace: boolean,
  keep: WriteOptions,
  started: number,
): Promise<FileResult> {
  const to = job.decision?.convertTo as ConvertTarget;
  const output = convertedName(file.target, to);
  const outputPath = convertedName(targetPath, to);
  const result = (error: Refusal | null, warnings?: readonly string[]) =>
    fileResult(file.source, error ? null : output, job, size, error ? 'failed' : 'converted', error ? null : after, error, performance.now() - started, warnings);
  const sibling = convertedName(sourcePath, to);
  if (sibling !== sourcePath && (await exists(sibling)) && (inPlace || !settings.skipExisting)) {
    return result({ code: 'write', reason: `its converted name \`${convertedName(file.source, to)}\` exists already${inPlace ? '' : ' among the inputs'}; not converted` });
  }
  if (settings.mode === 'dry-run') return result(null);
  if (settings.signal?.aborted) return result({ code: 'interrupted', reason: 'interrupted before writing; nothing written' });
  try {
    if (settings.outRoot !== undefined && !inPlace) await assertInside(settings.outRoot, outputPath);
    const written = await writeAtomic(outputPath, data, keep);
    // The new file is durable (fsync'd and renamed) before the old one goes.
    if (inPlace) await unlink(sourcePath);
    return result(null, written.warnings);
  } catch (error) {
    const cause = (error as ExifFixError).cause ?? error;
    return result(withPrefix(refusalOf(cause, 'write'), `cannot write \`${output}\`: `));
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Whether a file that is not an image is copied into `--out` (`copyOtherFiles`): labels, YAML,
 * CSV, so the output is a complete dataset. Not in place, not in `--check`; and with
 * `annotations`, not the label files of that format, which the label step writes (transformed)
 * for the images it writes, so a label never arrives without its image.
 */
function mirrorsOther(file: PlannedFile, settings: Settings, inPlace: boolean): boolean {
  if (!settings.copyOtherFiles || inPlace || settings.mode === 'check') return false;
  const a = settings.annotations;
  if (!a) return true;
  const ext = path.extname(file.source).toLowerCase();
  if (a.format === 'coco') return path.resolve(settings.cwd, file.source) !== path.resolve(settings.cwd, a.coco ?? '');
  return ext !== LABEL_EXTENSION[a.format];
}

function withPrefix(refusal: Refusal, prefix: string): Refusal {
  return { code: refusal.code, reason: prefix + refusal.reason };
}
