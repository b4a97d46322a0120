/**
 * Baseline sequential encoder for already-quantized DCT coefficients (ITU T.81 annex F.1.2)
 * with optimized Huffman tables, in the two steps of libjpeg's jchuff.c for `-optimize`:
 * symbol statistics first, then the optimal tables (huffman.ts buildOptimalTable, as
 * jpeg_gen_optimal_table), then one pass that writes the Huffman codes and extra bits.
 *
 * The AC statistics of sequential input are counted by the decoder while each block is hot
 * (decode.ts DecodedComponent.acFreq); otherwise (progressive input) by a counting pass here.
 * DC differences depend on the output block order, so a light pass over the DC values counts
 * them (and the dummy blocks).
 *
 * The orientation is applied on the fly: every output block is read from its source block
 * through a BlockMapping, with the coefficients already stored in output zigzag order by the
 * decoder and the signs flipped while writing, so no transformed copy is ever made.
 */
import { corrupt } from './errors.js';
import { buildOptimalTable, makeEncodeTable } from './huffman.js';
import * as M from './markers.js';
import { ZIGZAG } from './tables.js';

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
  /**
   * Source coefficients (padded source grid), 64 per block in output zigzag order (decode.ts
   * layout 'zigzag' or 'transposed'), signs not yet flipped; the mapping of output blocks into it.
   */
  readonly src: Int16Array;
  /** Nonzero maps of the source blocks in output zigzag order (decode.ts DecodedComponent.nz). */
  readonly nz: Int32Array;
  /**
   * Output AC symbol frequencies over this component's output blocks that hold samples
   * (decode.ts DecodedComponent.acFreq), or an empty array to have them counted here.
   */
  readonly acFreq: Uint32Array;
  /** Packed storage of the kernel (decode.ts DecodedComponent.offsets); only the kernel's encoder reads it. */
  readonly offsets?: Uint32Array;
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
  /** Per output zigzag position: 0 to keep the sign, -1 to negate (transform.ts BlockPermutation.flip). */
  readonly flip: Int32Array;
  /** Huffman table (0 or 1) per component (markers.ts huffmanTableChoice). */
  readonly huffmanTables: readonly number[];
  /** Who counts the symbols and writes the entropy-coded data (default: the JavaScript reference here). */
  readonly backend?: EncodeBackend;
  /**
   * Per component, the Huffman tables of its input scan (sequential input), to write the output
   * with them in one pass, without statistics, when they code every symbol an 8-bit baseline
   * block can need (as the standard tables of T.81 K.3 do); else, or when absent, optimal tables.
   */
  readonly sourceTables?: ReadonlyArray<{ readonly dc: SourceTable; readonly ac: SourceTable } | undefined>;
}

/** A DHT table: BITS and HUFFVAL (T.81 B.2.4.2). */
export interface SourceTable {
  readonly counts: Uint8Array;
  readonly values: Uint8Array;
}

/** True when `table` has a code for every symbol in `needed`. */
function covers(table: SourceTable, needed: readonly number[]): boolean {
  const has = new Set(table.values);
  return needed.every((s) => has.has(s));
}

/** DC categories 0-11 and AC run/size symbols (sizes 1-10, EOB, ZRL) of 8-bit coefficients (T.81 F.1.2). */
const DC_SYMBOLS = Array.from({ length: 12 }, (_, s) => s);
const AC_SYMBOLS = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => ((i / 10) << 4) | ((i % 10) + 1))];

/**
 * The input tables to write in one pass, keyed `(output table << 1) | class`, when every
 * component has complete ones and the components that share an output table share the same
 * input table; else undefined.
 */
function sourceTableChoice(tables: NonNullable<EncodeJob['sourceTables']>, tableOf: readonly number[]): Map<number, SourceTable> | undefined {
  const chosen = new Map<number, SourceTable>();
  for (let i = 0; i < tables.length; i++) {
    const t = tables[i];
    if (!t || !covers(t.dc, DC_SYMBOLS) || !covers(t.ac, AC_SYMBOLS)) return undefined;
    for (const [cls, table] of [[0, t.dc], [1, t.ac]] as const) {
      const key = (tableOf[i] << 1) | cls;
      const prev = chosen.get(key);
      if (prev && prev !== table) return undefined;
      chosen.set(key, table);
    }
  }
  return new Map([...chosen].sort((a, b) => a[0] - b[0]));
}

