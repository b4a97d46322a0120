/**
 * The command line: flags -> options, results -> stdout (results) and stderr (diagnostics,
 * progress, summary), exit code. No logic lives here that the library does not offer; the heavy
 * modules (sharp) load only when there is work, so `--version` and `--help` stay fast.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExifFixError } from './errors.js';
import type { FileResult, Summary } from './report.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min) throw new InvalidArgumentError(`Expected integer of at least ${min} for ${name} but received ${value}`);
    return n;
  };
}

function shardArgument(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new InvalidArgumentError(`Expected K/N with 1 <= K <= N for --shard but received ${value}`);
  return { index, count };
}

function kptShape(value: string): [number, 2 | 3] {
  const m = /^(\d+),([23])$/.exec(value);
  if (!m || Number(m[1]) < 1) throw new InvalidArgumentError(`Expected k,d with k >= 1 and d 2 or 3 for --yolo-kpt-shape but received ${value}`);
  return [Number(m[1]), Number(m[2]) as 2 | 3];
}

/** Options as commander parses them. */
interface CliOptions {
  out?: string;
  inPlace?: boolean;
  check?: boolean;
  dryRun?: boolean;
  json?: boolean;
  report?: string;
  reporter: 'default' | 'github';
  filesFrom?: string;
  null?: boolean;
  shard?: { index: number; count: number };
  skipExisting?: boolean;
  errorOnUnmatchedPattern: boolean;
  followSymlinks?: boolean;
  lossless: 'auto' | 'always' | 'never';
  concurrency: number;
  limitInputPixels: number;
  quiet?: boolean;
  annotations?: 'yolo' | 'coco' | 'voc' | 'labelme';
  annotationsSpace?: 'stored' | 'displayed';
  coco?: string;
  cocoOut?: string;
  yoloKptShape?: [number, 2 | 3];
}

/** Streams the CLI writes to; the process's by default, replaceable in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
}

function buildProgram(io: CliIo): Command {
  return new Command()
    .name('exif-fix')
    .description('Bake the EXIF orientation into the pixels and write orientation 1, losing nothing else.')
    .version(pkg.version)
    .argument('[paths...]', 'image files, directories (walked recursively) or glob patterns; - reads one image from stdin and writes it to stdout')
    .option('-o, --out <dir>', 'write outputs under <dir>, mirroring each input tree')
    .option('--in-place', 'rewrite inputs atomically, keeping mode and mtime')
    .option('--check', 'list files whose orientation is not 1 (headers only, writes nothing); exit 1 if any')
    .option('--dry-run', 'print what would be written and how, without writing anything')
    .option('--json', 'print one JSON object per file (NDJSON) and a summary object on stdout')
    .option('--report <file>', 'also write the NDJSON records to <file>')
    .addOption(new Option('--reporter <name>', 'output style').choices(['default', 'github']).default('default'))
    .option('--files-from <file>', 'read paths from <file>, one per line (- for stdin)')
    .option('-0, --null', 'with --files-from: paths are NUL-separated (git diff -z, find -print0)')
    .option('--shard <K/N>', 'process only shard K of N (by path hash), for splitting a run across machines', shardArgument)
    .option('--skip-existing', 'skip files whose output exists and is not older than the input')
    .option('--no-error-on-unmatched-pattern', 'do not fail when a glob pattern matches nothing')
    .option('--follow-symlinks', 'follow symbolic links (with loop detection); in place, rewrite the file a link points to')
    .addOption(new Option('--lossless <mode>', 'JPEG: lossless DCT transform where perfect (auto), only lossless (always), or always re-encode (never)').choices(['auto', 'always', 'never']).default('auto'))
    .option('-c, --concurrency <n>', 'files processed at once', integer('--concurrency', 1), os.availableParallelism())
    .option('--limit-input-pixels <n>', 'refuse images whose header declares more pixels (0: no limit)', integer('--limit-input-pixels', 0), 0x3fff * 0x3fff)
    .addOption(new Option('--annotations <format>', 'transform the labels of each image with it').choices(['yolo', 'coco', 'voc', 'labelme']))
    .addOption(new Option('--annotations-space <space>', 'where the labels were drawn: on the stored pixels, or on the upright (displayed) view').choices(['stored', 'displayed']))
    .option('--coco <file>', 'with --annotations coco: the COCO JSON file to rewrite')
    .option('--coco-out <file>', 'with --annotations coco: where to write it (default: <out>/<name>, or in place)')
    .option('--yolo-kpt-shape <k,d>', 'with --annotations yolo: pose labels with k keypoints of d (2 or 3) values', kptShape)
    .option('-q, --quiet', 'print only failures and the summary; no progress bar')
    .addHelpText('after', '\nExit codes: 0 all fine, 1 a file failed (or --check found files to fix), 2 usage error, 130/143 interrupted.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Lines for one result in the human output (stdout); empty when nothing is worth a line. */
