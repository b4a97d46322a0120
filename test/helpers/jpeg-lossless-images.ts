/**
 * Test images for the lossless JPEG tests: deterministic photo-like pixels, the committed golden
 * JPEGs (fixtures/golden/, made once by scripts/make-golden.js with sharp and Debian's
 * libjpeg-turbo-progs cjpeg/jpegtran, so that the main suite needs neither tool), and a
 * raw-pixel orientation transform for references. The system suite (test/system/) makes the
 * same images and references again with the live tools.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Orientation } from '../../src/pixels/jpeg-lossless/index.js';
import { GOLDEN, JPEGTRAN_ARGS as ARGS, caseDir, sharpJpeg as makeSharpJpeg, texture as makeTexture } from '../../scripts/golden/jpeg-lossless.js';

/** Photo-like test pixels: gradients, a few edges and seeded noise; `channels` 1, 3 or 4. */
export const texture: (width: number, height: number, channels: number, seed?: number) => Buffer = makeTexture;

/** Encodes {@link texture} pixels with sharp; `cmyk` converts to a 4-component CMYK JPEG. */
export const sharpJpeg: (width: number, height: number,
  options: { quality?: number; chromaSubsampling?: '4:2:0' | '4:4:4'; progressive?: boolean; mozjpeg?: boolean; cmyk?: boolean }) => Promise<Buffer> = makeSharpJpeg;

/** jpegtran switches for the transform an EXIF orientation value asks for. */
export const JPEGTRAN_ARGS: Record<Orientation, string[]> = ARGS;

/** The committed input JPEG of a golden case (`size` for the sizes that are not iMCU multiples). */
export function goldenInput(id: string, size?: [number, number]): Buffer {
  return readFileSync(path.join(caseDir(id, size), 'input.jpg'));
}

/**
 * The committed output of `jpegtran -perfect -optimize -copy all <transform for o>` on
 * {@link goldenInput}; throws ENOENT where jpegtran refused the transform as imperfect.
 */
export function goldenJpegtran(id: string, o: Orientation, size?: [number, number]): Buffer {
  return readFileSync(path.join(caseDir(id, size), `jpegtran-${o}.jpg`));
}

/** A committed single input of the sampling-factor and refusal tests (fixtures/golden/jpeg-lossless/singles). */
export function goldenSingle(name: 'meta-422' | 'refusal-progressive' | 'baseline-64x48' | 'arithmetic'): Buffer {
  return readFileSync(path.join(GOLDEN, 'jpeg-lossless', 'singles', `${name}.jpg`));
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
 * the source pixel given by the orientation table of docs/DESIGN.md (2 flip-h, 3 rotate 180, 4 flip-v,
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
