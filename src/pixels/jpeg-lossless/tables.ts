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
 * DIAGONAL[k]: the anti-diagonal i+j (0..14) of zigzag position k. Every orientation keeps a
 * coefficient on its anti-diagonal (flips keep i and j, transposition swaps them), which lets
 * the encoder stop scanning a block after the last diagonal that holds a nonzero coefficient.
 */
export const DIAGONAL: Uint8Array = Uint8Array.from(ZIGZAG, (n) => (n >> 3) + (n & 7));

/** DIAGONAL_END[d]: the last zigzag position on anti-diagonal d. */
export const DIAGONAL_END: Uint8Array = (() => {
  const end = new Uint8Array(15);
  for (let k = 0; k < 64; k++) end[DIAGONAL[k]] = k;
  return end;
})();
