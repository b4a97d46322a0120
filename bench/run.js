#!/usr/bin/env node
// `npm run bench`: exif-fix against its peers, side by side, on one machine in one run.
//
//   node bench/run.js [photo-dir] [--quick] [--repeat N] [--no-peers-slow]
//
// photo-dir  a directory of JPEGs to use instead of the generated 12 MP corpus
// --quick    8 + 40 photos and 600 small files, 1k/10k paths for the memory run (fast iteration)
// --repeat N time every photo run N times and keep the median (default 3, 1 with --quick; --check runs 3)
// --no-slow  leave out jpeg-autorotate (pure JavaScript, about 4 s per 12 MP photo)
//
// Two photo sets: 40 12 MP and 200 2 MP phone photos (bench/corpus.js). Every tool runs as a
// whole command (wall clock, CPU time, peak RSS, see measure.js) on a fresh copy of the input; every output is then checked upright against the input (verify.js): a fast wrong
// answer does not count. Writes bench/results.md and bench/chart.svg; works under .bench/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { barChart } from './chart.js';
import { ensurePhotos, ensureSmall } from './corpus.js';
import { measure } from './measure.js';
import { checkOutput, reference } from './verify.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const work = path.join(root, '.bench');
const node = process.execPath;
const exifFix = path.join(root, 'bin', 'exif-fix.js');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const noSlow = argv.includes('--no-slow');
const repeatAt = argv.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Math.max(1, Number(argv[repeatAt + 1]) || 1) : quick ? 1 : 3;
const photoDirArg = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--repeat');

const PHOTO_COUNT = quick ? 8 : 40;
const SMALL_PHOTO_COUNT = quick ? 40 : 200;
/** Copies of each of the 18 real photos of fixtures/photos (hard links) for the --check run on real photos. */
const REAL_COPIES = quick ? 20 : 160;
const SMALL_COUNT = quick ? 600 : 3000;
const MEMORY_COUNTS = quick ? [1000, 10000] : [1000, 10000, 100000];
const VERSION_RUNS = 11;
const CHECK_RUNS = 3;

