/**
 * Small byte helpers shared by the container readers and writers.
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

/**
 * Whether `bytes` holds `prefix` at `offset` (false when it would run past the end).
 *
 * @param bytes - any byte array.
 * @param prefix - the bytes looked for, e.g. the `Exif\0\0` header.
 * @param offset - where in `bytes` the prefix must start, in bytes. Default 0.
 */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array, offset = 0): boolean {
  if (offset < 0 || offset + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[offset + i] !== prefix[i]) return false;
  return true;
}
