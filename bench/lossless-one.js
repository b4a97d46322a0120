#!/usr/bin/env node
// One process, one file, N lossless transforms: for timing the transform from outside the
// process (whole-process CPU), e.g. against jpegtran with /usr/bin/time or hyperfine.
// Run after `npm run build`:
//   node bench/lossless-one.js FILE [--engine kernel|reference] [--huffman optimal|source] [--orientation 6] [--times 1] [--wasm FILE.wasm]
// --times N runs the transform N times: (CPU(N) - CPU(1)) / (N - 1) is the cost of one transform
// without Node's start-up. --wasm loads another build of the kernel (e.g. a SIMD one made by
// `node scripts/build-kernel.js --simd --out FILE.wasm`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : fallback; };
const file = argv[0];
if (!file || file.startsWith('--')) {
  console.error('usage: node bench/lossless-one.js FILE [--engine kernel|reference] [--huffman optimal|source] [--orientation 6] [--times 1] [--wasm FILE.wasm]');
  process.exit(2);
}
const { transformJpegLossless, LosslessKernel } = await import(path.join(root, 'dist/pixels/jpeg-lossless/index.js'));
const wasm = opt('--wasm');
const kernel = new LosslessKernel(wasm ? readFileSync(wasm) : undefined);
const engine = opt('--engine', 'kernel');
const huffman = opt('--huffman', 'optimal');
const orientation = Number(opt('--orientation', '6'));
const times = Number(opt('--times', '1'));
const jpeg = readFileSync(file);
for (let i = 0; i < times; i++) {
  const r = transformJpegLossless(jpeg, orientation, { engine, kernel, huffman });
  if (!r.ok) { console.error(`${file}: ${r.reason}`); process.exit(1); }
}
