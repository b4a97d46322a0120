/**
 * A baseline JPEG encoder that reuses a source file's own quantization tables and chroma
 * subsampling, so a re-encoded photo keeps its source's size and quality (issue: re-encodes
 * must not grow files). sharp (libvips, mozjpeg/libjpeg-turbo) takes neither custom
 * quantization tables nor 4:2:2, 4:4:0 or 4:1:1, hence this encoder.
 *
 * Pipeline, each step as libjpeg does it:
 * - colour conversion RGB -> YCbCr (JFIF; libjpeg jccolor.c `rgb_ycc_convert`, 16-bit fixed point);
 * - edge extension to whole MCUs by replicating the last column and row (jcprepct.c,
 *   jcsample.c `expand_right_edge`);
 * - chroma downsampling by box filter (jcsample.c `h2v1_downsample`, `h2v2_downsample` with
 *   their alternating rounding bias; `int_downsample` for other ratios);
 * - forward DCT (the float AAN algorithm of jfdctflt.c) and quantization with the source's
 *   tables (jcdctmgr.c `forward_DCT_float`, round half up);
 * - entropy coding with optimized Huffman tables: the lossless transform's baseline writer
 *   (jpeg-lossless/encode.ts `encodeBaseline`), which writes DQT, SOF0 (SOF1 for 16-bit
 *   tables), DHT and one interleaved scan (jchuff.c `jpeg_gen_optimal_table`).
 */
import { encodeBaseline, type EncodeComponent } from '../jpeg-lossless/encode.js';

/** One component of the source frame whose layout the output copies. */
export interface SourceComponent {
  /** Component identifier from the source SOF. */
  readonly id: number;
  /** Sampling factors, 1-4. */
  readonly h: number;
  readonly v: number;
  /** Quantization table selector, 0-3. */
  readonly tq: number;
}

/** Decoded, upright pixels to encode. */
export interface RawPixels {
  /** Interleaved 8-bit samples, `width * height * channels` bytes, rows top to bottom. */
  readonly data: Uint8Array;
  /** Size in pixels. */
  readonly width: number;
  readonly height: number;
  /** 1 (greyscale) or 3 (RGB). */
  readonly channels: 1 | 3;
}

/** The source's layout: its components in frame order and its quantization tables. */
export interface SourceLayout {
  /** One component (greyscale) or three (Y, Cb, Cr). */
  readonly components: readonly SourceComponent[];
  /** Quantization tables by selector, natural (row-major) order, values 1-65535. */
  readonly quantTables: ReadonlyArray<Uint16Array | undefined>;
}

/**
 * Whether {@link encodeLikeSource} can copy this layout: one component, or three with every
 * component's table present and sampling factors that divide the largest ones (libjpeg's
 * downsampling needs integral ratios, jcsample.c `jinit_downsampler`) within T.81's 10 blocks
 * per MCU.
 *
 * @param layout - the source's components and tables.
 */
export function canEncodeLike(layout: SourceLayout): boolean {
  const c = layout.components;
  if (c.length !== 1 && c.length !== 3) return false;
  const maxH = Math.max(...c.map((k) => k.h));
  const maxV = Math.max(...c.map((k) => k.v));
  let blocks = 0;
  for (const k of c) {
    const table = layout.quantTables[k.tq];
    if (!table || table.length !== 64 || table.some((q) => q === 0)) return false;
    if (maxH % k.h !== 0 || maxV % k.v !== 0) return false;
    blocks += k.h * k.v;
  }
  return c.length === 1 || blocks <= 10;
}

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const CBCR_OFFSET = 128 << SCALEBITS;
const FIX = (x: number) => Math.round(x * (1 << SCALEBITS));

