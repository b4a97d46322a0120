#!/usr/bin/env node
// One-core CPU of the lossless transform of a 12 MP photo, against jpegtran (part of `npm run bench`).
//
//   node bench/lossless-cpu.js [FILE.jpg] [--runs 7]
//
// FILE defaults to a generated 4032x3024 4:2:0 quality-92 JPEG with standard Huffman tables, as
// cameras write them (.bench/lossless/photo-standard-tables.jpg). Needs `npm run build`. Every
// figure is the CPU time (user + system) of child processes pinned to one core (taskset, when
// installed); medians of --runs runs:
//   - per transform: inside one Node process, after a first warm-up transform, the CPU of each
//     transformJpegLossless call (process.cpuUsage): the kernel, the kernel built with
//     WebAssembly SIMD (into .bench/, when clang is installed), the TypeScript reference, and the
//     kernel writing the input's own tables in one pass (huffman: 'source');
//   - whole process: `node bench/lossless-one.js FILE` (start-up, one transform, exit), from the
//     child's own resource usage, and jpegtran's whole process (bash `times`);
//   - moving data: a round trip of the file's bytes to a worker thread, copied vs transferred.
// jpegtran is libjpeg-turbo-progs (apt-get install libjpeg-turbo-progs); without it its rows say so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { photo } from './photo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const work = path.join(root, '.bench', 'lossless');
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1]) || 1) : 7;
const fileArg = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs');
const log = (message) => process.stderr.write(`${message}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}
const pin = has('taskset') ? ['taskset', '-c', '0'] : [];

/** Runs `command args` pinned to one core; returns stdout. */
function run(command, args) {
  const full = [...pin, command, ...args];
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${full.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

async function input() {
  if (fileArg) return path.resolve(fileArg);
  const file = path.join(work, 'photo-standard-tables.jpg');
  if (!existsSync(file)) {
    mkdirSync(work, { recursive: true });
    const { default: sharp } = await import('sharp');
    log('making a 4032x3024 photo with standard Huffman tables ...');
    const jpeg = await sharp(photo(4032, 3024, 1000), { raw: { width: 4032, height: 3024, channels: 3 } })
      .jpeg({ quality: 92, chromaSubsampling: '4:2:0', optimiseCoding: false }).toBuffer();
    writeFileSync(file, jpeg);
  }
  return file;
}

/** Per-transform CPU in one warm process: milliseconds per run after a warm-up, and the output size. */
function perTransform(file, options) {
  const code = `
    const { readFileSync } = await import('node:fs');
    const { transformJpegLossless, LosslessKernel } = await import(${JSON.stringify(path.join(root, 'dist/pixels/jpeg-lossless/index.js'))});
    const o = ${JSON.stringify(options)};
    const kernel = new LosslessKernel(o.wasm ? readFileSync(o.wasm) : undefined);
    const jpeg = readFileSync(${JSON.stringify(file)});
    const ms = []; let bytes = 0;
    for (let i = 0; i <= ${RUNS}; i++) {
      const c = process.cpuUsage();
      const r = transformJpegLossless(jpeg, 6, { engine: o.engine, huffman: o.huffman, kernel });
      const d = process.cpuUsage(c);
      if (!r.ok) throw new Error(r.reason);
      if (i > 0) ms.push((d.user + d.system) / 1000);
      bytes = r.jpeg.length;
    }
    process.stdout.write(JSON.stringify({ ms, bytes }));`;
  const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', code]));
  return { ms: median(out.ms), bytes: out.bytes };
}

/** Whole-process CPU of `node bench/lossless-one.js FILE` (start-up, one transform, exit). */
function nodeProcess(file) {
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(here, 'lossless-one.js'))} ${JSON.stringify(file)}`;
  return median(Array.from({ length: RUNS }, () => shellCpu(command)));
}

/** CPU milliseconds (user + system) of a shell command, from bash's `times` (children line). */
function shellCpu(command) {
  const out = run('bash', ['-c', `${command} >/dev/null; times`]).trim().split('\n').pop();
  const [user, sys] = out.split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return Number(m[1]) * 60000 + Number(m[2]) * 1000;
  });
  return user + sys;
}

