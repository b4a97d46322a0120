/**
 * The WebAssembly kernel of the lossless JPEG transform: kernel.c compiled by clang
 * (scripts/build-kernel.js; the module is committed as kernel.wasm and, base64-encoded, as
 * wasm.ts). It replaces the entropy-coded work of the JavaScript reference — Huffman decoding of
 * every scan (decode.ts ScanBackend), the symbol statistics and the Huffman encoding with the
 * block transform (encode.ts EncodeBackend) — while the reference keeps the parsing, the checks,
 * the optimal table construction and the headers. Both give the same coefficients and the same
 * bytes (test/jpeg-lossless-kernel.test.ts).
 *
 * Memory: one linear memory per kernel, laid out per file from `__heap_base` (the input file,
 * then the coefficient storage, then the output scans) and reused by the next file. It only grows
 * (WebAssembly memory cannot shrink), so a kernel whose memory passed {@link KERNEL_MEMORY_KEEP}
 * bytes after a file drops its instance and starts a new one for the next.
 */
import type { DecodedComponent, ComponentStorage, ScanBackend, ScanJob } from '../decode.js';
import type { EncodeBackend, EncodeComponent, ScanPlan } from '../encode.js';
import { corrupt } from '../errors.js';
import type { HuffmanDecodeTable } from '../huffman.js';
import { KERNEL_WASM_BASE64 } from './wasm.js';

/*
 * The few WebAssembly JS API types used here (the project's lib setting has no DOM and
 * @types/node 20 does not declare them); at run time this is Node's global WebAssembly.
 */
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace WebAssembly {
  class Module { constructor(bytes: Uint8Array); }
  class Instance { constructor(module: Module, imports: object); readonly exports: Record<string, unknown>; }
  class Memory { readonly buffer: ArrayBuffer; grow(pages: number): number; }
  class Global { readonly value: unknown; }
}

/** Memory (bytes) a kernel keeps between files; above it the instance is replaced (256 MiB). */
export const KERNEL_MEMORY_KEEP = 256 * 1024 * 1024;

interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  kernel_error_detail(): number;
  kernel_tables(): number;
  kernel_scan(): number;
  kernel_decode_scan(): number;
  kernel_zero(ptr: number, bytes: number): void;
  kernel_enc_scan(): number;
  kernel_freq(): number;
  kernel_codes(): number;
  kernel_lengths(): number;
  kernel_flip(): number;
  kernel_count_dc(): number;
  kernel_count_ac(out: number): number;
  kernel_emit_scan(out: number): number;
}

/** kernel.c error codes (enum E_*) as the reference's messages; `d` is kernel_error_detail(). */
const MESSAGES: Record<number, (d: number) => string> = {
  1: (d) => `a DC difference category ${d} is out of range`,
  2: () => 'the entropy-coded data holds a bit pattern that is no Huffman code',
  3: () => 'an AC run goes past the end of a block',
  4: () => 'the entropy-coded data ends before the scan does (truncated)',
  5: () => 'the entropy-coded data ends before the last MCU of the scan or restart interval',
  6: (d) => `restart marker RST${d} is missing where the restart interval ends`,
  7: () => 'an AC run goes past the end of the spectral band',
  8: () => 'a refinement scan codes a coefficient with more than one new bit',
  9: () => 'a refinement run goes past the end of the spectral band',
  10: () => 'a DC difference is too large for any Huffman category',
  11: () => 'an AC coefficient is too large for any Huffman category',
};

const KIND: Record<ScanJob['kind'], number> = { seq: 0, dcFirst: 1, dcRefine: 2, acFirst: 3, acRefine: 4 };

/* kernel.c struct layouts, in 32-bit words. */
const SCAN_OUT_POS = 13;
const SCAN_STORE = 77;
const SCAN_COMPS = 141;
const SCAN_COMP_WORDS = 15;
const ENC_COMPS = 4;
const ENC_COMP_WORDS = 11;
/* HuffTable: look u16[512], fast_ac i32[512], maxcode i32[18], val_offset i32[18], values u8[256]. */
const TABLE_BYTES = 3472;
const PAGE = 65536;

let compiled: WebAssembly.Module | undefined;