function describe(r: FileResult, mode: 'run' | 'check' | 'dry-run'): string | undefined {
  const where = r.source ? ` (${r.source})` : '';
  if (mode === 'check') return r.action === 'needs-fix' ? `${r.input}: orientation ${r.places.map((p) => `${p.value} (${p.source})`).join(', ')}` : undefined;
  const prefix = mode === 'dry-run' ? 'would ' : '';
  if (r.action === 'rotated') {
    const how = mode === 'dry-run' ? '' : `, ${r.method}`;
    return `${prefix}${mode === 'dry-run' ? 'rotate' : 'rotated'} ${r.input} -> ${r.output}: orientation ${r.orientation}${where}, ${r.transform}${how}`;
  }
  if (r.action === 'metadata') return `${prefix}${mode === 'dry-run' ? 'fix' : 'fixed'} metadata ${r.input} -> ${r.output}: orientation places set to 1`;
  if (mode === 'dry-run' && r.action === 'copied') return `would copy ${r.input} -> ${r.output}`;
  if (mode === 'dry-run' && r.action === 'failed') return `would fail ${r.input}`;
  return undefined;
}

/** GitHub Actions workflow commands (https://docs.github.com/actions/reference/workflow-commands). */
function githubLines(r: FileResult, fixCommand: string): string[] {
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string) => esc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const lines: string[] = [];
  if (r.action === 'needs-fix') {
    const what = r.places.filter((p) => p.value !== 1).map((p) => `${p.value} in ${p.source}`).join(', ');
    lines.push(`::error file=${prop(r.input)},title=${prop('exif-fix: not upright')}::${esc(`orientation ${what}; fix with: ${fixCommand}`)}`);
  } else if (r.action === 'failed') {
    lines.push(`::error file=${prop(r.input)},title=${prop('exif-fix: failed')}::${esc(r.error ?? 'failed')}`);
  }
  for (const w of r.warnings) lines.push(`::warning file=${prop(r.input)},title=exif-fix::${esc(w)}`);
  return lines;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Prints a usage error and returns exit code 2. */
function usageError(io: CliIo, message: string): number {
  io.stderr.write(`exif-fix: ${message} (see --help)\n`);
  return 2;
}

/**
 * Runs the CLI.
 *
 * @param argv - `process.argv`-shaped arguments (node, script, ...args).
 * @param io - streams (default: the process's), for tests.
 * @returns the exit code: 0 all fine, 1 a file failed or --check found files to fix, 2 usage
 *   error, 130 after SIGINT, 143 after SIGTERM.
 */
