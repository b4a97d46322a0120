/**
 * Decodes a baseline, extended (8-bit Huffman) or progressive (Huffman) JPEG down to its
 * quantized DCT coefficients, without any IDCT (ITU T.81 annexes B, F and G; the
 * progressive procedures of G.1.2 follow libjpeg's jdphuff.c decode_mcu_* structure).
 * Every loop is bounded by the frame's block count, every read by the input length.
 */
import { BitReader, STATS_NONE, STATS_SAME_ORDER, STATS_TRANSPOSED } from './bitreader.js';
import { corrupt, LosslessError } from './errors.js';
import { buildDecodeTable, type HuffmanDecodeTable } from './huffman.js';
import * as M from './markers.js';
import { IDENTITY_ZIGZAG, TRANSPOSED_ZIGZAG, ZIGZAG } from './tables.js';

/** Largest frame accepted, in pixels. */
export const MAX_PIXELS = 2 ** 28;
/** Largest coefficient storage accepted, in 8x8 blocks over all components (2 GiB). */
export const MAX_BLOCKS = 2 ** 24;
/**
 * Largest number of scans accepted: each scan may visit every block, so a hostile file could
 * otherwise ask for endless passes (libjpeg-turbo's jpegtran -maxscans, TurboJPEG's scan
 * limit). Real progressive files have about 10 to 20.
 */
export const MAX_SCANS = 256;

/** One frame component with its coefficient storage. */
export interface DecodedComponent {
  /** Component identifier Ci from the frame header. */
  readonly id: number;
  /** Horizontal and vertical sampling factors (1..4). */
  readonly h: number;
  readonly v: number;
  /** Quantization table selector Tq (0..3). */
  readonly tq: number;
  /** Blocks holding image samples (libjpeg width_in_blocks / height_in_blocks). */
  readonly bw: number;
  readonly bh: number;
  /** Blocks in the storage grid: padded to whole MCUs (equal to bw/bh for one component). */
  readonly pw: number;
  readonly ph: number;
  /**
   * Block storage order: block (bx, by) starts at coefficient (bx * sx + by * sy) * 64.
   * Row-major (sx 1, sy pw) by default; column-major (sx ph, sy 1) when asked for, so that an
   * encoder walking the transposed grid (orientations 5-8) reads memory sequentially.
   */
  readonly sx: number;
  readonly sy: number;
  /**
   * pw*ph blocks of 64 quantized DCT coefficients. Order within a block per `DecodeLayout`:
   * natural (row-major) for 'natural', else output zigzag order (the index a coefficient has
   * in the zigzag sequence of the transformed block, signs not yet flipped).
   */
  readonly coef: Int16Array;
  /**
   * Nonzero map per block, two words per block (storage index b at 2b and 2b+1): bit
   * `31 - (q & 31)` of word `q >> 5` is set when the coefficient that lands on output zigzag
   * position q (after transposition when the decode was for 5-8) was decoded nonzero, so the
   * encoder visits only nonzero coefficients. A set bit over a value that wrapped to 0 is
   * possible with hostile data; the encoder skips such zeros.
   */
  readonly nz: Int32Array;
  /**
   * Progressive files only (else empty): the same kind of map in the file's own zigzag order
   * (bit `31 - (k & 31)` of word `k >> 5`), so refinement scans find the nonzero coefficients
   * that need correction bits without testing every coefficient of the band.
   */
  readonly nzIn: Int32Array;
  /**
   * Packed storage, which the WebAssembly kernel uses for sequential input in the 'zigzag' and
   * 'transposed' layouts (absent otherwise): block b's DC is `coef[offsets[b]]`, followed by its
   * nonzero AC coefficients in the order of its nonzero map bits (output zigzag order); blocks no
   * scan coded have offset 0 (`coef[0]` is not a value). Only the kernel's encoder reads it.
   */
  readonly offsets?: Uint32Array;
  /** Quantization table (natural order) latched at the component's first scan. */
  quant: Uint16Array | undefined;
  /** Sequential input only: the Huffman tables its scan was coded with (else undefined). */
  huffman: { readonly dc: HuffmanDecodeTable; readonly ac: HuffmanDecodeTable } | undefined;
  /**
   * Sequential input with a zigzag layout only (else empty): frequencies of the output AC
   * Huffman symbols (run/size, ZRL 0xF0, EOB 0x00; T.81 F.1.2.2) over the blocks that hold
   * samples (bx < bw, by < bh), counted while each block was decoded. Sign flips do not change
   * a category, so these are the statistics of the transformed blocks too (libjpeg jchuff.c
   * encode_mcu_gather counts the same symbols in a separate pass).
   */
  readonly acFreq: Uint32Array;
}

