/**
 * The command line: parse flags, call the library, hand results to reporters, return the exit
 * code. Every rule, default, count and message comes from the library; the heavy modules (sharp)
 * load only when there is work, so `--version` and `--help` stay fast.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExifFixError } from './errors.js';
import type { Reporter } from './reporters/types.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** A commander parser for `K/N`, `k,d` or a whole number, with sharp-style messages. */
function parsed<T>(flag: string, expected: string, pattern: RegExp, make: (m: RegExpExecArray) => T | undefined) {
  return (value: string): T => {
    const m = pattern.exec(value);
    const result = m ? make(m) : undefined;
    if (result === undefined) throw new InvalidArgumentError(`Expected ${expected} for ${flag} but received ${value}`);
    return result;
  };
}
const integer = (flag: string, min: number) => parsed(flag, `integer of at least ${min}`, /^\d+$/, (m) => (Number(m[0]) >= min ? Number(m[0]) : undefined));
const shardArg = parsed('--shard', 'K/N with 1 <= K <= N', /^(\d+)\/(\d+)$/, (m) => {
  const [index, count] = [Number(m[1]), Number(m[2])];
  return count >= 1 && index >= 1 && index <= count ? { index, count } : undefined;
});
const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const byteSize = parsed('--max-memory', 'a size such as 4G, 512M or 1073741824', /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i, (m) => {
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  return bytes >= 1 ? bytes : undefined;
});
const kptShape = parsed('--yolo-kpt-shape', 'k,d with k >= 1 and d 2 or 3', /^(\d+),([23])$/, (m) => (Number(m[1]) >= 1 ? ([Number(m[1]), Number(m[2]) as 2 | 3] as [number, 2 | 3]) : undefined));