/** One output scan: its components in scan order, their Huffman tables and the MCU grid. */
export interface ScanPlan {
  readonly comps: readonly EncodeComponent[];
  /** Huffman table (0 or 1) per scan component. */
  readonly tables: readonly number[];
  /** True for one interleaved scan of every component (MCUs of h x v blocks each, T.81 A.2.3). */
  readonly interleaved: boolean;
  readonly mcusX: number;
  readonly mcusY: number;
}

/**
 * The entropy-coded work of encodeBaseline, replaceable as a whole: the reference here in
 * JavaScript, or the WebAssembly kernel (kernel/index.ts). Each must give the same counts and
 * the same bytes.
 */
export interface EncodeBackend {
  /**
   * Adds the DC symbols of the scan in coding order, and the DC and EOB symbols of its dummy
   * blocks, to `freq` (1024 entries indexed `(table << 9) | (class << 8) | symbol`).
   * @throws LosslessError ('corrupt') when a DC difference needs more than 15 bits
   */
  countDc(scan: ScanPlan, freq: Uint32Array): void;
  /**
   * Adds the AC symbols of one component's output blocks to `freq` (256 entries).
   * @throws LosslessError ('corrupt') when a coefficient needs more than 15 bits
   */
  countAc(c: EncodeComponent, freq: Uint32Array): void;
  /**
   * Writes the entropy-coded data of every scan, byte-stuffed (T.81 F.1.2.3), with the given
   * codes and lengths (indexed like `freq`) and sign flips.
   * @param bits - the number of bits of all scans together (exact from the statistics, or an upper bound)
   * @returns one byte array per scan; valid until the backend is used again
   */
  emitScans(scans: readonly ScanPlan[], flip: Int32Array, codes: Int32Array, lengths: Uint8Array, bits: number): Uint8Array[];
}

/*
 * Frequencies, codes and lengths of all four tables share arrays of 1024 entries indexed by
 * (table << 9) | (class << 8) | symbol: class 0 DC (symbol SSSS), class 1 AC (symbol RRRRSSSS).
 */
const AC = 0x100;
const ZRL = 0xf0;

