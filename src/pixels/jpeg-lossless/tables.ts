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