/**
 * How decodeJpeg stores coefficients and nonzero maps:
 * - 'natural': natural order within a block, nonzero maps in zigzag order, row-major blocks
 *   (for readers of the coefficients)
 * - 'zigzag': zigzag order within a block, row-major blocks (orientations 1-4 keep every
 *   coefficient at its zigzag position)
 * - 'transposed': transposed zigzag order within a block (where each coefficient lands once
 *   the block is transposed, orientations 5-8), blocks column-major for sequential input so
 *   that an encoder walking the transposed grid reads memory in order
 */
export type DecodeLayout = 'natural' | 'zigzag' | 'transposed';

/** What the frame header says, handed to the caller before any coefficient is decoded. */
export interface FrameInfo {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** Largest sampling factors; 1 and 1 for a single-component frame (its iMCU is 8x8). */
  readonly maxH: number;
  readonly maxV: number;
}

/** A decoded file: frame geometry, coefficients and the segments to carry over. */
export interface DecodedJpeg extends FrameInfo {
  readonly comps: DecodedComponent[];
  /** APPn and COM segments, each from its 0xFF marker byte to its end, in file order. */
  readonly metadata: Uint8Array[];
  /** Latched quantization tables by selector (natural order). */
  readonly quantTables: Array<Uint16Array | undefined>;
}

/** The kinds of scan (T.81 G.1.2): sequential, and the four progressive procedures. */
export type ScanKind = 'seq' | 'dcFirst' | 'dcRefine' | 'acFirst' | 'acRefine';

/** decodeBlock statistics modes (bitreader.ts STATS_*), re-exported for scan backends. */
export { STATS_NONE, STATS_SAME_ORDER, STATS_TRANSPOSED };

/** One scan whose header decodeJpeg has parsed and checked, handed to a {@link ScanBackend}. */
export interface ScanJob {
  readonly kind: ScanKind;
  /** Byte offset in the file where the entropy-coded data starts. */
  readonly start: number;
  /** Restart interval in MCUs (DRI), 0 for none. */
  readonly restartInterval: number;
  /** Spectral selection and successive approximation (T.81 B.2.3). */
  readonly ss: number;
  readonly se: number;
  readonly ah: number;
  readonly al: number;
  /** Scan components in scan order, with their index in the frame and their tables (T.81 B.2.3). */
  readonly comps: ReadonlyArray<{ readonly index: number; readonly dc: HuffmanDecodeTable | undefined; readonly ac: HuffmanDecodeTable | undefined }>;
  /** MCUs of the frame (interleaved scans). */
  readonly mcusX: number;
  readonly mcusY: number;
  /** Output zigzag position (nonzero map bit) and storage index within a block, per zigzag position. */
  readonly outPos: Int32Array;
  readonly store: Int32Array;
  /** STATS_SAME_ORDER or STATS_TRANSPOSED: what components with `acFreq` storage count (sequential only). */
  readonly stats: number;
}

/** Coefficient storage of one component (see {@link DecodedComponent}), zeroed. */
export interface ComponentStorage {
  readonly coef: Int16Array;
  readonly nz: Int32Array;
  readonly nzIn: Int32Array;
  readonly acFreq: Uint32Array;
  /** Packed storage only (see {@link DecodedComponent.offsets}). */
  readonly offsets?: Uint32Array;
}

/**
 * Who stores the coefficients and decodes the entropy-coded data. Without one, decodeJpeg does
 * both in JavaScript (the reference); kernel/index.ts provides the WebAssembly one.
 */
export interface ScanBackend {
  /**
   * Allocates zeroed storage for every component at once, once per file, right after the frame
   * header; sizes are element counts (of full storage).
   * @param packable - true when the backend may return packed storage (sequential input in the
   *   'zigzag' or 'transposed' layout, which only an encoder reads)
   */
  allocate(sizes: ReadonlyArray<{ coef: number; nz: number; nzIn: number; acFreq: number }>, packable: boolean): ComponentStorage[];
  /**
   * Decodes the entropy-coded data of one scan into the storage of `frame.comps`, exactly as the
   * reference does, and returns the byte offset of the marker that follows it.
   * @throws LosslessError ('corrupt') with the reference's message for bad or truncated data
   */
  decodeScan(job: ScanJob, comps: readonly DecodedComponent[]): number;
}

