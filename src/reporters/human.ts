/**
 * The human reporter (default): results on stdout, one line per file that changed (or would);
 * diagnostics on stderr: the progress bar on an interactive terminal, warnings grouped by message
 * with a count, failures and the summary. On a terminal the per-file lines appear only with
 * `--verbose`; `--quiet` keeps only failures, the summary and `--check`'s list of files to fix.
 */
import type { AnnotationRecord } from '../annotations/index.js';
import { formatCheckSummary, formatSummary, plural } from '../report.js';
import type { FileResult } from '../report.js';
import { canDrawProgress, Progress } from './progress.js';
import type { OutStream, ReportMode, Reporter, RunEnd } from './types.js';

/** Options of {@link humanReporter}. */
export interface HumanOptions {
  readonly mode: ReportMode;
  /** Print only failures, the summary and `--check`'s list. @default false */
  readonly quiet?: boolean;
  /** Print every file's line and every warning as it comes, also on a terminal. @default false */
  readonly verbose?: boolean;
  /** The environment, for `TERM` and `CI`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The stdout line for one result, or `undefined` when the result is worth no line.
 *
 * @param r - the result.
 * @param mode - the run's kind: `dry-run` lines speak in the future tense.
 */
export function describeResult(r: FileResult, mode: ReportMode): string | undefined {
  if (mode === 'check') return r.action === 'needs-fix' ? `${r.input}: orientation ${r.places.map((p) => `${p.value} (${p.source})`).join(', ')}` : undefined;
  const would = mode === 'dry-run';
  const where = r.source ? ` (${r.source})` : '';
  if (r.action === 'rotated') {
    return `${would ? 'would rotate' : 'rotated'} ${r.input} -> ${r.output}: orientation ${r.orientation}${where}, ${r.transform}, ${r.method === 'lossless' ? 'lossless' : 're-encoded'}`;
  }
  if (r.action === 'converted') return `${would ? 'would convert' : 'converted'} ${r.input} -> ${r.output}: orientation ${r.orientation}${where}, ${r.transform}, ${r.format} to ${r.methodReason?.match(/to (\w+)/)?.[1] ?? 'another format'}`;
  if (r.action === 'metadata') return `${would ? 'would fix' : 'fixed'} metadata ${r.input} -> ${r.output}: orientation places set to 1`;
  if (would && r.action === 'copied') return `would copy ${r.input} -> ${r.output}`;
  return undefined;
}

/**
 * A reporter for people.
 *
 * @param stdout - where results go.
 * @param stderr - where the bar, warnings and the summary go.
 * @param options - see {@link HumanOptions}.
 */
export function humanReporter(stdout: OutStream, stderr: OutStream, options: HumanOptions): Reporter {
  const { mode, quiet = false, verbose = false } = options;
  const progress = !quiet && canDrawProgress(stderr, options.env) ? new Progress(stderr) : undefined;
  // On a terminal, per-file lines are shown only with --verbose; piped, they are the output.
  const listFiles = !quiet && (verbose || !stdout.isTTY);
  const out = (line: string) => (progress && stdout.isTTY ? progress.log(line) : stdout.write(`${line}\n`));
  const err = (line: string) => (progress ? progress.log(line) : stderr.write(`${line}\n`));
  const warnings = new Map<string, { first: string; count: number }>();
  const labelFailures: string[] = [];
  return {
    plan(total) {
      progress?.start(total);
    },
    file(r) {
      progress?.tick();
      const line = describeResult(r, mode);
      if (line && (listFiles || (mode === 'check' && r.action === 'needs-fix'))) out(line);
      if (quiet) return;
      for (const w of r.warnings) {
        if (verbose) err(`warning: \`${r.input}\`: ${w}`);
        const seen = warnings.get(w);
        if (seen) seen.count++;
        else warnings.set(w, { first: r.input, count: 1 });
      }
    },
    labels(record: AnnotationRecord) {
      if (record.error) labelFailures.push(`  failed labels: \`${record.image}\`: ${record.error}`);
      const changed = record.files.filter((f) => f.changed);
      if (listFiles && changed.length > 0) {
        out(`labels ${record.transformed ? 'transformed' : 'updated'} for ${record.image}: ${changed.map((f) => `${f.output} (${plural(f.shapes, 'shape')})`).join(', ')}`);
      }
      if (!quiet && verbose) for (const w of record.warnings) err(`warning: labels of \`${record.image}\`: ${w}`);
    },
    end(end: RunEnd) {
      progress?.stop();
      const lines: string[] = [];
      if (end.signal) lines.push(`exif-fix: interrupted by ${end.signal}; stopped scheduling new files`);
      if (!verbose) {
        for (const [w, { first, count }] of warnings) lines.push(count === 1 ? `warning: \`${first}\`: ${w}` : `warning: ${w} (${count} files, e.g. \`${first}\`)`);
      }
      const failures = end.tally.failures;
      lines.push(...(mode === 'check' ? formatCheckSummary(end.summary, failures, end.fix) : formatSummary(end.summary, failures, mode === 'dry-run')));
      const l = end.labels;
      if (l) {
        lines.push(`exif-fix: labels found for ${l.labelled} of ${plural(l.images, 'image')}; ${plural(l.filesChanged, 'label file')} changed (${plural(l.shapes, 'shape')}); ${l.failed} failed`);
        lines.push(...labelFailures);
      }
      stderr.write(`${lines.join('\n')}\n`);
    },
  };
}
