// The memory budget under pressure: N copies of a PNG declaring W x W 16-bit RGBA (decoded
// 8 * W^2 bytes each) normalized at --concurrency N with --max-memory B. Prints the peak RSS
// of the whole run (GNU time's maximum resident set size) against the budget.
//
//   node bench/memory-budget.js [--count 16] [--size 16383] [--max-memory 3G]
//
// Needs GNU time (/usr/bin/time, Debian package `time`). The default size is the worst case the
// pixel limit allows (0x3FFF^2); each such file takes about 25 s of CPU, one at a time.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const count = Number(arg('count', '16'));
const size = Number(arg('size', '16383'));
const budget = arg('max-memory', '3G');

const dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-memory-'));
try {
  await mkdir(path.join(dir, 'in'));
  const first = path.join(dir, 'in', 'big-00.png');
  // A smooth gradient compresses to a small file but decodes to the full 8 * W^2 bytes.
  await sharp({ create: { width: size, height: size, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 1 } } })
    .png({ compressionLevel: 9 })
    .toColourspace('rgb16')
    .withMetadata({ orientation: 6 })
    .toFile(first);
  for (let i = 1; i < count; i++) await copyFile(first, path.join(dir, 'in', `big-${String(i).padStart(2, '0')}.png`));
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(ROOT, 'bin', 'exif-fix.js'), 'in', '--out', 'out', '--concurrency', String(count), '--max-memory', budget, '-q'], { cwd: dir, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  const peakKiB = Number(r.stderr.trim().split('\n').pop());
  const budgetBytes = Number(execFileSync(process.execPath, ['-e', `const m=/^(\\d+(?:\\.\\d+)?)([KMGT]?)/i.exec(${JSON.stringify(budget)});console.log(Math.floor(m[1]*({'':1,K:1024,M:1024**2,G:1024**3,T:1024**4})[m[2].toUpperCase()]))`]).toString());
  console.log(`${count} x ${size}x${size} 16-bit RGBA PNG (decoded ${((8 * size * size) / 2 ** 30).toFixed(2)} GiB each), --concurrency ${count}, --max-memory ${budget}`);
  console.log(`exit ${r.status}; ${seconds.toFixed(1)} s; peak RSS ${(peakKiB / 2 ** 20).toFixed(2)} GiB = ${((peakKiB * 1024) / budgetBytes).toFixed(2)} x the budget`);
  if (r.status !== 0) console.log(r.stderr.split('\n').slice(-5).join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
