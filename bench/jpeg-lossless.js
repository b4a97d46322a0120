#!/usr/bin/env node
// Benchmark of the lossless JPEG rotation (src/pixels/jpeg-lossless) on 12 MP 4:2:0 photos.
// Run after `npm run build`:  node bench/jpeg-lossless.js [--images 3] [--runs 3] [--progressive]
//
// Generates (deterministically, with sharp) 4032x3024 4:2:0 quality-92 JPEGs textured like
// photos into .bench/, then times per image, in fresh child processes, and measures peak RSS
// of one job per process (process.resourceUsage().maxRSS, or GNU time for jpegtran):
//   ours    transformJpegLossless(jpeg, 6)                          (DCT domain, lossless)
//   jpegtran -rotate 90 -optimize -copy all                         (when installed)
//   sharp   decode + rotate(90) + jpeg({ quality: 92 }) re-encode   (lossy, multi-threaded)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { photo } from './photo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const corpus = path.join(root, '.bench', 'jpeg-lossless');
const WIDTH = 4032;
const HEIGHT = 3024;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function makeCorpus(count, progressive) {
  mkdirSync(corpus, { recursive: true });
  const { default: sharp } = await import('sharp');
  const files = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(corpus, `photo-${i}${progressive ? '-progressive' : ''}.jpg`);
    if (!existsSync(file)) {
      const jpeg = await sharp(photo(WIDTH, HEIGHT, 1000 + i), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 92, chromaSubsampling: '4:2:0', progressive }).toBuffer();
      writeFileSync(file, jpeg);
    }
    files.push(file);
  }
  return files;
}

// Child modes: time one job `runs` times in this process and print JSON.
async function child(mode, file, runs) {
  const input = readFileSync(file);
  const times = [];
  let outBytes = 0;
  if (mode === 'ours') {
    const { transformJpegLossless } = await import(path.join(root, 'dist/pixels/jpeg-lossless/index.js'));
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const res = transformJpegLossless(input, 6);
      times.push(performance.now() - t);
      if (!res.ok) throw new Error(res.reason);
      outBytes = res.jpeg.length;
    }
  } else {
    const { default: sharp } = await import('sharp');
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const out = await sharp(input).rotate(90).jpeg({ quality: 92, chromaSubsampling: '4:2:0' }).toBuffer();
      times.push(performance.now() - t);
      outBytes = out.length;
    }
  }
  process.stdout.write(JSON.stringify({ times, outBytes, maxRssKiB: process.resourceUsage().maxRSS }));
}

function runChild(mode, file, runs) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file, String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} failed on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function hasTool(name) {
  return !spawnSync(name, ['-version']).error;
}

function runJpegtran(file, runs) {
  const times = [];
  let maxRssKiB = NaN;
  const gnuTime = existsSync('/usr/bin/time');
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const res = gnuTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', 'jpegtran', '-rotate', '90', '-optimize', '-copy', 'all', '-outfile', '/dev/null', file], { encoding: 'utf8' })
      : spawnSync('jpegtran', ['-rotate', '90', '-optimize', '-copy', 'all', '-outfile', '/dev/null', file], { encoding: 'utf8' });
    times.push(performance.now() - t);
    if (res.status !== 0) throw new Error(`jpegtran failed: ${res.stderr}`);
    if (gnuTime) maxRssKiB = Number(res.stderr.trim().split('\n').pop());
  }
  return { times, maxRssKiB };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const images = arg('--images', 3);
  const runs = arg('--runs', 3);
  if (!existsSync(path.join(root, 'dist/pixels/jpeg-lossless/index.js'))) {
    throw new Error('dist/pixels/jpeg-lossless/index.js is missing: run `npm run build` first');
  }
  const progressive = process.argv.includes('--progressive');
  const files = await makeCorpus(images, progressive);
  const jt = hasTool('jpegtran');
  const rows = [];
  for (const file of files) {
    const size = readFileSync(file).length;
    const ours = runChild('ours', file, runs);
    const sh = runChild('sharp', file, runs);
    const j = jt ? runJpegtran(file, runs) : undefined;
    // Peak RSS of one job alone (repeated runs in one process also count garbage not yet collected).
    ours.maxRssKiB = runChild('ours', file, 1).maxRssKiB;
    sh.maxRssKiB = runChild('sharp', file, 1).maxRssKiB;
    rows.push({ file: path.basename(file), size, ours, sh, j });
  }
  const fmt = (n) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  console.log(`jpeg-lossless bench: ${images} x ${WIDTH}x${HEIGHT} 4:2:0 q92 ${progressive ? 'progressive' : 'baseline'}, orientation 6 (rotate 90), median of ${runs} runs, node ${process.version}`);
  console.log('');
  console.log('| image | input MB | ours ms (first) | ours ms | jpegtran ms | ours / jpegtran | sharp re-encode ms | ours RSS MB | jpegtran RSS MB | sharp RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ours = median(r.ours.times);
    const jtm = r.j ? median(r.j.times) : NaN;
    console.log(`| ${r.file} | ${(r.size / 1e6).toFixed(1)} | ${fmt(r.ours.times[0])} | ${fmt(ours)} | ${fmt(jtm)} | ${r.j ? (ours / jtm).toFixed(2) : '-'} | ${fmt(median(r.sh.times))} | ${fmt(r.ours.maxRssKiB / 1024)} | ${r.j ? fmt(r.j.maxRssKiB / 1024) : '-'} | ${fmt(r.sh.maxRssKiB / 1024)} |`);
  }
  if (!jt) console.log('\njpegtran is not installed (apt-get install libjpeg-turbo-progs): its column is empty.');
  console.log('\n"ours ms (first)" includes JIT warm-up; jpegtran times include process start-up; RSS is the peak of a whole process doing one job (node itself is ~40 MB).');
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  await main();
}