/** Median milliseconds of a round trip of `bytes` to an echo worker, copied or transferred. */
async function roundTrip(bytes, transfer) {
  const worker = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m, [m.buffer]));', { eval: true });
  const times = [];
  for (let i = 0; i <= 20; i++) {
    const data = Uint8Array.from(bytes);
    const t = performance.now();
    await new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(data, transfer ? [data.buffer] : []);
    });
    if (i > 0) times.push(performance.now() - t);
  }
  await worker.terminate();
  return median(times);
}

async function main() {
  if (!existsSync(path.join(root, 'dist/pixels/jpeg-lossless/index.js'))) throw new Error('run `npm run build` first');
  const file = await input();
  const size = readFileSync(file).length;
  const jt = has('jpegtran');
  let simd;
  if (has('clang')) {
    simd = path.join(work, 'kernel-simd.wasm');
    mkdirSync(work, { recursive: true });
    spawnSync(process.execPath, [path.join(root, 'scripts/build-kernel.js'), '--simd', '--out', simd], { stdio: 'ignore' });
    if (!existsSync(simd)) simd = undefined;
  }
  log(`lossless one-core CPU on ${path.relative(root, file)} (${(size / 1e6).toFixed(1)} MB), ${RUNS} runs each${pin.length ? ', pinned to CPU 0' : ''} ...`);
  const rows = [];
  const add = (what, ms, note = '') => rows.push({ what, ms, note });
  const kernel = perTransform(file, {});
  add('exif-fix kernel (WebAssembly), per transform', kernel.ms, `${(kernel.bytes / 1e6).toFixed(2)} MB out`);
  if (simd) {
    const s = perTransform(file, { wasm: simd });
    add('exif-fix kernel built with WebAssembly SIMD, per transform', s.ms);
  }
  const source = perTransform(file, { huffman: 'source' });
  add("exif-fix kernel, input's own tables in one pass", source.ms, `${(source.bytes / 1e6).toFixed(2)} MB out (+${(100 * (source.bytes / kernel.bytes - 1)).toFixed(1)}%)`);
  const reference = perTransform(file, { engine: 'reference' });
  add('exif-fix TypeScript reference, per transform', reference.ms);
  add('exif-fix whole process (start-up + 1 transform)', nodeProcess(file));
  let base;
  if (jt) {
    base = median(Array.from({ length: RUNS }, () => shellCpu(`jpegtran -rotate 90 -optimize -copy all -outfile /dev/null ${JSON.stringify(file)}`)));
    add('jpegtran -rotate 90 -optimize (whole process)', base);
    add('jpegtran -copy none (whole process)', median(Array.from({ length: RUNS }, () => shellCpu(`jpegtran -copy none -outfile /dev/null ${JSON.stringify(file)}`))));
  }
  const bytes = readFileSync(file);
  const copied = await roundTrip(bytes, false);
  const moved = await roundTrip(bytes, true);

  const lines = [`### Lossless transform, one core (${new Date().toISOString().slice(0, 10)})`, '',
    `${path.basename(file)}, ${(size / 1e6).toFixed(1)} MB, orientation 6 (rotate 90); CPU (user + system) medians of ${RUNS} runs${pin.length ? ', pinned to one core' : ''}.`, '',
    '| run | CPU ms | vs jpegtran -rotate 90 -optimize | note |', '|---|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.what} | ${r.ms.toFixed(0)} | ${base ? `${(r.ms / base).toFixed(2)}×` : '-'} | ${r.note} |`);
  if (!jt) lines.push('', 'jpegtran is not installed (apt-get install libjpeg-turbo-progs): no comparison rows.');
  if (!simd) lines.push('', 'clang is not installed: no row for the kernel built with SIMD.');
  lines.push('', `Moving the ${(size / 1e6).toFixed(1)} MB file to a worker thread and back: ${copied.toFixed(2)} ms copied, ${moved.toFixed(2)} ms transferred (median of 20 round trips, wall).`);
  process.stdout.write(`${lines.join('\n')}\n`);
  // For npm run bench's targets: the per-transform and whole-process figures against jpegtran.
  writeFileSync(path.join(work, 'result.json'), JSON.stringify({ kernelMs: kernel.ms, processMs: rows.find((r) => r.what.startsWith('exif-fix whole process')).ms, jpegtranMs: base ?? null }));
}

await main();