/** The compiled module, once per thread (compiling takes about a millisecond). */
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
  return compiled;
}

const align = (n: number): number => (n + 15) & ~15;

/**
 * One kernel instance and its memory. Not reentrant: one file at a time per kernel (a worker
 * thread owns one). Use {@link LosslessKernel.session} for each file.
 */
export class LosslessKernel {
  private readonly module: WebAssembly.Module | undefined;
  private x: Exports | undefined;
  /** Next free byte of the current file's layout. */
  private top = 0;
  /** Bytes below this offset may hold data of an earlier file (memory above it is still zero). */
  private dirty = 0;

  /**
   * @param wasm - another build of kernel.c to run instead of the committed one (benchmarks:
   *   `node scripts/build-kernel.js --simd --out FILE`); default: the committed kernel.wasm
   * @throws WebAssembly.CompileError when `wasm` is not a valid module
   */
  constructor(wasm?: Uint8Array) {
    this.module = wasm ? new WebAssembly.Module(wasm) : undefined;
  }

  private exports(): Exports {
    if (!this.x) {
      this.x = new WebAssembly.Instance(this.module ?? kernelModule(), {}).exports as unknown as Exports;
      this.dirty = 0;
    }
    return this.x;
  }

  /** Bytes of linear memory the instance holds now (0 before the first file). */
  get memoryBytes(): number {
    return this.x ? this.x.memory.buffer.byteLength : 0;
  }

  /** Reserves `bytes` at a 16-byte aligned offset, growing the memory as needed. */
  private alloc(bytes: number): number {
    const x = this.exports();
    const at = align(this.top);
    this.top = at + bytes;
    const have = x.memory.buffer.byteLength;
    if (this.top > have) x.memory.grow(Math.ceil((this.top - have) / PAGE));
    return at;
  }

  /** Zeroes [from, to) where an earlier file may have left data. */
  private zero(from: number, to: number): void {
    const end = Math.min(to, this.dirty);
    if (end > from) this.exports().kernel_zero(from, end - from);
  }

  private pointer(view: Int16Array | Int32Array | Uint32Array): number {
    if (view.buffer !== this.exports().memory.buffer) throw new Error('kernel storage was detached by a memory growth');
    return view.byteOffset;
  }

  private check(err: number): void {
    if (err !== 0) {
      const message = MESSAGES[err];
      throw corrupt(message ? message(this.exports().kernel_error_detail()) : `kernel error ${err}`);
    }
  }

  /**
   * Starts one file: copies `data` into the kernel's memory and returns the backends that
   * decode it and encode its transformed coefficients, and `end` to release the memory. The
   * storage views handed out (decoded coefficients) stay valid until encoding writes its output
   * or `end` is called.
   *
   * @param data - the whole JPEG file
   * @throws RangeError when the memory cannot grow to hold the file (WebAssembly.Memory.grow)
   */
  session(data: Uint8Array): { readonly scans: ScanBackend; readonly encoder: EncodeBackend; end(): void } {
    const x = this.exports();
    this.top = x.__heap_base.value as number;
    const dataPtr = this.alloc(data.length);
    new Uint8Array(x.memory.buffer, dataPtr, data.length).set(data);
    this.dirty = Math.max(this.dirty, this.top);
    const scans: ScanBackend = {
      allocate: (sizes, packable) => this.allocate(sizes, packable),
      decodeScan: (job, comps) => this.decodeScan(job, comps, dataPtr, data.length),
    };
    const encoder: EncodeBackend = {
      countDc: (scan, freq) => this.countDc(scan, freq),
      countAc: (c, freq) => this.countAc(c, freq),
      emitScans: (plans, flip, codes, lengths, bits) => this.emitScans(plans, flip, codes, lengths, bits),
    };
    const end = (): void => {
      this.top = 0;
      if (this.memoryBytes > KERNEL_MEMORY_KEEP) this.x = undefined;
    };
    return { scans, encoder, end };
  }

