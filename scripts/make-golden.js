#!/usr/bin/env node
// Regenerates fixtures/golden/: the input JPEGs of the lossless JPEG tests (made with sharp and
// with libjpeg-turbo's cjpeg) and the reference outputs of libjpeg-turbo's jpegtran, so that
// `npm test` compares against them without those tools installed. Writes
// fixtures/golden/manifest.json (every file, the exact command that made it, its SHA-256) and
// fixtures/golden/README.md. Needs Debian's libjpeg-turbo-progs (cjpeg, jpegtran).
// Usage: node scripts/make-golden.js   (or: npm run golden)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { losslessPathJpeg } from './fixtures/common.js';
import {
  ALIGNED, GOLDEN, H, JPEGTRAN_ARGS, JPEGTRAN_KERNEL, SINGLES, UNALIGNED, UNALIGNED_SIZES, W,
  caseDir, makeSample, sampleCommand, sharpJpeg,
} from './golden/jpeg-lossless.js';

for (const tool of ['cjpeg', 'jpegtran']) {
  if (spawnSync(tool, ['-version']).error) {
    console.error(`make-golden: \`${tool}\` is not installed (Debian: apt-get install libjpeg-turbo-progs)`);
    process.exit(2);
  }
}
const version = spawnSync('jpegtran', ['-version'], { encoding: 'utf8' });
const toolVersion = (version.stderr || version.stdout).trim().split('\n')[0];
const sharpVersion = (await import('sharp')).default.versions;

/** @type {Array<{ file: string, command: string, sha256: string }>} */
const manifest = [];
const scratch = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-golden-'));
await rm(GOLDEN, { recursive: true, force: true });

/** Writes a golden file and records the command that made it. */
async function put(file, bytes, command) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  manifest.push({ file: path.relative(GOLDEN, file), command, sha256: createHash('sha256').update(bytes).digest('hex') });
}