/** Streams the CLI writes to; the process's by default, replaceable in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
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
    .option('--dry-run', 'do the whole run in memory and print what would be written and how, writing nothing')
    .option('--json', 'print one JSON object per file (NDJSON) and a summary object on stdout')
    .option('--report <file>', 'also write the NDJSON records to <file>')
    .option('--html <file>', 'also write a self-contained HTML report to <file>: counts, and thumbnails as stored and as written of every image changed or failed')
    .addOption(new Option('--reporter <name>', 'output style').choices(['default', 'github']).default('default'))
    .option('--files-from <file>', 'read paths from <file>, one per line (- for stdin)')
    .option('-0, --null', 'with --files-from: paths are NUL-separated (git diff -z, find -print0)')
    .option('--shard <K/N>', 'process only shard K of N (by path hash), for splitting a run across machines', shardArg)
    .option('--copy-other-files', 'with --out: copy the files that are not images (labels, YAML, CSV) byte for byte, for a complete dataset')
    .option('--skip-existing', 'skip files whose output exists and is not older than the input')
    .option('--no-error-on-unmatched-pattern', 'do not fail when a glob pattern matches nothing')
    .option('--follow-symlinks', 'follow symbolic links (with loop detection); in place, rewrite the file a link points to')
    .option('--ignore <glob>', 'leave out paths matching <glob> (repeatable; a glob without / matches a name at any depth); !<glob> among the paths does the same', (value: string, previous: string[] = []) => [...previous, value])
    .option('--break-hard-links', 'in place, rewrite a file that has other hard links, parting it from them (default: such files fail)')
    .addOption(new Option('--lossless <mode>', 'JPEG: lossless DCT transform where perfect (auto), only lossless (always), or always re-encode (never)').choices(['auto', 'always', 'never']).default('auto'))
    .addOption(new Option('--to <format>', 'write every HEIF/AVIF input as <format> (photo.HEIC -> photo.jpg), upright, metadata and colour profile carried').choices(['jpeg', 'png', 'webp']))
    .addOption(new Option('--fail-on <level>', 'damage that fails a file needing new pixels (sharp\'s levels): none accepts best-effort pixels; upright damaged files are always copied').choices(['none', 'truncated', 'error', 'warning']).default('warning'))
    .option('-c, --concurrency <n>', 'files processed at once', integer('--concurrency', 1), os.availableParallelism())
    .option('--max-memory <size>', 'bytes of decoded pixels in flight at once (4G, 512M); files wait for room, one over it runs alone (default: half the memory)', byteSize)
    .option('--limit-input-pixels <n>', 'refuse images whose header declares more pixels (0: no limit)', integer('--limit-input-pixels', 0), 0x3fff * 0x3fff)
    .addOption(new Option('--annotations <format>', 'transform the labels of each image with it').choices(['yolo', 'coco', 'voc', 'labelme']))
    .addOption(new Option('--annotations-space <space>', 'where the labels were drawn: on the stored pixels, or on the upright (displayed) view').choices(['stored', 'displayed']))
    .option('--coco <file>', 'with --annotations coco: the COCO JSON file to rewrite')
    .option('--coco-out <file>', 'with --annotations coco: where to write it (default: <out>/<name>, or in place)')
    .option('--yolo-kpt-shape <k,d>', 'with --annotations yolo: pose labels with k keypoints of d (2 or 3) values', kptShape)
    .option('-q, --quiet', 'print only failures, the summary and the files --check lists; no progress bar')
    .option('-v, --verbose', 'print a line for every file and every warning, also on a terminal')
    .addHelpText('after', '\nExit codes: 0 all fine, 1 a file failed (or --check found files to fix), 2 usage error, 130/143 interrupted.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
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
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const o = program.opts();
  const paths = program.args;
  // The first signal stops scheduling new files and lets the summary print (exit 130/143); a
  // second one ends the process at once (the default action).
  const controller = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => ((signal = s), controller.abort());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A reader that stops reading (`exif-fix --check d | head -1`) ends the run quietly: no new
  // file is started, nothing more is printed there, and the exit code says what was done.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    controller.abort();
  };
  // It stays attached: the errors of writes queued before the pipe closed arrive after the run.
  io.stdout.on?.('error', onStdoutError);
  let reportError: NodeJS.ErrnoException | undefined;
  const lib = await import('./index.js');
  const { resolveMode } = await import('./options.js');
  let report: WriteStream | undefined;
  let html: WriteStream | undefined;
  let htmlError: NodeJS.ErrnoException | undefined;
  try {
    const pipe = paths.includes('-');
    const mode = resolveMode({ ...o, nul: o.null, pipe, otherPaths: paths.length > 1, shard: Boolean(o.shard), annotationDetails: Boolean(o.annotationsSpace || o.coco || o.cocoOut || o.yoloKptShape) });
    const fileOptions = { lossless: o.lossless, limitInputPixels: o.limitInputPixels, failOn: o.failOn, to: o.to };
    if (mode === 'pipe') {
      const { data, result } = await lib.normalizeBuffer(await readAll(io.stdin), fileOptions);
      for (const w of result.warnings) io.stderr.write(`warning: stdin: ${w}\n`);
      if (o.json) io.stderr.write(`${JSON.stringify(lib.toJsonRecord(result))}\n`);
      if (!data) return (io.stderr.write(`exif-fix: ${result.error}\n`), lib.EXIT.failed);
      io.stdout.write(data);
      return lib.EXIT.ok;
    }
    let files: string[] | undefined;
    if (o.filesFrom !== undefined) {
      const text = (o.filesFrom === '-' ? await readAll(io.stdin) : await readFile(o.filesFrom).catch(() => undefined))?.toString('utf8');
      if (text === undefined) throw new ExifFixError(`cannot read the list \`${o.filesFrom}\``, 'usage');
      files = text.split(o.null ? '\0' : /\r?\n/).filter((line) => line !== '');
    }
    const annotations = o.annotations ? { format: o.annotations, space: o.annotationsSpace, coco: o.coco, cocoOut: o.cocoOut, yoloKptShape: o.yoloKptShape } : undefined;
    const options = { ...fileOptions, maxMemory: o.maxMemory, copyOtherFiles: o.copyOtherFiles, files, errorOnUnmatchedPattern: o.errorOnUnmatchedPattern, followSymlinks: o.followSymlinks, ignore: o.ignore, breakHardLinks: o.breakHardLinks, shard: o.shard, concurrency: o.concurrency, out: o.out, inPlace: o.inPlace, dryRun: o.dryRun, skipExisting: o.skipExisting, annotations, signal: controller.signal, keepResults: false };
    if (o.report !== undefined) {
      report = await openReport(o.report);
      report.on('error', (error: NodeJS.ErrnoException) => (reportError ??= error));
    }
    if (o.html !== undefined) {
      html = await openReport(o.html, 'HTML report');
      html.on('error', (error: NodeJS.ErrnoException) => (htmlError ??= error));
    }
    const { humanReporter } = await import('./reporters/human.js');
    const { githubReporter } = await import('./reporters/github.js');
    const { ndjsonReporter } = await import('./reporters/ndjson.js');
    const fix = (to?: string) => lib.fixCommand({ to, paths, filesFrom: o.filesFrom, nul: o.null, followSymlinks: o.followSymlinks, errorOnUnmatchedPattern: o.errorOnUnmatchedPattern, shard: o.shard, ignore: o.ignore, lossless: o.lossless, failOn: o.failOn, limitInputPixels: o.limitInputPixels === lib.DEFAULT_LIMIT_INPUT_PIXELS ? undefined : o.limitInputPixels });
    const reporters: Reporter[] = [o.json ? ndjsonReporter(io.stdout, mode) : o.reporter === 'github' ? githubReporter(io.stdout, io.stderr, mode, (r) => fix(o.to ?? (r.format === 'heif' ? 'jpeg' : undefined))) : humanReporter(io.stdout, io.stderr, { mode, quiet: o.quiet, verbose: o.verbose })];
    if (report) reporters.push(ndjsonReporter(report, mode));
    if (html) reporters.push((await import('./reporters/html.js')).htmlReporter(html, { mode, concurrency: o.concurrency }));
    const tally = new lib.Tally();
    const started = performance.now();
    const records: import('./annotations/index.js').AnnotationRecord[] = [];
    const onLabels = (record: import('./annotations/index.js').AnnotationRecord) => (records.push(record), reporters.forEach((r) => r.labels?.(record)));
    const callbacks = { onLabels, onPlan: (total: number, info: { skippedSymlinks: number }) => ((tally.skippedSymlinks = info.skippedSymlinks), reporters.forEach((r) => r.plan?.(total))), onResult: (r: import('./report.js').FileResult) => (tally.add(r), reporters.forEach((x) => x.file(r))) };
    if (mode === 'check') await lib.check(paths, { ...options, ...callbacks });
    else await lib.normalize(paths, { ...options, ...callbacks });
    if (annotations && !signal) tally.labels = lib.countLabels(records);
    const summary = tally.summary(performance.now() - started);
    let exitCode = signal ? (signal === 'SIGINT' ? lib.EXIT.sigint : lib.EXIT.sigterm) : lib.exitCode(summary, tally.labels);
    const end = { summary, tally, labels: tally.labels, exitCode, fix: fix(o.to ?? (tally.needsConversion ? 'jpeg' : undefined)), signal };
    for (const r of reporters) await r.end(end);
    if (report) await new Promise((resolve) => report?.end(resolve));
    if (reportError) {
      io.stderr.write(`exif-fix: cannot write the report \`${o.report}\`: ${reportError.code ?? reportError.message}; the results above are complete\n`);
      exitCode = Math.max(exitCode, lib.EXIT.failed);
    }
    if (htmlError) {
      io.stderr.write(`exif-fix: cannot write the HTML report \`${o.html}\`: ${htmlError.code ?? htmlError.message}; the results above are complete\n`);
      exitCode = Math.max(exitCode, lib.EXIT.failed);
    }
    return exitCode;
  } catch (error) {
    if (!(error instanceof ExifFixError)) {
      io.stderr.write(`exif-fix: unexpected error (a bug, please report it):\n${(error as Error).stack ?? String(error)}\n`);
      return lib.EXIT.usage;
    }
    io.stderr.write(`exif-fix: ${error.message}${error.code === 'usage' ? ' (see --help)' : ''}\n`);
    return error.code === 'usage' ? lib.EXIT.usage : lib.EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (report && !report.writableFinished) await new Promise((resolve) => report?.end(resolve));
    if (html && !html.writableFinished) await new Promise((resolve) => html?.end(resolve));
  }
}

/** Opens the `--report` (or `--html`) file before any work, so a bad path is a usage error (exit 2). */
async function openReport(file: string, what = 'report'): Promise<WriteStream> {
  const stream = createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new ExifFixError(`cannot write the ${what} \`${file}\`: ${(error as NodeJS.ErrnoException).code ?? error.message}`, 'usage')));
  });
  return stream;
}