export async function run(argv: readonly string[], io: CliIo = process): Promise<number> {
  const program = buildProgram(io);
  try {
    program.parse(argv as string[]);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<CliOptions>();
  const paths = program.args;
  const usage = (message: string) => usageError(io, message);
  const pipe = paths.includes('-');
  if (pipe && paths.length > 1) return usage('- (stdin) cannot be combined with other inputs');
  if (pipe && o.filesFrom === '-') return usage('- (stdin) cannot be combined with --files-from -');
  if (o.check && o.inPlace) return usage('--check cannot be combined with --in-place');
  if (o.check && o.dryRun) return usage('--dry-run cannot be combined with --check');
  if (o.check && o.out) return usage('--check writes nothing; drop --out');
  if (o.out && o.inPlace) return usage('use either --out or --in-place, not both');
  if (o.null && !o.filesFrom) return usage('-0 goes with --files-from');
  if (pipe && (o.check || o.inPlace || o.out || o.dryRun || o.filesFrom || o.shard)) return usage('- (stdin to stdout) takes no --check, --in-place, --out, --dry-run, --files-from or --shard');
  if (!pipe && !o.check && !o.out && !o.inPlace) return usage('expected --out <dir> or --in-place');
  if (!pipe && paths.length === 0 && !o.filesFrom) return usage('expected at least one path');
  if (o.annotations && (pipe || o.check || o.dryRun)) return usage('--annotations goes with --out or --in-place, not with -, --check or --dry-run');
  if (o.annotations && !o.annotationsSpace) return usage('--annotations needs --annotations-space stored|displayed');
  if (!o.annotations && (o.annotationsSpace || o.coco || o.cocoOut || o.yoloKptShape)) return usage('--annotations-space, --coco, --coco-out and --yolo-kpt-shape go with --annotations');

  // Signals are caught from here on: the first one stops scheduling new files and lets the
  // summary print (exit 130/143); a second one ends the process at once (the default action).
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = signal;
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await main(o, paths, io, controller, () => signalled);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The work of {@link run} once the flags are known to be consistent. */
async function main(o: CliOptions, paths: string[], io: CliIo, controller: AbortController, signalled: () => NodeJS.Signals | undefined): Promise<number> {
  const usage = (message: string) => usageError(io, message);
  const lib = await import('./index.js');
  const started = performance.now();
  const annotationOptions = o.annotations
    ? {
        format: o.annotations,
        space: o.annotationsSpace as 'stored' | 'displayed',
        coco: o.coco,
        cocoOut: o.cocoOut,
        yoloKptShape: o.yoloKptShape,
        out: o.out,
        concurrency: o.concurrency,
      }
    : undefined;
  if (annotationOptions) {
    try {
      lib.validateAnnotationOptions(annotationOptions);
    } catch (error) {
      return usage((error as Error).message);
    }
  }

  if (paths.includes('-')) {
    const input = await readAll(io.stdin);
    const { data, result } = await lib.normalizeBuffer(input, { lossless: o.lossless, limitInputPixels: o.limitInputPixels });
    for (const w of result.warnings) io.stderr.write(`warning: stdin: ${w}\n`);
    if (!data) {
      io.stderr.write(`exif-fix: ${result.error}\n`);
      return 1;
    }
    io.stdout.write(data);
    if (o.json) io.stderr.write(`${JSON.stringify(lib.toJsonRecord(result))}\n`);
    return 0;
  }

  let files: string[] | undefined;
  if (o.filesFrom) {
    const text = (o.filesFrom === '-' ? await readAll(io.stdin) : await readFile(o.filesFrom).catch(() => undefined))?.toString('utf8');
    if (text === undefined) return usage(`cannot read the list \`${o.filesFrom}\``);
    files = text.split(o.null ? '\0' : /\r?\n/).filter((line) => line !== '');
  }

  const mode = o.check ? 'check' : o.dryRun ? 'dry-run' : 'run';
  const github = o.reporter === 'github';
  const fixCommand = `exif-fix ${[...paths, ...(o.filesFrom ? ['--files-from', o.filesFrom, ...(o.null ? ['-0'] : [])] : [])].map(shellQuote).join(' ')} --in-place`;
  let report: WriteStream | undefined;
  if (o.report) report = createWriteStream(o.report);

  const showProgress = Boolean(io.stderr.isTTY) && !o.quiet;
  const progress = showProgress ? new (await import('./progress.js')).Progress(io.stderr) : undefined;
  const results: FileResult[] = [];
  // Only failures are kept for the summary, so memory stays flat over huge runs; the label
  // step needs every result.
  const keep = (r: FileResult) => {
    if (annotationOptions || r.action === 'failed' || r.action === 'needs-fix') results.push(r);
  };
  const counts = { total: 0, rotated: 0, metadata: 0, upright: 0, skipped: 0, existing: 0, needsFix: 0, failed: 0 };
  const tally = (r: FileResult) => {
    counts.total++;
    if (r.action === 'rotated') counts.rotated++;
    else if (r.action === 'metadata') counts.metadata++;
    else if (r.action === 'copied' || r.action === 'unchanged') counts.upright++;
    else if (r.action === 'skipped') counts.skipped++;
    else if (r.action === 'existing') counts.existing++;
    else if (r.action === 'needs-fix') counts.needsFix++;
    else if (r.action === 'failed') counts.failed++;
  };
  const onResult = (r: FileResult) => {
    tally(r);
    keep(r);
    progress?.tick();
    const record = o.json || report ? `${JSON.stringify(lib.toJsonRecord(r, mode !== 'run'))}\n` : '';
    report?.write(record);
    if (o.json) io.stdout.write(record);
    else if (github) for (const line of githubLines(r, fixCommand)) io.stdout.write(`${line}\n`);
    else if (!o.quiet) {
      const line = describe(r, mode);
      if (line) io.stdout.write(`${line}\n`);
    }
    if (!o.quiet && !github) for (const w of r.warnings) io.stderr.write(`warning: \`${r.input}\`: ${w}\n`);
  };
  const common = {
    files,
    errorOnUnmatchedPattern: o.errorOnUnmatchedPattern,
    followSymlinks: o.followSymlinks,
    shard: o.shard,
    concurrency: o.concurrency,
    limitInputPixels: o.limitInputPixels,
    signal: controller.signal,
    onResult,
    onPlan: (total: number) => progress?.start(total),
    keepResults: false,
  };
  let code: number;
  try {
    if (o.check) await lib.check(paths, common);
    else await lib.normalize(paths, { ...common, out: o.out, inPlace: o.inPlace, dryRun: o.dryRun, skipExisting: o.skipExisting, lossless: o.lossless });
    progress?.stop();
    const signal = signalled();
    const labels = annotationOptions && !signal ? await labelStep(lib, annotationOptions, results, o, io, report) : undefined;
    const summary: Summary = { ...counts, elapsedMs: performance.now() - started };
    code = signal ? (signal === 'SIGINT' ? lib.EXIT.sigint : lib.EXIT.sigterm) : lib.exitCode(summary);
    if (code === 0 && labels && labels.failed > 0) code = lib.EXIT.failed;
    const summaryRecord = `${JSON.stringify({ type: 'summary', ...summary, elapsedMs: Math.round(summary.elapsedMs), ...(labels ? { annotations: { images: labels.images, labelled: labels.labelled, filesChanged: labels.filesChanged, shapes: labels.shapes, failed: labels.failed } } : {}), exitCode: code })}\n`;
    report?.write(summaryRecord);
    if (o.json) io.stdout.write(summaryRecord);
    const lines = o.check ? checkSummary(summary, results, fixCommand) : lib.formatSummary(summary, results);
    if (labels) lines.push(...labels.lines);
    if (signal) lines.unshift(`exif-fix: interrupted by ${signal}; stopped scheduling new files`);
    io.stderr.write(`${lines.join('\n')}\n`);
  } catch (error) {
    progress?.stop();
    if (error instanceof ExifFixError) {
      io.stderr.write(`exif-fix: ${error.message}\n`);
      code = error.code === 'usage' ? 2 : 1;
    } else {
      io.stderr.write(`exif-fix: unexpected error (a bug, please report it):\n${(error as Error).stack ?? String(error)}\n`);
      code = 2;
    }
  }
  if (report) await new Promise((resolve) => report.end(resolve));
  return code;
}

/** Counts of the label step, for the summary. */
interface LabelCounts {
  readonly images: number;
  readonly labelled: number;
  readonly filesChanged: number;
  readonly shapes: number;
  readonly failed: number;
  readonly lines: string[];
}

/**
 * Transforms the labels of every image of the run (`--annotations`) and reports per image: one
 * stdout line per image whose label files changed (or an NDJSON `annotations` record), one
 * failure line per image whose labels could not be handled.
 */
async function labelStep(
  lib: typeof import('./index.js'),
  options: import('./index.js').AnnotationOptions,
  results: readonly FileResult[],
  o: CliOptions,
  io: CliIo,
  report: WriteStream | undefined,
): Promise<LabelCounts> {
  const records = await lib.transformAnnotations(results, options);
  let labelled = 0;
  let filesChanged = 0;
  let shapes = 0;
  const failures: string[] = [];
  for (const r of records) {
    if (r.files.length > 0) labelled++;
    const changed = r.files.filter((f) => f.changed);
    filesChanged += changed.length;
    for (const f of r.files) shapes += f.shapes;
    if (r.error) failures.push(`  failed labels: \`${r.image}\`: ${r.error}`);
    const json = `${JSON.stringify({ type: 'annotations', ...r })}\n`;
    report?.write(json);
    if (o.json) io.stdout.write(json);
    else if (!o.quiet && changed.length > 0) {
      const what = changed.map((f) => `${f.output} (${f.shapes} shape${f.shapes === 1 ? '' : 's'})`).join(', ');
      io.stdout.write(`labels ${r.transformed ? 'transformed' : 'updated'} for ${r.image}: ${what}\n`);
    }
    if (!o.quiet) for (const w of r.warnings) io.stderr.write(`warning: labels of \`${r.image}\`: ${w}\n`);
  }
  const lines = [
    `exif-fix: labels found for ${labelled} of ${records.length} images; ${filesChanged} label files changed (${shapes} shapes); ${failures.length} failed`,
    ...failures,
  ];
  return { images: records.length, labelled, filesChanged, shapes, failed: failures.length, lines };
}

function checkSummary(summary: Summary, results: readonly FileResult[], fixCommand: string): string[] {
  const seconds = (summary.elapsedMs / 1000).toFixed(2);
  const checked = summary.total - summary.skipped;
  const lines = [
    summary.needsFix === 0
      ? `exif-fix: all ${checked} images are upright (checked in ${seconds}s)`
      : `exif-fix: ${summary.needsFix} of ${checked} images are not upright (checked in ${seconds}s). Fix them with:\n  ${fixCommand}`,
  ];
  if (summary.failed) lines.push(`exif-fix: ${summary.failed} failed`);
  for (const r of results) if (r.action === 'failed') lines.push(`  failed: ${r.error}`);
  return lines;
}
