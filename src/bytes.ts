/**
 * Small byte helpers shared by the container writers.
 */

/**
 * Concatenates byte arrays.
 *
 * @param parts - the pieces in order.
 * @returns one new array of their total length.
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
