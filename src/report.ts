/**
 * Per-file results, the run's summary and exit codes.
 */
import type { ImageFormat, OrientationPlace, OrientationSource } from './containers/types.js';
import type { Orientation, Transform } from './orientation.js';

/**
 * What happened to one file:
 * - `rotated`: the orientation was baked into the pixels and 1 written everywhere;
 * - `metadata`: pixels already upright, but some place said otherwise (an invalid value or a
 *   losing disagreement) and was rewritten to 1;
 * - `copied`: already upright, copied byte-identical to the output;
 * - `unchanged`: already upright and written in place, so left untouched;
 * - `skipped`: not an image (found by walking a directory, without an image extension);
 * - `existing`: skipped because its output exists and is not older (`--skip-existing`);
 * - `needs-fix`: `--check` only: some orientation place says other than 1;
 * - `failed`: see `error`.
 *
 * With `--dry-run`, the action is what would happen; nothing is written.
 */
export type Action = 'rotated' | 'metadata' | 'copied' | 'unchanged' | 'skipped' | 'existing' | 'needs-fix' | 'failed';

/** How new pixels were produced: `lossless` (DCT-domain JPEG transform) or `reencode` (sharp). */
export type PixelMethod = 'lossless' | 'reencode';

/** The result of normalizing one file. */
export interface FileResult {
  /** The input path as discovered. */
  readonly input: string;
  /** The output path (equal to `input` in place). */
  readonly output: string;
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
  /** The error message (naming the file), or `null`. */
  readonly error: string | null;
  /** Time spent on this file in milliseconds. */
  readonly elapsedMs: number;
}

/** Counts of a run. */
export interface Summary {
  readonly total: number;
  readonly rotated: number;
  /** Rewritten metadata only. */
  readonly metadata: number;
  /** Copied or left untouched because already upright. */
  readonly upright: number;
  /** Not images, found by walking. */
  readonly skipped: number;
  /** Outputs that already existed (`--skip-existing`). */
  readonly existing: number;
  /** `--check`: files whose orientation is not 1. */
  readonly needsFix: number;
  readonly failed: number;
  /** Wall-clock time of the run in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Counts results by action.
 *
 * @param results - every file's result.
 * @param elapsedMs - the run's wall-clock time in milliseconds.
 */
export function summarize(results: readonly FileResult[], elapsedMs: number): Summary {
  const count = (...actions: Action[]) => results.filter((r) => actions.includes(r.action)).length;
  return {
    total: results.length,
    rotated: count('rotated'),
    metadata: count('metadata'),
    upright: count('copied', 'unchanged'),
    skipped: count('skipped'),
    existing: count('existing'),
    needsFix: count('needs-fix'),
    failed: count('failed'),
    elapsedMs,
  };
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
 * @returns 1 when any file failed or needs fixing, else 0.
 */
export function exitCode(summary: Summary): number {
  return summary.failed > 0 || summary.needsFix > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * The human summary printed on stderr at the end of a run.
 *
 * @param summary - the run's counts.
 * @param results - the results, for one line per failure.
 * @returns lines without trailing newlines.
 */
export function formatSummary(summary: Summary, results: readonly FileResult[]): string[] {
  const seconds = (summary.elapsedMs / 1000).toFixed(2);
  const parts = [`${summary.rotated} rotated`, `${summary.upright} already upright`];
  if (summary.metadata) parts.push(`${summary.metadata} metadata fixed`);
  if (summary.skipped) parts.push(`${summary.skipped} not images (skipped)`);
  if (summary.existing) parts.push(`${summary.existing} skipped (output exists)`);
  parts.push(`${summary.failed} failed`);
  const lines = [`exif-fix: ${parts.join(', ')} in ${seconds}s`];
  for (const r of results) if (r.action === 'failed') lines.push(`  failed: ${r.error}`);
  return lines;
}

/**
 * One NDJSON line of `--json`/`--report` for a file. Field names are stable; see the README's
 * schema section.
 */
export interface JsonFileRecord {
  readonly type: 'file';
  readonly input: string;
  readonly output: string;
  readonly format: ImageFormat | null;
  readonly orientation: Orientation;
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
    orientation: r.orientation,
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
    error: r.error,
    elapsedMs: Math.round(r.elapsedMs * 1000) / 1000,
  };
}