/** jccolor.c `rgb_ycc_start` tables: the eight products per sample value, with rounding folded in. */
const RGB_YCC = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    t[i] = FIX(0.299) * i;
    t[256 + i] = FIX(0.587) * i;
    t[512 + i] = FIX(0.114) * i + ONE_HALF;
    t[768 + i] = -FIX(0.16874) * i;
    t[1024 + i] = -FIX(0.33126) * i;
    // B => Cb and R => Cr share one table (0.5); ONE_HALF - 1 makes the rounding of Cb/Cr fair.
    t[1280 + i] = FIX(0.5) * i + CBCR_OFFSET + ONE_HALF - 1;
    t[1536 + i] = -FIX(0.41869) * i;
    t[1792 + i] = -FIX(0.08131) * i;
  }
  return t;
})();

/** One row of RGB samples from `data[s]` to Y, Cb, Cr at `o` (jccolor.c `rgb_ycc_convert`). */
function convertRow(data: Uint8Array, s: number, yp: Uint8Array, cb: Uint8Array, cr: Uint8Array, o: number, width: number): void {
  const t = RGB_YCC;
  for (let x = 0; x < width; x++, s += 3, o++) {
    const R = data[s];
    const G = data[s + 1];
    const B = data[s + 2];
    yp[o] = (t[R] + t[256 + G] + t[512 + B]) >> SCALEBITS;
    cb[o] = (t[768 + R] + t[1024 + G] + t[1280 + B]) >> SCALEBITS;
    cr[o] = (t[1280 + R] + t[1536 + G] + t[1792 + B]) >> SCALEBITS;
  }
}

/**
 * Full-resolution planes padded to whole MCUs (`pw` x `ph` samples) by edge replication, in the
 * output colour space: [Y] or [Y, Cb, Cr].
 */
function colourPlanes(px: RawPixels, pw: number, ph: number): Uint8Array[] {
  const { data, width, height, channels } = px;
  const planes = Array.from({ length: channels }, () => new Uint8Array(pw * ph));
  if (channels === 1) {
    const y = planes[0];
    for (let r = 0; r < height; r++) {
      y.set(data.subarray(r * width, (r + 1) * width), r * pw);
      y.fill(data[r * width + width - 1], r * pw + width, (r + 1) * pw);
    }
  } else {
    const [yp, cb, cr] = planes;
    for (let r = 0; r < height; r++) {
      const o = r * pw;
      convertRow(data, r * width * 3, yp, cb, cr, o, width);
      const last = o + width - 1;
      yp.fill(yp[last], last + 1, o + pw);
      cb.fill(cb[last], last + 1, o + pw);
      cr.fill(cr[last], last + 1, o + pw);
    }
  }
  for (const p of planes) for (let r = height; r < ph; r++) p.copyWithin(r * pw, (height - 1) * pw, height * pw);
  return planes;
}

/**
 * Downsamples a padded plane by integral factors `fx` x `fy` (jcsample.c): 2x1 and 2x2 with
 * libjpeg's alternating bias (0,1 and 1,2), other ratios by the rounded mean (`int_downsample`).
 */
function downsample(plane: Uint8Array, pw: number, ph: number, fx: number, fy: number): Uint8Array {
  if (fx === 1 && fy === 1) return plane;
  const ow = pw / fx;
  const oh = ph / fy;
  const out = new Uint8Array(ow * oh);
  if (fx === 2 && fy === 1) {
    for (let r = 0; r < oh; r++) {
      const i = r * pw;
      const o = r * ow;
      for (let x = 0; x < ow; x++) out[o + x] = (plane[i + 2 * x] + plane[i + 2 * x + 1] + (x & 1)) >> 1;
    }
  } else if (fx === 2 && fy === 2) {
    for (let r = 0; r < oh; r++) {
      const i0 = 2 * r * pw;
      const i1 = i0 + pw;
      const o = r * ow;
      for (let x = 0; x < ow; x++) {
        const a = 2 * x;
        out[o + x] = (plane[i0 + a] + plane[i0 + a + 1] + plane[i1 + a] + plane[i1 + a + 1] + 1 + (x & 1)) >> 2;
      }
    }
  } else {
    const n = fx * fy;
    const half = n >> 1;
    for (let r = 0; r < oh; r++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < fy; dy++) {
          const i = (r * fy + dy) * pw + x * fx;
          for (let dx = 0; dx < fx; dx++) sum += plane[i + dx];
        }
        out[r * ow + x] = Math.floor((sum + half) / n);
      }
    }
  }
  return out;
}

