/**
 * Bit reader for entropy-coded segments (ITU T.81 F.2.2.5, figure F.18 NEXTBIT): removes the
 * 0x00 stuffed after every 0xFF data byte, stops in front of markers, and feeds zero bits past
 * a marker or the end of the data while counting them, so that decoding never reads out of
 * range and over-reads can be detected afterwards (`overran`).
 */
import { corrupt } from './errors.js';
import { LOOKAHEAD_BITS, type HuffmanDecodeTable } from './huffman.js';

const LOOK_MASK = (1 << LOOKAHEAD_BITS) - 1;

/** decodeBlock `stats` modes: no statistics, output order = input order, transposed output order. */
export const STATS_NONE = 0;
export const STATS_SAME_ORDER = 1;
export const STATS_TRANSPOSED = 2;

/**
 * Reads the entropy-coded data of one scan, starting at a byte offset of the whole file.
 * Methods never read outside `data`; past a marker or the end they feed zero bits and count
 * them, and `finish`/`restart` turn any use of those into a 'corrupt' refusal.
 */
export class BitReader {
  private readonly data: Uint8Array;
  /** Position of the next byte to read. */
  pos: number;
  private readonly end: number;
  /** Bit buffer: the low `cnt` bits are unread, most significant first. */
  private buf = 0;
  private cnt = 0;
  /** Zero bytes fed since the last marker or end of data was met. */
  private pad = 0;
  /** True when reading stopped in front of a marker (`pos` points at its 0xFF). */
  private atMarker = false;
  /**
   * decodeBlock's refill fast path: offset of the first 0xFF byte at or after `pos` (or the end
   * of the data) when last looked for; bytes before it need no stuffing or marker checks.
   * Only ever behind the truth (stale values are smaller), which just takes the slow path.
   */
  private nextFF = 0;
  /** decodeBlock scratch for STATS_TRANSPOSED: the last symbol RS decoded per output position. */
  private readonly cat = new Uint8Array(64);

  /**
   * @param data - the whole file
   * @param pos - byte offset where the entropy-coded segment starts
   */
  constructor(data: Uint8Array, pos: number) {
    this.data = data;
    this.pos = pos;
    this.end = data.length;
  }

  /** Tops the buffer up to at least 25 bits (zero bits after a marker or the end of data). */
  fill(): void {
    const data = this.data;
    let buf = this.buf;
    let cnt = this.cnt;
    let pos = this.pos;
    while (cnt <= 24) {
      let b = 0;
      if (!this.atMarker && pos < this.end) {
        b = data[pos];
        if (b === 0xff) {
          if (pos + 1 < this.end && data[pos + 1] === 0) {
            pos += 2;
          } else {
            this.atMarker = true;
            this.pad++;
            b = 0;
          }
        } else {
          pos++;
        }
      } else {
        this.pad++;
      }
      buf = (buf << 8) | b;
      cnt += 8;
    }
    this.buf = buf;
    this.cnt = cnt;
    this.pos = pos;
  }