const log = (message) => process.stderr.write(`${message}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const mb = (bytes) => bytes / 1e6;

function which(command) {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function works(command, args, pattern) {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 && pattern.test(`${r.stdout}${r.stderr}`);
}

function loadAverage() {
  return os.loadavg().map((v) => v.toFixed(2)).join(', ');
}

function machine() {
  const cpus = os.cpus();
  let libjpeg = '';
  const versions = sharp.versions;
  if (versions.mozjpeg) libjpeg = `mozjpeg ${versions.mozjpeg}`;
  else if (versions.jpeg) libjpeg = `libjpeg-turbo ${versions.jpeg}`;
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    ramGb: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    sharp: versions.sharp,
    vips: versions.vips,
    libjpeg,
  };
}

/** Copies `files` into a fresh `dir` (flat, by name) and flushes them to disk. */
function freshCopy(files, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(f, path.join(dir, path.basename(f)));
  spawnSync('sync');
}

/** The peers of the photo run, each a whole command. `inPlace` tools rewrite their copy. */
function photoTools({ slow = true } = {}) {
  const tools = [
    { id: 'exif-fix', label: 'exif-fix', ours: true, run: (i, o) => [node, [exifFix, i, '--out', o, '--quiet']] },
    { id: 'exif-fix-never', label: 'exif-fix --lossless never', ours: true, run: (i, o) => [node, [exifFix, i, '--out', o, '--quiet', '--lossless', 'never']] },
    { id: 'sharp', label: 'sharp autoOrient (plain)', run: (i, o) => [node, [path.join(here, 'peers', 'sharp-plain.js'), i, o]] },
  ];
  const python = ['/usr/bin/python3', which('python3')].find((p) => p && works(p, ['-c', 'import PIL; print(PIL.__version__)'], /\d/));
  if (python) {
    const version = spawnSync(python, ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' }).stdout.trim();
    tools.push({ id: 'pillow', label: `Pillow exif_transpose ${version}`, run: (i, o) => [python, [path.join(here, 'peers', 'pillow.py'), i, o]] });
  } else log('Pillow: not installed (python3 with PIL), left out');
  const mogrify = which('mogrify');
  if (mogrify && works(mogrify, ['-version'], /ImageMagick/)) {
    const version = /ImageMagick ([\d.-]+)/.exec(spawnSync(mogrify, ['-version'], { encoding: 'utf8' }).stdout)?.[1] ?? '';
    tools.push({ id: 'mogrify', label: `ImageMagick mogrify ${version}`, inPlace: true, run: (i) => [mogrify, ['-auto-orient', ...jpegsIn(i)]] });
  } else log('ImageMagick mogrify: not installed, left out');
  const exiftran = which('exiftran');
  if (exiftran) tools.push({ id: 'exiftran', label: 'exiftran -ai', inPlace: true, run: (i) => [exiftran, ['-ai', ...jpegsIn(i)]] });
  else log('exiftran: not installed, left out');
  const autorotate = path.join(root, 'node_modules', 'jpeg-autorotate', 'src', 'cli.js');
  if (existsSync(autorotate) && !noSlow && slow) {
    // Its default quality is 100; 92 matches the input, which is fairer (and faster) for it.
    tools.push({ id: 'jpeg-autorotate', label: 'jpeg-autorotate --quality=92', inPlace: true, run: (i) => [node, [autorotate, '--quality=92', path.join(i, '*.jpg')]] });
  }
  return tools;
}

function jpegsIn(dir) {
  return readdirSync(dir).filter((n) => /\.jpe?g$/i.test(n)).sort().map((n) => path.join(dir, n));
}

async function photoRun(photos, refs, { slow = true } = {}) {
  const bytes = photos.reduce((sum, f) => sum + statSync(f).size, 0);
  const tools = photoTools({ slow });
  const state = new Map(tools.map((t) => [t.id, { walls: [], cpus: [], peak: 0, failures: [] }]));
  // Round-robin: every tool runs once per round, so the machine's drift over the minutes of a
  // run (it is shared) falls on every tool alike and the ratios stay fair.
  for (let r = 0; r < repeat; r++) {
    for (const tool of tools) {
      const st = state.get(tool.id);
      const dir = path.join(work, 'run', tool.id);
      const input = path.join(dir, 'in');
      const output = tool.inPlace ? input : path.join(dir, 'out');
      freshCopy(photos, input);
      const [command, args] = tool.run(input, output);
      const result = await measure(command, args);
      spawnSync('sync');
      if (result.code !== 0) log(`${tool.label}: exit code ${result.code}\n${result.stderr.slice(0, 2000)}`);
      st.walls.push(result.wallMs);
      if (result.cpuMs !== null) st.cpus.push(result.cpuMs);
      st.peak = Math.max(st.peak, result.peakRssMb);
      st.failures = [];
      for (const f of photos) {
        const name = path.basename(f);
        const problem = await checkOutput(sharp, path.join(output, name), refs.get(f));
        if (problem) st.failures.push(`${name}: ${problem}`);
      }
      rmSync(dir, { recursive: true, force: true });
      log(`  round ${r + 1}/${repeat}  ${tool.label.padEnd(34)} ${(result.wallMs / 1000).toFixed(2)} s`);
    }
  }
  const rows = [];
  for (const tool of tools) {
    const { walls, cpus, peak, failures } = state.get(tool.id);
    const wallMs = median(walls);
    const cpuMsPerFile = cpus.length ? median(cpus) / photos.length : null;
    const row = { ...tool, files: photos.length, wallMs, walls, cpuMsPerFile, filesPerSecond: photos.length / (wallMs / 1000), mbPerSecond: mb(bytes) / (wallMs / 1000), peakRssMb: peak, failures };
    rows.push(row);
    log(`${row.label.padEnd(34)} ${row.filesPerSecond.toFixed(2).padStart(7)} files/s ${row.mbPerSecond.toFixed(1).padStart(6)} MB/s ${cpuMsPerFile === null ? '' : `${cpuMsPerFile.toFixed(0).padStart(5)} ms CPU/file `}${row.peakRssMb.toFixed(0).padStart(5)} MB  ${failures.length ? `✗ ${failures.length} wrong: ${failures[0]}` : '✓'}`);
  }
  return rows;
}

function listed(stdout) {
  return new Set(stdout.split('\n').filter(Boolean).map((line) => path.basename(line.split(': orientation')[0].trim())));
}

function checkTools() {
  const tools = [{ id: 'exif-fix-check', label: 'exif-fix --check', ours: true, run: (dir) => [node, [exifFix, '--check', dir]] }];
  const exiftool = which('exiftool');
  if (exiftool) {
    const version = spawnSync(exiftool, ['-ver'], { encoding: 'utf8' }).stdout.trim();
    // -fast2: stop at the first scan and skip maker notes, as a header-only check does. A file
    // without the tag is upright (the test `$Orientation# ne 1` alone would list it).
    tools.push({ id: 'exiftool', label: `exiftool -fast2 ${version}`, run: (dir) => [exiftool, ['-q', '-q', '-fast2', '-if', '$Orientation# and $Orientation# ne 1', '-p', '$FileName', '-r', dir]] });
  } else log('exiftool: not installed, left out');
  return tools;
}