  private allocate(sizes: ReadonlyArray<{ coef: number; nz: number; nzIn: number; acFreq: number }>, packable: boolean): ComponentStorage[] {
    // Packed storage (decode.ts DecodedComponent.offsets) for sequential input: at most the DC and
    // 63 AC values per block after a reserved entry (offset 0: a block no scan coded), of which a
    // photo uses about a third; pages never written are never touched. The small arrays come
    // first and the coefficients last, so that `dirty` can follow what was really written.
    const packed = packable && sizes.every((z) => z.nzIn === 0);
    const small = sizes.map((z) => ({
      offsets: packed ? this.alloc(2 * z.nz) : 0, nz: this.alloc(4 * z.nz), nzIn: this.alloc(4 * z.nzIn), acFreq: this.alloc(4 * z.acFreq),
    }));
    this.zero(small[0].offsets || small[0].nz, this.top);
    this.dirty = Math.max(this.dirty, this.top);
    const coef = sizes.map((z) => this.alloc(2 * (z.coef + (packed ? 1 : 0))));
    if (!packed) {
      // Progressive: the scans add to what earlier ones stored. (Full sequential storage is not
      // used by the transform; decodeScan zeroes it as needed.)
      this.zero(coef[0], this.top);
      this.dirty = Math.max(this.dirty, this.top);
    }
    const buffer = this.exports().memory.buffer;
    return sizes.map((z, i) => ({
      coef: new Int16Array(buffer, coef[i], z.coef + (packed ? 1 : 0)),
      nz: new Int32Array(buffer, small[i].nz, z.nz),
      nzIn: new Int32Array(buffer, small[i].nzIn, z.nzIn),
      acFreq: new Uint32Array(buffer, small[i].acFreq, z.acFreq),
      ...(packed ? { offsets: new Uint32Array(buffer, small[i].offsets, z.nz / 2) } : {}),
    }));
  }

  private writeTable(slot: number, t: HuffmanDecodeTable): void {
    const x = this.exports();
    const base = x.kernel_tables() + slot * TABLE_BYTES;
    const buffer = x.memory.buffer;
    new Uint16Array(buffer, base, 512).set(t.look);
    new Int32Array(buffer, base + 1024, 512).set(t.fastAc);
    new Int32Array(buffer, base + 3072, 18).set(t.maxcode);
    new Int32Array(buffer, base + 3144, 18).set(t.valOffset);
    const values = new Uint8Array(buffer, base + 3216, 256);
    values.fill(0);
    values.set(t.values);
  }

  private decodeScan(job: ScanJob, comps: readonly DecodedComponent[], dataPtr: number, length: number): number {
    const x = this.exports();
    const w = new Int32Array(x.memory.buffer, x.kernel_scan(), SCAN_COMPS + 4 * SCAN_COMP_WORDS);
    w[0] = dataPtr;
    w[1] = length;
    w[2] = job.start;
    w[3] = KIND[job.kind];
    w[4] = job.comps.length;
    w[5] = job.mcusX;
    w[6] = job.mcusY;
    w[7] = job.restartInterval;
    w[8] = job.ss;
    w[9] = job.se;
    w[10] = job.ah;
    w[11] = job.al;
    w[12] = job.stats;
    w.set(job.outPos, SCAN_OUT_POS);
    w.set(job.store, SCAN_STORE);
    job.comps.forEach((sc, i) => {
      const c = comps[sc.index];
      if (job.kind === 'seq' && job.comps.length === 1 && (c.pw !== c.bw || c.ph !== c.bh) && !c.offsets) {
        // A non-interleaved sequential scan leaves the MCU padding blocks out (T.81 A.2.2).
        const p = this.pointer(c.coef);
        this.zero(p, p + 2 * c.coef.length);
      }
      if (sc.dc) this.writeTable(i, sc.dc);
      if (sc.ac) this.writeTable(4 + i, sc.ac);
      const o = SCAN_COMPS + i * SCAN_COMP_WORDS;
      w[o] = this.pointer(c.coef);
      w[o + 1] = this.pointer(c.nz);
      w[o + 2] = c.nzIn.length ? this.pointer(c.nzIn) : 0;
      w[o + 3] = c.acFreq.length ? this.pointer(c.acFreq) : 0;
      w[o + 4] = sc.dc ? i : -1;
      w[o + 5] = sc.ac ? 4 + i : -1;
      w[o + 6] = c.h;
      w[o + 7] = c.v;
      w[o + 8] = c.bw;
      w[o + 9] = c.bh;
      w[o + 10] = c.sx;
      w[o + 11] = c.sy;
      w[o + 12] = 0;
      w[o + 13] = c.offsets ? this.pointer(c.offsets) : 0;
      w[o + 14] = 1;
    });
    const err = x.kernel_decode_scan();
    // What the scan wrote, even when it failed: packed values end at `packed_at`; full storage
    // was zeroed (progressive) or is zeroed block by block (sequential) within the dirty mark.
    job.comps.forEach((sc, i) => {
      const c = comps[sc.index];
      if (c.offsets) this.dirty = Math.max(this.dirty, this.pointer(c.coef) + 2 * w[SCAN_COMPS + i * SCAN_COMP_WORDS + 14]);
      else if (job.kind === 'seq') this.dirty = Math.max(this.dirty, this.pointer(c.coef) + 2 * c.coef.length);
    });
    this.check(err);
    return w[2];
  }