interface ScanComponent {
  readonly comp: DecodedComponent;
  readonly dc: HuffmanDecodeTable | undefined;
  readonly ac: HuffmanDecodeTable | undefined;
  pred: number;
}

interface FrameState extends FrameInfo {
  readonly progressive: boolean;
  readonly comps: DecodedComponent[];
  readonly mcusX: number;
  readonly mcusY: number;
  /** Per component: whether a scan (sequential) or a DC first scan (progressive) was seen. */
  readonly seen: boolean[];
}

/**
 * Decodes a whole JPEG file to quantized DCT coefficients.
 *
 * @param data - the file bytes
 * @param onFrame - called once the frame header is parsed, before anything is allocated;
 *   may throw a LosslessError to stop early (used for the iMCU perfect-ness check)
 * @param layout - coefficient and nonzero map layout (default 'natural'); with 'zigzag' or
 *   'transposed', sequential files also get their output AC statistics (`acFreq`)
 * @param backend - coefficient storage and scan decoder (default: the JavaScript reference here)
 * @param statistics - false to skip the output AC statistics (`acFreq` stays empty) when the
 *   encoder will not need them (one-pass encoding with the input's tables)
 * @returns the frame, its coefficients, latched quantization tables and APPn/COM segments
 * @throws LosslessError for unsupported processes and for corrupt or truncated data
 */
export function decodeJpeg(data: Uint8Array, onFrame?: (frame: FrameInfo) => void, layout: DecodeLayout = 'natural',
  backend?: ScanBackend, statistics = true): DecodedJpeg {
  const transposed = layout === 'transposed';
  const outPos = transposed ? TRANSPOSED_ZIGZAG : IDENTITY_ZIGZAG;
  // Where zigzag coefficient k is stored within its block.
  const store = layout === 'natural' ? ZIGZAG : outPos;
  const len = data.length;
  if (len < 4 || data[0] !== 0xff || data[1] !== M.SOI) throw corrupt('the data does not start with a JPEG SOI marker');
  const quant: Array<Uint16Array | undefined> = [undefined, undefined, undefined, undefined];
  const dcTables: Array<HuffmanDecodeTable | undefined> = [undefined, undefined, undefined, undefined];
  const acTables: Array<HuffmanDecodeTable | undefined> = [undefined, undefined, undefined, undefined];
  const metadata: Uint8Array[] = [];
  let frame: FrameState | undefined;
  let restartInterval = 0;
  let scans = 0;
  let pos = 2;

  for (;;) {
    if (pos >= len) throw corrupt('the file ends before the EOI marker (truncated)');
    if (data[pos] !== 0xff) throw corrupt(`expected a marker at byte ${pos} but found 0x${data[pos].toString(16)}`);
    while (pos < len && data[pos] === 0xff) pos++;
    if (pos >= len) throw corrupt('the file ends inside a marker (truncated)');
    const m = data[pos++];
    if (m === M.EOI) break;
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) continue; // stray RSTn or TEM: no length, no effect
    if (m === 0x00 || m === M.SOI) throw corrupt(`unexpected marker 0xFF${m.toString(16).padStart(2, '0')} at byte ${pos - 2}`);
    if (pos + 2 > len) throw corrupt('the file ends inside a segment length (truncated)');
    const segLen = (data[pos] << 8) | data[pos + 1];
    if (segLen < 2 || pos + segLen > len) throw corrupt(`the segment at byte ${pos - 2} is longer than the file (truncated)`);
    const s = pos + 2;
    const e = pos + segLen;
    if (M.isMetadata(m)) {
      metadata.push(data.subarray(pos - 2, e));
    } else if (M.isSof(m)) {
      if (frame) throw corrupt('the file has more than one frame header');
      M.checkSofSupported(m);
      frame = parseFrame(data, s, e, m, len, transposed, statistics && layout !== 'natural', layout !== 'natural', backend);
      onFrame?.(frame);
    } else if (m === M.DHT) {
      parseDht(data, s, e, dcTables, acTables);
    } else if (m === M.DQT) {
      parseDqt(data, s, e, quant);
    } else if (m === M.DRI) {
      if (segLen !== 4) throw corrupt('the DRI segment does not have length 4');
      restartInterval = (data[s] << 8) | data[s + 1];
    } else if (m === M.DAC) {
      throw new LosslessError('arithmetic', 'the file defines arithmetic conditioning (DAC), so it is arithmetic coded');
    } else if (m === M.DHP || m === M.EXP) {
      throw new LosslessError('lossless-sof3', 'the file uses the hierarchical process (DHP/EXP), which the lossless path does not handle');
    } else if (m === M.SOS) {
      if (!frame) throw corrupt('a scan starts before the frame header');
      if (++scans > MAX_SCANS) throw corrupt(`the file has more than ${MAX_SCANS} scans`);
      pos = decodeScan(data, s, e, frame, quant, dcTables, acTables, restartInterval, outPos, store, backend);
      continue;
    }
    // DNL, JPGn, reserved markers and anything else with a length: skipped.
    pos = e;
  }

  if (!frame) throw corrupt('the file has no frame header');
  for (let i = 0; i < frame.comps.length; i++) {
    if (!frame.seen[i]) throw corrupt(`component ${frame.comps[i].id} never appears in a${frame.progressive ? ' DC first' : ''} scan`);
  }
  const quantTables: Array<Uint16Array | undefined> = [undefined, undefined, undefined, undefined];
  for (const c of frame.comps) {
    const prev = quantTables[c.tq];
    if (prev && c.quant && !prev.every((q, i) => q === c.quant![i])) {
      throw corrupt(`quantization table ${c.tq} was redefined between the scans of components that share it`);
    }
    quantTables[c.tq] = c.quant;
  }
  return {
    width: frame.width, height: frame.height, components: frame.components, maxH: frame.maxH, maxV: frame.maxV,
    comps: frame.comps, metadata, quantTables,
  };
}

