/**
 * Huffman tables: decoding tables built from DHT segments (ITU T.81 annex C and F.2.2.3),
 * and optimal, 16-bit-length-limited encoding tables built from symbol statistics
 * (the algorithm of T.81 annex K.2, as done by libjpeg's jchuff.c jpeg_gen_optimal_table).
 */
import { corrupt } from './errors.js';

/** Number of code bits resolved by one lookup in `HuffmanDecodeTable.look`. */
export const LOOKAHEAD_BITS = 9;

/** A Huffman table ready for decoding. */
export interface HuffmanDecodeTable {
  /** Indexed by the next LOOKAHEAD_BITS bits: (code length << 8) | symbol, or 0 when the code is longer. */
  readonly look: Uint16Array;
  /** maxcode[l]: largest code of length l, or -1 when there is none (l = 1..16). */
  readonly maxcode: Int32Array;
  /** valOffset[l]: add to a code of length l to get its index in `values`. */
  readonly valOffset: Int32Array;
  /** HUFFVAL: the symbols in order of increasing code length. */
  readonly values: Uint8Array;
  /**
   * AC shortcut indexed like `look`: when the code and its extra bits fit in LOOKAHEAD_BITS,
   * `value * 4096 + run * 256 + size * 16 + bitsUsed` (value is the sign-extended coefficient,
   * never 0; so `(entry >> 4) & 0xff` is the run/size symbol RS); else 0.
   */
  readonly fastAc: Int32Array;
  /** BITS of the DHT segment: counts[l-1] = number of codes of length l (for re-using the table). */
  readonly counts: Uint8Array;
}

/**
 * Builds a decoding table from the 16 code-length counts (BITS) and the symbols (HUFFVAL) of a
 * DHT segment (T.81 annex C, figure C.1 / C.2; decoding tables per F.2.2.3).
 *
 * @param counts - counts[l-1] = number of codes of length l bits, l = 1..16
 * @param values - the symbols, as many as the counts add up to (at most 256)
 * @throws LosslessError ('corrupt') when the counts describe more codes than fit in 16 bits
 */
export function buildDecodeTable(counts: Uint8Array, values: Uint8Array): HuffmanDecodeTable {
  const look = new Uint16Array(1 << LOOKAHEAD_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valOffset = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    valOffset[l] = k - code;
    for (let i = 0; i < n; i++) {
      if (l <= LOOKAHEAD_BITS) {
        const shift = LOOKAHEAD_BITS - l;
        const first = code << shift;
        const entry = (l << 8) | values[k];
        for (let j = 0; j < 1 << shift; j++) look[first + j] = entry;
      }
      code++;
      k++;
    }
    if (n > 0) maxcode[l] = code - 1;
    if (code > 1 << l) throw corrupt(`a Huffman table has more codes of length ${l} than fit in ${l} bits`);
    code <<= 1;
  }
  const fastAc = new Int32Array(1 << LOOKAHEAD_BITS);
  for (let i = 0; i < fastAc.length; i++) {
    const e = look[i];
    if (e === 0) continue;
    const len = e >> 8;
    const size = e & 15;
    const run = (e >> 4) & 15;
    if (size === 0 || len + size > LOOKAHEAD_BITS) continue;
    const bits = (i >> (LOOKAHEAD_BITS - len - size)) & ((1 << size) - 1);
    const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
    fastAc[i] = value * 4096 + run * 256 + size * 16 + len + size;
  }
  return { look, maxcode, valOffset, values, fastAc, counts };
}

/** A Huffman table ready for encoding: code and length per symbol, plus its DHT description. */
export interface HuffmanEncodeTable {
  /** Code bits per symbol (valid where `length` is nonzero). */
  readonly code: Uint16Array;
  /** Code length in bits per symbol, 0 for symbols that never occur. */
  readonly length: Uint8Array;
  /** BITS: counts[l-1] = number of codes of length l. */
  readonly counts: Uint8Array;
  /** HUFFVAL: symbols in order of increasing code length. */
  readonly values: Uint8Array;
}

/**
 * Builds an optimal Huffman table, with no code longer than 16 bits and no all-ones code,
 * from symbol frequencies: the procedure of T.81 annex K.2 (figures K.1 to K.4), which is
 * what libjpeg's jchuff.c jpeg_gen_optimal_table implements. A pseudo-symbol 256 with
 * frequency 1 reserves the all-ones code point; its code is removed at the end.
 *
 * @param freq - frequency per symbol 0..255 (length at least 256); not modified
 * @returns code lengths and codes for every symbol with nonzero frequency
 */
export function buildOptimalTable(freq: ArrayLike<number>): HuffmanEncodeTable {
  const f = new Float64Array(257);
  for (let i = 0; i < 256; i++) f[i] = freq[i];
  f[256] = 1;
  const codesize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);

  // Huffman's procedure: repeatedly merge the two least frequent trees (K.2, figure K.1).
  // Ties go to the larger symbol number, which keeps the result deterministic.
  for (;;) {
    let c1 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (f[i] !== 0 && f[i] <= v) { v = f[i]; c1 = i; }
    }
    let c2 = -1;
    v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (f[i] !== 0 && f[i] <= v && i !== c1) { v = f[i]; c2 = i; }
    }
    if (c2 < 0) break;
    f[c1] += f[c2];
    f[c2] = 0;
    codesize[c1]++;
    while (others[c1] >= 0) { c1 = others[c1]; codesize[c1]++; }
    others[c1] = c2;
    codesize[c2]++;
    while (others[c2] >= 0) { c2 = others[c2]; codesize[c2]++; }
  }

  // Count codes per length (K.2, figure K.2). Lengths can exceed 32 only in pathological
  // statistics, so size the array for the worst case (257 symbols).
  const bits = new Int32Array(260);
  let maxLen = 0;
  for (let i = 0; i <= 256; i++) {
    if (codesize[i] > 0) {
      bits[codesize[i]]++;
      if (codesize[i] > maxLen) maxLen = codesize[i];
    }
  }
  // Limit code lengths to 16 bits (K.2, figure K.3): move pairs of the longest codes up.
  for (let i = maxLen; i > 16; i--) {
    while (bits[i] > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] -= 2;
      bits[i - 1]++;
      bits[j + 1] += 2;
      bits[j]--;
    }
  }
  // Remove the pseudo-symbol's code, which is one of the longest.
  let last = 16;
  while (last > 0 && bits[last] === 0) last--;
  bits[last]--;

  // Symbols sorted by code size (K.2, figure K.4); the pseudo-symbol is last among the longest.
  const values: number[] = [];
  for (let len = 1; len <= maxLen; len++) {
    for (let s = 0; s < 256; s++) if (codesize[s] === len) values.push(s);
  }
  const counts = new Uint8Array(16);
  for (let l = 1; l <= 16; l++) counts[l - 1] = bits[l];
  return makeEncodeTable(counts, Uint8Array.from(values));
}

/**
 * Assigns canonical codes (T.81 annex C) to a BITS/HUFFVAL description for encoding.
 *
 * @param counts - counts[l-1] = number of codes of length l
 * @param values - symbols in order of increasing code length
 */
export function makeEncodeTable(counts: Uint8Array, values: Uint8Array): HuffmanEncodeTable {
  const code = new Uint16Array(256);
  const length = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    for (let i = 0; i < counts[l - 1]; i++) {
      const s = values[k++];
      code[s] = c++;
      length[s] = l;
    }
    c <<= 1;
  }
  return { code, length, counts, values: values.subarray(0, k) };
}
