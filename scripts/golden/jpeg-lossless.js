// The lossless JPEG golden cases: which test JPEGs exist, how each is made (sharp or
// libjpeg-turbo's cjpeg, from deterministic photo-like pixels), and the jpegtran command whose
// output each lossless transform is compared with. Shared by scripts/make-golden.js (which runs
// the tools once and commits their outputs under fixtures/golden/) and by the tests (the main
// suite reads the committed files; the system suite runs the tools again).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the golden files live. */
export const GOLDEN = path.join(ROOT, 'fixtures', 'golden');

/**
 * Photo-like test pixels: gradients, a few edges and seeded noise (xorshift32), interleaved,
 * `channels` 1, 3 or 4 samples of 8 bits per pixel.
 * @param {number} width - pixels
 * @param {number} height - pixels
 * @param {number} channels - 1, 3 or 4
 * @param {number} [seed]
 * @returns {Buffer}
 */
export function texture(width, height, channels, seed = 1) {
  const out = Buffer.alloc(width * height * channels);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = (x > width / 3 && y < (2 * height) / 3 ? 70 : 0) + ((x + 2 * y) % 23 < 3 ? 40 : 0);
      for (let c = 0; c < channels; c++) {
        const grad = c % 3 === 0 ? (x * 200) / width : c % 3 === 1 ? (y * 200) / height : ((x + y) * 100) / (width + height);
        const v = 20 + grad + edge * (c === 1 ? -0.5 : 1) + 25 * Math.sin((x + c * 7) / 5) * Math.cos(y / 7) + rnd() * 24;
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/**
 * Encodes {@link texture} pixels with sharp; `cmyk` converts to a 4-component CMYK JPEG.
 * @param {number} width
 * @param {number} height
 * @param {{ quality?: number, chromaSubsampling?: '4:2:0' | '4:4:4', progressive?: boolean, mozjpeg?: boolean, cmyk?: boolean }} options
 * @returns {Promise<Buffer>}
 */
export async function sharpJpeg(width, height, options) {
  const raw = texture(width, height, 3, width * 17 + height);
  let img = sharp(raw, { raw: { width, height, channels: 3 } });
  if (options.cmyk) img = img.toColourspace('cmyk');
  return img.jpeg({
    quality: options.quality ?? 90,
    chromaSubsampling: options.chromaSubsampling ?? '4:2:0',
    progressive: options.progressive ?? false,
    mozjpeg: options.mozjpeg ?? false,
  }).toBuffer();
}

/**
 * The PPM (P6) or PGM (P5) that cjpeg reads for a `width`x`height` case: {@link texture} pixels
 * seeded with `width * 31 + height`.
 * @param {number} width
 * @param {number} height
 * @param {boolean} gray
 * @returns {Buffer}
 */
export function pnm(width, height, gray) {
  const pixels = texture(width, height, gray ? 1 : 3, width * 31 + height);
  return Buffer.concat([Buffer.from(`${gray ? 'P5' : 'P6'}\n${width} ${height}\n255\n`, 'latin1'), pixels]);
}

/**
 * Runs libjpeg-turbo's cjpeg on the {@link pnm} pixels, in `dir`: writes `<name>.ppm`/`.pgm`
 * and `<name>.jpg`, and `<name>.scans` when `scans` is given (its path replaces the `{scans}`
 * argument). Throws when cjpeg is not installed.
 * @param {string} dir
 * @param {string} name
 * @param {number} width
 * @param {number} height
 * @param {{ gray?: boolean, args: string[], scans?: string }} recipe
 * @returns {Buffer}
 */
export function cjpeg(dir, name, width, height, recipe) {
  const input = path.join(dir, `${name}.${recipe.gray ? 'pgm' : 'ppm'}`);
  const output = path.join(dir, `${name}.jpg`);
  writeFileSync(input, pnm(width, height, recipe.gray ?? false));
  let args = recipe.args;
  if (recipe.scans !== undefined) {
    const script = path.join(dir, `${name}.scans`);
    writeFileSync(script, recipe.scans);
    args = args.map((a) => (a === '{scans}' ? script : a));
  }
  execFileSync('cjpeg', [...args, '-outfile', output, input]);
  return readFileSync(output);
}

/** jpegtran switches for the transform each EXIF orientation value asks for (1: none). */
export const JPEGTRAN_ARGS = {
  1: [],
  2: ['-flip', 'horizontal'],
  3: ['-rotate', '180'],
  4: ['-flip', 'vertical'],
  5: ['-transpose'],
  6: ['-rotate', '90'],
  7: ['-transverse'],
  8: ['-rotate', '270'],
};

/** The jpegtran switches the kernel tests compare with: perfect only, optimal Huffman tables, every marker. */
export const JPEGTRAN_KERNEL = ['-perfect', '-optimize', '-copy', 'all'];

/**
 * @typedef {object} Sample
 * @property {string} id - folder name under fixtures/golden/jpeg-lossless/
 * @property {string} name - the test's name for it
 * @property {boolean} [optimized] - baseline input with optimized Huffman tables (sharp's default)
 * @property {Parameters<typeof sharpJpeg>[2]} [sharp] - made by {@link sharpJpeg} with these options
 * @property {{ gray?: boolean, args: string[], scans?: string }} [cjpeg] - made by {@link cjpeg}
 */

/** Width and height of the aligned samples, in pixels: a multiple of every iMCU below (at most 32 x 16). */
export const W = 96;
export const H = 64;

/** @type {Sample[]} JPEGs whose size is a multiple of their iMCU: every orientation is perfect. */
export const ALIGNED = [
  { id: 'sharp-420-baseline', name: '4:2:0 baseline (sharp)', optimized: true, sharp: { chromaSubsampling: '4:2:0' } },
  { id: 'sharp-420-progressive', name: '4:2:0 progressive (sharp)', sharp: { chromaSubsampling: '4:2:0', progressive: true } },
  { id: 'sharp-420-mozjpeg', name: '4:2:0 progressive, mozjpeg scans and trellis (sharp)', sharp: { progressive: true, mozjpeg: true, quality: 85 } },
  { id: 'sharp-444-baseline', name: '4:4:4 baseline (sharp)', optimized: true, sharp: { chromaSubsampling: '4:4:4', quality: 95 } },
  { id: 'sharp-444-progressive', name: '4:4:4 progressive (sharp)', sharp: { chromaSubsampling: '4:4:4', progressive: true } },
  { id: 'sharp-cmyk-baseline', name: 'CMYK baseline (sharp)', optimized: true, sharp: { cmyk: true } },
  { id: 'sharp-cmyk-progressive', name: 'CMYK progressive (sharp)', sharp: { cmyk: true, progressive: true } },
  { id: 'cjpeg-422-restart', name: '4:2:2 baseline, restart every MCU row (cjpeg)', cjpeg: { args: ['-quality', '90', '-sample', '2x1', '-restart', '1'] } },
  { id: 'cjpeg-422-progressive-restart', name: '4:2:2 progressive, restart every 3 MCUs (cjpeg)', cjpeg: { args: ['-quality', '88', '-sample', '2x1', '-progressive', '-restart', '3B'] } },
  { id: 'cjpeg-440-baseline', name: '4:4:0 baseline (cjpeg)', cjpeg: { args: ['-quality', '90', '-sample', '1x2'] } },
  { id: 'cjpeg-440-progressive-restart', name: '4:4:0 progressive, restart every 2 MCUs (cjpeg)', cjpeg: { args: ['-quality', '90', '-sample', '1x2', '-progressive', '-restart', '2B'] } },
  { id: 'cjpeg-411-progressive', name: '4:1:1 progressive (cjpeg)', cjpeg: { args: ['-quality', '92', '-sample', '4x1', '-progressive'] } },
  { id: 'cjpeg-nonstandard-restart', name: 'non-standard 2x2,2x1,1x2 baseline, restart every MCU (cjpeg)', cjpeg: { args: ['-quality', '90', '-sample', '2x2,2x1,1x2', '-restart', '1B'] } },
  { id: 'cjpeg-420-scans', name: '4:2:0 sequential, one scan per component (cjpeg -scans)', cjpeg: { args: ['-quality', '90', '-scans', '{scans}'], scans: '0;\n1;\n2;\n' } },
  { id: 'cjpeg-sof1-quality3', name: '16-bit quantization tables, SOF1 (cjpeg -quality 3)', cjpeg: { args: ['-quality', '3'] } },
  { id: 'cjpeg-rgb', name: 'RGB without colour transform, Adobe transform 0 (cjpeg -rgb)', cjpeg: { args: ['-quality', '90', '-rgb'] } },
  { id: 'cjpeg-gray-baseline', name: 'grayscale baseline (cjpeg)', cjpeg: { gray: true, args: ['-quality', '90'] } },
  { id: 'cjpeg-gray-progressive-restart', name: 'grayscale progressive, restart every 5 blocks (cjpeg)', cjpeg: { gray: true, args: ['-quality', '90', '-progressive', '-restart', '5B'] } },
];

/** @type {Sample[]} Samples made again at sizes that are not iMCU multiples. */
export const UNALIGNED = [
  { id: 'sharp-420-baseline', name: '4:2:0 baseline (sharp)', sharp: { chromaSubsampling: '4:2:0' } },
  { id: 'sharp-420-progressive', name: '4:2:0 progressive (sharp)', sharp: { chromaSubsampling: '4:2:0', progressive: true } },
  { id: 'cjpeg-422-restart', name: '4:2:2 baseline with restarts (cjpeg)', cjpeg: { args: ['-sample', '2x1', '-restart', '1B'] } },
  { id: 'cjpeg-411-progressive', name: '4:1:1 progressive (cjpeg)', cjpeg: { args: ['-sample', '4x1', '-progressive'] } },
  { id: 'cjpeg-gray-progressive', name: 'grayscale progressive (cjpeg)', cjpeg: { gray: true, args: ['-progressive'] } },
];

/** @type {Array<[number, number]>} Just under and just over the aligned size, in one dimension at a time and in both. */
export const UNALIGNED_SIZES = [[W - 1, H], [W + 1, H], [W, H - 1], [W, H + 1], [W - 3, H + 5], [W + 9, H - 7]];

/** @type {Record<string, Sample>} Single inputs of the metadata and refusal tests, made by cjpeg. */
export const SINGLES = {
  'meta-422': { id: 'meta-422', name: '4:2:2 baseline for the sampling-factor test', cjpeg: { args: ['-sample', '2x1'] } },
  'refusal-progressive': { id: 'refusal-progressive', name: 'progressive with restarts for the refusal tests', cjpeg: { args: ['-progressive', '-restart', '1'] } },
};

/**
 * Makes a sample's input JPEG at `width`x`height` (sharp in process, or cjpeg writing into
 * `dir`).
 * @param {Sample} sample
 * @param {number} width
 * @param {number} height
 * @param {string} dir - a scratch directory for cjpeg's input and output files
 * @param {string} name - file name stem in `dir`
 * @returns {Promise<Buffer>}
 */
export async function makeSample(sample, width, height, dir, name) {
  if (sample.sharp) return sharpJpeg(width, height, sample.sharp);
  if (!sample.cjpeg) throw new Error(`sample ${sample.id} has no recipe`);
  return cjpeg(dir, name, width, height, sample.cjpeg);
}

/**
 * The command line, as text, that made a sample's input (for fixtures/golden/README.md).
 * @param {Sample} sample
 * @param {number} width
 * @param {number} height
 * @returns {string}
 */
export function sampleCommand(sample, width, height) {
  if (sample.sharp) return `sharp(texture(${width}, ${height}, 3, ${width * 17 + height})).jpeg(${JSON.stringify(sample.sharp)})`;
  const c = /** @type {NonNullable<Sample['cjpeg']>} */ (sample.cjpeg);
  const args = c.args.map((a) => (a === '{scans}' ? `scans.txt # ${JSON.stringify(c.scans)}` : a));
  return `cjpeg ${args.join(' ')} -outfile input.jpg texture-${width}x${height}.${c.gray ? 'pgm' : 'ppm'}`;
}

/**
 * The folder of a golden case: `jpeg-lossless/<id>` for aligned samples, with `/<w>x<h>` for
 * unaligned sizes.
 * @param {string} id
 * @param {[number, number]} [size]
 */
export function caseDir(id, size) {
  return path.join(GOLDEN, 'jpeg-lossless', id, ...(size ? [`${size[0]}x${size[1]}`] : []));
}

/**
 * True when EXIF orientation `o` is a perfect lossless transform of an image of `width` x
 * `height` with an iMCU of `mcuW` x `mcuH` pixels (the rule of jpegtran -perfect, libjpeg
 * transupp.c jtransform_perfect_transform).
 */
export function perfect(width, height, mcuW, mcuH, o) {
  const needsWidth = o === 2 || o === 3 || o === 7 || o === 8;
  const needsHeight = o === 3 || o === 4 || o === 6 || o === 7;
  return !(needsWidth && width % mcuW !== 0) && !(needsHeight && height % mcuH !== 0);
}
