/**
 * Baseline sequential encoder for already-quantized DCT coefficients (ITU T.81 annex F.1.2)
 * with optimized Huffman tables: a first pass over the blocks only counts symbols, the tables
 * are built from the counts (huffman.ts buildOptimalTable, as libjpeg jchuff.c does for
 * `-optimize`), and a second pass writes the bits. The orientation is applied on the fly:
 * every output block is read from its source block through a BlockMapping and a
 * BlockPermutation, so no transformed copy of the coefficients is ever made.
 */
import { corrupt } from './errors.js';
import { buildOptimalTable, type HuffmanEncodeTable } from './huffman.js';
import * as M from './markers.js';
import { ZIGZAG } from './tables.js';
import type { BlockPermutation } from './transform.js';

/** One output component and where its blocks come from. */
export interface EncodeComponent {
  readonly id: number;
  /** Output sampling factors. */
  readonly h: number;
  readonly v: number;
  readonly tq: number;
  /** Output blocks that hold samples; blocks beyond them in an MCU are written as dummies. */
  readonly bw: number;
  readonly bh: number;
  /** Source coefficients (padded source grid) and the mapping of output blocks into it. */
  readonly src: Int16Array;
  readonly origin: number;
  readonly stepX: number;
  readonly stepY: number;
}

/** Everything needed to write the output file. */
export interface EncodeJob {
  /** Output size in pixels. */
  readonly width: number;
  readonly height: number;
  readonly comps: readonly EncodeComponent[];
  /** Output quantization tables by selector, natural order. */
  readonly quantTables: ReadonlyArray<Uint16Array | undefined>;
  /** APPn/COM segments written right after SOI, byte for byte. */
  readonly metadata: readonly Uint8Array[];
  readonly perm: BlockPermutation;
}

/** Symbol statistics of one Huffman table. */
class Stats {
  readonly freq = new Float64Array(256);
}

/** Bit writer with 0xFF byte stuffing (T.81 F.1.2.3). */
class BitWriter {
  out: Uint8Array;
  pos: number;
  private acc = 0;
  private n = 0;

  constructor(out: Uint8Array, pos: number) {
    this.out = out;
    this.pos = pos;
  }

  /** Appends the low `len` bits (0..16) of `bits`, most significant first. */
  put(bits: number, len: number): void {
    this.acc = (this.acc << len) | bits;
    this.n += len;
    while (this.n >= 8) {
      this.n -= 8;
      const b = (this.acc >>> this.n) & 0xff;
      this.out[this.pos++] = b;
      if (b === 0xff) this.out[this.pos++] = 0;
    }
  }

  /** Pads the last byte with 1 bits. */
  flush(): void {
    if (this.n > 0) this.put((1 << (8 - this.n)) - 1, 8 - this.n);
  }
}

/** Size category of a coefficient or difference (T.81 F.1.2.1 / F.1.2.2 SSSS). */
function category(v: number): number {
  const a = v < 0 ? -v : v;
  return a === 0 ? 0 : 32 - Math.clz32(a);
}

type BlockVisitor = (index: number, base: number) => void;

/**
 * Visits the blocks of one scan in coding order (T.81 A.2). `base` is the coefficient offset of
 * the source block, or -1 for a dummy block past the image edge inside an MCU.
 */
function walkScan(comps: readonly EncodeComponent[], interleaved: boolean,
  mcusX: number, mcusY: number, visit: BlockVisitor): void {
  if (!interleaved) {
    const c = comps[0];
    for (let y = 0; y < c.bh; y++) {
      let b = c.origin + y * c.stepY;
      for (let x = 0; x < c.bw; x++, b += c.stepX) visit(0, b * 64);
    }
    return;
  }
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (let i = 0; i < comps.length; i++) {
        const c = comps[i];
        for (let yy = 0; yy < c.v; yy++) {
          const y = my * c.v + yy;
          for (let xx = 0; xx < c.h; xx++) {
            const x = mx * c.h + xx;
            visit(i, x < c.bw && y < c.bh ? (c.origin + x * c.stepX + y * c.stepY) * 64 : -1);
          }
        }
      }
    }
  }
}

/**
 * Writes a complete baseline JPEG: SOI, the metadata segments, DQT, SOF0 (SOF1 when a
 * quantization table needs 16-bit entries), DHT with optimized tables, one interleaved scan
 * (or one scan per component when there is a single component or the MCU would exceed 10
 * blocks), EOI. No restart markers.
 *
 * @throws LosslessError ('corrupt') when a coefficient is too large for any Huffman category
 */
