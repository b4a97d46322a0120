/**
 * The public functions of the library: `normalize()` over paths, `check()` over paths,
 * `normalizeFile()` and `normalizeBuffer()` for one image, `readOrientation()` for one header.
 * Each validates its options (`options.ts`), discovers the plan (`discover.ts`), and runs the
 * per-file step (`step.ts`) in the ordered pool (`pool.ts`).
 */
import path from 'node:path';
import { inputRoot, transformAnnotations, type AnnotationOptions, type AnnotationRecord } from './annotations/index.js';
import type { ImageFormat } from './containers/types.js';
import { discover, type PlannedFile } from './discover.js';
import { ExifFixError, type Refusal } from './errors.js';
import { planJob, runJob } from './job.js';
import { LosslessPool } from './pixels/lossless-pool.js';
import { resolveFileOptions, resolveSettings, type CheckOptions, type FileOptions, type NormalizeOptions, type Settings } from './options.js';
import { decideOrientation, type Orientation, type OrientationPlace, type OrientationSource } from './orientation.js';
import { MemoryBudget, runOrdered } from './pool.js';
import os from 'node:os';
import type { Action, FileResult, LabelCounts } from './report.js';
import { fileResult, processFile } from './step.js';
import { removeStaleTemporaries } from './write.js';

async function runAll(paths: readonly string[], options: NormalizeOptions, settings: Settings): Promise<FileResult[]> {
  const { files: plan, skippedSymlinks, outRoot } = await discover(paths, {
    out: settings.out,
    cwd: settings.cwd,
    files: options.files,
    errorOnUnmatchedPattern: options.errorOnUnmatchedPattern,
    shard: options.shard,
    followSymlinks: settings.followSymlinks,
    ignore: options.ignore,
  });
  options.onPlan?.(plan.length, { skippedSymlinks });
  if (settings.mode === 'run') {
    await removeStaleTemporaries(new Set(plan.filter((f) => f.error === undefined).map((f) => path.dirname(path.resolve(settings.cwd, f.target)))));
  }
  const results: FileResult[] = [];
  const labels = settings.mode === 'run' && settings.annotations ? { ...settings.annotations, roots: new Map(plan.map((f) => [f.source, inputRoot(f.source, f.relative)])), followSymlinks: settings.followSymlinks, breakHardLinks: settings.breakHardLinks } : undefined;
  // An image and its labels are one unit: labels that cannot be transformed keep their image
  // from being written (checked in memory before any write), and the labels of every image
  // written are written after it.
  const labelRefusals = labels ? await checkLabels(plan, settings, labels) : undefined;
  const keep = options.keepResults !== false || labels !== undefined;
  // The lossless transform runs in worker threads owned by this run, closed when it ends.
  const pool = settings.mode === 'check' ? undefined : new LosslessPool(settings.concurrency);
  try {
    const memory = settings.mode === 'check' ? undefined : new MemoryBudget(settings.maxMemory ?? Math.floor(os.totalmem() / 2));
    const run = { ...settings, pool, memory, outRoot, labelRefusals };
    await runOrdered(plan, settings.concurrency, settings.signal, (file) => processFile(file, run), (r) => {
      options.onResult?.(r);
      if (keep) results.push(r);
    });
  } finally {
    await pool?.close();
  }
  if (labels && !settings.signal?.aborted) {
    for (const record of await transformAnnotations(results, labels)) options.onLabels?.(record);
  }
  return options.keepResults === false ? [] : results;
}

/**
 * The labels of every planned image, located, read and transformed in memory from the images'
 * headers (what `check` reads), with nothing written.
 *
 * @returns the reason each image whose labels cannot be transformed must not be written, by source.
 */
async function checkLabels(plan: readonly PlannedFile[], settings: Settings, labels: AnnotationOptions): Promise<Map<string, string>> {
  const headers: FileResult[] = [];
  const check = { ...settings, mode: 'check' as const };
  await runOrdered(plan, settings.concurrency, settings.signal, (file) => processFile(file, check), (r) => headers.push(r));
  const images = headers.map((r, i) => ({ ...r, action: (r.action === 'needs-fix' ? 'rotated' : r.action === 'unchanged' ? 'copied' : r.action) as Action, output: plan[i].target }));
  const refusals = new Map<string, string>();
  for (const record of await transformAnnotations(images, { ...labels, dryRun: true })) {
    if (record.error) refusals.set(record.image, record.error);
  }
  return refusals;
}

/**
 * Normalizes every image found in `paths` (files, directories walked recursively, or glob
 * patterns), writing to `options.out` (mirroring the tree) or in place. With `dryRun`, every file
 * is read, decided and transformed in memory exactly as the run would, and nothing is written.
 *
 * @param paths - inputs; images are recognised by their bytes, not their extension.
 * @param options - see {@link NormalizeOptions}; exactly one of `out` and `inPlace`.
 * @returns one result per file, sorted by input path (empty with `keepResults: false`).
 * @throws {ExifFixError} code `'usage'` before any work for invalid options or a refused plan
 *   (see `discover`).
 * @example
 * const results = await normalize(['photos'], { out: 'fixed' });
 * const failed = results.filter((r) => r.action === 'failed');
 */
export async function normalize(paths: readonly string[], options: NormalizeOptions): Promise<FileResult[]> {
  const settings = resolveSettings(paths, options, options.dryRun ? 'dry-run' : 'run');
  return runAll(paths, options, settings);
}

