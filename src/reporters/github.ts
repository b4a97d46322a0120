/**
 * The GitHub Actions reporter (`--reporter github`): workflow commands that annotate each file
 * (https://docs.github.com/actions/reference/workflow-commands): `::error` for a file that is not
 * upright or failed, one `::warning` per distinct warning with its count, and the summary on stderr.
 */
import { formatCheckSummary, formatSummary } from '../report.js';
import type { FileResult } from '../report.js';
import type { OutStream, ReportMode, Reporter, RunEnd } from './types.js';

const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const prop = (s: string) => esc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * A reporter writing workflow commands to `stdout` and the summary to `stderr`.
 *
 * @param stdout - where the workflow commands go.
 * @param stderr - where the summary goes.
 * @param mode - the run's kind.
 * @param fix - the command that fixes a file (`fixCommand`), named in its `::error`.
 */
export function githubReporter(stdout: OutStream, stderr: OutStream, mode: ReportMode, fix: (r: FileResult) => string): Reporter {
  const warnings = new Map<string, { first: string; count: number }>();
  return {
    file(r: FileResult) {
      if (r.action === 'needs-fix') {
        const what = r.places.filter((p) => p.value !== 1).map((p) => `${p.value} in ${p.source}`).join(', ');
        stdout.write(`::error file=${prop(r.input)},title=${prop('exif-fix: not upright')}::${esc(`orientation ${what}; fix with: ${fix(r)}`)}\n`);
      } else if (r.action === 'failed') {
        stdout.write(`::error file=${prop(r.input)},title=${prop(`exif-fix: failed (${r.code ?? 'error'})`)}::${esc(r.error ?? 'failed')}\n`);
      }
      for (const w of r.warnings) {
        const seen = warnings.get(w);
        if (seen) seen.count++;
        else warnings.set(w, { first: r.input, count: 1 });
      }
    },
    end(end: RunEnd) {
      for (const [w, { first, count }] of warnings) {
        stdout.write(`::warning file=${prop(first)},title=exif-fix::${esc(count > 1 ? `${w} (and ${count - 1} more files)` : w)}\n`);
      }
      const lines = mode === 'check' ? formatCheckSummary(end.summary, [], end.fix) : formatSummary(end.summary, [], mode === 'dry-run');
      stderr.write(`${lines.join('\n')}\n`);
    },
  };
}