export function encodeBaseline(job: EncodeJob): Uint8Array {
  const comps = job.comps;
  const n = comps.length;
  let maxH = 1;
  let maxV = 1;
  let mcuBlocks = 0;
  for (const c of comps) { maxH = Math.max(maxH, c.h); maxV = Math.max(maxV, c.v); mcuBlocks += c.h * c.v; }
  const interleaved = n > 1 && mcuBlocks <= 10;
  const mcusX = Math.ceil(job.width / (8 * maxH));
  const mcusY = Math.ceil(job.height / (8 * maxV));
  // Component 0 (luma, or C of CMYK) uses tables 0; the others share tables 1 (baseline allows two).
  const tableOf: number[] = comps.map((_, i) => (i === 0 ? 0 : 1));
  const scans: Array<{ comps: EncodeComponent[]; tables: number[] }> = interleaved
    ? [{ comps: [...comps], tables: tableOf }]
    : comps.map((c, i) => ({ comps: [c], tables: [tableOf[i]] }));
  const source = job.perm.source;
  const sign = job.perm.sign;

  // Pass 1: symbol statistics.
  const dcStats = [new Stats(), new Stats()];
  const acStats = [new Stats(), new Stats()];
  let extraBits = 0;
  for (const scan of scans) {
    const pred = new Int32Array(scan.comps.length);
    walkScan(scan.comps, interleaved, mcusX, mcusY, (i, base) => {
      const t = scan.tables[i];
      const dcf = dcStats[t].freq;
      const acf = acStats[t].freq;
      if (base < 0) { dcf[0]++; acf[0]++; return; }
      const src = scan.comps[i].src;
      const dc = src[base + source[0]];
      const nb = category(dc - pred[i]);
      if (nb > 15) throw corrupt('a DC difference is too large for any Huffman category');
      dcf[nb]++;
      extraBits += nb;
      pred[i] = dc;
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = src[base + source[k]];
        if (v === 0) { run++; continue; }
        while (run > 15) { acf[0xf0]++; run -= 16; }
        const s = category(v);
        if (s > 15) throw corrupt('an AC coefficient is too large for any Huffman category');
        acf[(run << 4) | s]++;
        extraBits += s;
        run = 0;
      }
      if (run > 0) acf[0]++;
    });
  }
  const used = (i: number): boolean => tableOf.includes(i);
  const dcTables: Array<HuffmanEncodeTable | undefined> = [0, 1].map((i) => (used(i) ? buildOptimalTable(dcStats[i].freq) : undefined));
  const acTables: Array<HuffmanEncodeTable | undefined> = [0, 1].map((i) => (used(i) ? buildOptimalTable(acStats[i].freq) : undefined));
  let codeBits = extraBits;
  for (let i = 0; i < 2; i++) {
    const d = dcTables[i];
    const a = acTables[i];
    for (let s = 0; s < 256; s++) {
      if (d) codeBits += dcStats[i].freq[s] * d.length[s];
      if (a) codeBits += acStats[i].freq[s] * a.length[s];
    }
  }

  // Header.
  const header: number[] = [0xff, M.SOI];
  let sofMarker = M.SOF0;
  const dqt: number[] = [];
  const tqs = [...new Set(comps.map((c) => c.tq))].sort((a, b) => a - b);
  for (const tq of tqs) {
    const t = job.quantTables[tq]!;
    const wide = t.some((q) => q > 255);
    if (wide) sofMarker = M.SOF1;
    dqt.push(((wide ? 1 : 0) << 4) | tq);
    for (let k = 0; k < 64; k++) {
      const q = t[ZIGZAG[k]];
      if (wide) dqt.push(q >> 8, q & 0xff); else dqt.push(q);
    }
  }
  const segment = (marker: number, payload: number[]): number[] => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  const afterMeta: number[] = [];
  afterMeta.push(...segment(M.DQT, dqt));
  const sof: number[] = [8, job.height >> 8, job.height & 0xff, job.width >> 8, job.width & 0xff, n];
  for (const c of comps) sof.push(c.id, (c.h << 4) | c.v, c.tq);
  afterMeta.push(...segment(sofMarker, sof));
  const dht: number[] = [];
  for (let i = 0; i < 2; i++) {
    const d = dcTables[i];
    const a = acTables[i];
    if (d) dht.push(i, ...d.counts, ...d.values);
    if (a) dht.push(0x10 | i, ...a.counts, ...a.values);
  }
  afterMeta.push(...segment(M.DHT, dht));

  let metaBytes = 0;
  for (const m of job.metadata) metaBytes += m.length;
  const capacity = header.length + metaBytes + afterMeta.length + scans.length * 16 + 2 * Math.ceil(codeBits / 8) + 16 * scans.length + 2;
  const out = new Uint8Array(capacity);
  out.set(header, 0);
  let pos = header.length;
  for (const m of job.metadata) { out.set(m, pos); pos += m.length; }
  out.set(afterMeta, pos);
  pos += afterMeta.length;

  // Pass 2: the scans.
  for (const scan of scans) {
    const sos: number[] = [scan.comps.length];
    scan.comps.forEach((c, i) => sos.push(c.id, (scan.tables[i] << 4) | scan.tables[i]));
    sos.push(0, 63, 0);
    const seg = segment(M.SOS, sos);
    out.set(seg, pos);
    pos += seg.length;
    const w = new BitWriter(out, pos);
    const pred = new Int32Array(scan.comps.length);
    walkScan(scan.comps, interleaved, mcusX, mcusY, (i, base) => {
      const t = scan.tables[i];
      const dt = dcTables[t]!;
      const at = acTables[t]!;
      const acode = at.code;
      const alen = at.length;
      if (base < 0) {
        w.put(dt.code[0], dt.length[0]);
        w.put(acode[0], alen[0]);
        return;
      }
      const src = scan.comps[i].src;
      const dc = src[base + source[0]];
      const diff = dc - pred[i];
      pred[i] = dc;
      const nb = category(diff);
      w.put(dt.code[nb], dt.length[nb]);
      if (nb !== 0) w.put((diff < 0 ? diff - 1 : diff) & ((1 << nb) - 1), nb);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        let v = src[base + source[k]];
        if (v === 0) { run++; continue; }
        while (run > 15) { w.put(acode[0xf0], alen[0xf0]); run -= 16; }
        v *= sign[k];
        const s = category(v);
        const sym = (run << 4) | s;
        w.put(acode[sym], alen[sym]);
        w.put((v < 0 ? v - 1 : v) & ((1 << s) - 1), s);
        run = 0;
      }
      if (run > 0) w.put(acode[0], alen[0]);
    });
    w.flush();
    pos = w.pos;
  }
  out[pos++] = 0xff;
  out[pos++] = M.EOI;
  return out.slice(0, pos);
}
