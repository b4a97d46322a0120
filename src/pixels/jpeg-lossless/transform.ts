/**
 * The eight EXIF orientations as DCT-domain operations (the rules of libjpeg-turbo's
 * transupp.c do_flip_h / do_flip_v / do_rot_180 / do_transpose / do_rot_90 / do_rot_270 /
 * do_transverse, mapped from EXIF values as fbida's jpegtools.c does), plus the perfect-ness
 * rule for the iMCU edges (transupp.c jtransform_perfect_transform).
 */
import type { Orientation } from '../../orientation.js';
import { ZIGZAG } from './tables.js';

/** Human names of the transforms, for messages. */
export const TRANSFORM_NAME: Record<Orientation, string> = {
  1: 'no transform',
  2: 'flip horizontal',
  3: 'rotate 180',
  4: 'flip vertical',
  5: 'transpose',
  6: 'rotate 90 clockwise',
  7: 'transverse',
  8: 'rotate 270 clockwise',
};

/** True for the orientations whose transform swaps width and height (5-8). */
export function swapsAxes(o: Orientation): boolean {
  return o >= 5;
}

/**
 * Within-block step in output zigzag order: for output coefficient k (zigzag), the natural
 * index of the source coefficient and whether to negate it. In natural terms, with i the
 * vertical and j the horizontal frequency: 2 negates odd j; 3 negates odd i+j; 4 negates
 * odd i; 5 takes in[j][i]; 6 takes in[j][i] negated for odd j; 7 takes in[j][i] negated for
 * odd i+j; 8 takes in[j][i] negated for odd i.
 */
export interface BlockPermutation {
  readonly source: Int32Array;
  /** 0 to keep the sign, -1 to negate: `(v ^ flip) - flip`. */
  readonly flip: Int32Array;
}

/** Builds the `BlockPermutation` for one orientation. */
export function blockPermutation(o: Orientation): BlockPermutation {
  const source = new Int32Array(64);
  const flip = new Int32Array(64);
  for (let k = 0; k < 64; k++) {
    const n = ZIGZAG[k];
    const i = n >> 3;
    const j = n & 7;
    const transposed = o >= 5;
    source[k] = transposed ? j * 8 + i : n;
    let negate = false;
    switch (o) {
      case 2: case 6: negate = (j & 1) === 1; break;
      case 3: case 7: negate = ((i + j) & 1) === 1; break;
      case 4: case 8: negate = (i & 1) === 1; break;
      default: break;
    }
    flip[k] = negate ? -1 : 0;
  }
  return { source, flip };
}

/**
 * Where output blocks come from: the storage index of the source block for output block
 * (X, Y) is `origin + X * stepX + Y * stepY`. Flips mirror the block grid; 5-8 also transpose
 * it (transupp.c do_* loops, with EXIF values mapped to transforms).
 */
export interface BlockMapping {
  readonly origin: number;
  readonly stepX: number;
  readonly stepY: number;
}

/**
 * @param o - the orientation to apply
 * @param pw - source component grid width in blocks (padded to whole MCUs)
 * @param ph - source component grid height in blocks
 * @param sx - storage stride of one source block column (1 for row-major storage)
 * @param sy - storage stride of one source block row (pw for row-major storage)
 */
export function blockMapping(o: Orientation, pw: number, ph: number, sx: number, sy: number): BlockMapping {
  // Source block coordinates as affine functions of (X, Y): bx = x0 + X*xX + Y*xY, by = y0 + X*yX + Y*yY.
  let x0 = 0, xX = 1, xY = 0, y0 = 0, yX = 0, yY = 1;
  switch (o) {
    case 1: break;
    case 2: x0 = pw - 1; xX = -1; break;
    case 3: x0 = pw - 1; xX = -1; y0 = ph - 1; yY = -1; break;
    case 4: y0 = ph - 1; yY = -1; break;
    case 5: xX = 0; xY = 1; yX = 1; yY = 0; break;
    case 6: xX = 0; xY = 1; y0 = ph - 1; yX = -1; yY = 0; break;
    case 7: x0 = pw - 1; xX = 0; xY = -1; y0 = ph - 1; yX = -1; yY = 0; break;
    case 8: x0 = pw - 1; xX = 0; xY = -1; yX = 1; yY = 0; break;
  }
  return { origin: x0 * sx + y0 * sy, stepX: xX * sx + yX * sy, stepY: xY * sx + yY * sy };
}

/** Transposes an 8x8 quantization table in natural order (for orientations 5-8). */
export function transposeTable(t: Uint16Array): Uint16Array {
  const out = new Uint16Array(64);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) out[j * 8 + i] = t[i * 8 + j];
  return out;
}