function parseFrame(data: Uint8Array, s: number, e: number, marker: number, fileLength: number, transposed: boolean,
  stats: boolean, packable: boolean, backend: ScanBackend | undefined): FrameState {
  if (e - s < 6) throw corrupt('the frame header is too short');
  const precision = data[s];
  const height = (data[s + 1] << 8) | data[s + 2];
  const width = (data[s + 3] << 8) | data[s + 4];
  const n = data[s + 5];
  if (precision !== 8) throw new LosslessError('precision', `the frame has ${precision}-bit samples; only 8-bit JPEGs are transformed losslessly`);
  if (n !== 1 && n !== 3 && n !== 4) throw new LosslessError('components', `the frame has ${n} components; only 1, 3 or 4 are supported`);
  if (e - s !== 6 + 3 * n) throw corrupt('the frame header length does not match its component count');
  if (height === 0) throw new LosslessError('lossless-sof3', 'the frame height is defined by a DNL marker, which is not supported');
  if (width === 0) throw corrupt('the frame width is 0');
  if (width * height > MAX_PIXELS) throw corrupt(`the frame of ${width}x${height} pixels exceeds the limit of 2^28 pixels`);
  const raw: Array<{ id: number; h: number; v: number; tq: number }> = [];
  for (let i = 0; i < n; i++) {
    const p = s + 6 + 3 * i;
    const id = data[p];
    const h = data[p + 1] >> 4;
    const v = data[p + 1] & 15;
    const tq = data[p + 2];
    if (h < 1 || h > 4 || v < 1 || v > 4) throw corrupt(`component ${id} has sampling factors ${h}x${v}, outside 1..4`);
    if (tq > 3) throw corrupt(`component ${id} uses quantization table ${tq}, outside 0..3`);
    if (raw.some((c) => c.id === id)) throw corrupt(`component identifier ${id} appears twice in the frame header`);
    raw.push({ id, h, v, tq });
  }
  let maxH = 1;
  let maxV = 1;
  if (n > 1) {
    for (const c of raw) { maxH = Math.max(maxH, c.h); maxV = Math.max(maxV, c.v); }
  }
  const mcusX = Math.ceil(width / (8 * maxH));
  const mcusY = Math.ceil(height / (8 * maxV));
  let totalBlocks = 0;
  let realBlocks = 0;
  const dims = raw.map((c) => {
    // Component size per T.81 A.1.1; a single component is never subsampled.
    const cw = n === 1 ? width : Math.ceil((width * c.h) / maxH);
    const ch = n === 1 ? height : Math.ceil((height * c.v) / maxV);
    const bw = Math.ceil(cw / 8);
    const bh = Math.ceil(ch / 8);
    const pw = n === 1 ? bw : mcusX * c.h;
    const ph = n === 1 ? bh : mcusY * c.v;
    totalBlocks += pw * ph;
    realBlocks += bw * bh;
    return { bw, bh, pw, ph };
  });
  if (totalBlocks > MAX_BLOCKS) throw corrupt(`the frame needs ${totalBlocks} DCT blocks, more than the limit of ${MAX_BLOCKS}`);
  // Every block costs at least one bit in its first DC scan, so a file this short cannot be whole.
  if (fileLength * 8 < realBlocks) throw corrupt(`the frame declares ${realBlocks} DCT blocks but the file has only ${fileLength} bytes (truncated)`);
  // Column-major storage pays off only when every block is written once (sequential); the
  // several passes of a progressive file are much faster over row-major storage.
  const columnMajor = transposed && marker !== M.SOF2;
  const progressive = marker === M.SOF2;
  const sizes = dims.map((d) => ({
    coef: d.pw * d.ph * 64, nz: d.pw * d.ph * 2, nzIn: progressive ? d.pw * d.ph * 2 : 0, acFreq: stats && !progressive ? 256 : 0,
  }));
  const storage = backend ? backend.allocate(sizes, packable && !progressive) : sizes.map((z) => ({
    coef: new Int16Array(z.coef), nz: new Int32Array(z.nz), nzIn: new Int32Array(z.nzIn), acFreq: new Uint32Array(z.acFreq),
  }));
  const comps: DecodedComponent[] = raw.map((c, i) => ({
    ...c, ...dims[i], sx: columnMajor ? dims[i].ph : 1, sy: columnMajor ? 1 : dims[i].pw, ...storage[i], quant: undefined, huffman: undefined,
  }));
  return {
    width, height, components: n, maxH, maxV, progressive: marker === M.SOF2, comps, mcusX, mcusY,
    seen: comps.map(() => false),
  };
}

