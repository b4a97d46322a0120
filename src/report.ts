/**
 * Per-file results, the run's summary and exit codes.
 */
import type { ImageFormat } from './containers/types.js';
import type { ExifFixErrorCode } from './errors.js';
import type { Orientation, OrientationPlace, OrientationSource, Transform } from './orientation.js';
import type { PixelMethod } from './pixels/index.js';

/**
 * What happened to one file:
 * - `rotated`: the orientation was baked into the pixels and 1 written everywhere;
 * - `converted`: a HEIF/AVIF written upright in another format (`--to`), under the new extension;
 * - `metadata`: pixels already upright, but some place said otherwise (an invalid value or a
 *   losing disagreement) and was rewritten to 1;
 * - `copied`: already upright, copied byte-identical to the output;
 * - `unchanged`: already upright and written in place, so left untouched;
 * - `mirrored`: not an image, copied byte for byte into `--out` (`--copy-other-files`);
 * - `skipped`: not an image (found by walking a directory, without an image extension);
 * - `existing`: skipped because its output exists and is not older (`--skip-existing`);
 * - `needs-fix`: `--check` only: some orientation place says other than 1;
 * - `failed`: see `error`.
 *
 * With `--dry-run`, the action is what would happen; nothing is written.
 */
export type Action = 'rotated' | 'converted' | 'metadata' | 'copied' | 'unchanged' | 'mirrored' | 'skipped' | 'existing' | 'needs-fix' | 'failed';

/** The result of normalizing one file. */
export interface FileResult {
  /** The input path as discovered. */
  readonly input: string;
  /** The output path (equal to `input` in place), or `null` when nothing is (or would be) written for the file. */
  readonly output: string | null;
  /** The container, or `null` when it was not recognised. */
  readonly format: ImageFormat | null;
  /** The orientation applied (1 when upright or unknown). */
  readonly orientation: Orientation;
  /** Where that orientation was found, or `null`. */
  readonly source: OrientationSource | null;
  /** Every orientation place in the file with its raw value. */
  readonly places: readonly OrientationPlace[];
  readonly action: Action;
  /** The geometric transform applied to the pixels. */
  readonly transform: Transform;
  /** How pixels were produced, or `null` when they were not touched. */
  readonly method: PixelMethod | null;
  /** Why that method was chosen (e.g. why the lossless path was not taken), or `null`. */
  readonly methodReason: string | null;
  /** Stored size in pixels before, or `null` when unknown. */
  readonly before: { readonly width: number; readonly height: number; readonly bytes: number } | null;
  /** Size in pixels and bytes of the output, or `null` when nothing was written. */
  readonly after: { readonly width: number; readonly height: number; readonly bytes: number } | null;
  /** Warnings, without the file name. */
  readonly warnings: readonly string[];
  /** Why the file failed, as a stable code (see `ExifFixErrorCode` and the README), or `null`. */
  readonly code: ExifFixErrorCode | null;
  /** The error message (naming the file in backticks), or `null`. */
  readonly error: string | null;
  /** Time spent on this file in milliseconds. */
  readonly elapsedMs: number;
}

/** Counts of a run. */
export interface Summary {
  readonly total: number;
  readonly rotated: number;
  /** HEIF/AVIF written in another format (`--to`). */
  readonly converted: number;
  /** Rewritten metadata only. */
  readonly metadata: number;
  /** Copied or left untouched because already upright. */
  readonly upright: number;
  /** Not images, found by walking. */
  readonly skipped: number;
  /** Not images, copied into `--out` (`--copy-other-files`). */
  readonly mirrored: number;
  /** Outputs that already existed (`--skip-existing`). */
  readonly existing: number;
  /** `--check`: files whose orientation is not 1. */
  readonly needsFix: number;
  readonly failed: number;
  /** Of `rotated`: how many went the lossless way, and how many were re-encoded. */
  readonly lossless: number;
  readonly reencoded: number;
  /** Symbolic links found by walking and not followed (`followSymlinks` off). */
  readonly skippedSymlinks: number;
  /** Wall-clock time of the run in milliseconds. */
  readonly elapsedMs: number;
}

/** Counts of the label step (`--annotations`). */
export interface LabelCounts {
  /** Images whose labels were looked for. */
  readonly images: number;
  /** Images that had label files. */
  readonly labelled: number;
  /** Label files written with changes. */
  readonly filesChanged: number;
  /** Shapes transformed or carried. */
  readonly shapes: number;
  /** Images whose labels failed. */
  readonly failed: number;
}

