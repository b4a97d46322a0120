#!/usr/bin/env node
// Makes fixtures/lossless-kernel/: JPEGs written by Debian's libjpeg-turbo-progs (cjpeg, jpegtran)
// in the samplings, restart intervals, scan scripts and table precisions that sharp cannot
// write, for test/jpeg-lossless-kernel.test.ts (the WebAssembly kernel against the TypeScript
// reference), so that the main suite needs no Debian tool. Run once; the files are committed:
//   node scripts/make-kernel-fixtures.js          (needs cjpeg and jpegtran on PATH)
// fixtures/lossless-kernel/README.md lists every file with the exact command that made it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'fixtures', 'lossless-kernel');
const tmp = path.join(os.tmpdir(), `exif-fix-kernel-fixtures-${process.pid}`);
mkdirSync(out, { recursive: true });
mkdirSync(tmp, { recursive: true });

/** Seeded pixels with gradients, edges, ripples and noise, so every block has AC coefficients. */
function pixels(width, height, channels, seed) {
  const out = Buffer.alloc(width * height * channels);
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = (x > width / 3 && y < (2 * height) / 3 ? 70 : 0) + ((x + 2 * y) % 23 < 3 ? 40 : 0);
      for (let c = 0; c < channels; c++) {
        const grad = c === 0 ? (x * 180) / width : c === 1 ? (y * 180) / height : ((x + y) * 90) / (width + height);
        const v = 20 + grad + edge * (c === 1 ? -0.5 : 1) + 25 * Math.sin((x + c * 7) / 5) * Math.cos(y / 7) + rnd() * 30;
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/** Writes a PPM (or PGM) of `pixels` to the temporary directory. */
function pnm(name, width, height, gray) {
  const file = path.join(tmp, `${name}.${gray ? 'pgm' : 'ppm'}`);
  const header = Buffer.from(`${gray ? 'P5' : 'P6'}\n${width} ${height}\n255\n`, 'latin1');
  writeFileSync(file, Buffer.concat([header, pixels(width, height, gray ? 1 : 3, width * 31 + height)]));
  return file;
}

// [file, width, height, gray, cjpeg switches]; 192x128 is a multiple of every iMCU here, 123x77 of none.
const CJPEG = [
  ['422-restart-1row', 192, 128, false, ['-quality', '90', '-sample', '2x1', '-restart', '1']],
  ['422-progressive-restart-3', 192, 128, false, ['-quality', '88', '-sample', '2x1', '-progressive', '-restart', '3B']],
  ['440-baseline', 192, 128, false, ['-quality', '90', '-sample', '1x2']],
  ['440-progressive-restart-2', 192, 128, false, ['-quality', '90', '-sample', '1x2', '-progressive', '-restart', '2B']],
  ['411-progressive', 192, 128, false, ['-quality', '92', '-sample', '4x1', '-progressive']],
  ['221112-restart-1', 192, 128, false, ['-quality', '90', '-sample', '2x2,2x1,1x2', '-restart', '1B']],
  ['420-one-scan-per-component', 192, 128, false, ['-quality', '90', '-scans', 'SCANS']],
  ['420-quality-3-16bit-tables', 192, 128, false, ['-quality', '3']],
  ['rgb-adobe-transform-0', 192, 128, false, ['-quality', '90', '-rgb']],
  ['gray-baseline', 192, 128, true, ['-quality', '90']],
  ['gray-progressive-restart-5', 192, 128, true, ['-quality', '90', '-progressive', '-restart', '5B']],
  ['420-standard-tables-odd-size', 123, 77, false, ['-quality', '85']],
  ['420-progressive-odd-size', 123, 77, false, ['-quality', '85', '-progressive']],
  ['422-one-scan-per-component-odd-size', 123, 77, false, ['-quality', '90', '-sample', '2x1', '-scans', 'SCANS']],
  ['444-standard-tables-restart-7', 128, 96, false, ['-quality', '97', '-sample', '1x1', '-restart', '7B']],
];

const scans = path.join(tmp, 'one-per-component.scans');
writeFileSync(scans, '0;\n1;\n2;\n');
const readme = ['# Lossless kernel fixtures', '',
  'Made by `node scripts/make-kernel-fixtures.js` with libjpeg-turbo-progs (cjpeg, jpegtran) from seeded',
  'noisy gradient pixels (`pixels()` in that script) written as a PPM/PGM. Used by',
  'test/jpeg-lossless-kernel.test.ts. `one-per-component.scans` holds `0;` `1;` `2;` on three lines.', '',
  '| file | command |', '|---|---|'];
for (const [name, w, h, gray, args] of CJPEG) {
  const input = pnm(name, w, h, gray);
  const file = path.join(out, `${name}.jpg`);
  const argv = args.map((a) => (a === 'SCANS' ? scans : a));
  execFileSync('cjpeg', [...argv, '-outfile', file, input]);
  readme.push(`| ${name}.jpg | \`cjpeg ${args.map((a) => (a === 'SCANS' ? 'one-per-component.scans' : a)).join(' ')} ${name}.${gray ? 'pgm' : 'ppm'}\` (${w}x${h}) |`);
}
// Arithmetic coding, which both engines refuse the same way.
execFileSync('jpegtran', ['-arithmetic', '-outfile', path.join(out, 'arithmetic.jpg'), path.join(out, '440-baseline.jpg')]);
readme.push('| arithmetic.jpg | `jpegtran -arithmetic 440-baseline.jpg` |');
writeFileSync(path.join(out, 'README.md'), `${readme.join('\n')}\n`);
rmSync(tmp, { recursive: true, force: true });
console.log(`wrote ${CJPEG.length + 1} files to ${path.relative(root, out)}`);
