/**
 * The NDJSON reporter (`--json` on stdout, `--report <file>`): one `file` record per result, one
 * `annotations` record per image with labels, and a `summary` record last. Field names are
 * stable (README, "JSON records").
 */
import type { AnnotationRecord } from '../annotations/index.js';
import { toJsonRecord } from '../report.js';
import type { FileResult } from '../report.js';
import type { OutStream, ReportMode, Reporter, RunEnd } from './types.js';

/**
 * A reporter writing NDJSON to `stream`.
 *
 * @param stream - stdout, or the `--report` file.
 * @param mode - the run's kind (`dryRun` in records for `check` and `dry-run`).
 */
export function ndjsonReporter(stream: OutStream, mode: ReportMode): Reporter {
  const write = (record: unknown) => stream.write(`${JSON.stringify(record)}\n`);
  return {
    file(r: FileResult) {
      write(toJsonRecord(r, mode !== 'run'));
    },
    labels(record: AnnotationRecord) {
      write({ type: 'annotations', ...record });
    },
    end(end: RunEnd) {
      const { summary, labels, exitCode } = end;
      write({ type: 'summary', ...summary, elapsedMs: Math.round(summary.elapsedMs), ...(labels ? { annotations: labels } : {}), ...(end.signal ? { interrupted: end.signal } : {}), exitCode });
    },
  };
}