/**
 * `--check` against exiftool over `dir` (`count` files, of which `sideways` is the number that
 * are not upright), the tools taking turns run by run. Before timing, each must list exactly the
 * sideways photos of the 12 MP set.
 */
async function checkRun(dir, count, sideways, photos, refs) {
  const expected = new Set(photos.filter((f) => refs.get(f).orientation !== 1).map((f) => path.basename(f)));
  const photoDir = path.join(work, 'run', 'check-photos');
  freshCopy(photos, photoDir);
  const tools = checkTools();
  const state = new Map(tools.map((t) => [t.id, { walls: [], peak: 0, listedCount: 0, failures: [] }]));
  for (const tool of tools) {
    const [c1, a1] = tool.run(photoDir);
    const found = listed((await measure(c1, a1)).stdout);
    const st = state.get(tool.id);
    for (const name of expected) if (!found.has(name)) st.failures.push(`${name} not listed`);
    for (const name of found) if (!expected.has(name)) st.failures.push(`${name} listed but upright`);
  }
  for (let r = 0; r < CHECK_RUNS; r++) {
    for (const tool of tools) {
      const st = state.get(tool.id);
      const [command, args] = tool.run(dir);
      const result = await measure(command, args);
      st.walls.push(result.wallMs);
      st.peak = Math.max(st.peak, result.peakRssMb);
      st.listedCount = result.stdout.split('\n').filter(Boolean).length;
    }
  }
  const rows = [];
  for (const tool of tools) {
    const st = state.get(tool.id);
    if (st.listedCount !== sideways) st.failures.push(`${st.listedCount} files listed, ${sideways} expected`);
    const wallMs = median(st.walls);
    const row = { ...tool, files: count, wallMs, filesPerSecond: count / (wallMs / 1000), peakRssMb: st.peak, failures: st.failures };
    rows.push(row);
    log(`${row.label.padEnd(34)} ${row.filesPerSecond.toFixed(0).padStart(7)} files/s ${row.peakRssMb.toFixed(0).padStart(5)} MB  ${st.failures.length ? `✗ ${st.failures[0]}` : '✓'}`);
  }
  rmSync(photoDir, { recursive: true, force: true });
  return rows;
}

/**
 * `copies` hard links to each real photo of fixtures/photos (MIT, see its LICENSE), spread over 30
 * directories: the --check run on real photos (about 290 kB each, with EXIF and thumbnails).
 *
 * @returns {{ dir: string, count: number, sideways: number }}
 */
