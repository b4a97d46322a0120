/**
 * ZIGZAG[k] is the natural (row-major, i*8+j) index of the k-th coefficient in zigzag order
 * (ITU T.81 figure A.6). Built by walking the anti-diagonals, so no hand-typed table.
 */
export const ZIGZAG: Int32Array = (() => {
  const zz = new Int32Array(64);
  let k = 0;
  for (let s = 0; s <= 14; s++) {
    const lo = Math.max(0, s - 7);
    const hi = Math.min(s, 7);
    if (s % 2 === 0) {
      for (let i = hi; i >= lo; i--) zz[k++] = i * 8 + (s - i);
    } else {
      for (let i = lo; i <= hi; i++) zz[k++] = i * 8 + (s - i);
    }
  }
  return zz;
})();

/**
 * TRANSPOSED_ZIGZAG[k]: the zigzag position that coefficient k (zigzag) lands on when its
 * block is transposed (orientations 5-8 swap i and j).
 */
export const TRANSPOSED_ZIGZAG: Int32Array = (() => {
  const inverse = new Int32Array(64);
  for (let k = 0; k < 64; k++) inverse[ZIGZAG[k]] = k;
  return Int32Array.from(ZIGZAG, (n) => inverse[(n & 7) * 8 + (n >> 3)]);
})();

/** IDENTITY_ZIGZAG[k] = k: the same for flips, which keep every coefficient in place. */
export const IDENTITY_ZIGZAG: Int32Array = Int32Array.from({ length: 64 }, (_, k) => k);