/**
 * Reads the orientation of every image found in `paths` from its headers only (never decoding
 * pixels, never writing). Each result's action is `needs-fix` when some orientation place holds a
 * valid value other than 1, `unchanged` when upright, `skipped` for non-images found by walking,
 * or `failed` (with the reason the run would fail it, when the header shows it).
 *
 * @param paths - as for {@link normalize}.
 * @param options - see {@link CheckOptions}.
 * @returns one result per file, sorted by input path.
 * @throws {ExifFixError} code `'usage'` as {@link normalize} does.
 */
export async function check(paths: readonly string[], options: CheckOptions = {}): Promise<FileResult[]> {
  const settings = resolveSettings(paths, options, 'check');
  return runAll(paths, options, settings);
}

/**
 * Normalizes one image held in memory (the `exif-fix -` pipe).
 *
 * @param bytes - the whole input file.
 * @param options - see {@link FileOptions}.
 * @returns the output bytes (the input itself when already upright) and the result, or
 *   `data: null` with `result.action === 'failed'`.
 * @throws {ExifFixError} code `'usage'` for invalid options only.
 */
export async function normalizeBuffer(bytes: Uint8Array, options: FileOptions = {}): Promise<{ data: Uint8Array | null; result: FileResult }> {
  const resolved = resolveFileOptions(options);
  const started = performance.now();
  const job = await runJob(bytes, resolved);
  const action: Action = job.outcome === 'upright' ? 'copied' : job.outcome === 'unknown' ? 'failed' : job.outcome;
  const data = action === 'failed' ? null : action === 'copied' ? bytes : job.data;
  const after = data ? { width: job.outWidth, height: job.outHeight, bytes: data.length } : null;
  const result = fileResult('-', data ? '-' : null, job, bytes.length, action, after, job.error, performance.now() - started);
  return { data, result: job.error ? { ...result, error: `\`-\` (stdin): ${job.error.reason}` } : result };
}

/**
 * Normalizes one file: reads every orientation place, bakes the orientation into the pixels
 * (or copies an upright file byte for byte) and writes `output` atomically with orientation 1
 * everywhere and all other metadata kept. When `output` is `input`, an upright file is left
 * untouched and a rewritten one keeps its mode and mtime.
 *
 * Never throws for a bad file: the result has `action: 'failed'`, `code`, and `error` naming the
 * file and the reason, and nothing is written for it.
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
  const resolved = resolveFileOptions(options);
  const settings: Settings = { ...resolved, mode: 'run', cwd: process.cwd(), concurrency: 1, skipExisting: false, followSymlinks: true };
  return processFile({ source: input, target: output, relative: path.basename(input), walked: false }, settings);
}

/** What {@link readOrientation} finds in a file. */
export interface OrientationReading {
  readonly format: ImageFormat;
  /** Stored size in pixels (0 for formats without orientation, GIF and BMP). */
  readonly width: number;
  readonly height: number;
  /** The orientation a viewer would apply. */
  readonly orientation: Orientation;
  readonly source: OrientationSource | null;
  readonly places: readonly OrientationPlace[];
  /** Whether some place says something other than 1. */
  readonly needsRewrite: boolean;
  readonly warnings: readonly string[];
}

/**
 * Reads where a file's orientation lives and what it says, from the headers only (no pixel
 * decoding).
 *
 * @param bytes - the whole file.
 * @returns the reading, or `null` when the bytes are not a recognised image.
 * @throws {ExifFixError} with the reader's code (`'corrupt'`, `'unsupported'`, `'empty'`) and a
 *   reason without a file name.
 * @example
 * const reading = readOrientation(await fs.readFile('IMG_0001.jpg'));
 * // { format: 'jpeg', orientation: 6, source: 'exif', places: [{ source: 'exif', value: 6 }], ... }
 */
export function readOrientation(bytes: Uint8Array): OrientationReading | null {
  const planned = planJob(bytes, { limitInputPixels: 0, lossless: 'auto', headerOnly: false });
  if ('outcome' in planned) {
    if (planned.outcome === 'unknown') return null;
    if (planned.outcome === 'upright' && planned.format) {
      return { format: planned.format, width: 0, height: 0, orientation: 1, source: null, places: [], needsRewrite: false, warnings: [] };
    }
    throw new ExifFixError(planned.error?.reason ?? 'unreadable', planned.error?.code ?? 'corrupt');
  }
  const { info, decision } = planned;
  return {
    format: info.format,
    width: info.width,
    height: info.height,
    orientation: decideOrientation(info.places).orientation,
    source: decision.source,
    places: info.places,
    needsRewrite: decideOrientation(info.places).needsRewrite,
    warnings: decision.warnings,
  };
}

/**
 * Counts the label step's records.
 *
 * @param records - one per image (`transformAnnotations`).
 * @returns the counts for the summary.
 */
export function countLabels(records: readonly AnnotationRecord[]): LabelCounts {
  let labelled = 0;
  let filesChanged = 0;
  let shapes = 0;
  let failed = 0;
  for (const r of records) {
    if (r.files.length > 0) labelled++;
    filesChanged += r.files.filter((f) => f.changed).length;
    for (const f of r.files) shapes += f.shapes;
    if (r.error) failed++;
  }
  return { images: records.length, labelled, filesChanged, shapes, failed };
}
