/**
 * The command line: flags -> options, results -> stdout/stderr, exit code. No logic lives here
 * that the library does not offer; the heavy modules (sharp) load only when there is work.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { ExifFixError } from './errors.js';
import type { FileResult } from './report.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min) throw new InvalidArgumentError(`Expected integer of at least ${min} for ${name} but received ${value}`);
    return n;
  };
}

/** Options as commander parses them. */
interface CliOptions {
  out?: string;
  inPlace?: boolean;
  concurrency: number;
  limitInputPixels: number;
  quiet?: boolean;
}

function describe(r: FileResult): string {
  const where = r.source ? ` (${r.source})` : '';
  if (r.action === 'rotated') return `rotated ${r.input} -> ${r.output}: orientation ${r.orientation}${where}, ${r.transform}, ${r.method}`;
  if (r.action === 'metadata') return `fixed metadata ${r.input} -> ${r.output}: orientation places set to 1`;
  return `${r.action} ${r.input}`;
}

/**
 * Runs the CLI.
 *
 * @param argv - `process.argv`-shaped arguments (node, script, ...args).
 * @param io - streams to write to (default: the process's), for tests.
 * @returns the exit code: 0 all fine, 1 a file failed, 2 usage error.
 */
export async function run(
  argv: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  const program = new Command();
  program
    .name('exif-fix')
    .description('Bake the EXIF orientation into the pixels and write orientation 1, losing nothing else.')
    .version(pkg.version)
    .argument('<paths...>', 'image files, directories (walked recursively) or glob patterns')
    .option('-o, --out <dir>', 'write outputs under <dir>, mirroring each input tree')
    .option('--in-place', 'rewrite inputs atomically, keeping mode and mtime')
    .option('-c, --concurrency <n>', 'files processed at once', integer('--concurrency', 1), os.availableParallelism())
    .option('--limit-input-pixels <n>', 'refuse images whose header declares more pixels (0: no limit)', integer('--limit-input-pixels', 0), 0x3fff * 0x3fff)
    .option('-q, --quiet', 'print only failures and the summary')
    .addHelpText('after', '\nExit codes: 0 all fine, 1 a file failed, 2 usage error.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  try {
    program.parse(argv as string[]);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const options = program.opts<CliOptions>();
  const paths = program.args;
  if (!options.out && !options.inPlace) {
    io.stderr.write('exif-fix: expected --out <dir> or --in-place (see --help)\n');
    return 2;
  }
  const { normalize, summarize, formatSummary, exitCode } = await import('./index.js');
  const started = performance.now();
  try {
    const results = await normalize(paths, {
      out: options.out,
      inPlace: options.inPlace,
      concurrency: options.concurrency,
      limitInputPixels: options.limitInputPixels,
      onResult: (r) => {
        if (!options.quiet && (r.action === 'rotated' || r.action === 'metadata')) io.stdout.write(`${describe(r)}\n`);
        for (const w of r.warnings) io.stderr.write(`warning: \`${r.input}\`: ${w}\n`);
      },
    });
    const summary = summarize(results, performance.now() - started);
    io.stderr.write(`${formatSummary(summary, results).join('\n')}\n`);
    return exitCode(summary);
  } catch (error) {
    if (error instanceof ExifFixError) {
      io.stderr.write(`exif-fix: ${error.message}\n`);
      return error.code === 'usage' ? 2 : 1;
    }
    io.stderr.write(`exif-fix: unexpected error (a bug, please report it):\n${(error as Error).stack ?? String(error)}\n`);
    return 2;
  }
}