/**
 * Counts a run's results as they arrive, keeping only what the summary needs (failures), so
 * memory stays flat over huge runs.
 */
export class Tally {
  private readonly counts = { total: 0, rotated: 0, converted: 0, metadata: 0, mirrored: 0, upright: 0, skipped: 0, existing: 0, needsFix: 0, failed: 0 };
  private readonly methods = { lossless: 0, reencode: 0 };
  /** The failed results, in order. */
  readonly failures: FileResult[] = [];
  /** Label counts, once the label step ran. */
  labels?: LabelCounts;
  /** Symbolic links found by walking and not followed (set once the plan is known). */
  skippedSymlinks = 0;
  /** Whether `--check` found a HEIC that needs new pixels, which only `--to` can give it. */
  needsConversion = false;

  /** Counts one result. @param r - the file's result. */
  add(r: FileResult): void {
    const c = this.counts;
    c.total++;
    if (r.action === 'rotated') {
      c.rotated++;
      if (r.method) this.methods[r.method]++;
    } else if (r.action === 'converted') c.converted++;
    else if (r.action === 'metadata') c.metadata++;
    else if (r.action === 'copied' || r.action === 'unchanged') c.upright++;
    else if (r.action === 'skipped') c.skipped++;
    else if (r.action === 'mirrored') c.mirrored++;
    else if (r.action === 'existing') c.existing++;
    else if (r.action === 'needs-fix') {
      c.needsFix++;
      if (r.format === 'heif') this.needsConversion = true;
    } else if (r.action === 'failed') {
      c.failed++;
      this.failures.push(r);
    }
  }

  /**
   * The counts so far.
   *
   * @param elapsedMs - the run's wall-clock time in milliseconds.
   */
  summary(elapsedMs: number): Summary {
    return { ...this.counts, lossless: this.methods.lossless, reencoded: this.methods.reencode, skippedSymlinks: this.skippedSymlinks, elapsedMs };
  }
}

/**
 * Counts results by action.
 *
 * @param results - every file's result.
 * @param elapsedMs - the run's wall-clock time in milliseconds.
 */
export function summarize(results: readonly FileResult[], elapsedMs: number): Summary {
  const tally = new Tally();
  for (const r of results) tally.add(r);
  return tally.summary(elapsedMs);
}

/**
 * Exit codes, as in the README: 0 all fine, 1 a file failed (or, with `--check`, needs fixing),
 * 2 usage error, 130/143 interrupted by SIGINT/SIGTERM.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/**
 * The exit code of a run.
 *
 * @param summary - the run's counts.
 * @param labels - the label step's counts, if it ran.
 * @returns 1 when any file or label failed or needs fixing, else 0.
 */