  /**
   * Decodes one whole sequential block (T.81 F.2.2.1 and F.2.2.2: DC difference, then AC
   * run/size symbols up to EOB) with the bit buffer in local variables, which is what makes
   * baseline decoding fast; the fields are touched once per block.
   *
   * With `stats` it also counts the block's AC symbols as an encoder writing it in output
   * zigzag order will (run/size, ZRL, EOB; T.81 F.1.2.2), while the block is hot, so that no
   * separate statistics pass over the coefficients is needed (libjpeg jchuff.c does one,
   * encode_mcu_gather). Sign flips do not change categories.
   * - STATS_SAME_ORDER (flips): the output order is the input order, so the input symbols are
   *   the output symbols, except ZRLs not followed by a nonzero coefficient, which are taken back.
   * - STATS_TRANSPOSED: the categories are noted per output position, and the block's
   *   nonzero map is then walked in output order.
   *
   * @param dc - DC table of the component
   * @param ac - AC table of the component
   * @param coef - coefficient storage; the block starts at `off` (zeroed)
   * @param pred - the component's DC predictor before this block
   * @param nz - nonzero map (decode.ts DecodedComponent.nz); this block's word pair, at
   *   off >> 5, is overwritten
   * @param outPos - output zigzag position (nonzero map bit) per zigzag position
   * @param store - storage index within the block per zigzag position
   * @param stats - STATS_NONE, or (only with `store` equal to `outPos`) STATS_SAME_ORDER or
   *   STATS_TRANSPOSED as `outPos` is the identity or the transposition
   * @param freq - output AC symbol frequencies (256) to add this block's symbols to, with `stats`
   * @returns the new DC predictor
   * @throws LosslessError ('corrupt') for bad Huffman codes, categories or runs
   */
  decodeBlock(dc: HuffmanDecodeTable, ac: HuffmanDecodeTable, coef: Int16Array, off: number, pred: number,
    nz: Int32Array, outPos: Int32Array, store: Int32Array, stats: number, freq: Uint32Array): number {
    let buf = this.buf;
    let cnt = this.cnt;
    // Refill fast path: two bytes at once while no 0xFF byte (stuffing or marker) is near.
    const data = this.data;
    let pos = this.pos;
    let nextFF = this.nextFF;
    if (cnt < 16) {
      if (pos + 1 < nextFF) {
        buf = (buf << 16) | (data[pos] << 8) | data[pos + 1]; cnt += 16; pos += 2;
      } else {
        this.buf = buf; this.cnt = cnt; this.pos = pos; this.fill(); buf = this.buf; cnt = this.cnt; pos = this.pos;
        if (pos > nextFF) nextFF = this.findFF(pos);
      }
    }
    // DC difference.
    let s: number;
    let e = dc.look[(buf >>> (cnt - LOOKAHEAD_BITS)) & LOOK_MASK];
    if (e !== 0) {
      cnt -= e >> 8;
      s = e & 0xff;
    } else {
      this.buf = buf; this.cnt = cnt; this.pos = pos;
      s = this.decode(dc);
      buf = this.buf; cnt = this.cnt; pos = this.pos;
      if (pos > nextFF) nextFF = this.findFF(pos);
    }
    if (s !== 0) {
      if (s > 15) throw corrupt(`a DC difference category ${s} is out of range`);
      if (cnt < s) {
        this.buf = buf; this.cnt = cnt; this.pos = pos; this.fill(); buf = this.buf; cnt = this.cnt; pos = this.pos;
        if (pos > nextFF) nextFF = this.findFF(pos);
      }
      cnt -= s;
      const v = (buf >>> cnt) & ((1 << s) - 1);
      pred += v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
    }
    coef[off] = pred;
    // AC coefficients. The nonzero map words are built in locals (lo: positions 0-31).
    const fast = ac.fastAc;
    const look = ac.look;
    const cat = this.cat;
    let lo = 0;
    let hi = 0;
    // STATS_SAME_ORDER: zigzag position of the last nonzero coefficient, start of the last ZRL
    // and number of ZRLs since that coefficient.
    let last = 0;
    let zrlAt = -1;
    let trailing = 0;
    for (let k = 1; k < 64; k++) {
      if (cnt < 16) {
        if (pos + 1 < nextFF) {
          buf = (buf << 16) | (data[pos] << 8) | data[pos + 1]; cnt += 16; pos += 2;
        } else {
          this.buf = buf; this.cnt = cnt; this.pos = pos; this.fill(); buf = this.buf; cnt = this.cnt; pos = this.pos;
          if (pos > nextFF) nextFF = this.findFF(pos);
        }
      }
      const idx = (buf >>> (cnt - LOOKAHEAD_BITS)) & LOOK_MASK;
      const f = fast[idx];
      let value: number;
      let rs: number;
      if (f !== 0) {
        cnt -= f & 15;
        k += (f >> 8) & 15;
        value = f >> 12;
        rs = (f >> 4) & 0xff;
      } else {
        e = look[idx];
        if (e !== 0) {
          cnt -= e >> 8;
          rs = e & 0xff;
        } else {
          this.buf = buf; this.cnt = cnt; this.pos = pos;
          rs = this.decode(ac);
          buf = this.buf; cnt = this.cnt; pos = this.pos;
          if (pos > nextFF) nextFF = this.findFF(pos);
        }
        s = rs & 15;
        if (s === 0) {
          if (rs !== 0xf0) break;
          if (stats === STATS_SAME_ORDER) {
            freq[0xf0]++;
            trailing = zrlAt > last ? trailing + 1 : 1;
            zrlAt = k;
          }
          k += 15;
          continue;
        }
        k += rs >> 4;
        if (cnt < s) {
          this.buf = buf; this.cnt = cnt; this.pos = pos; this.fill(); buf = this.buf; cnt = this.cnt; pos = this.pos;
          if (pos > nextFF) nextFF = this.findFF(pos);
        }
        cnt -= s;
        const v = (buf >>> cnt) & ((1 << s) - 1);
        value = v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
      }
      if (k > 63) throw corrupt('an AC run goes past the end of a block');
      coef[off + store[k]] = value;
      const q = outPos[k];
      if (q < 32) lo |= 1 << (31 - q); else hi |= 1 << (63 - q);
      if (stats === STATS_SAME_ORDER) {
        freq[rs]++;
        last = k;
      } else if (stats === STATS_TRANSPOSED) {
        cat[q] = rs;
      }
    }
    this.buf = buf;
    this.cnt = cnt;
    this.pos = pos;
    this.nextFF = nextFF;
    const w = off >> 5;
    nz[w] = lo;
    nz[w + 1] = hi;
    if (stats === STATS_SAME_ORDER) {
      if (zrlAt > last) freq[0xf0] -= trailing;
      if (last < 63) freq[0]++;
    } else if (stats === STATS_TRANSPOSED) {
      let prev = 0;
      for (let half = 0; half < 2; half++) {
        let m = half === 0 ? lo : hi;
        while (m !== 0) {
          const z = Math.clz32(m);
          m ^= 1 << (31 - z);
          const q = (half << 5) | z;
          let run = q - prev - 1;
          prev = q;
          while (run > 15) { freq[0xf0]++; run -= 16; }
          freq[(run << 4) | (cat[q] & 15)]++;
        }
      }
      if (prev < 63) freq[0]++;
    }
    return pred;
  }

