/**
 * Baseline sequential encoder for already-quantized DCT coefficients (ITU T.81 annex F.1.2)
 * with optimized Huffman tables: a first pass over the blocks turns them into a compact
 * symbol stream (one Uint32 per Huffman symbol with its extra bits) while counting symbols,
 * the tables are built from the counts (huffman.ts buildOptimalTable, as libjpeg jchuff.c
 * does for `-optimize`), and a second pass turns the stream into bits.
 *
 * The orientation is applied on the fly: every output block is read from its source block
 * through a BlockMapping and a BlockPermutation, so no transformed copy of the coefficients
 * is ever made.
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
  /** Nonzero maps of the source blocks in output zigzag order (decode.ts DecodedComponent.nz). */
  readonly nz: Int32Array;
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
  /** Huffman table (0 or 1) per component (markers.ts huffmanTableChoice). */
  readonly huffmanTables: readonly number[];
}

/*
 * Symbol stream entry layout: bits 0-7 the Huffman symbol (RS for AC, SSSS for DC), bit 8
 * set for the AC class, bit 9 the table index (0 or 1), bits 10-24 the extra bits. The low
 * 10 bits index the frequency and code arrays directly; the number of extra bits is always
 * the low nibble of the symbol.
 */
const AC = 0x100;
const ZRL = 0xf0;

/** Coding order of one scan: source coefficient offset per block (-1 = dummy) and its scan component. */
interface BlockList {
  readonly base: Int32Array;
  readonly comp: Uint8Array;
}

/** Number of set bits in all words of `words`. */
function popcount(words: Int32Array): number {
  let total = 0;
  for (let i = 0; i < words.length; i++) {
    let x = words[i];
    if (x === 0) continue;
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    total += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return total;
}

/** Lists the blocks of one scan in coding order (T.81 A.2). */
function blockList(comps: readonly EncodeComponent[], interleaved: boolean, mcusX: number, mcusY: number): BlockList {
  if (!interleaved) {
    const c = comps[0];
    const base = new Int32Array(c.bw * c.bh);
    let n = 0;
    for (let y = 0; y < c.bh; y++) {
      let b = c.origin + y * c.stepY;
      for (let x = 0; x < c.bw; x++, b += c.stepX) base[n++] = b * 64;
    }
    return { base, comp: new Uint8Array(n) };
  }
  let perMcu = 0;
  for (const c of comps) perMcu += c.h * c.v;
  const total = mcusX * mcusY * perMcu;
  const base = new Int32Array(total);
  const comp = new Uint8Array(total);
  let n = 0;
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (let i = 0; i < comps.length; i++) {
        const c = comps[i];
        for (let yy = 0; yy < c.v; yy++) {
          const y = my * c.v + yy;
          for (let xx = 0; xx < c.h; xx++) {
            const x = mx * c.h + xx;
            // Blocks past the image edge inside the last MCUs are dummies (as libjpeg writes
            // them): DC difference 0, no AC coefficients.
            base[n] = x < c.bw && y < c.bh ? (c.origin + x * c.stepX + y * c.stepY) * 64 : -1;
            comp[n++] = i;
          }
        }
      }
    }
  }
  return { base, comp };
}

/** Growable symbol stream. */
interface Stream {
  data: Uint32Array;
  length: number;
}

/**
 * Pass 1: turns the blocks of one scan into symbols, appending to `stream` and counting
 * `freq` (indexed by the low 10 bits of an entry).
 */
function gatherSymbols(list: BlockList, srcs: readonly Int16Array[], nzs: readonly Int32Array[], tables: readonly number[],
  perm: BlockPermutation, stream: Stream, freq: Uint32Array): void {
  const bases = list.base;
  const compOf = list.comp;
  const source = perm.source;
  const flips = perm.flip;
  const s0 = source[0];
  const pred = new Int32Array(srcs.length);
  let out = stream.data;
  let n = stream.length;
  for (let b = 0; b < bases.length; b++) {
    if (n + 130 > out.length) {
      const bigger = new Uint32Array(Math.max(out.length * 2, n + 1024));
      bigger.set(out.subarray(0, n));
      out = bigger;
    }
    const ci = compOf[b];
    const base = bases[b];
    const t = tables[ci] << 9;
    if (base < 0) {
      out[n++] = t;
      out[n++] = t | AC;
      freq[t]++;
      freq[t | AC]++;
      continue;
    }
    const src = srcs[ci];
    const dc = src[base + s0];
    const diff = dc - pred[ci];
    pred[ci] = dc;
    const ad = diff < 0 ? -diff : diff;
    const nb = ad === 0 ? 0 : 32 - Math.clz32(ad);
    if (nb > 15) throw corrupt('a DC difference is too large for any Huffman category');
    const dsym = t | nb;
    out[n++] = dsym | (((diff < 0 ? diff - 1 : diff) & ((1 << nb) - 1)) << 10);
    freq[dsym]++;
    // Visit only the coefficients the nonzero map marks, in output zigzag order.
    const nz = nzs[ci];
    const w = base >> 5;
    let prev = 0;
    for (let half = 0; half < 2; half++) {
      let m = nz[w + half];
      while (m !== 0) {
        const z = Math.clz32(m);
        m ^= 1 << (31 - z);
        const k = (half << 5) + z;
        let v = src[base + source[k]];
        if (v === 0) continue;
        let run = k - prev - 1;
        prev = k;
        while (run > 15) {
          out[n++] = t | AC | ZRL;
          freq[t | AC | ZRL]++;
          run -= 16;
        }
        // Branch-free sign flip (flip is 0 or -1), absolute value and extra bits (F.1.2.2).
        const flip = flips[k];
        v = (v ^ flip) - flip;
        const neg = v >> 31;
        const s = 32 - Math.clz32((v ^ neg) - neg);
        if (s > 15) throw corrupt('an AC coefficient is too large for any Huffman category');
        const sym = t | AC | (run << 4) | s;
        out[n++] = sym | (((v + neg) & ((1 << s) - 1)) << 10);
        freq[sym]++;
      }
    }
    if (prev < 63) {
      out[n++] = t | AC;
      freq[t | AC]++;
    }
  }
  stream.data = out;
  stream.length = n;
}