function ensureRealPhotos(copies) {
  const source = path.join(root, 'fixtures', 'photos');
  const names = readdirSync(source).filter((n) => /\.jpe?g$/i.test(n)).sort();
  const dir = path.join(work, 'corpus', `real-${copies}`);
  const count = names.length * copies;
  const stamp = `${dir}.complete.json`;
  if (!existsSync(stamp)) {
    rmSync(dir, { recursive: true, force: true });
    for (let i = 0; i < copies; i++) {
      const sub = path.join(dir, `d${String(i % 30).padStart(2, '0')}`);
      mkdirSync(sub, { recursive: true });
      for (const n of names) linkSync(path.join(source, n), path.join(sub, `${i}-${n}`));
    }
    writeFileSync(stamp, JSON.stringify({ count }));
  }
  // Landscape_0/_1 and Portrait_0/_1 are upright (no tag, orientation 1); the other 14 are not.
  const sideways = names.filter((n) => !/_[01]\.jpe?g$/i.test(n)).length * copies;
  return { dir, count, sideways };
}

/** Hard links (no data copied) to the small files: `count` distinct paths for the memory run. */
function ensureLinks(smallDir, count) {
  const dir = path.join(work, 'corpus', `links-${count}`);
  const list = path.join(work, 'corpus', `links-${count}.txt`);
  if (existsSync(list) && readFileSync(list, 'utf8').split('\n').filter(Boolean).length === count) return list;
  rmSync(dir, { recursive: true, force: true });
  const sources = [];
  for (const d of readdirSync(smallDir).sort()) for (const f of readdirSync(path.join(smallDir, d)).sort()) sources.push(path.join(smallDir, d, f));
  const paths = [];
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `l${String(i).padStart(6, '0')}.jpg`);
    linkSync(sources[i % sources.length], file);
    paths.push(path.relative(root, file));
  }
  writeFileSync(list, `${paths.join('\n')}\n`);
  return list;
}

async function memoryRun(smallDir) {
  const rows = [];
  for (const count of MEMORY_COUNTS) {
    const list = ensureLinks(smallDir, count);
    const result = await measure(node, [exifFix, '--check', '--quiet', '--files-from', path.relative(root, list)], { cwd: root });
    if (result.code !== 0) log(`memory run ${count}: exit ${result.code} ${result.stderr.slice(0, 500)}`);
    rows.push({ count, peakRssMb: result.peakRssMb, filesPerSecond: count / (result.wallMs / 1000) });
    log(`--check --files-from, ${String(count).padStart(6)} paths: ${result.peakRssMb.toFixed(0)} MB peak RSS, ${(count / (result.wallMs / 1000)).toFixed(0)} files/s`);
  }
  // The same largest run with V8's young generation held small: what is left is the plan itself.
  const count = MEMORY_COUNTS[MEMORY_COUNTS.length - 1];
  const list = ensureLinks(smallDir, count);
  const capped = await measure(node, ['--max-semi-space-size=2', exifFix, '--check', '--quiet', '--files-from', path.relative(root, list)], { cwd: root });
  rows.push({ count, peakRssMb: capped.peakRssMb, filesPerSecond: count / (capped.wallMs / 1000), cappedYoung: true });
  log(`same, node --max-semi-space-size=2: ${capped.peakRssMb.toFixed(0)} MB peak RSS`);
  return rows;
}

/** The per-stage CPU table of bench/reencode-stages.js for one orientation-6 photo. */
function stagesRun(photos, refs) {
  const photo = photos.find((f) => refs.get(f).orientation === 6) ?? photos[0];
  const r = spawnSync(node, [path.join(here, 'reencode-stages.js'), photo, '--runs', '3'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`re-encode stages: failed ${r.stderr.slice(0, 500)}`);
    return '';
  }
  log(r.stdout);
  return r.stdout.trim();
}

