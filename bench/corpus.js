// The benchmark corpus, generated deterministically with sharp from raw pixels (seeded PRNG):
//   photos/  phone-like 4032x3024 baseline 4:2:0 JPEGs at quality 92 with standard Huffman
//            tables (as camera encoders write them) and EXIF (Make, Model, DateTimeOriginal,
//            Orientation). Orientation by index i % 8: 6,1,6,3,6,1,6,8 (half 6, a quarter 1,
//            the rest 3 and 8), so every prefix of 8 files has the same mix. The stored pixels
//            are the upright picture turned the other way, so each file shows upright.
//   photos-2mp/  the same at 1600x1200 (2 MP, as phones share or downscale them), 200 files.
//   small/   small upright JPEGs (orientation 1) spread over 30 directories, for --check.
// Files are generated once and reused while they exist with the right sizes.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Width and height of the stored pixels of a phone photo (iPhone 12 MP). */
export const PHOTO_WIDTH = 4032;
export const PHOTO_HEIGHT = 3024;
const ORIENTATION_CYCLE = [6, 1, 6, 3, 6, 1, 6, 8];

/**
 * The EXIF orientation of photo `index`.
 *
 * @param {number} index - 0-based.
 * @returns {1|3|6|8}
 */
export function photoOrientation(index) {
  return ORIENTATION_CYCLE[index % ORIENTATION_CYCLE.length];
}

/** xorshift32; returns a function giving uniform numbers in [0, 1). */
function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/**
 * A photo-like upright picture as raw RGB: smooth gradients and soft blobs (computed at 1/8
 * size and upscaled), hard-edged shapes, fine texture and sensor-like noise at full size. Red
 * grows left to right and green top to bottom, so every one of the eight orientations of it
 * looks different, even as a thumbnail.
 *
 * @param {import('sharp')} sharp - the sharp module.
 * @param {number} seed - PRNG seed; the same seed gives the same pixels.
 * @param {number} width - in pixels.
 * @param {number} height - in pixels.
 * @returns {Promise<Buffer>} width * height * 3 bytes.
 */
export async function photoPixels(sharp, seed, width, height) {
  const rnd = prng(seed);
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  const base = Buffer.alloc(bw * bh * 3);
  const blobs = Array.from({ length: 10 }, () => ({ x: rnd() * bw, y: rnd() * bh, r: (0.05 + rnd() * 0.25) * bw, c: [rnd() - 0.3, rnd() - 0.3, rnd() - 0.3] }));
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      let r = 30 + (170 * x) / bw;
      let g = 40 + (150 * y) / bh;
      let b = 70 + (90 * (bw - x + y)) / (bw + bh);
      for (const k of blobs) {
        const d = ((x - k.x) ** 2 + (y - k.y) ** 2) / (k.r * k.r);
        if (d < 1) {
          const f = (1 - d) * 90;
          r += f * k.c[0];
          g += f * k.c[1];
          b += f * k.c[2];
        }
      }
      const i = (y * bw + x) * 3;
      base[i] = Math.max(0, Math.min(255, r));
      base[i + 1] = Math.max(0, Math.min(255, g));
      base[i + 2] = Math.max(0, Math.min(255, b));
    }
  }
  const raw = await sharp(base, { raw: { width: bw, height: bh, channels: 3 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  // Hard edges: a few flat rectangles (windows, walls) with a darker outline.
  for (let n = 0; n < 8; n++) {
    const x0 = Math.floor(rnd() * width * 0.8);
    const y0 = Math.floor(rnd() * height * 0.8);
    const x1 = Math.min(width, x0 + Math.floor((0.05 + rnd() * 0.2) * width));
    const y1 = Math.min(height, y0 + Math.floor((0.05 + rnd() * 0.2) * height));
    const c = [rnd() * 255, rnd() * 255, rnd() * 255];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const edge = x - x0 < 6 || x1 - x < 6 || y - y0 < 6 || y1 - y < 6;
        const i = (y * width + x) * 3;
        for (let ch = 0; ch < 3; ch++) raw[i + ch] = edge ? c[ch] * 0.3 : (raw[i + ch] + c[ch]) / 2;
      }
    }
  }
  // Fine texture (separable, from tables) and noise.
  const tx = Float32Array.from({ length: width }, (_, x) => Math.sin(x / 3.7) * 5 + Math.sin(x / 17) * 4);
  const ty = Float32Array.from({ length: height }, (_, y) => Math.cos(y / 5.3) * 5 + Math.sin(y / 23) * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    const t0 = ty[y];
    for (let x = 0; x < width; x++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      const t = tx[x] * t0 * 0.35 + ((s & 0xff) - 128) * 0.09 + (((s >>> 8) & 0xff) - 128) * 0.09;
      const i = row + x * 3;
      const chroma = ((s >>> 16) & 0x0f) - 8;
      raw[i] = Math.max(0, Math.min(255, raw[i] + t + chroma * 0.4));
      raw[i + 1] = Math.max(0, Math.min(255, raw[i + 1] + t));
      raw[i + 2] = Math.max(0, Math.min(255, raw[i + 2] + t - chroma * 0.4));
    }
  }
  return raw;
}

/**
 * The sharp operation that stores an upright picture so that a viewer applying `orientation`
 * shows it upright again (the inverse of the orientation's transform).
 *
 * @param {import('sharp').Sharp} image
 * @param {1|3|6|8} orientation
 */