/** T.81 figure A.6: natural index of each zigzag position. */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** jcdctmgr.c `aanscalefactor`: 1 for k = 0, else cos(k*pi/16) * sqrt(2). */
const AAN_SCALE = Float64Array.from({ length: 8 }, (_, k) => (k === 0 ? 1 : Math.cos((k * Math.PI) / 16) * Math.SQRT2));

/** Per zigzag position, 1 / (q * aanscale[row] * aanscale[col] * 8) (jcdctmgr.c `start_pass_fdctmgr`, float case). */
function divisors(table: Uint16Array): Float64Array {
  const d = new Float64Array(64);
  for (let k = 0; k < 64; k++) {
    const i = ZIGZAG[k];
    d[k] = 1 / (table[i] * AAN_SCALE[i >> 3] * AAN_SCALE[i & 7] * 8);
  }
  return d;
}

/** One 8-point AAN forward DCT pass over `w[o], w[o + s], ... w[o + 7s]` (jfdctflt.c). */
function fdct8(w: Float64Array, o: number, s: number): void {
  const d0 = w[o], d1 = w[o + s], d2 = w[o + 2 * s], d3 = w[o + 3 * s];
  const d4 = w[o + 4 * s], d5 = w[o + 5 * s], d6 = w[o + 6 * s], d7 = w[o + 7 * s];
  const tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
  const tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
  // Even part.
  const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
  w[o] = tmp10 + tmp11;
  w[o + 4 * s] = tmp10 - tmp11;
  const z1 = (tmp12 + tmp13) * 0.707106781;
  w[o + 2 * s] = tmp13 + z1;
  w[o + 6 * s] = tmp13 - z1;
  // Odd part.
  const t10 = tmp4 + tmp5, t11 = tmp5 + tmp6, t12 = tmp6 + tmp7;
  const z5 = (t10 - t12) * 0.382683433;
  const z2 = 0.5411961 * t10 + z5;
  const z4 = 1.306562965 * t12 + z5;
  const z3 = t11 * 0.707106781;
  const z11 = tmp7 + z3, z13 = tmp7 - z3;
  w[o + 5 * s] = z13 + z2;
  w[o + 3 * s] = z13 - z2;
  w[o + s] = z11 + z4;
  w[o + 7 * s] = z11 - z4;
}

/** Forward DCT and quantization of the block at `plane[base]` into block `b` of `coef` and `nz`. */
function quantizeBlock(plane: Uint8Array, base: number, stride: number, w: Float64Array, div: Float64Array, coef: Int16Array, nz: Int32Array, b: number): void {
  for (let r = 0; r < 8; r++) {
    const i = base + r * stride;
    const k = r * 8;
    w[k] = plane[i] - 128; w[k + 1] = plane[i + 1] - 128; w[k + 2] = plane[i + 2] - 128; w[k + 3] = plane[i + 3] - 128;
    w[k + 4] = plane[i + 4] - 128; w[k + 5] = plane[i + 5] - 128; w[k + 6] = plane[i + 6] - 128; w[k + 7] = plane[i + 7] - 128;
    fdct8(w, k, 1);
  }
  for (let c = 0; c < 8; c++) fdct8(w, c, 8);
  const o = b * 64;
  let m0 = 0;
  let m1 = 0;
  // Round half up without Math.floor, as jcdctmgr.c does: (int)(x + 16384.5) - 16384.
  coef[o] = ((w[0] * div[0] + 16384.5) | 0) - 16384;
  for (let k = 1; k < 64; k++) {
    const q = ((w[ZIGZAG[k]] * div[k] + 16384.5) | 0) - 16384;
    coef[o + k] = q;
    if (q !== 0) {
      if (k < 32) m0 |= 1 << (31 - k);
      else m1 |= 1 << (63 - k);
    }
  }
  nz[2 * b] = m0;
  nz[2 * b + 1] = m1;
}

