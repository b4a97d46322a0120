/**
 * Test images for the lossless JPEG tests: deterministic photo-like pixels, JPEGs made with
 * sharp (mozjpeg) and with Debian's libjpeg-turbo-progs (cjpeg/jpegtran) for the samplings
 * and options sharp cannot produce, and a raw-pixel orientation transform for references.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Orientation } from '../../src/pixels/jpeg-lossless/index.js';

/** Photo-like test pixels: gradients, a few edges and seeded noise; `channels` 1, 3 or 4. */
export function texture(width: number, height: number, channels: number, seed = 1): Buffer {
  const out = Buffer.alloc(width * height * channels);
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
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

/** Throws a clear error when a libjpeg-turbo-progs tool is missing (tests never skip). */
export function requireTool(name: 'cjpeg' | 'jpegtran'): void {
  const r = spawnSync(name, ['-version'], { encoding: 'utf8' });
  if (r.error) {
    throw new Error(`\`${name}\` is not installed: these tests need Debian's libjpeg-turbo-progs (apt-get install libjpeg-turbo-progs)`);
  }
}

/** Encodes with cjpeg (libjpeg-turbo) from a PPM/PGM written to `dir`; `args` are cjpeg switches. */
export function cjpeg(dir: string, name: string, width: number, height: number, gray: boolean, args: string[]): Buffer {
  requireTool('cjpeg');
  const pixels = texture(width, height, gray ? 1 : 3, width * 31 + height);
  const pnm = Buffer.concat([Buffer.from(`${gray ? 'P5' : 'P6'}\n${width} ${height}\n255\n`, 'latin1'), pixels]);
  const input = path.join(dir, `${name}.${gray ? 'pgm' : 'ppm'}`);
  const output = path.join(dir, `${name}.jpg`);
  writeFileSync(input, pnm);
  execFileSync('cjpeg', [...args, '-outfile', output, input]);
  return readFileSync(output);
}

/** Encodes with sharp; `cmyk` converts to a 4-component CMYK JPEG. */
export async function sharpJpeg(width: number, height: number,
  options: { quality?: number; chromaSubsampling?: '4:2:0' | '4:4:4'; progressive?: boolean; mozjpeg?: boolean; cmyk?: boolean }): Promise<Buffer> {
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

/** jpegtran switches for the transform an EXIF orientation value asks for. */
export const JPEGTRAN_ARGS: Record<Orientation, string[]> = {
  1: [],
  2: ['-flip', 'horizontal'],
  3: ['-rotate', '180'],
  4: ['-flip', 'vertical'],
  5: ['-transpose'],
  6: ['-rotate', '90'],
  7: ['-transverse'],
  8: ['-rotate', '270'],
};

/** Runs `jpegtran -perfect -optimize -copy all` with the transform for `o` on a file. */
export function jpegtran(file: string, o: Orientation): Buffer {
  requireTool('jpegtran');
  return execFileSync('jpegtran', ['-perfect', '-optimize', '-copy', 'all', ...JPEGTRAN_ARGS[o], file], { maxBuffer: 1 << 28 });
}

/** The bytes from the first SOS marker to the end of the file: scan header, entropy-coded data, EOI. */
export function scanBytes(jpeg: Uint8Array): Buffer {
  const sos = headerSegments(jpeg).find((s) => s.marker === 0xda);
  if (!sos) throw new Error('no SOS marker');
  return Buffer.from(jpeg.subarray(sos.bytes.byteOffset - jpeg.byteOffset));
}

/** Decodes with sharp to raw interleaved pixels. */
export async function decode(jpeg: Uint8Array): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Applies the transform for EXIF orientation `o` to raw pixels: output pixel (x, y) comes from
 * the source pixel given by the table of DESIGN.md section 1 (2 flip-h, 3 rotate 180, 4 flip-v,
 * 5 transpose, 6 rotate 90 CW, 7 transverse, 8 rotate 270 CW).
 */
export function transformPixels(img: { data: Buffer; width: number; height: number; channels: number }, o: Orientation):
  { data: Buffer; width: number; height: number; channels: number } {
  const { width: w, height: h, channels: ch } = img;
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = Buffer.alloc(img.data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 1: sx = x; sy = y; break;
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
      }
      img.data.copy(out, (y * ow + x) * ch, (sy * w + sx) * ch, (sy * w + sx + 1) * ch);
    }
  }
  return { data: out, width: ow, height: oh, channels: ch };
}

/** Mean absolute difference of two same-size pixel buffers, per sample. */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) throw new Error(`pixel buffers differ in size: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** The segments of a JPEG from SOI up to the first SOS: marker and the whole segment bytes. */
export function headerSegments(jpeg: Uint8Array): Array<{ marker: number; bytes: Uint8Array }> {
  const out: Array<{ marker: number; bytes: Uint8Array }> = [];
  let p = 2;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new Error(`no marker at byte ${p}`);
    const m = jpeg[p + 1];
    const len = (jpeg[p + 2] << 8) | jpeg[p + 3];
    out.push({ marker: m, bytes: jpeg.subarray(p, p + 2 + len) });
    if (m === 0xda) break;
    p += 2 + len;
  }
  return out;
}

/** Inserts raw segments right after SOI, and optionally more right before the frame header. */
export function withSegments(jpeg: Uint8Array, afterSoi: Uint8Array[], beforeSof: Uint8Array[] = []): Buffer {
  const segs = headerSegments(jpeg);
  const sof = segs.find((s) => s.marker >= 0xc0 && s.marker <= 0xc2)!;
  const sofAt = sof.bytes.byteOffset - jpeg.byteOffset;
  return Buffer.concat([jpeg.subarray(0, 2), ...afterSoi, jpeg.subarray(2, sofAt), ...beforeSof, jpeg.subarray(sofAt)]);
}

/** A segment with the given marker and payload. */
export function segment(marker: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  const head = Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([head, body]);
}