function storeForOrientation(image, orientation) {
  if (orientation === 3) return image.rotate(180);
  if (orientation === 6) return image.rotate(270); // the viewer turns it 90 clockwise
  if (orientation === 8) return image.rotate(90); // the viewer turns it 270 clockwise
  return image;
}

/**
 * Encodes one phone-like JPEG: the upright picture from `seed`, stored for `orientation`.
 *
 * @param {import('sharp')} sharp
 * @param {number} seed
 * @param {1|3|6|8} orientation
 * @param {{ width?: number, height?: number }} [size] - stored size; default 4032x3024.
 * @returns {Promise<Buffer>} the JPEG file.
 */
export async function phonePhoto(sharp, seed, orientation, size = {}) {
  const width = size.width ?? PHOTO_WIDTH;
  const height = size.height ?? PHOTO_HEIGHT;
  const swap = orientation >= 5;
  const uw = swap ? height : width;
  const uh = swap ? width : height;
  const upright = await photoPixels(sharp, seed, uw, uh);
  // Turned to raw first, then encoded: sharp writes the orientation tag given to withMetadata
  // without touching the pixels.
  const stored = await storeForOrientation(sharp(upright, { raw: { width: uw, height: uh, channels: 3 } }), orientation)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(stored.data, { raw: { width: stored.info.width, height: stored.info.height, channels: 3 } })
    .withExif({
      IFD0: { Make: 'Apple', Model: 'iPhone 13', Software: 'exif-fix bench', Orientation: String(orientation) },
      IFD2: { DateTimeOriginal: '2024:05:17 10:21:33', ExposureTime: '1/120', FNumber: '1.6' },
    })
    .withMetadata({ orientation })
    .jpeg({ quality: 92, chromaSubsampling: '4:2:0', optimiseCoding: false, progressive: false })
    .toBuffer();
}

/**
 * A small upright JPEG (160x120, orientation 1 in EXIF), about 2-4 KB.
 *
 * @param {import('sharp')} sharp
 * @param {number} seed
 */
export async function smallPhoto(sharp, seed) {
  const pixels = await photoPixels(sharp, seed, 160, 120);
  return sharp(pixels, { raw: { width: 160, height: 120, channels: 3 } })
    .withExif({ IFD0: { Make: 'Google', Model: 'Pixel 7', Orientation: '1' } })
    .jpeg({ quality: 85, chromaSubsampling: '4:2:0', optimiseCoding: false })
    .toBuffer();
}

/** Writes `bytes` to `file` through a temporary name, so an interrupted run leaves no torn file. */
function writeWhole(file, bytes) {
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, bytes);
  renameSync(temp, file);
}

/**
 * Makes (or reuses) `count` phone photos in `dir`: `photo-00.jpg`, ... A file is reused when it
 * exists with the size recorded in `<dir>.sizes.json` at generation time.
 *
 * @param {import('sharp')} sharp
 * @param {string} dir
 * @param {number} count
 * @param {(message: string) => void} [log]
 * @param {{ width?: number, height?: number, seed?: number }} [size] - stored size in pixels
 *   (default 4032x3024) and the first seed (default 1000).
 * @returns {Promise<string[]>} the file paths, in order.
 */
export async function ensurePhotos(sharp, dir, count, log = () => {}, size = {}) {
  mkdirSync(dir, { recursive: true });
  const sizesFile = `${dir}.sizes.json`;
  const sizes = existsSync(sizesFile) ? JSON.parse(readFileSync(sizesFile, 'utf8')) : {};
  const files = [];
  for (let i = 0; i < count; i++) {
    const name = `photo-${String(i).padStart(count > 100 ? 3 : 2, '0')}.jpg`;
    const file = path.join(dir, name);
    files.push(file);
    if (existsSync(file) && sizes[name] === statSync(file).size) continue;
    const started = performance.now();
    const jpeg = await phonePhoto(sharp, (size.seed ?? 1000) + i, photoOrientation(i), size);
    writeWhole(file, jpeg);
    sizes[name] = jpeg.length;
    writeFileSync(sizesFile, `${JSON.stringify(sizes, null, 1)}\n`);
    log(`generated ${name} (orientation ${photoOrientation(i)}, ${(jpeg.length / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
  return files;
}

/**
 * Makes (or reuses) `count` small upright JPEGs under `dir`, spread evenly over 30
 * directories `d00`..`d29` (`s0000.jpg`, ...). 64 distinct images are generated and repeated.
 *
 * @param {import('sharp')} sharp
 * @param {string} dir
 * @param {number} count
 * @returns {Promise<number>} the number of files.
 */
export async function ensureSmall(sharp, dir, count) {
  const stamp = `${dir}.complete.json`;
  if (existsSync(stamp) && JSON.parse(readFileSync(stamp, 'utf8')).count === count) return count;
  const distinct = [];
  for (let k = 0; k < 64; k++) distinct.push(await smallPhoto(sharp, 5000 + k));
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(i % 30).padStart(2, '0')}`);
    if (i < 30) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `s${String(i).padStart(4, '0')}.jpg`), distinct[i % distinct.length]);
  }
  writeFileSync(stamp, JSON.stringify({ count }));
  return count;
}