function parseDht(data: Uint8Array, s: number, e: number,
  dc: Array<HuffmanDecodeTable | undefined>, ac: Array<HuffmanDecodeTable | undefined>): void {
  let p = s;
  while (p < e) {
    if (p + 17 > e) throw corrupt('a DHT segment is truncated');
    const tc = data[p] >> 4;
    const th = data[p] & 15;
    if (tc > 1 || th > 3) throw corrupt(`a DHT segment defines table class ${tc} id ${th}, outside the allowed range`);
    const counts = data.slice(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i];
    if (total > 256 || p + 17 + total > e) throw corrupt('a DHT segment declares more symbols than it holds');
    const values = data.slice(p + 17, p + 17 + total);
    (tc === 0 ? dc : ac)[th] = buildDecodeTable(counts, values);
    p += 17 + total;
  }
}

function parseDqt(data: Uint8Array, s: number, e: number, quant: Array<Uint16Array | undefined>): void {
  let p = s;
  while (p < e) {
    const pq = data[p] >> 4;
    const tq = data[p] & 15;
    if (pq > 1 || tq > 3) throw corrupt(`a DQT segment defines precision ${pq} table ${tq}, outside the allowed range`);
    const size = pq ? 128 : 64;
    if (p + 1 + size > e) throw corrupt('a DQT segment is truncated');
    const t = new Uint16Array(64);
    for (let k = 0; k < 64; k++) {
      t[ZIGZAG[k]] = pq ? (data[p + 1 + 2 * k] << 8) | data[p + 2 + 2 * k] : data[p + 1 + k];
    }
    quant[tq] = t;
    p += 1 + size;
  }
}

