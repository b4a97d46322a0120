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

/**
 * A copy of `bytes` (or of `[start, end)` of it) in a new `Uint8Array`. Use this instead of
 * `slice()`, which on a Node.js `Buffer` returns a view sharing memory with the original, so
 * writing to the "copy" would change the caller's input.
 *
 * @param bytes - any byte array, a `Buffer` included.
 * @param start - first byte offset. Default 0.
 * @param end - offset past the last byte. Default `bytes.length`.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}