/**
 * Forward DCT and quantization of every block of a plane of `bw*8` x `bh*8` (or larger)
 * samples with row stride `stride`: 64 coefficients per block in zigzag order, blocks
 * row-major, and the nonzero AC map the baseline writer walks (bit `31 - (k & 31)` of word
 * `2 * block + (k >> 5)` for zigzag position k >= 1).
 */
function quantizePlane(plane: Uint8Array, stride: number, bw: number, bh: number, table: Uint16Array): { coef: Int16Array; nz: Int32Array } {
  const coef = new Int16Array(bw * bh * 64);
  const nz = new Int32Array(bw * bh * 2);
  const div = divisors(table);
  const w = new Float64Array(64);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const b = by * bw + bx;
      quantizeBlock(plane, by * 8 * stride + bx * 8, stride, w, div, coef, nz, b);
    }
  }
  return { coef, nz };
}

/**
 * Encodes `pixels` as a baseline JPEG with the source's components (identifiers, sampling
 * factors, table selectors) and quantization tables. Greyscale pixels give a one-component
 * frame, RGB pixels a YCbCr one (JFIF colour conversion); Huffman tables are optimized
 * (Y with tables 0, Cb and Cr with tables 1, as libjpeg assigns them). No APPn segment is
 * written: the container writer puts the source's metadata around the frame.
 *
 * @param pixels - upright decoded pixels; `channels` must match the source's component count.
 * @param layout - the source's layout; check it with {@link canEncodeLike} first.
 * @returns the whole JPEG file (SOI ... EOI).
 * @throws {RangeError} when the layout cannot be copied or the channels do not match it.
 */
export function encodeLikeSource(pixels: RawPixels, layout: SourceLayout): Uint8Array {
  if (!canEncodeLike(layout)) throw new RangeError('this component layout cannot be copied by the encoder');
  const comps = layout.components;
  if (comps.length !== pixels.channels) throw new RangeError(`${pixels.channels} channels for ${comps.length} components`);
  const { width, height } = pixels;
  const maxH = Math.max(...comps.map((c) => c.h));
  const maxV = Math.max(...comps.map((c) => c.v));
  // One component is coded non-interleaved: its "MCU" is one block (T.81 A.2.2).
  const unitX = comps.length === 1 ? 8 : 8 * maxH;
  const unitY = comps.length === 1 ? 8 : 8 * maxV;
  const pw = Math.ceil(width / unitX) * unitX;
  const ph = Math.ceil(height / unitY) * unitY;
  const planes = colourPlanes(pixels, pw, ph);
  const out: EncodeComponent[] = comps.map((c, i) => {
    const h = comps.length === 1 ? 1 : c.h;
    const v = comps.length === 1 ? 1 : c.v;
    const fx = comps.length === 1 ? 1 : maxH / h;
    const fy = comps.length === 1 ? 1 : maxV / v;
    const plane = downsample(planes[i], pw, ph, fx, fy);
    // libjpeg jdinput.c: blocks that hold samples, ceil(ceil(width * h / maxH) / 8).
    const bw = Math.ceil(Math.ceil((width * h) / (comps.length === 1 ? 1 : maxH)) / 8);
    const bh = Math.ceil(Math.ceil((height * v) / (comps.length === 1 ? 1 : maxV)) / 8);
    const { coef, nz } = quantizePlane(plane, pw / fx, bw, bh, layout.quantTables[c.tq]!);
    return { id: c.id, h: c.h, v: c.v, tq: c.tq, bw, bh, src: coef, nz, acFreq: new Uint32Array(0), origin: 0, stepX: 1, stepY: bw };
  });
  return encodeBaseline({
    width,
    height,
    comps: out,
    quantTables: layout.quantTables,
    metadata: [],
    flip: new Int32Array(64),
    huffmanTables: comps.length === 1 ? [0] : [0, 1, 1],
  });
}