/**
 * Pass 2: writes the symbols of `stream` from `from` to `to` as Huffman codes plus extra
 * bits, with 0xFF byte stuffing and 1-bit padding of the last byte (T.81 F.1.2.3).
 * @returns the new write position in `out`
 */
function emitSymbols(stream: Uint32Array, from: number, to: number, codes: Int32Array, lengths: Uint8Array,
  out: Uint8Array, pos: number): number {
  let acc = 0;
  let nb = 0;
  for (let i = from; i < to; i++) {
    const e = stream[i];
    const idx = e & 0x3ff;
    const len = lengths[idx];
    const eb = e & 15;
    const extra = e >>> 10;
    if (len + eb <= 24) {
      acc = (acc << (len + eb)) | (codes[idx] << eb) | extra;
      nb += len + eb;
    } else {
      acc = (acc << len) | codes[idx];
      nb += len;
      while (nb >= 8) {
        nb -= 8;
        const byte = (acc >>> nb) & 0xff;
        out[pos++] = byte;
        if (byte === 0xff) out[pos++] = 0;
      }
      acc = (acc << eb) | extra;
      nb += eb;
    }
    while (nb >= 8) {
      nb -= 8;
      const byte = (acc >>> nb) & 0xff;
      out[pos++] = byte;
      if (byte === 0xff) out[pos++] = 0;
    }
  }
  if (nb > 0) {
    const byte = ((acc << (8 - nb)) | ((1 << (8 - nb)) - 1)) & 0xff;
    out[pos++] = byte;
    if (byte === 0xff) out[pos++] = 0;
  }
  return pos;
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
  const tableOf = job.huffmanTables;
  const scans: Array<{ comps: EncodeComponent[]; tables: number[] }> = interleaved
    ? [{ comps: [...comps], tables: [...tableOf] }]
    : comps.map((c, i) => ({ comps: [c], tables: [tableOf[i]] }));

  // Pass 1: symbols and their statistics.
  const freq = new Uint32Array(1024);
  // Size the symbol stream from the nonzero maps: one symbol per nonzero AC coefficient, plus
  // per block at most one DC, one EOB and three ZRLs. (It still grows if hostile data lies.)
  let symbols = 1024;
  for (const c of comps) symbols += popcount(c.nz) + 5 * c.bw * c.bh;
  const stream: Stream = { data: new Uint32Array(symbols), length: 0 };
  const ends: number[] = [];
  for (const scan of scans) {
    const list = blockList(scan.comps, interleaved, mcusX, mcusY);
    gatherSymbols(list, scan.comps.map((c) => c.src), scan.comps.map((c) => c.nz), scan.tables, job.perm, stream, freq);
    ends.push(stream.length);
  }

  // Optimal tables; all four share one code/length array indexed like the stream entries.
  const codes = new Int32Array(1024);
  const lengths = new Uint8Array(1024);
  const dht: number[] = [];
  let bits = 0;
  for (let t = 0; t < 2; t++) {
    if (!tableOf.includes(t)) continue;
    for (let cls = 0; cls < 2; cls++) {
      const off = (t << 9) | (cls << 8);
      const table = buildOptimalTable(freq.subarray(off, off + 256));
      dht.push((cls << 4) | t, ...table.counts, ...table.values);
      for (let s = 0; s < 256; s++) {
        codes[off + s] = table.code[s];
        lengths[off + s] = table.length[s];
        bits += freq[off + s] * (table.length[s] + (s & 15));
      }
    }
  }

  // Header: DQT, SOF, DHT (after SOI and the metadata segments).
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
  const tables: number[] = [...segment(M.DQT, dqt)];
  const sof: number[] = [8, job.height >> 8, job.height & 0xff, job.width >> 8, job.width & 0xff, n];
  for (const c of comps) sof.push(c.id, (c.h << 4) | c.v, c.tq);
  tables.push(...segment(sofMarker, sof), ...segment(M.DHT, dht));

  let metaBytes = 0;
  for (const m of job.metadata) metaBytes += m.length;
  // Worst case: every entropy-coded byte is 0xFF and gets a stuffed 0x00.
  const capacity = 2 + metaBytes + tables.length + scans.length * 16 + 2 * Math.ceil(bits / 8) + 2 * scans.length + 2;
  const out = new Uint8Array(capacity);
  out[0] = 0xff;
  out[1] = M.SOI;
  let pos = 2;
  for (const m of job.metadata) { out.set(m, pos); pos += m.length; }
  out.set(tables, pos);
  pos += tables.length;

  // Pass 2: the scans.
  let from = 0;
  scans.forEach((scan, si) => {
    const sos: number[] = [scan.comps.length];
    scan.comps.forEach((c, i) => sos.push(c.id, (scan.tables[i] << 4) | scan.tables[i]));
    sos.push(0, 63, 0);
    const seg = segment(M.SOS, sos);
    out.set(seg, pos);
    pos += seg.length;
    pos = emitSymbols(stream.data, from, ends[si], codes, lengths, out, pos);
    from = ends[si];
  });
  out[pos++] = 0xff;
  out[pos++] = M.EOI;
  return out.slice(0, pos);
}