  /** The kernel's EncScan record for a scan, as 32-bit words (pointers taken now). */
  private encRecord(comps: readonly EncodeComponent[], tables: readonly number[], interleaved: boolean, mcusX: number, mcusY: number): Int32Array {
    const r = new Int32Array(ENC_COMPS + 4 * ENC_COMP_WORDS);
    r[0] = comps.length;
    r[1] = interleaved ? 1 : 0;
    r[2] = mcusX;
    r[3] = mcusY;
    comps.forEach((c, i) => {
      r.set([this.pointer(c.src), this.pointer(c.nz), c.h, c.v, c.bw, c.bh, c.origin, c.stepX, c.stepY, tables[i],
        c.offsets ? this.pointer(c.offsets) : 0],
        ENC_COMPS + i * ENC_COMP_WORDS);
    });
    return r;
  }

  private writeEnc(record: Int32Array): void {
    const x = this.exports();
    new Int32Array(x.memory.buffer, x.kernel_enc_scan(), record.length).set(record);
  }

  private countDc(scan: ScanPlan, freq: Uint32Array): void {
    const x = this.exports();
    const kf = new Uint32Array(x.memory.buffer, x.kernel_freq(), 1024);
    kf.fill(0);
    this.writeEnc(this.encRecord(scan.comps, scan.tables, scan.interleaved, scan.mcusX, scan.mcusY));
    this.check(x.kernel_count_dc());
    for (let i = 0; i < 1024; i++) freq[i] += kf[i];
  }

  private countAc(c: EncodeComponent, freq: Uint32Array): void {
    const x = this.exports();
    const kf = new Uint32Array(x.memory.buffer, x.kernel_freq(), 256);
    kf.fill(0);
    this.writeEnc(this.encRecord([c], [0], false, 0, 0));
    this.check(x.kernel_count_ac(x.kernel_freq()));
    for (let i = 0; i < 256; i++) freq[i] += kf[i];
  }

  private emitScans(plans: readonly ScanPlan[], flip: Int32Array, codes: Int32Array, lengths: Uint8Array, bits: number): Uint8Array[] {
    const records = plans.map((p) => this.encRecord(p.comps, p.tables, p.interleaved, p.mcusX, p.mcusY));
    // Stuffing at most doubles the bytes; a few more per scan for the last partial byte. With a
    // bound instead of an exact count (one-pass encoding), most of this is never touched.
    const out = this.alloc(2 * Math.ceil(bits / 8) + 8 * plans.length);
    const x = this.exports();
    const buffer = x.memory.buffer;
    new Int32Array(buffer, x.kernel_codes(), 1024).set(codes);
    new Uint8Array(buffer, x.kernel_lengths(), 1024).set(lengths);
    new Int32Array(buffer, x.kernel_flip(), 64).set(flip);
    let pos = out;
    const spans = records.map((record) => {
      this.writeEnc(record);
      const n = x.kernel_emit_scan(pos);
      const span = { at: pos, n };
      pos += n;
      return span;
    });
    this.dirty = Math.max(this.dirty, pos);
    return spans.map((s) => new Uint8Array(buffer, s.at, s.n));
  }
}