/** Coding order of one scan: source coefficient offset per block (-1 = dummy) and its scan component. */
interface BlockList {
  readonly base: Int32Array;
  readonly comp: Uint8Array;
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

/**
 * Counts the DC symbols of one scan in coding order, and the DC and EOB symbols of its dummy
 * blocks, into `freq` (jchuff.c encode_mcu_gather, DC part).
 * @throws LosslessError ('corrupt') when a DC difference needs more than 15 bits
 */
function countDc(list: BlockList, srcs: readonly Int16Array[], tables: readonly number[], freq: Uint32Array): void {
  const bases = list.base;
  const compOf = list.comp;
  const pred = new Int32Array(srcs.length);
  for (let b = 0; b < bases.length; b++) {
    const ci = compOf[b];
    const base = bases[b];
    const t = tables[ci] << 9;
    if (base < 0) {
      freq[t]++;
      freq[t | AC]++;
      continue;
    }
    const dc = srcs[ci][base];
    const diff = dc - pred[ci];
    pred[ci] = dc;
    const nb = 32 - Math.clz32(diff < 0 ? -diff : diff);
    if (nb > 15) throw corrupt('a DC difference is too large for any Huffman category');
    freq[t | nb]++;
  }
}

/**
 * Counts the AC symbols of one component's output blocks that hold samples into `freq`
 * (256 entries), for input whose decoder did not (progressive). Skips coefficients that the
 * nonzero map marks but that are 0 (possible with hostile data), as the writer does.
 * @throws LosslessError ('corrupt') when a coefficient needs more than 15 bits
 */
function countAc(c: EncodeComponent, freq: Uint32Array): void {
  const src = c.src;
  const nz = c.nz;
  for (let y = 0; y < c.bh; y++) {
    for (let x = 0; x < c.bw; x++) {
      const base = (c.origin + x * c.stepX + y * c.stepY) * 64;
      const w = base >> 5;
      let prev = 0;
      for (let half = 0; half < 2; half++) {
        let m = nz[w + half];
        while (m !== 0) {
          const z = Math.clz32(m);
          m ^= 1 << (31 - z);
          const q = (half << 5) | z;
          const v = src[base + q];
          if (v === 0) continue;
          let run = q - prev - 1;
          prev = q;
          while (run > 15) { freq[ZRL]++; run -= 16; }
          const neg = v >> 31; // branch-free absolute value: the sign is unpredictable
          const s = 32 - Math.clz32((v ^ neg) - neg);
          if (s > 15) throw corrupt('an AC coefficient is too large for any Huffman category');
          freq[(run << 4) | s]++;
        }
      }
      if (prev < 63) freq[0]++;
    }
  }
}

/**
 * Writes the entropy-coded data of one scan (T.81 F.1.2), without byte stuffing: per block
 * the DC difference and the AC run/size symbols of its nonzero coefficients in output zigzag
 * order, each as Huffman code plus extra bits, and 1-bit padding of the last byte (F.1.2.3);
 * the second pass of jchuff.c (encode_one_block) for `-optimize`. Every symbol written was
 * counted by countDc / countAc / the decoder, which also checked its category, so each has a
 * code. `stuffBytes` then inserts the 0x00 after every 0xFF.
 *
 * Bits gather in a 32-bit accumulator: every put adds at most 16 bits (a code, or a code with
 * its extra bits when both fit in 16) to fewer than 16 pending ones, and is followed by a
 * branch-free flush that always stores the two oldest pending bytes but advances the write
 * position only when 16 bits are pending (the next flush overwrites them otherwise); the
 * flush branch would be mispredicted about every third symbol.
 *
 * @param raw - output buffer, at least the scan's bits / 8 + 3 bytes
 * @returns the number of bytes written to `raw`
 */
function emitScan(list: BlockList, srcs: readonly Int16Array[], nzs: readonly Int32Array[], tables: readonly number[],
  flip: Int32Array, codes: Int32Array, lengths: Uint8Array, raw: Uint8Array): number {
  const bases = list.base;
  const compOf = list.comp;
  const pred = new Int32Array(srcs.length);
  let acc = 0;
  let nb = 0;
  let pos = 0;
  let full = 0;
  for (let b = 0; b < bases.length; b++) {
    const ci = compOf[b];
    const base = bases[b];
    const tdc = tables[ci] << 9;
    const tac = tdc | AC;
    if (base < 0) {
      // Dummy block: DC difference 0, then EOB.
      acc = (acc << lengths[tdc]) | codes[tdc];
      nb += lengths[tdc];
      full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
      acc = (acc << lengths[tac]) | codes[tac];
      nb += lengths[tac];
      full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
      continue;
    }
    const src = srcs[ci];
    // DC difference (F.1.2.1): code, then its extra bits.
    const dc = src[base];
    const diff = dc - pred[ci];
    pred[ci] = dc;
    const dneg = diff >> 31;
    const ds = 32 - Math.clz32((diff ^ dneg) - dneg);
    const didx = tdc | ds;
    acc = (acc << lengths[didx]) | codes[didx];
    nb += lengths[didx];
    full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
    acc = (acc << ds) | ((diff + dneg) & ((1 << ds) - 1));
    nb += ds;
    full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
    // AC coefficients (F.1.2.2): visit only those the nonzero map marks, in output zigzag order.
    const nz = nzs[ci];
    const w = base >> 5;
    let prev = 0;
    for (let half = 0; half < 2; half++) {
      let m = nz[w + half];
      while (m !== 0) {
        const z = Math.clz32(m);
        m ^= 1 << (31 - z);
        const q = (half << 5) | z;
        let v = src[base + q];
        if (v === 0) continue;
        let run = q - prev - 1;
        prev = q;
        while (run > 15) {
          acc = (acc << lengths[tac | ZRL]) | codes[tac | ZRL];
          nb += lengths[tac | ZRL];
          full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
          run -= 16;
        }
        // Branch-free sign flip (f is 0 or -1), category and extra bits (F.1.2.2).
        const f = flip[q];
        v = (v ^ f) - f;
        const neg = v >> 31;
        const s = 32 - Math.clz32((v ^ neg) - neg);
        const idx = tac | (run << 4) | s;
        const len = lengths[idx];
        const extra = (v + neg) & ((1 << s) - 1);
        if (len + s <= 16) {
          acc = (acc << (len + s)) | (codes[idx] << s) | extra;
          nb += len + s;
        } else {
          acc = (acc << len) | codes[idx];
          nb += len;
          full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
          acc = (acc << s) | extra;
          nb += s;
        }
        full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
      }
    }
    if (prev < 63) {
      acc = (acc << lengths[tac]) | codes[tac];
      nb += lengths[tac];
      full = nb >> 4; nb -= full << 4; raw[pos] = acc >>> (nb + 8); raw[pos + 1] = acc >>> nb; pos += full << 1;
    }
  }
  while (nb >= 8) {
    nb -= 8;
    raw[pos++] = acc >>> nb;
  }
  if (nb > 0) raw[pos++] = (acc << (8 - nb)) | ((1 << (8 - nb)) - 1);
  return pos;
}

/**
 * Copies `raw[0..n)` to `out` at `pos`, inserting a 0x00 after every 0xFF byte (T.81 F.1.2.3).
 * @returns the new write position in `out`
 */
function stuffBytes(raw: Uint8Array, n: number, out: Uint8Array, pos: number): number {
  const data = raw.subarray(0, n);
  let from = 0;
  for (;;) {
    const ff = data.indexOf(0xff, from);
    const to = ff < 0 ? n : ff + 1;
    out.set(data.subarray(from, to), pos);
    pos += to - from;
    if (ff < 0) return pos;
    out[pos++] = 0;
    from = to;
  }
}

/** The JavaScript reference of {@link EncodeBackend}. */
export const REFERENCE_ENCODER: EncodeBackend = {
  countDc(scan, freq) {
    if (scan.comps.some((c) => c.offsets)) throw new Error('the reference encoder does not read the kernel\'s packed storage');
    countDc(blockList(scan.comps, scan.interleaved, scan.mcusX, scan.mcusY), scan.comps.map((c) => c.src), scan.tables, freq);
  },
  countAc,
  emitScans(scans, flip, codes, lengths, bits) {
    const raw = new Uint8Array(Math.ceil(bits / 8) + 4);
    return scans.map((scan) => {
      const list = blockList(scan.comps, scan.interleaved, scan.mcusX, scan.mcusY);
      const n = emitScan(list, scan.comps.map((c) => c.src), scan.comps.map((c) => c.nz), scan.tables, flip, codes, lengths, raw);
      const out = new Uint8Array(2 * n);
      return out.subarray(0, stuffBytes(raw, n, out, 0));
    });
  },
};

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
  const backend = job.backend ?? REFERENCE_ENCODER;
  const scans: ScanPlan[] = interleaved
    ? [{ comps: [...comps], tables: [...tableOf], interleaved, mcusX, mcusY }]
    : comps.map((c, i) => ({ comps: [c], tables: [tableOf[i]], interleaved, mcusX, mcusY }));

