/**
 * What every reporter (human, github, ndjson) receives during a run. Reporters only print; the
 * counts, summary lines and fix command come from the library (`report.ts`).
 */
import type { AnnotationRecord } from '../annotations/index.js';
import type { LabelCounts, Summary, Tally } from '../report.js';
import type { FileResult } from '../report.js';

/** The kind of run being reported. */
export type ReportMode = 'run' | 'dry-run' | 'check';

/** The end of a run, as every reporter sees it. */
export interface RunEnd {
  readonly summary: Summary;
  readonly tally: Tally;
  readonly labels?: LabelCounts;
  /** The exit code the run ends with. */
  readonly exitCode: number;
  /** The fix command (`--check`). */
  readonly fix: string;
  /** The signal that stopped the run, if any. */
  readonly signal?: NodeJS.Signals;
}

/** A reporter: called for the plan, each result in order, each label record, and the end. */
export interface Reporter {
  /** The plan is known. @param total - files in it. */
  plan?(total: number): void;
  /** One file's result, in sorted order. */
  file(result: FileResult): void;
  /** One image's label record (`--annotations`). */
  labels?(record: AnnotationRecord): void;
  /** The run ended (also after an interruption). */
  end(end: RunEnd): void | Promise<void>;
}

/** A writable stream with the TTY facts reporters look at. */
export type OutStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