/** Parses an SOS header and decodes its entropy-coded data; returns the offset of the next marker. */
function decodeScan(data: Uint8Array, s: number, e: number, frame: FrameState,
  quant: Array<Uint16Array | undefined>, dcTables: Array<HuffmanDecodeTable | undefined>,
  acTables: Array<HuffmanDecodeTable | undefined>, restartInterval: number, outPos: Int32Array, store: Int32Array,
  backend: ScanBackend | undefined): number {
  const ns = data[s];
  if (ns < 1 || ns > 4 || e - s !== 4 + 2 * ns) throw corrupt(`a scan header declares ${ns} components or has the wrong length`);
  const ss = data[s + 1 + 2 * ns];
  const se = data[s + 2 + 2 * ns];
  const ah = data[s + 3 + 2 * ns] >> 4;
  const al = data[s + 3 + 2 * ns] & 15;
  const scomps: ScanComponent[] = [];
  const indices: number[] = [];
  for (let i = 0; i < ns; i++) {
    const id = data[s + 1 + 2 * i];
    const td = data[s + 2 + 2 * i] >> 4;
    const ta = data[s + 2 + 2 * i] & 15;
    const ci = frame.comps.findIndex((c) => c.id === id);
    if (ci < 0) throw corrupt(`a scan refers to component ${id}, which is not in the frame`);
    if (indices.includes(ci)) throw corrupt(`a scan lists component ${id} twice`);
    if (td > 3 || ta > 3) throw corrupt('a scan selects a Huffman table outside 0..3');
    indices.push(ci);
    scomps.push({ comp: frame.comps[ci], dc: dcTables[td], ac: acTables[ta], pred: 0 });
  }
  if (ns > 1) {
    let blocks = 0;
    for (const sc of scomps) blocks += sc.comp.h * sc.comp.v;
    if (blocks > 10) throw corrupt(`an interleaved scan has ${blocks} blocks per MCU, more than 10`);
  }

  let kind: ScanKind;
  if (!frame.progressive) {
    if (ss !== 0 || se !== 63 || ah !== 0 || al !== 0) throw corrupt('a sequential scan does not cover coefficients 0..63 at full precision');
    kind = 'seq';
  } else {
    if (ss > 63 || se > 63 || se < ss || al > 13 || ah > 13) throw corrupt(`a progressive scan has spectral selection ${ss}..${se} / approximation ${ah},${al} out of range`);
    if (ss === 0) {
      if (se !== 0) throw corrupt('a progressive scan mixes DC and AC coefficients');
      kind = ah === 0 ? 'dcFirst' : 'dcRefine';
    } else {
      if (ns !== 1) throw corrupt('a progressive AC scan has more than one component');
      kind = ah === 0 ? 'acFirst' : 'acRefine';
    }
  }
  for (let i = 0; i < ns; i++) {
    const sc = scomps[i];
    const ci = indices[i];
    if ((kind === 'seq' || kind === 'dcFirst') && !sc.dc) throw corrupt(`component ${sc.comp.id} uses a DC Huffman table that is not defined`);
    if ((kind === 'seq' || kind === 'acFirst' || kind === 'acRefine') && !sc.ac) throw corrupt(`component ${sc.comp.id} uses an AC Huffman table that is not defined`);
    if (kind === 'seq' && frame.seen[ci]) throw corrupt(`component ${sc.comp.id} appears in more than one sequential scan`);
    if (!sc.comp.quant) {
      const q = quant[sc.comp.tq];
      if (!q) throw corrupt(`component ${sc.comp.id} uses quantization table ${sc.comp.tq}, which is not defined`);
      sc.comp.quant = q.slice();
    }
    if (kind === 'seq' || kind === 'dcFirst') frame.seen[ci] = true;
    if (kind === 'seq') sc.comp.huffman = { dc: sc.dc!, ac: sc.ac! };
  }

  // Output AC statistics (acFreq is allocated only for zigzag layouts, where store === outPos).
  const stats = outPos === IDENTITY_ZIGZAG ? STATS_SAME_ORDER : STATS_TRANSPOSED;
  if (backend) {
    return backend.decodeScan({
      kind, start: e, restartInterval, ss, se, ah, al, mcusX: frame.mcusX, mcusY: frame.mcusY, outPos, store, stats,
      comps: scomps.map((sc, i) => ({ index: indices[i], dc: sc.dc, ac: sc.ac })),
    }, frame.comps);
  }
  const r = new BitReader(data, e);
  switch (kind) {
    case 'seq':
      decodeBlocks(frame, scomps, r, restartInterval, (sc, coef, off, real) => {
        const c = sc.comp;
        sc.pred = r.decodeBlock(sc.dc!, sc.ac!, coef, off, sc.pred, c.nz, outPos, store,
          real && c.acFreq.length !== 0 ? stats : STATS_NONE, c.acFreq);
      });
      break;
    case 'dcFirst':
      decodeBlocks(frame, scomps, r, restartInterval, (sc, coef, off) => {
        const s0 = r.decode(sc.dc!);
        if (s0 > 15) throw corrupt(`a DC difference category ${s0} is out of range`);
        if (s0 !== 0) sc.pred += r.receiveExtend(s0);
        coef[off] = sc.pred * (1 << al);
      });
      break;
    case 'dcRefine': {
      const bit = 1 << al;
      decodeBlocks(frame, scomps, r, restartInterval, (_sc, coef, off) => {
        if (r.bit()) coef[off] |= bit;
      });
      break;
    }
    case 'acFirst':
      decodeAcFirst(scomps[0], r, restartInterval, ss, se, al, outPos, store);
      break;
    case 'acRefine':
      decodeAcRefine(scomps[0], r, restartInterval, ss, se, al, outPos, store);
      break;
  }
  r.finish();
  return r.pos;
}

/** Decodes the block at `off`; `real` is false for the padding blocks that only complete an MCU. */
type BlockDecoder = (sc: ScanComponent, coef: Int16Array, off: number, real: boolean) => void;