/** Runs jpegtran with `args` on `input`; the output, or null when it refuses (not perfect). */
function jpegtran(args, input) {
  const r = spawnSync('jpegtran', [...args, input], { maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout : null;
}

/** An aligned or unaligned case: the input and jpegtran's output for each orientation it accepts. */
async function goldenCase(sample, w, h, dir) {
  const input = await makeSample(sample, w, h, scratch, `${sample.id}-${w}x${h}`);
  const inputFile = path.join(dir, 'input.jpg');
  await put(inputFile, input, sampleCommand(sample, w, h));
  for (let o = 1; o <= 8; o++) {
    const args = [...JPEGTRAN_KERNEL, ...JPEGTRAN_ARGS[o]];
    const out = jpegtran(args, inputFile);
    if (out) await put(path.join(dir, `jpegtran-${o}.jpg`), out, `jpegtran ${args.join(' ')} input.jpg > jpegtran-${o}.jpg`);
  }
}

for (const sample of ALIGNED) await goldenCase(sample, W, H, caseDir(sample.id));
for (const sample of UNALIGNED) for (const size of UNALIGNED_SIZES) await goldenCase(sample, size[0], size[1], caseDir(sample.id, size));
for (const [key, sample] of Object.entries(SINGLES)) {
  const [w, h] = key === 'meta-422' ? [W, H] : [64, 48];
  await put(path.join(GOLDEN, 'jpeg-lossless', 'singles', `${key}.jpg`), await makeSample(sample, w, h, scratch, key), sampleCommand(sample, w, h));
}

// An arithmetic-coded JPEG (refused by the lossless path).
const baseline = await sharpJpeg(64, 48, { chromaSubsampling: '4:2:0' });
const baselineFile = path.join(GOLDEN, 'jpeg-lossless', 'singles', 'baseline-64x48.jpg');
await put(baselineFile, baseline, sampleCommand({ id: 'baseline', name: '', sharp: { chromaSubsampling: '4:2:0' } }, 64, 48));
await put(path.join(GOLDEN, 'jpeg-lossless', 'singles', 'arithmetic.jpg'), execFileSync('jpegtran', ['-arithmetic', baselineFile]),
  'jpegtran -arithmetic baseline-64x48.jpg > arithmetic.jpg');

// The end-to-end lossless path (test/lossless-path.test.ts): a 64x48 4:2:0 JPEG stored in each
// orientation with EXIF (and thumbnail) and XMP, and `jpegtran -perfect` of it.
for (let o = 2; o <= 8; o++) {
  const jpeg = await losslessPathJpeg(o);
  const dir = path.join(GOLDEN, 'lossless-path');
  await put(path.join(dir, `in_${o}.jpg`), jpeg,
    `losslessPathJpeg(${o}) (scripts/fixtures/common.js): sharp(storedPixels(uprightPixels({ width: 64, height: 48 }), ${o})).jpeg({ quality: 88, chromaSubsampling: '4:2:0' }) + EXIF and XMP of metadataFor(${o})`);
  const args = ['-perfect', ...JPEGTRAN_ARGS[o]];
  execFileSync('jpegtran', [...args, '-outfile', path.join(scratch, 'ref.jpg'), path.join(dir, `in_${o}.jpg`)]);
  await put(path.join(dir, `jpegtran_${o}.jpg`), await readFile(path.join(scratch, 'ref.jpg')),
    `jpegtran ${args.join(' ')} -outfile jpegtran_${o}.jpg in_${o}.jpg`);
}
await rm(scratch, { recursive: true, force: true });

manifest.sort((a, b) => a.file.localeCompare(b.file));
await writeFile(path.join(GOLDEN, 'manifest.json'), `${JSON.stringify({ tools: { jpegtran: toolVersion, sharp: sharpVersion.sharp, libvips: sharpVersion.vips }, files: manifest }, null, 1)}\n`);
await writeFile(path.join(GOLDEN, 'README.md'), [
  '# Golden files',
  '',
  'Made once by `node scripts/make-golden.js` (`npm run golden`) with Debian\'s libjpeg-turbo-progs,',
  `here \`${toolVersion}\`, and sharp ${sharpVersion.sharp} (libvips ${sharpVersion.vips}). Do not edit by hand:`,
  'run the script again (it removes and rewrites this folder) and commit the result.',
  '`npm test` reads these files and needs none of the tools; `npm run test:system` runs jpegtran',
  'again on the committed inputs and checks that it still gives these outputs.',
  '',
  'Pixels of the inputs: `texture(width, height, channels, seed)` in `scripts/golden/jpeg-lossless.js`',
  '(gradients, edges and seeded noise), written as a PPM (P6) or PGM (P5) for cjpeg.',
  '',
  '| folder | what |',
  '|---|---|',
  '| `jpeg-lossless/<sample>/input.jpg` | a 96x64 test JPEG (its size is a multiple of its iMCU) |',
  '| `jpeg-lossless/<sample>/jpegtran-<o>.jpg` | `jpegtran -perfect -optimize -copy all <transform for orientation o> input.jpg` |',
  '| `jpeg-lossless/<sample>/<w>x<h>/` | the same at a size that is not an iMCU multiple; only the orientations jpegtran -perfect accepts have an output |',
  '| `jpeg-lossless/singles/` | inputs of the sampling-factor and refusal tests; `arithmetic.jpg` is `jpegtran -arithmetic baseline-64x48.jpg` |',
  '| `lossless-path/in_<o>.jpg`, `jpegtran_<o>.jpg` | a 64x48 JPEG stored in orientation o with EXIF and XMP, and `jpegtran -perfect <transform> -outfile jpegtran_<o>.jpg in_<o>.jpg` |',
  '',
  'Transforms per orientation: 2 `-flip horizontal`, 3 `-rotate 180`, 4 `-flip vertical`, 5 `-transpose`,',
  '6 `-rotate 90`, 7 `-transverse`, 8 `-rotate 270` (1: none).',
  '',
  '`manifest.json` lists every file with the exact command that made it and its SHA-256.',
  '',
].join('\n'));
console.log(`make-golden: ${manifest.length} files in ${path.relative(process.cwd(), GOLDEN) || GOLDEN}`);
