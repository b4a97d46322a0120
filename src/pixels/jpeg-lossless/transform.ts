/**
 * The eight EXIF orientations as DCT-domain operations (the rules of libjpeg-turbo's
 * transupp.c do_flip_h / do_flip_v / do_rot_180 / do_transpose / do_rot_90 / do_rot_270 /
 * do_transverse, mapped from EXIF values as fbida's jpegtools.c does), plus the perfect-ness
 * rule for the iMCU edges (transupp.c jtransform_perfect_transform).
 */
import type { Orientation } from './index.js';
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
 * index of the source coefficient and the sign to apply. In natural terms, with i the
 * vertical and j the horizontal frequency: 2 negates odd j; 3 negates odd i+j; 4 negates
 * odd i; 5 takes in[j][i]; 6 takes in[j][i] negated for odd j; 7 takes in[j][i] negated for
 * odd i+j; 8 takes in[j][i] negated for odd i.
 */
export interface BlockPermutation {
  readonly source: Int32Array;
  readonly sign: Int32Array;
}

/** Builds the `BlockPermutation` for one orientation. */
export function blockPermutation(o: Orientation): BlockPermutation {
  const source = new Int32Array(64);
  const sign = new Int32Array(64);
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
    sign[k] = negate ? -1 : 1;
  }
  return { source, sign };
}

/**
 * Where output blocks come from: the source block index (row-major in the source
 * component's padded grid of pw x ph blocks) of output block (X, Y) is
 * `origin + X * stepX + Y * stepY`. Flips mirror the block grid; 5-8 also transpose it.
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
 */
export function blockMapping(o: Orientation, pw: number, ph: number): BlockMapping {
  const lastCol = pw - 1;
  const lastRow = (ph - 1) * pw;
  switch (o) {
    case 1: return { origin: 0, stepX: 1, stepY: pw };
    case 2: return { origin: lastCol, stepX: -1, stepY: pw };
    case 3: return { origin: lastRow + lastCol, stepX: -1, stepY: -pw };
    case 4: return { origin: lastRow, stepX: 1, stepY: -pw };
    case 5: return { origin: 0, stepX: pw, stepY: 1 };
    case 6: return { origin: lastRow, stepX: -pw, stepY: 1 };
    case 7: return { origin: lastRow + lastCol, stepX: -pw, stepY: -1 };
    case 8: return { origin: lastCol, stepX: pw, stepY: -1 };
  }
}

/** Transposes an 8x8 quantization table in natural order (for orientations 5-8). */
export function transposeTable(t: Uint16Array): Uint16Array {
  const out = new Uint16Array(64);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) out[j * 8 + i] = t[i * 8 + j];
  return out;
}