/** Walks the MCUs of a scan (T.81 A.2) with restart handling, decoding each block. */
function decodeBlocks(frame: FrameState, scomps: ScanComponent[], r: BitReader, ri: number, fn: BlockDecoder): void {
  let left = ri;
  let rst = 0;
  if (scomps.length === 1) {
    // Non-interleaved: one block per MCU, only the blocks that hold samples (A.2.2).
    const sc = scomps[0];
    const c = sc.comp;
    const coef = c.coef;
    for (let by = 0; by < c.bh; by++) {
      for (let bx = 0; bx < c.bw; bx++) {
        if (ri !== 0) {
          if (left === 0) { r.restart(rst); rst = (rst + 1) & 7; left = ri; sc.pred = 0; }
          left--;
        }
        fn(sc, coef, (by * c.sy + bx * c.sx) * 64, true);
      }
      if (r.overran()) throw corrupt('the entropy-coded data ends before the scan does (truncated)');
    }
    return;
  }
  // Interleaved: every MCU holds h x v blocks of each component (A.2.3).
  for (let my = 0; my < frame.mcusY; my++) {
    for (let mx = 0; mx < frame.mcusX; mx++) {
      if (ri !== 0) {
        if (left === 0) {
          r.restart(rst); rst = (rst + 1) & 7; left = ri;
          for (const sc of scomps) sc.pred = 0;
        }
        left--;
      }
      for (let i = 0; i < scomps.length; i++) {
        const sc = scomps[i];
        const c = sc.comp;
        const coef = c.coef;
        for (let y = 0; y < c.v; y++) {
          const by = my * c.v + y;
          const rowOff = (by * c.sy + mx * c.h * c.sx) * 64;
          for (let x = 0; x < c.h; x++) fn(sc, coef, rowOff + x * c.sx * 64, by < c.bh && mx * c.h + x < c.bw);
        }
      }
    }
    if (r.overran()) throw corrupt('the entropy-coded data ends before the scan does (truncated)');
  }
}

/**
 * Progressive AC first scan (G.1.2.2): bands Ss..Se at point transform Al, with EOB runs.
 * `outPos` maps zigzag positions to nonzero map bits, `zz` to storage indices within a block.
 */
function decodeAcFirst(sc: ScanComponent, r: BitReader, ri: number, ss: number, se: number, al: number, outPos: Int32Array,
  zz: Int32Array): void {
  const c = sc.comp;
  const coef = c.coef;
  const ac = sc.ac!;
  const scale = 1 << al;
  const nz = c.nz;
  const nzIn = c.nzIn;
  const total = c.bw * c.bh;
  let eobrun = 0;
  let left = ri;
  let rst = 0;
  let i = 0;
  while (i < total) {
    if (ri !== 0 && left === 0) { r.restart(rst); rst = (rst + 1) & 7; left = ri; eobrun = 0; }
    if (eobrun > 0) {
      // Skip the whole run at once, up to the end of the restart interval or the scan.
      let n = Math.min(eobrun, total - i);
      if (ri !== 0) n = Math.min(n, left);
      eobrun -= n;
      i += n;
      if (ri !== 0) left -= n;
      continue;
    }
    const off = (Math.floor(i / c.bw) * c.sy + (i % c.bw) * c.sx) * 64;
    for (let k = ss; k <= se; k++) {
      const fe = r.fastAc(ac);
      if (fe !== 0) {
        k += (fe >> 8) & 15;
        if (k > se) throw corrupt('an AC run goes past the end of the spectral band');
        coef[off + zz[k]] = (fe >> 12) * scale;
        const q = outPos[k];
        nz[(off >> 5) + (q >> 5)] |= 1 << (31 - (q & 31));
        nzIn[(off >> 5) + (k >> 5)] |= 1 << (31 - (k & 31));
        continue;
      }
      const rs = r.decode(ac);
      const s = rs & 15;
      const run = rs >> 4;
      if (s !== 0) {
        k += run;
        if (k > se) throw corrupt('an AC run goes past the end of the spectral band');
        coef[off + zz[k]] = r.receiveExtend(s) * scale;
        const q = outPos[k];
        nz[(off >> 5) + (q >> 5)] |= 1 << (31 - (q & 31));
        nzIn[(off >> 5) + (k >> 5)] |= 1 << (31 - (k & 31));
      } else if (run === 15) {
        k += 15;
      } else {
        eobrun = (1 << run) - 1;
        if (run !== 0) eobrun += r.bits(run);
        break;
      }
    }
    i++;
    if (ri !== 0) left--;
    if ((i & 1023) === 0 && r.overran()) throw corrupt('the entropy-coded data ends before the scan does (truncated)');
  }
}