/** The one-core lossless comparison against jpegtran (bench/lossless-cpu.js), as a Markdown section. */
function losslessCpuRun() {
  const r = spawnSync(node, [path.join(here, 'lossless-cpu.js'), '--runs', quick ? '3' : '7'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) return `lossless one-core comparison failed (exit ${r.status})`;
  log(r.stdout);
  return r.stdout.trim();
}

async function versionRun() {
  const walls = [];
  for (let i = 0; i < VERSION_RUNS; i++) walls.push((await measure(node, [exifFix, '--version'])).wallMs);
  const ms = median(walls);
  log(`exif-fix --version: median ${ms.toFixed(0)} ms of ${VERSION_RUNS} runs`);
  return { medianMs: ms, runs: walls };
}

const fmt = (v, digits) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A Markdown table of one photo set's rows. */
function photoTable(rows) {
  const base = rows.find((r) => r.id === 'exif-fix');
  const pillow = rows.find((r) => r.id === 'pillow');
  return [
    `| tool | files/s | MB/s | CPU per file | peak RSS | vs exif-fix | ${pillow ? 'vs Pillow | ' : ''}upright |`,
    `|---|---:|---:|---:|---:|---:|${pillow ? '---:|' : ''}:---:|`,
    ...rows.map((r) => `| ${r.ours ? `**${r.label}**` : r.label} | ${fmt(r.filesPerSecond, 2)} | ${fmt(r.mbPerSecond, 1)} | ${r.cpuMsPerFile === null ? '-' : `${fmt(r.cpuMsPerFile, 0)} ms`} | ${fmt(r.peakRssMb, 0)} MB | ${fmt(r.filesPerSecond / base.filesPerSecond, 2)}× | ${pillow ? `${fmt(r.filesPerSecond / pillow.filesPerSecond, 2)}× | ` : ''}${r.failures.length ? `✗ (${r.failures.length})` : '✓'} |`),
  ];
}

/** A Markdown table of one --check set's rows. */
function checkTable(rows) {
  const base = rows.find((r) => r.ours);
  return [
    '| tool | files/s | peak RSS | vs exif-fix --check | correct |',
    '|---|---:|---:|---:|:---:|',
    ...rows.map((r) => `| ${r.ours ? `**${r.label}**` : r.label} | ${fmt(r.filesPerSecond, 0)} | ${fmt(r.peakRssMb, 0)} MB | ${fmt(r.filesPerSecond / base.filesPerSecond, 2)}× | ${r.failures.length ? '✗' : '✓'} |`),
  ];
}

function markdown({ info, started, loadBefore, loadAfter, sets, checks, memoryRows, version, stages, targets, totalSeconds }) {
  const timing = `Each tool runs as one command on a fresh copy; wall clock${repeat > 1 ? ` (median of ${repeat}, the tools taking turns round by round)` : ''}; CPU per file: user + system time of the whole command over the number of files; peak RSS of the whole process tree. ✓: every output stored upright and matching the input's picture.`;
  const lines = [
    '# exif-fix benchmark',
    '',
    `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${Math.round(totalSeconds)} s.`,
    '',
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.ramGb} GB RAM, ${info.os}; Node ${info.node}, sharp ${info.sharp}, libvips ${info.vips}${info.libjpeg ? ` (${info.libjpeg})` : ''}. Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    '',
    '## Targets',
    '',
    ...(quick ? ['A quick run: with 8 + 40 photos, 600 small files and 20 copies of the real photos, each command is short enough for Node\'s start-up to weigh on it. The targets are judged on the full run (`npm run bench`).', ''] : []),
    '| target | measured | holds |',
    '|---|---|:---:|',
    ...targets.map((t) => `| ${t.name} | ${t.measured} | ${t.ok ? '✓' : '✗'} |`),
    '',
  ];
  for (const set of sets) {
    lines.push(`## ${set.title}`, '', set.source, `Total ${fmt(mb(set.bytes), 0)} MB. ${timing}`, '', ...photoTable(set.rows), '');
  }
  for (const c of checks) {
    lines.push(`## \`--check\`: ${c.title}`, '', `Median of ${CHECK_RUNS} runs, the tools taking turns. ✓: lists exactly the sideways photos of the 12 MP set, and exactly the ${fmt(c.sideways, 0)} sideways files here.`, '', ...checkTable(c.rows), '');
  }
  lines.push(
    '## Memory as the file count grows',
    '',
    '`exif-fix --check --quiet --files-from list`, the list naming distinct hard links to the small files.',
    '',
    '| paths | peak RSS | files/s |',
    '|---:|---:|---:|',
    ...memoryRows.map((r) => `| ${fmt(r.count, 0)}${r.cappedYoung ? ', `node --max-semi-space-size=2`' : ''} | ${fmt(r.peakRssMb, 0)} MB | ${fmt(r.filesPerSecond, 0)} |`),
    '',
    'The last row runs the largest list again with V8\'s young generation held at 2 MB semi-spaces (the default grows to 16 MB once allocation is fast): the difference is that fixed cost, the rest is the plan (every path, sorted and checked for conflicts before any work).',
    '',
    `\`exif-fix --version\`: median ${fmt(version.medianMs, 0)} ms of ${VERSION_RUNS} runs.`,
    '',
  );
  if (stages) {
    lines.push(
      '## Where the re-encode path\'s time goes',
      '',
      '`node bench/reencode-stages.js` on one orientation-6 photo of the 12 MP set: CPU time per stage, sharp (libvips) beside libjpeg-turbo\'s tools and Pillow where installed, all in one process (no allocator settings). System time is mostly page faults on fresh image buffers.',
      '',
      stages,
      '',
    );
  }
  return lines.join('\n');
}