  const codes = new Int32Array(1024);
  const lengths = new Uint8Array(1024);
  const dht: number[] = [];
  let bits = 0;
  const source = job.sourceTables ? sourceTableChoice(job.sourceTables, tableOf) : undefined;
  if (source) {
    // One pass: the input's own tables, which code every symbol, so no statistics are needed;
    // the bits are bounded (each block: DC code and bits, 63 AC codes with bits).
    for (const [key, table] of source) {
      const enc = makeEncodeTable(table.counts, table.values);
      dht.push(((key & 1) << 4) | (key >> 1), ...enc.counts, ...enc.values);
      const off = ((key >> 1) << 9) | ((key & 1) << 8);
      codes.set(enc.code, off);
      lengths.set(enc.length, off);
    }
    for (const c of comps) bits += c.bw * c.bh * (16 + 11 + 63 * (16 + 10));
    if (interleaved) bits += mcusX * mcusY * mcuBlocks * (16 + 16);
  } else {
    // Statistics: DC (and dummy blocks) per scan in coding order, AC per component.
    const freq = new Uint32Array(1024);
    for (const scan of scans) backend.countDc(scan, freq);
    comps.forEach((c, i) => {
      let acFreq = c.acFreq;
      if (acFreq.length === 0) { acFreq = new Uint32Array(256); backend.countAc(c, acFreq); }
      const off = (tableOf[i] << 9) | AC;
      for (let s = 0; s < 256; s++) freq[off + s] += acFreq[s];
    });
    // Optimal tables; all four share one code/length array indexed like `freq`.
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

  const sos = scans.map((scan) => {
    const payload: number[] = [scan.comps.length];
    scan.comps.forEach((c, i) => payload.push(c.id, (scan.tables[i] << 4) | scan.tables[i]));
    payload.push(0, 63, 0);
    return segment(M.SOS, payload);
  });
  const data = backend.emitScans(scans, job.flip, codes, lengths, bits);
  let size = 2 + tables.length + 2;
  for (const m of job.metadata) size += m.length;
  for (let i = 0; i < scans.length; i++) size += sos[i].length + data[i].length;
  const out = new Uint8Array(size);
  out[0] = 0xff;
  out[1] = M.SOI;
  let pos = 2;
  for (const m of job.metadata) { out.set(m, pos); pos += m.length; }
  out.set(tables, pos);
  pos += tables.length;
  for (let i = 0; i < scans.length; i++) {
    out.set(sos[i], pos);
    pos += sos[i].length;
    out.set(data[i], pos);
    pos += data[i].length;
  }
  out[pos++] = 0xff;
  out[pos] = M.EOI;
  return out;
}
