/**
 * Bit reader for entropy-coded segments (ITU T.81 F.2.2.5, figure F.18 NEXTBIT): removes the
 * 0x00 stuffed after every 0xFF data byte, stops in front of markers, and feeds zero bits past
 * a marker or the end of the data while counting them, so that decoding never reads out of
 * range and over-reads can be detected afterwards (`overran`).
 */
import { corrupt } from './errors.js';
import { LOOKAHEAD_BITS, type HuffmanDecodeTable } from './huffman.js';
import { ZIGZAG } from './tables.js';

const LOOK_MASK = (1 << LOOKAHEAD_BITS) - 1;

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
   * @param dc - DC table of the component
   * @param ac - AC table of the component
   * @param coef - coefficient storage; the block starts at `off` (natural order, zeroed)
   * @param pred - the component's DC predictor before this block
   * @param nz - nonzero map to update (decode.ts DecodedComponent.nz); word pair at off >> 5
   * @param outPos - output zigzag position per zigzag position (transposed or identity)
   * @returns the new DC predictor
   * @throws LosslessError ('corrupt') for bad Huffman codes, categories or runs
   */
  decodeBlock(dc: HuffmanDecodeTable, ac: HuffmanDecodeTable, coef: Int16Array, off: number, pred: number,
    nz: Int32Array, outPos: Int32Array): number {
    let buf = this.buf;
    let cnt = this.cnt;
    if (cnt < 16) { this.buf = buf; this.cnt = cnt; this.fill(); buf = this.buf; cnt = this.cnt; }
    // DC difference.
    let s: number;
    let e = dc.look[(buf >>> (cnt - LOOKAHEAD_BITS)) & LOOK_MASK];
    if (e !== 0) {
      cnt -= e >> 8;
      s = e & 0xff;
    } else {
      this.buf = buf; this.cnt = cnt;
      s = this.decode(dc);
      buf = this.buf; cnt = this.cnt;
    }
    if (s !== 0) {
      if (s > 15) throw corrupt(`a DC difference category ${s} is out of range`);
      if (cnt < s) { this.buf = buf; this.cnt = cnt; this.fill(); buf = this.buf; cnt = this.cnt; }
      cnt -= s;
      const v = (buf >>> cnt) & ((1 << s) - 1);
      pred += v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
    }
    coef[off] = pred;
    // AC coefficients.
    const zz = ZIGZAG;
    const fast = ac.fastAc;
    const look = ac.look;
    const w = off >> 5;
    for (let k = 1; k < 64; k++) {
      if (cnt < 16) { this.buf = buf; this.cnt = cnt; this.fill(); buf = this.buf; cnt = this.cnt; }
      const idx = (buf >>> (cnt - LOOKAHEAD_BITS)) & LOOK_MASK;
      const f = fast[idx];
      let value: number;
      if (f !== 0) {
        cnt -= f & 15;
        k += (f >> 4) & 15;
        value = f >> 8;
      } else {
        let rs: number;
        e = look[idx];
        if (e !== 0) {
          cnt -= e >> 8;
          rs = e & 0xff;
        } else {
          this.buf = buf; this.cnt = cnt;
          rs = this.decode(ac);
          buf = this.buf; cnt = this.cnt;
        }
        s = rs & 15;
        if (s === 0) {
          if (rs !== 0xf0) break;
          k += 15;
          continue;
        }
        k += rs >> 4;
        if (cnt < s) { this.buf = buf; this.cnt = cnt; this.fill(); buf = this.buf; cnt = this.cnt; }
        cnt -= s;
        const v = (buf >>> cnt) & ((1 << s) - 1);
        value = v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
      }
      if (k > 63) throw corrupt('an AC run goes past the end of a block');
      coef[off + zz[k]] = value;
      const q = outPos[k];
      nz[w + (q >> 5)] |= 1 << (31 - (q & 31));
    }
    this.buf = buf;
    this.cnt = cnt;
    return pred;
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
   * consumes them and returns the `fastAc` entry (value * 256 + run * 16 + bits); else returns
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
