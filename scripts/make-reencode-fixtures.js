#!/usr/bin/env node
// Generates fixtures/reencode/: JPEGs in every chroma subsampling libjpeg writes, made once with
// Debian's libjpeg-turbo-progs `cjpeg` (sharp/mozjpeg cannot write 4:2:2, 4:4:0 or 4:1:1, nor
// custom quantization tables) from deterministic photo-like pixels; committed, so the test
// suite does not need cjpeg. Usage: node scripts/make-reencode-fixtures.js [fixturesDir]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.argv[2] ?? path.join(here, '..', 'fixtures'));
const dir = path.join(root, 'reencode');
mkdirSync(dir, { recursive: true });
const work = mkdtempSync(path.join(os.tmpdir(), 'reencode-fixtures-'));

/** Photo-like pixels: gradients, edges, soft texture and a little seeded noise. */
function texture(width, height, channels, seed = 11) {
  const out = Buffer.alloc(width * height * channels);
  let s = seed;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = (x > width / 3 && y < (2 * height) / 3 ? 60 : 0) + ((x + 2 * y) % 41 < 3 ? 35 : 0);
      for (let c = 0; c < channels; c++) {
        const grad = c % 3 === 0 ? (x * 180) / width : c % 3 === 1 ? (y * 180) / height : ((x + y) * 90) / (width + height);
        const v = 30 + grad + edge * (c === 1 ? -0.5 : 1) + 20 * Math.sin((x + c * 7) / 9) * Math.cos(y / 11) + rnd() * 8;
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

function source(width, height, grey) {
  const file = path.join(work, `${width}x${height}.${grey ? 'pgm' : 'ppm'}`);
  writeFileSync(file, Buffer.concat([Buffer.from(`${grey ? 'P5' : 'P6'}\n${width} ${height}\n255\n`), texture(width, height, grey ? 1 : 3)]));
  return file;
}

// A camera-like pair of tables that are not scaled IJG tables (as in issue 14's quality-91 file).
const cameraTables = path.join(work, 'camera-tables.txt');
const luma = Array.from({ length: 64 }, (_, i) => 2 + Math.floor(((i >> 3) + (i & 7)) / 2));
const chroma = Array.from({ length: 64 }, (_, i) => 3 + ((i >> 3) + (i & 7)));
writeFileSync(cameraTables, `${luma.join(' ')}\n${chroma.join(' ')}\n`);

const made = [
  ['420.jpg', 256, 176, false, ['-quality', '85', '-sample', '2x2']],
  ['422.jpg', 256, 176, false, ['-quality', '85', '-sample', '2x1']],
  ['440.jpg', 256, 176, false, ['-quality', '85', '-sample', '1x2']],
  ['444.jpg', 256, 176, false, ['-quality', '85', '-sample', '1x1']],
  ['411.jpg', 256, 176, false, ['-quality', '85', '-sample', '4x1']],
  ['grey.jpg', 256, 176, true, ['-quality', '85', '-grayscale']],
  ['camera-422.jpg', 251, 173, false, ['-qtables', cameraTables, '-qslots', '0,1,1', '-sample', '2x1']],
];
const lines = ['# Re-encode fixtures (fixtures/reencode)', '', 'Made once with `node scripts/make-reencode-fixtures.js` (libjpeg-turbo `cjpeg` 2.1, `-optimize`); do not edit.', '',
  '| file | size | cjpeg switches |', '|---|---|---|'];
for (const [name, w, h, grey, args] of made) {
  execFileSync('cjpeg', [...args, '-optimize', '-outfile', path.join(dir, name), source(w, h, grey)]);
  lines.push(`| \`${name}\` | ${w}x${h} | \`${args.map((a) => (a === cameraTables ? 'camera-tables.txt' : a)).join(' ')} -optimize\` |`);
}
writeFileSync(path.join(dir, 'camera-tables.txt'), `${luma.join(' ')}\n${chroma.join(' ')}\n`);
lines.push('', '`camera-tables.txt`: the two non-IJG quantization tables (natural order) of `camera-422.jpg`.');
writeFileSync(path.join(dir, 'README.md'), `${lines.join('\n')}\n`);
rmSync(work, { recursive: true, force: true });
console.log(`re-encode fixtures written to ${dir}`);
