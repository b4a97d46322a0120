#!/usr/bin/env node
// Size and error of JPEG re-encodes: for each JPEG given (files or directories), the re-encode
// with the source's own quantization tables and subsampling (the default) and the sharp path
// (mozjpeg at the estimated quality, 4:2:0 or 4:4:4), each written as exif-fix writes it (the
// source's metadata kept). Size ratio = output bytes / source bytes; PSNR (dB) against the
// source's own decoded pixels with the same orientation applied.
//
//   npm run build && node bench/reencode-fidelity.js <jpeg|dir>... [--orientation N] [--encode-only MODE]
//
// --orientation N applies N to every file (default: the file's own orientation, 6 when it is 1).
// --encode-only source-tables|sharp re-encodes every file once with that encoder and prints
// nothing else (for timing the two paths with an outside timer).
// With no path, it makes its own test set with cjpeg (libjpeg-turbo-progs) in .bench/fidelity:
// photo-like pixels at quality 75 and 90 in 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1 and greyscale.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { jpeg } from '../dist/containers/jpeg.js';
import { decideOrientation } from '../dist/orientation.js';
import { reencode } from '../dist/pixels/reencode.js';
import { applyOrientation } from '../dist/pixels/sharp-transform.js';
import { texture } from '../scripts/golden/jpeg-lossless.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv.splice(at, 2)[1] : undefined;
};
const forced = option('--orientation');
const encodeOnly = option('--encode-only');

function makeTestSet() {
  const dir = path.join(here, '..', '.bench', 'fidelity');
  mkdirSync(dir, { recursive: true });
  const [w, h] = [1021, 763];
  const rgb = texture(w, h, 3, 7);
  const grey = texture(w, h, 1, 7);
  writeFileSync(path.join(dir, 'src.ppm'), Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), rgb]));
  writeFileSync(path.join(dir, 'src.pgm'), Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), grey]));
  const files = [];
  for (const q of [75, 90]) {
    for (const [name, sample] of [['444', '1x1'], ['422', '2x1'], ['420', '2x2'], ['440', '1x2'], ['411', '4x1']]) {
      const out = path.join(dir, `q${q}-${name}.jpg`);
      execFileSync('cjpeg', ['-quality', String(q), '-sample', sample, '-optimize', '-outfile', out, path.join(dir, 'src.ppm')]);
      files.push(out);
    }
    const out = path.join(dir, `q${q}-grey.jpg`);
    execFileSync('cjpeg', ['-quality', String(q), '-grayscale', '-optimize', '-outfile', out, path.join(dir, 'src.pgm')]);
    files.push(out);
  }
  return files;
}

const inputs = argv.length === 0 ? makeTestSet() : argv.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((n) => /\.jpe?g$/i.test(n)).sort().map((n) => path.join(p, n)) : [p]));

async function decoded(bytes, orientation, grey) {
  let image = sharp(bytes, { ignoreIcc: true });
  if (grey) image = image.pipelineColourspace('b-w');
  image = orientation ? applyOrientation(image, orientation) : image;
  return image.toColourspace(grey ? 'b-w' : 'srgb').raw().toBuffer();
}

function psnr(a, b) {
  if (a.length !== b.length) return NaN;
  let se = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; se += d * d; }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
}

const rows = [];
for (const file of inputs) {
  const bytes = readFileSync(file);
  const info = jpeg.read(bytes);
  const own = decideOrientation(info.places).orientation;
  const orientation = forced ? Number(forced) : own === 1 ? 6 : own;
  if (encodeOnly) {
    await reencode(bytes, jpeg, info, orientation, { jpegEncoder: encodeOnly });
    continue;
  }
  const grey = info.structure.frame.components.length === 1;
  const reference = await decoded(bytes, orientation, grey);
  const row = { file: path.basename(file), sampling: info.chromaSubsampling, source: bytes.length };
  for (const encoder of ['source-tables', 'sharp']) {
    const pixels = await reencode(bytes, jpeg, info, orientation, { jpegEncoder: encoder });
    const out = await jpeg.write(bytes, info, pixels, { orientation, warnings: [] });
    row[encoder] = { ratio: out.length / bytes.length, psnr: psnr(reference, await decoded(out, 0, grey)) };
  }
  rows.push(row);
}
if (encodeOnly) process.exit(0);

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (r) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
console.log('| file | sampling | source bytes | source tables: size, PSNR | sharp: size, PSNR |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const cell = (e) => `${pct(e.ratio)}, ${e.psnr.toFixed(2)} dB`;
  console.log(`| ${r.file} | ${r.sampling} | ${r.source} | ${cell(r['source-tables'])} | ${cell(r.sharp)} |`);
}
console.log('');
console.log('| encoder | files | median size ratio | max size ratio | median PSNR (dB) | min PSNR (dB) |');
console.log('|---|---|---|---|---|---|');
for (const encoder of ['source-tables', 'sharp']) {
  const ratios = rows.map((r) => r[encoder].ratio);
  const psnrs = rows.map((r) => r[encoder].psnr);
  console.log(`| ${encoder} | ${rows.length} | ${median(ratios).toFixed(3)} | ${Math.max(...ratios).toFixed(3)} | ${median(psnrs).toFixed(2)} | ${Math.min(...psnrs).toFixed(2)} |`);
}