export function exitCode(summary: Summary, labels?: LabelCounts): number {
  return summary.failed > 0 || summary.needsFix > 0 || (labels?.failed ?? 0) > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * `count noun`, pluralised the English way: `1 image`, `2 images`, `1 label file`.
 *
 * @param count - how many.
 * @param noun - the singular.
 * @param plural - the plural, when not `noun + 's'`.
 */
export function plural(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/**
 * The human summary printed on stderr at the end of a run or dry run: one line of counts
 * (future tense in a dry run, with how many pixels went lossless and re-encoded), then one line
 * per failure.
 *
 * @param summary - the run's counts.
 * @param failures - the failed results.
 * @param dryRun - whether nothing was written. @default false
 * @returns lines without trailing newlines.
 */
export function formatSummary(summary: Summary, failures: readonly FileResult[], dryRun = false): string[] {
  const seconds = (summary.elapsedMs / 1000).toFixed(2);
  const images = summary.total - summary.skipped - summary.mirrored;
  if (images === 0 && summary.failed === 0) {
    const links = summary.skippedSymlinks ? `; ${plural(summary.skippedSymlinks, 'symbolic link')} skipped (use --follow-symlinks)` : '';
    return [`exif-fix: no images found${summary.skipped ? ` (${plural(summary.skipped, 'other file')} skipped)` : ''}${links}`];
  }
  const how = summary.rotated > 0 ? `; pixels: ${[summary.lossless ? `${summary.lossless} lossless` : '', summary.reencoded ? `${summary.reencoded} re-encoded` : ''].filter(Boolean).join(', ')}` : '';
  const parts = dryRun ? [`would rotate ${summary.rotated}`, `would leave ${summary.upright} already upright`] : [`${summary.rotated} rotated`, `${summary.upright} already upright`];
  if (summary.converted) parts.push(dryRun ? `would convert ${summary.converted}` : `${summary.converted} converted`);
  if (summary.metadata) parts.push(dryRun ? `would fix the metadata of ${summary.metadata}` : `${summary.metadata} metadata fixed`);
  if (summary.existing) parts.push(`${summary.existing} skipped (output exists)`);
  if (summary.skipped) parts.push(`${plural(summary.skipped, 'non-image')} skipped`);
  if (summary.mirrored) parts.push(dryRun ? `would copy ${plural(summary.mirrored, 'other file')}` : `${plural(summary.mirrored, 'other file')} copied`);
  parts.push(dryRun ? `${summary.failed} would fail` : `${summary.failed} failed`);
  if (summary.skippedSymlinks) parts.push(`${plural(summary.skippedSymlinks, 'symbolic link')} skipped (use --follow-symlinks)`);
  const lines = [`exif-fix: ${dryRun ? 'dry run, nothing written: ' : ''}${parts.join(', ')} in ${seconds}s (${plural(images, 'image')}${how})`];
  for (const r of failures) lines.push(`  failed: ${r.error}`);
  return lines;
}

/**
 * The human summary of `--check`, on stderr: whether every checked image is upright, else how many
 * are not and the command that fixes them; then failures.
 *
 * @param summary - the run's counts.
 * @param failures - the failed results.
 * @param fix - the command that fixes the listed files (see {@link fixCommand}).
 * @returns lines without trailing newlines.
 */
export function formatCheckSummary(summary: Summary, failures: readonly FileResult[], fix: string): string[] {
  const seconds = (summary.elapsedMs / 1000).toFixed(2);
  const read = summary.total - summary.skipped - summary.failed;
  const lines: string[] = [];
  if (read === 0 && summary.failed === 0) lines.push(`exif-fix: no images found${summary.skippedSymlinks ? `; ${plural(summary.skippedSymlinks, 'symbolic link')} skipped (use --follow-symlinks)` : ''}`);
  else if (summary.needsFix === 0) lines.push(`exif-fix: ${read === 1 ? 'the 1 image is' : `all ${read} images are`} upright (checked in ${seconds}s)`);
  else {
    const verb = summary.needsFix === 1 ? 'is' : 'are';
    lines.push(`exif-fix: ${summary.needsFix} of ${plural(read, 'image')} ${verb} not upright (checked in ${seconds}s). Fix ${summary.needsFix === 1 ? 'it' : 'them'} with:`, `  ${fix}`);
  }
  if (summary.skippedSymlinks && read > 0) lines.push(`exif-fix: ${plural(summary.skippedSymlinks, 'symbolic link')} skipped (use --follow-symlinks)`);
  if (summary.failed) lines.push(`exif-fix: ${plural(summary.failed, 'file')} could not be checked:`);
  for (const r of failures) lines.push(`  failed: ${r.error}`);
  return lines;
}

/** What scopes a run, for {@link fixCommand}: the inputs and every option that chose them. */
export interface FixScope {
  /** The paths given. */
  readonly paths: readonly string[];
  /** `--files-from <file>` (`-` for stdin). */
  readonly filesFrom?: string;
  /** `-0`: the list is NUL-separated. */
  readonly nul?: boolean;
  readonly followSymlinks?: boolean;
  readonly errorOnUnmatchedPattern?: boolean;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly ignore?: readonly string[];
  readonly limitInputPixels?: number;
  readonly lossless?: string;
  readonly failOn?: string;
  /** `--to <format>`: needed in the command when a HEIC must get new pixels. */
  readonly to?: string;
}

/**
 * Quotes a word for a POSIX shell, leaving plain words as they are.
 *
 * @param word - any string.
 * @returns the word, or it in single quotes with embedded quotes escaped.
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that fixes what `--check` found, in place: every option that scopes the run kept,
 * paths quoted, and `--` before the paths when one starts with `-`. With `--files-from -` the list
 * came from a pipe, so the command says to run the same pipe with `--in-place`.
 *
 * @param scope - see {@link FixScope}.
 * @returns one shell command line.
 */
export function fixCommand(scope: FixScope): string {
  const flags: string[] = [];
  if (scope.filesFrom !== undefined) flags.push('--files-from', shellQuote(scope.filesFrom));
  if (scope.nul) flags.push('-0');
  if (scope.followSymlinks) flags.push('--follow-symlinks');
  if (scope.errorOnUnmatchedPattern === false) flags.push('--no-error-on-unmatched-pattern');
  if (scope.shard) flags.push('--shard', `${scope.shard.index}/${scope.shard.count}`);
  for (const g of scope.ignore ?? []) flags.push('--ignore', shellQuote(g));
  if (scope.limitInputPixels !== undefined) flags.push('--limit-input-pixels', String(scope.limitInputPixels));
  if (scope.lossless && scope.lossless !== 'auto') flags.push('--lossless', scope.lossless);
  if (scope.failOn && scope.failOn !== 'warning') flags.push('--fail-on', scope.failOn);
  if (scope.to) flags.push('--to', scope.to);
  const paths = scope.paths.map(shellQuote);
  const dashDash = scope.paths.some((p) => p.startsWith('-')) ? ['--'] : [];
  // `--in-place` goes last, as a user types it, unless `--` ends the options before the paths.
  const command = (dashDash.length ? ['exif-fix', '--in-place', ...flags, ...dashDash, ...paths] : ['exif-fix', ...flags, ...paths, '--in-place']).join(' ');
  return scope.filesFrom === '-' ? `the same pipe into: ${command}` : command;
}

/**
 * One NDJSON line of `--json`/`--report` for a file. Field names are stable; see the README's
 * schema section.
 */
export interface JsonFileRecord {
  readonly type: 'file';
  readonly input: string;
  /** `null` when nothing was (or would be) written. */
  readonly output: string | null;
  readonly format: ImageFormat | null;
  /** The orientation applied (or that would be), or `null` for a file that failed before its header was read. */
  readonly orientation: Orientation | null;
  /** Where the orientation was found: `exif`, `xmp`, `exif-raw-profile`, `tiff`, `irot-imir`, or `null`. */
  readonly orientationSource: OrientationSource | null;
  /** Every orientation place with its raw value. */
  readonly places: readonly OrientationPlace[];
  readonly action: Action;
  readonly transform: Transform;
  /** Stored size in pixels. */
  readonly widthBefore: number | null;
  readonly heightBefore: number | null;
  /** Output size in pixels. */
  readonly widthAfter: number | null;
  readonly heightAfter: number | null;
  /** File sizes in bytes (`bytesAfter` is 0 in a dry run for files that would be re-encoded). */
  readonly bytesBefore: number | null;
  readonly bytesAfter: number | null;
  /** `lossless` (DCT-domain JPEG transform), `reencode`, or `null` when pixels were not touched. */
  readonly pixels: PixelMethod | null;
  /** Why that pixel path was taken. */
  readonly pixelsReason: string | null;
  readonly dryRun: boolean;
  readonly warnings: readonly string[];
  /** The failure's stable code (README, "Failure codes"), or `null`. */
  readonly code: ExifFixErrorCode | null;
  readonly error: string | null;
  /** Milliseconds spent on the file. */
  readonly elapsedMs: number;
}

/** The last NDJSON line of `--json`/`--report`. */
export interface JsonSummaryRecord extends Summary {
  readonly type: 'summary';
  readonly exitCode: number;
}

/**
 * The NDJSON record of one result.
 *
 * @param r - the result.
 * @param dryRun - whether the run wrote nothing.
 */
export function toJsonRecord(r: FileResult, dryRun = false): JsonFileRecord {
  return {
    type: 'file',
    input: r.input,
    output: r.output,
    format: r.format,
    orientation: r.action === 'failed' && r.format === null ? null : r.orientation,
    orientationSource: r.source,
    places: r.places,
    action: r.action,
    transform: r.transform,
    widthBefore: r.before?.width ?? null,
    heightBefore: r.before?.height ?? null,
    widthAfter: r.after?.width ?? null,
    heightAfter: r.after?.height ?? null,
    bytesBefore: r.before?.bytes ?? null,
    bytesAfter: r.after?.bytes ?? null,
    pixels: r.method,
    pixelsReason: r.methodReason,
    dryRun,
    warnings: r.warnings,
    code: r.code,
    error: r.error,
    elapsedMs: Math.round(r.elapsedMs * 1000) / 1000,
  };
}