async function main() {
  const startedAt = Date.now();
  const started = new Date();
  const loadBefore = loadAverage();
  const info = machine();
  log(`machine: ${info.cpu}, ${info.cores} cores, ${info.ramGb} GB, Node ${info.node}, sharp ${info.sharp}, libvips ${info.vips}; load ${loadBefore}`);

  let photos;
  let photoSource;
  if (photoDirArg) {
    photos = jpegsIn(path.resolve(photoDirArg));
    if (photos.length === 0) throw new Error(`No JPEGs in \`${photoDirArg}\``);
    photoSource = `JPEGs from \`${photoDirArg}\`.`;
  } else {
    log(`corpus: ${PHOTO_COUNT} 12 MP photos (generated once, then reused) ...`);
    photos = (await ensurePhotos(sharp, path.join(work, 'corpus', 'photos'), 40, log)).slice(0, PHOTO_COUNT);
    photoSource = 'Generated (bench/corpus.js): 4032×3024 baseline 4:2:0 JPEGs at quality 92 with standard Huffman tables and EXIF, photo-like texture; orientation 6 for half, 1 for a quarter, 3 and 8 for the rest.';
  }
  log(`corpus: ${SMALL_PHOTO_COUNT} 2 MP photos (generated once, then reused) ...`);
  const photos2 = (await ensurePhotos(sharp, path.join(work, 'corpus', 'photos-2mp'), 200, log, { width: 1600, height: 1200, seed: 3000 })).slice(0, SMALL_PHOTO_COUNT);
  const smallDir = path.join(work, 'corpus', `small-${SMALL_COUNT}`);
  await ensureSmall(sharp, smallDir, SMALL_COUNT);
  const real = ensureRealPhotos(REAL_COPIES);
  const refs = new Map();
  for (const f of [...photos, ...photos2]) refs.set(f, await reference(sharp, f));
  const bytesOf = (files) => files.reduce((sum, f) => sum + statSync(f).size, 0);

  log('\n12 MP photos:');
  const photoRows = await photoRun(photos, refs);
  log('\n2 MP photos:');
  const photoRows2 = await photoRun(photos2, refs, { slow: false });
  log('\n--check, small files:');
  const checkRows = await checkRun(smallDir, SMALL_COUNT, 0, photos, refs);
  log('\n--check, real photos:');
  const realRows = await checkRun(real.dir, real.count, real.sideways, photos, refs);
  log('\nmemory:');
  const memoryRows = await memoryRun(smallDir);
  const version = await versionRun();
  log('\nre-encode stages:');
  const stages = stagesRun(photos, refs);
  log('\nlossless transform, one core:');
  const losslessCpu = losslessCpuRun();
  const lossless = existsSync(path.join(work, 'lossless', 'result.json')) ? JSON.parse(readFileSync(path.join(work, 'lossless', 'result.json'), 'utf8')) : null;

  const sets = [
    { title: `${photos.length} phone photos, 12 MP`, source: photoSource, bytes: bytesOf(photos), rows: photoRows },
    { title: `${photos2.length} phone photos, 2 MP`, source: 'Generated the same way at 1600×1200 (as phones share or downscale them); jpeg-autorotate is left out (about 1 s per file).', bytes: bytesOf(photos2), rows: photoRows2 },
  ];
  const checks = [
    { title: `${fmt(SMALL_COUNT, 0)} small upright JPEGs in 30 directories`, sideways: 0, rows: checkRows },
    { title: `${fmt(real.count, 0)} real photos (${REAL_COPIES} hard links to each of the 18 photos of fixtures/photos, about 290 kB each, in 30 directories)`, sideways: real.sideways, rows: realRows },
  ];

  const targets = [];
  const ratioTarget = (name, a, b, min) => {
    if (!a || !b) return;
    const ratio = a.filesPerSecond / b.filesPerSecond;
    const digits = b.filesPerSecond >= 100 ? 0 : 2;
    targets.push({ name, measured: `${fmt(ratio, 2)}× (${fmt(a.filesPerSecond, digits)} vs ${fmt(b.filesPerSecond, digits)} files/s)`, ok: ratio >= min && !a.failures.length });
  };
  const by = (rows, id) => rows.find((r) => r.id === id);
  for (const [set, rows] of [['12 MP', photoRows], ['2 MP', photoRows2]]) {
    ratioTarget(`default run ≥ 1.5× Pillow (2 processes), ${set} (files/s)`, by(rows, 'exif-fix'), by(rows, 'pillow'), 1.5);
  }
  if (lossless?.jpegtranMs) {
    targets.push({ name: 'one lossless 12 MP transform ≤ 0.6× the CPU of `jpegtran -rotate 90 -optimize` (one core, in a warm process)', measured: `${fmt(lossless.kernelMs / lossless.jpegtranMs, 2)}× (${fmt(lossless.kernelMs, 0)} vs ${fmt(lossless.jpegtranMs, 0)} ms)`, ok: lossless.kernelMs / lossless.jpegtranMs <= 0.6 });
    targets.push({ name: 'the same as a whole process: Node start-up and one transform, against jpegtran\'s whole process', measured: `${fmt(lossless.processMs / lossless.jpegtranMs, 2)}× (${fmt(lossless.processMs, 0)} vs ${fmt(lossless.jpegtranMs, 0)} ms)`, ok: lossless.processMs / lossless.jpegtranMs <= 0.6 });
  }
  for (const [set, rows] of [['12 MP', photoRows], ['2 MP', photoRows2]]) {
    ratioTarget(`\`--lossless never\` ≥ 2× plain sharp, ${set} (files/s)`, by(rows, 'exif-fix-never'), by(rows, 'sharp'), 2);
  }
  const ours2 = by(photoRows2, 'exif-fix');
  const pillow2 = by(photoRows2, 'pillow');
  if (ours2?.cpuMsPerFile && pillow2?.cpuMsPerFile) {
    const ratio = ours2.cpuMsPerFile / pillow2.cpuMsPerFile;
    targets.push({ name: 'CPU per 2 MP file ≤ 1.0× Pillow\'s', measured: `${fmt(ratio, 2)}× (${fmt(ours2.cpuMsPerFile, 1)} vs ${fmt(pillow2.cpuMsPerFile, 1)} ms)`, ok: ratio <= 1 });
  }
  for (const r of [by(photoRows, 'exif-fix'), by(photoRows, 'exif-fix-never')]) targets.push({ name: `peak RSS ≤ 600 MB, 12 MP (${r.label}, default concurrency)`, measured: `${fmt(r.peakRssMb, 0)} MB`, ok: r.peakRssMb <= 600 });
  targets.push({ name: '`exif-fix --version` ≤ 150 ms (median)', measured: `${fmt(version.medianMs, 0)} ms`, ok: version.medianMs <= 150 });
  const check = checkRows.find((r) => r.ours);
  targets.push({ name: '`--check` ≥ 5,000 files/s (small files)', measured: `${fmt(check.filesPerSecond, 0)} files/s`, ok: check.filesPerSecond >= 5000 && !check.failures.length });
  ratioTarget('`--check` ≥ 5× exiftool -fast2, small files', check, by(checkRows, 'exiftool'), 5);
  ratioTarget('`--check` ≥ 5× exiftool -fast2, real photos', realRows.find((r) => r.ours), by(realRows, 'exiftool'), 5);
  const defaults = memoryRows.filter((r) => !r.cappedYoung);
  const first = defaults[0];
  const last = defaults[defaults.length - 1];
  const perThousand = (last.peakRssMb - first.peakRssMb) / ((last.count - first.count) / 1000);
  targets.push({
    name: `memory flat from ${fmt(first.count, 0)} to ${fmt(last.count, 0)} paths (< 0.5 MB more per 1,000 paths)`,
    measured: `${fmt(first.peakRssMb, 0)} → ${fmt(last.peakRssMb, 0)} MB (${fmt(perThousand, 2)} MB per 1,000)`,
    ok: perThousand < 0.5,
  });

  const loadAfter = loadAverage();
  const totalSeconds = (Date.now() - startedAt) / 1000;
  const md = `${markdown({ info, started, loadBefore, loadAfter, sets, checks, memoryRows, version, stages, targets, totalSeconds })}\n${losslessCpu}\n`;
  writeFileSync(path.join(here, 'results.md'), md);
  const bars = (rows) => rows.map((r) => ({ label: r.label, value: r.filesPerSecond, highlight: r.ours, note: r.failures.length ? '✗ wrong output' : '' }));
  const svg = barChart(
    [
      { title: `${photos.length} × 12 MP phone photos: files/s (higher is better)`, bars: bars(photoRows) },
      { title: `${photos2.length} × 2 MP phone photos: files/s`, bars: bars(photoRows2) },
      { title: `--check on ${fmt(real.count, 0)} real photos: files/s`, bars: bars(realRows) },
    ],
    { caption: `${info.cpu}, ${info.cores} cores; Node ${info.node}, sharp ${info.sharp}, libvips ${info.vips}; ${started.toISOString().slice(0, 10)}` },
  );
  writeFileSync(path.join(here, 'chart.svg'), svg);
  mkdirSync(work, { recursive: true });
  writeFileSync(path.join(work, 'results.json'), JSON.stringify({ info, started, loadBefore, loadAfter, sets, checks, memoryRows, version, lossless, targets }, null, 1));

  process.stdout.write(`\n${md}\n`);
  log(`wrote bench/results.md and bench/chart.svg in ${Math.round(totalSeconds)} s`);
  const wrong = [...photoRows, ...photoRows2, ...checkRows, ...realRows].filter((r) => r.ours && r.failures.length);
  if (wrong.length) {
    for (const r of wrong) log(`${r.label}: wrong outputs:\n  ${r.failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