  /** Offset of the first 0xFF byte at or after `pos`, or the end of the data. */
  private findFF(pos: number): number {
    const i = this.data.indexOf(0xff, pos);
    return i < 0 ? this.end : i;
  }

  /** Reads `n` bits (0..16) as an unsigned number. */
  bits(n: number): number {
    if (this.cnt < n) this.fill();
    this.cnt -= n;
    return (this.buf >>> this.cnt) & ((1 << n) - 1);
  }

  /** Reads one bit. */
  bit(): number {
    if (this.cnt < 1) this.fill();
    this.cnt--;
    return (this.buf >>> this.cnt) & 1;
  }

  /** Reads `n` bits (1..15) and sign-extends them as T.81 F.2.2.1 EXTEND does. */
  receiveExtend(n: number): number {
    if (this.cnt < n) this.fill();
    this.cnt -= n;
    const v = (this.buf >>> this.cnt) & ((1 << n) - 1);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  /**
   * Decodes one Huffman symbol (T.81 F.2.2.3 DECODE) with a LOOKAHEAD_BITS-bit table lookup,
   * falling back to the code-length loop for longer codes.
   *
   * @throws LosslessError ('corrupt') when the bits match no code of the table
   */
  decode(t: HuffmanDecodeTable): number {
    if (this.cnt < 16) this.fill();
    const e = t.look[(this.buf >>> (this.cnt - LOOKAHEAD_BITS)) & LOOK_MASK];
    if (e !== 0) {
      this.cnt -= e >> 8;
      return e & 0xff;
    }
    for (let l = LOOKAHEAD_BITS + 1; l <= 16; l++) {
      const code = (this.buf >>> (this.cnt - l)) & ((1 << l) - 1);
      if (code <= t.maxcode[l]) {
        this.cnt -= l;
        return t.values[code + t.valOffset[l]];
      }
    }
    throw corrupt('the entropy-coded data holds a bit pattern that is no Huffman code');
  }

  /**
   * AC shortcut: when the next bits hold a whole code plus its extra bits within the lookahead,
   * consumes them and returns the `fastAc` entry (huffman.ts HuffmanDecodeTable.fastAc); else returns
   * 0 and consumes nothing.
   */
  fastAc(t: HuffmanDecodeTable): number {
    if (this.cnt < 16) this.fill();
    const e = t.fastAc[(this.buf >>> (this.cnt - LOOKAHEAD_BITS)) & LOOK_MASK];
    if (e !== 0) this.cnt -= e & 15;
    return e;
  }

  /** True when more bits were consumed than the segment holds (zero bits fed were used). */
  overran(): boolean {
    return this.pad * 8 > this.cnt;
  }

  /**
   * Ends an entropy-coded segment: drops the partial byte, skips any extraneous bytes and
   * leaves `pos` on the 0xFF of the next marker.
   *
   * @throws LosslessError ('corrupt') when the segment was too short for its MCUs
   */
  finish(): void {
    if (this.overran()) throw corrupt('the entropy-coded data ends before the last MCU of the scan or restart interval');
    this.buf = 0;
    this.cnt = 0;
    if (!this.atMarker) {
      const data = this.data;
      let pos = this.pos;
      while (pos < this.end && !(data[pos] === 0xff && pos + 1 < this.end && data[pos + 1] !== 0)) pos++;
      this.pos = pos;
    }
    this.atMarker = false;
    this.pad = 0;
  }

  /**
   * Handles the RSTn marker that must follow a restart interval (T.81 F.2.2.5 / E.2.4).
   *
   * @param expected - 0..7, the n of the RSTn marker that must come next
   * @throws LosslessError ('corrupt') when that marker is not there
   */
  restart(expected: number): void {
    this.finish();
    const data = this.data;
    let pos = this.pos;
    while (pos < this.end && data[pos] === 0xff) pos++;
    if (pos >= this.end || data[pos] !== 0xd0 + expected) {
      throw corrupt(`restart marker RST${expected} is missing where the restart interval ends`);
    }
    this.pos = pos + 1;
  }
}