/**
 * Progressive AC refinement scan (G.1.2.3): correction bits and newly nonzero coefficients.
 * `outPos` and `zz` as for decodeAcFirst.
 */
function decodeAcRefine(sc: ScanComponent, r: BitReader, ri: number, ss: number, se: number, al: number, outPos: Int32Array,
  zz: Int32Array): void {
  const c = sc.comp;
  const coef = c.coef;
  const ac = sc.ac!;
  const p1 = 1 << al;
  const m1 = -1 << al;
  const nz = c.nz;
  const nzIn = c.nzIn;
  let eobrun = 0;
  let left = ri;
  let rst = 0;
  for (let by = 0; by < c.bh; by++) {
    for (let bx = 0; bx < c.bw; bx++) {
      if (ri !== 0) {
        if (left === 0) { r.restart(rst); rst = (rst + 1) & 7; left = ri; eobrun = 0; }
        left--;
      }
      const off = (by * c.sy + bx * c.sx) * 64;
      const w = off >> 5;
      if (eobrun > 0 && nzIn[w] === 0 && nzIn[w + 1] === 0) {
        // An all-zero AC block inside an EOB run has no correction bits: O(1), so that hostile
        // files cannot make many refinement scans over a large empty frame expensive.
        eobrun--;
        continue;
      }
      let k = ss;
      if (eobrun === 0) {
        for (; k <= se; k++) {
          const rs = r.decode(ac);
          let s = rs & 15;
          let run = rs >> 4;
          if (s !== 0) {
            if (s !== 1) throw corrupt('a refinement scan codes a coefficient with more than one new bit');
            s = r.bit() ? p1 : m1;
          } else if (run !== 15) {
            eobrun = 1 << run;
            if (run !== 0) eobrun += r.bits(run);
            break;
          }
          // Pass over `run` zero coefficients, refining the nonzero ones met on the way, and
          // stop on the next zero one. Found with the nonzero map, a word of 32 positions at a
          // time, instead of testing every coefficient.
          let target = se + 1;
          for (let half = k >> 5; half <= se >> 5; half++) {
            const from = half === k >> 5 ? k & 31 : 0;
            const to = half === se >> 5 ? se & 31 : 31;
            const range = (-1 >>> from) & (to === 31 ? -1 : ~(-1 >>> (to + 1)));
            const word = nzIn[w + half];
            let zeros = ~word & range;
            let zpos = -1;
            while (zeros !== 0) {
              const z = Math.clz32(zeros);
              if (run === 0) { zpos = z; break; }
              run--;
              zeros ^= 1 << (31 - z);
            }
            let m = zpos >= 0 ? word & range & ~(-1 >>> zpos) : word & range;
            while (m !== 0) {
              const z = Math.clz32(m);
              m ^= 1 << (31 - z);
              const p = off + zz[(half << 5) + z];
              const v = coef[p];
              if (v !== 0 && r.bit() && (v & p1) === 0) coef[p] = v >= 0 ? v + p1 : v + m1;
            }
            if (zpos >= 0) { target = (half << 5) + zpos; break; }
          }
          k = target;
          if (s !== 0) {
            if (k > se) throw corrupt('a refinement run goes past the end of the spectral band');
            coef[off + zz[k]] = s;
            const q = outPos[k];
            nz[(off >> 5) + (q >> 5)] |= 1 << (31 - (q & 31));
            nzIn[w + (k >> 5)] |= 1 << (31 - (k & 31));
          }
        }
      }
      if (eobrun > 0) {
        // Inside an EOB run only the already nonzero coefficients get correction bits: visit
        // the set bits of the map between k and se, in order.
        if (k <= se) {
          for (let half = k >> 5; half <= se >> 5; half++) {
            let m = nzIn[w + half];
            if (half === k >> 5) m &= -1 >>> (k & 31);
            if (half === se >> 5 && (se & 31) !== 31) m &= ~(-1 >>> ((se & 31) + 1));
            while (m !== 0) {
              const z = Math.clz32(m);
              m ^= 1 << (31 - z);
              const p = off + zz[(half << 5) + z];
              const v = coef[p];
              if (v !== 0 && r.bit() && (v & p1) === 0) coef[p] = v >= 0 ? v + p1 : v + m1;
            }
          }
        }
        eobrun--;
      }
    }
    if (r.overran()) throw corrupt('the entropy-coded data ends before the scan does (truncated)');
  }
}
