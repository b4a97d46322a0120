#!/usr/bin/env node
// Where the re-encode path's time goes, per 12 MP photo: the stages of sharp's pipeline measured
// one by one in this process (CPU time, user and system), beside the same stages in
// libjpeg-turbo's djpeg/cjpeg and in Pillow when they are installed.
//
//   node bench/reencode-stages.js [photo.jpg] [--runs N]
//
// Default photo: the first orientation-6 photo of the benchmark corpus (bench/corpus.js makes it).
// Prints a table; writes nothing. System CPU time is mostly page faults: a 12 MP RGB image is
// 36 MB, above glibc's largest mmap threshold (32 MB), so every decode maps fresh pages.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1]) || 1) : 5;
const photoDir = path.join(here, '..', '.bench', 'corpus', 'photos');
const given = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs');
const photo = given ?? (existsSync(photoDir) ? path.join(photoDir, readdirSync(photoDir).sort().find((n) => /^photo-\d+\.jpg$/.test(n)) ?? '') : '');
if (!photo || !existsSync(photo)) {
  process.stderr.write('No photo: pass a JPEG, or run `npm run bench -- --quick` once to make the corpus.\n');
  process.exit(2);
}

const bytes = readFileSync(photo);
const meta = await sharp(bytes).metadata();
const { width, height } = meta;
const opts = { quality: 92, chromaSubsampling: '4:2:0', optimiseCoding: false };
const rows = [];

/** Mean CPU time (user, system) of `fn` over RUNS runs after one warm-up, in milliseconds. */
async function cpu(label, fn) {
  await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) await fn();
  const c = process.cpuUsage(c0);
  rows.push({ label, user: c.user / 1000 / RUNS, system: c.system / 1000 / RUNS });
}

const { data: raw, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
await cpu('sharp: decode only (all rows decoded, 8 kept)', () => sharp(bytes).extract({ left: 0, top: height - 8, width, height: 8 }).raw().toBuffer());
await cpu('sharp: decode to a raw buffer', () => sharp(bytes).raw().toBuffer());
await cpu('sharp: encode a raw buffer (q92 4:2:0)', () => sharp(raw, { raw: info }).jpeg(opts).toBuffer());
await cpu('sharp: rotate a raw buffer 90°', () => sharp(raw, { raw: info }).rotate(90).raw().toBuffer());
await cpu('sharp: decode + encode, no rotation (streaming)', () => sharp(bytes).jpeg(opts).toBuffer());
await cpu('sharp: decode + rotate 90° + encode (exif-fix --lossless never)', () => sharp(bytes).rotate(90).jpeg(opts).toBuffer());
await cpu('sharp: autoOrient + keepMetadata, defaults (the plain pipeline)', () => sharp(bytes).autoOrient().keepMetadata().toBuffer());

/** Mean CPU time of a child command over RUNS runs (process start-up included), in milliseconds. */
function child(label, command, args) {
  const probe = spawnSync(command, args);
  if (probe.error || probe.status !== 0) return;
  let user = 0;
  let system = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', command, ...args], { encoding: 'utf8' });
    const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    user += u * 1000;
    system += s * 1000;
  }
  rows.push({ label, user: user / RUNS, system: system / RUNS });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'exif-fix-stages-'));
try {
  if (existsSync('/usr/bin/time')) {
    const ppm = path.join(tmp, 'p.ppm');
    child('djpeg (libjpeg-turbo): decode to PPM', 'djpeg', ['-outfile', ppm, photo]);
    if (existsSync(ppm)) child('cjpeg (libjpeg-turbo): encode PPM (q92 4:2:0)', 'cjpeg', ['-quality', '92', '-sample', '2x2', '-outfile', path.join(tmp, 'c.jpg'), ppm]);
    child('jpegtran: lossless rotate 90 (-optimize)', 'jpegtran', ['-rotate', '90', '-optimize', '-outfile', path.join(tmp, 't.jpg'), photo]);
  }
  const script = path.join(tmp, 'pillow.py');
  writeFileSync(
    script,
    [
      'import io, resource, sys, time',
      'from PIL import Image',
      'runs = int(sys.argv[2])',
      'def cpu(fn):',
      '    fn()',
      '    a = resource.getrusage(resource.RUSAGE_SELF)',
      '    for _ in range(runs): fn()',
      '    b = resource.getrusage(resource.RUSAGE_SELF)',
      '    return (b.ru_utime - a.ru_utime) * 1000 / runs, (b.ru_stime - a.ru_stime) * 1000 / runs',
      'def load():',
      '    im = Image.open(sys.argv[1]); im.load(); return im',
      'im = load()',
      'up = im.transpose(Image.Transpose.ROTATE_270)',
      'def save(): up.save(io.BytesIO(), "JPEG", quality=92, subsampling=2)',
      'def whole():',
      '    x = load().transpose(Image.Transpose.ROTATE_270); x.save(io.BytesIO(), "JPEG", quality=92, subsampling=2)',
      'for label, fn in [("decode", load), ("rotate 90°", lambda: im.transpose(Image.Transpose.ROTATE_270)), ("encode (q92 4:2:0)", save), ("decode + rotate + encode", whole)]:',
      '    u, s = cpu(fn)',
      '    print(f"{label}\\t{u:.1f}\\t{s:.1f}")',
    ].join('\n'),
  );
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, [script, photo, String(RUNS)], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    for (const line of r.stdout.trim().split('\n')) {
      const [label, user, system] = line.split('\t');
      rows.push({ label: `Pillow: ${label}`, user: Number(user), system: Number(system) });
    }
    break;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

process.stdout.write(`${path.basename(photo)}: ${width}×${height}, ${(bytes.length / 1e6).toFixed(1)} MB; mean of ${RUNS} runs; CPU time in ms\n\n`);
process.stdout.write('| stage | user | system | total |\n|---|---:|---:|---:|\n');
for (const r of rows) process.stdout.write(`| ${r.label} | ${r.user.toFixed(0)} | ${r.system.toFixed(0)} | ${(r.user + r.system).toFixed(0)} |\n`);
