/**
 * A bounded walker over JPEG markers (ITU T.81 Annex B): segments, frame header, quantization
 * tables, Huffman tables, the entropy-coded data and whatever trails the EOI marker.
 */
import { startsWith } from '../bytes.js';
import { ensure } from '../errors.js';

/** One marker segment (or standalone marker), with absolute byte offsets. */
export interface JpegSegment {
  /** The marker's second byte, e.g. 0xe1 for APP1, 0xc0 for SOF0. */
  readonly marker: number;
  /** Offset of the 0xFF that starts the marker. */
  readonly offset: number;
  /** Offset just past the segment (past the entropy-coded data for SOS). */
  readonly end: number;
  /** Offset of the segment's payload (after the 2-byte length). */
  readonly dataOffset: number;
  /** Payload length in bytes (the length field minus 2). */
  readonly dataLength: number;
}

/** One component of the frame header (T.81 B.2.2). */
export interface FrameComponent {
  readonly id: number;
  /** Horizontal sampling factor, 1-4. */
  readonly h: number;
  /** Vertical sampling factor, 1-4. */
  readonly v: number;
  /** Quantization table selector. */
  readonly tq: number;
}

/** The frame header (SOFn). */
export interface JpegFrame {
  /** The SOF marker, 0xc0-0xcf (not 0xc4, 0xc8, 0xcc). */
  readonly marker: number;
  /** Sample precision in bits. */
  readonly precision: number;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels (0 means a DNL marker defines it, which exif-fix refuses). */
  readonly height: number;
  readonly components: readonly FrameComponent[];
}

/**
 * A departure from ITU T.81 that libjpeg reads past with a warning, found while walking the
 * markers. Only two kinds can be seen without decoding the entropy-coded data:
 * - `extraneous-bytes`: bytes between two segments that are not a marker (libjpeg jdmarker.c
 *   `next_marker` skips them, warning JWRN_EXTRANEOUS_DATA). Nothing of the image is lost:
 *   {@link repairJpeg} drops them and the image data is complete.
 * - `premature-end`: the file ends before its EOI marker, inside or after a scan (libjpeg
 *   jdatasrc.c `fill_input_buffer` inserts a fake EOI, warning JWRN_JPEG_EOF). Image data may be
 *   missing; decoders fill the rest with grey.
 * A scan whose entropy-coded data ends early but is followed by a marker (a file cut and EOI
 * appended) looks whole here; only a decoder finds it (libjpeg warns JWRN_HIT_MARKER), which is
 * why the re-encode path asks sharp to fail on warnings.
 */
export interface JpegDamage {
  readonly kind: 'extraneous-bytes' | 'premature-end';
  /**
   * The lowest sharp `failOn` level that rejects this damage when decoding: `'warning'` for
   * extraneous bytes (a libjpeg warning), `'truncated'` for a premature end.
   */
  readonly level: 'warning' | 'truncated';
  /** Whether the entropy-coded data is complete (true for extraneous bytes only). */
  readonly pixelsIntact: boolean;
  /** libjpeg's own wording, e.g. "Corrupt JPEG data: 3 extraneous bytes before marker 0xe2". */
  readonly message: string;
  /** Byte offset where the damage starts. */
  readonly offset: number;
}

/** The whole marker layout of a JPEG file. */
export interface JpegStructure {
  /** Every segment from after SOI to EOI, in file order (SOS segments include their scan data). */
  readonly segments: readonly JpegSegment[];
  readonly frame: JpegFrame;
  /** Quantization tables by id, in natural (row-major) order. */
  readonly quantTables: ReadonlyArray<Uint16Array | undefined>;
  /** Whether every Huffman table is one of the ITU T.81 Annex K example tables. */
  readonly standardHuffman: boolean;
  /**
   * Offset just past the EOI marker: bytes from here on are a trailer (MPO images, vendor data).
   * `-1` for a header-only parse. For a file without EOI (see {@link JpegDamage}
   * `premature-end`), the offset where the readable segments end (usually the file length).
   */
  readonly eoiEnd: number;
  /** What was read past, in file order; empty for a well-formed file. */
  readonly damage: readonly JpegDamage[];
}

/** Options of {@link parseJpeg}. */
export interface ParseJpegOptions {
  /**
   * Stop at the first scan (SOS): every orientation place and the frame header come before it.
   * The entropy-coded data and EOI are then neither walked nor checked. Default `false`.
   */
  readonly headerOnly?: boolean;
}

/** The zigzag order of T.81 figure A.6: `ZIGZAG[k]` is the natural index of the k-th coefficient. */
export const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]);

/** The `BITS` lists (code counts for lengths 1-16) of the four Annex K Huffman tables (K.3). */
const STANDARD_BITS: readonly Uint8Array[] = [
  Uint8Array.of(0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0),
  Uint8Array.of(0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0),
  Uint8Array.of(0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125),
  Uint8Array.of(0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119),
];

/** Whether the 16 bytes of `data` at `offset` equal one of {@link STANDARD_BITS}. */
function isStandardBits(data: Uint8Array, offset: number): boolean {
  return STANDARD_BITS.some((bits) => startsWith(data, bits, offset));
}

/** Markers without a length field (T.81 B.1.1.3): TEM, RSTn, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/** Whether `marker` starts a frame (SOF0-SOF15, except DHT 0xc4, JPG 0xc8, DAC 0xcc). */
export function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Whether `bytes` start with the SOI marker and a marker after it. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * How many bytes of a JPEG file hold its header: everything up to and including the first SOS
 * segment, which is all `--check` needs (every orientation place precedes the first scan, T.81
 * B.2.1). Walks the segment lengths in `bytes`, the file's first bytes, without reading any
 * segment's content, so that a caller can read a file's head in as few and as small reads as
 * possible: 2,880 real photos of about 290 kB were checked at 3.5x exiftool -fast2's speed while
 * the first 256 kB of each was read, most of it scan data (issue 15).
 *
 * @param bytes - the first bytes of a file that starts with SOI ({@link isJpeg}).
 * @returns `complete: true` and `length`, the offset just past the first SOS segment, when
 *   `bytes` reach it; `complete: true` and `bytes.length` when the markers stop making sense
 *   (the parser then judges the file from what was read); otherwise `complete: false` and
 *   `length`, the number of bytes (counted from the file's start) needed to walk one segment
 *   further.
 */
export function jpegHeadLength(bytes: Uint8Array): { complete: boolean; length: number } {
  let p = 2;
  for (;;) {
    if (p + 4 > bytes.length) return { complete: false, length: p + 4 };
    if (bytes[p] !== 0xff) return { complete: true, length: bytes.length };
    const marker = bytes[p + 1];
    if (marker === 0xff) {
      p += 1; // a fill byte (T.81 B.1.1.2)
      continue;
    }
    if (isStandalone(marker)) {
      if (marker === 0xd9) return { complete: true, length: p + 2 };
      p += 2;
      continue;
    }
    const end = p + 2 + ((bytes[p + 2] << 8) | bytes[p + 3]);
    if (marker === 0xda) return end <= bytes.length ? { complete: true, length: end } : { complete: false, length: end };
    p = end;
  }
}

/**
 * Finds the end of entropy-coded data starting at `from`: the offset of the next marker that is
 * not a stuffed byte (0xFF00), a fill byte or a restart marker (T.81 B.1.1.2, B.1.1.5).
 *
 * @returns the offset of that marker's 0xFF, or `-1` when the data runs to the end of the file.
 */
function skipEntropyData(bytes: Uint8Array, from: number): number {
  let p = from;
  for (;;) {
    p = bytes.indexOf(0xff, p);
    if (p < 0 || p + 1 >= bytes.length) return -1;
    const next = bytes[p + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) p += 2;
    else if (next === 0xff) p += 1;
    else return p;
  }
}

/** libjpeg's JWRN_JPEG_EOF message (jerror.h). */
const PREMATURE_END = 'Premature end of JPEG file';

/**
 * Walks every marker of a JPEG file, checking each length against the file, as tolerantly as
 * libjpeg reads one (jdmarker.c `next_marker`):
 * - bytes between segments that are not a marker are skipped and reported as
 *   `extraneous-bytes` damage, with libjpeg's message "Corrupt JPEG data: N extraneous bytes
 *   before marker 0xXX" (a 0xFF00 pair counts as 2, as in libjpeg);
 * - fill bytes (a run of 0xFF before a marker, T.81 B.1.1.2) are legal and skipped silently;
 * - a file that ends before its EOI marker once a scan has started is read up to where it ends
 *   and reported as `premature-end` damage ("Premature end of JPEG file"); a segment cut off
 *   after the first scan is left to the trailer (bytes from `eoiEnd` on).
 *
 * @param bytes - the whole file (or, with `headerOnly`, at least everything before the first scan).
 * @param options - see {@link ParseJpegOptions}.
 * @throws {ExifFixError} code `'corrupt'` for a missing SOI, a missing frame header or scan, or
 *   a file that ends (or a segment that runs past the end) before the first scan.
 */
export function parseJpeg(bytes: Uint8Array, options: ParseJpegOptions = {}): JpegStructure {
  ensure(isJpeg(bytes), 'not a JPEG file (no SOI marker)');
  const segments: JpegSegment[] = [];
  const quantTables: Array<Uint16Array | undefined> = [];
  const damage: JpegDamage[] = [];
  let frame: JpegFrame | undefined;
  let standardHuffman = true;
  let sawScan = false;
  let p = 2;
  const prematureEnd = (at: number): JpegStructure => {
    ensure(frame && sawScan, 'truncated JPEG: the file ends before its image data');
    damage.push({ kind: 'premature-end', level: 'truncated', pixelsIntact: false, message: PREMATURE_END, offset: at });
    return { segments, frame, quantTables, standardHuffman, eoiEnd: at, damage };
  };
  for (;;) {
    // jdmarker.c next_marker: skip non-0xFF bytes, then fill bytes; a 0xFF00 pair is skipped too.
    let q = p;
    let discarded = 0;
    for (;;) {
      while (q < bytes.length && bytes[q] !== 0xff) { q++; discarded++; }
      while (q < bytes.length && bytes[q] === 0xff) q++;
      if (q >= bytes.length || bytes[q] !== 0x00) break;
      discarded += 2;
      q++;
    }
    if (q >= bytes.length) return prematureEnd(p);
    const marker = bytes[q];
    const start = q - 1;
    if (discarded > 0) {
      const message = `Corrupt JPEG data: ${discarded} extraneous bytes before marker 0x${marker.toString(16).padStart(2, '0')}`;
      damage.push({ kind: 'extraneous-bytes', level: 'warning', pixelsIntact: true, message, offset: p });
    }
    if (marker === 0xd9) {
      segments.push({ marker, offset: start, end: q + 1, dataOffset: q + 1, dataLength: 0 });
      ensure(frame && sawScan, 'JPEG has no image data before its EOI marker');
      return { segments, frame, quantTables, standardHuffman, eoiEnd: q + 1, damage };
    }
    if (isStandalone(marker)) {
      segments.push({ marker, offset: start, end: q + 1, dataOffset: q + 1, dataLength: 0 });
      p = q + 1;
      continue;
    }
    if (q + 3 > bytes.length) return prematureEnd(start);
    const length = (bytes[q + 1] << 8) | bytes[q + 2];
    ensure(length >= 2, () => `JPEG segment 0x${marker.toString(16)} has length ${length}`);
    const dataOffset = q + 3;
    const dataLength = length - 2;
    let end = dataOffset + dataLength;
    if (end > bytes.length) {
      ensure(sawScan, 'truncated JPEG: the file ends inside a marker segment');
      return prematureEnd(start);
    }
    const data = bytes.subarray(dataOffset, end);
    if (isSof(marker)) {
      ensure(!frame, 'JPEG has more than one frame header');
      frame = parseFrame(marker, data);
    } else if (marker === 0xdb) {
      parseQuantTables(data, quantTables);
    } else if (marker === 0xc4) {
      if (!huffmanTablesAreStandard(data)) standardHuffman = false;
    } else if (marker === 0xda) {
      ensure(frame, 'JPEG scan comes before its frame header');
      sawScan = true;
      if (options.headerOnly) {
        segments.push({ marker, offset: start, end, dataOffset, dataLength });
        return { segments, frame, quantTables, standardHuffman, eoiEnd: -1, damage };
      }
      const next = skipEntropyData(bytes, end);
      if (next < 0) {
        segments.push({ marker, offset: start, end: bytes.length, dataOffset, dataLength });
        return prematureEnd(bytes.length);
      }
      end = next;
    }
    segments.push({ marker, offset: start, end, dataOffset, dataLength });
    p = end;
  }
}

/**
 * The file as libjpeg reads it when its only damage is extraneous bytes between segments: SOI,
 * every segment in order, then whatever follows EOI, without the skipped bytes. Decoders that are
 * stricter than libjpeg (the lossless transform) then see a well-formed file with the same
 * image data and metadata.
 *
 * @param bytes - the whole file `structure` was parsed from.
 * @param structure - what {@link parseJpeg} returned for it (not header-only).
 * @returns `bytes` itself when nothing was skipped, else a new array.
 */
export function repairJpeg(bytes: Uint8Array, structure: JpegStructure): Uint8Array {
  if (!structure.damage.some((d) => d.kind === 'extraneous-bytes') || structure.eoiEnd < 0) return bytes;
  let length = 2 + (bytes.length - structure.eoiEnd);
  for (const seg of structure.segments) length += seg.end - seg.offset;
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, 2));
  let p = 2;
  for (const seg of structure.segments) {
    out.set(bytes.subarray(seg.offset, seg.end), p);
    p += seg.end - seg.offset;
  }
  out.set(bytes.subarray(structure.eoiEnd), p);
  return out;
}

function parseFrame(marker: number, data: Uint8Array): JpegFrame {
  ensure(data.length >= 6, 'JPEG frame header is too short');
  const precision = data[0];
  const height = (data[1] << 8) | data[2];
  const width = (data[3] << 8) | data[4];
  const count = data[5];
  ensure(count >= 1 && data.length >= 6 + count * 3, 'JPEG frame header is too short for its components');
  ensure(width > 0, 'JPEG frame header declares width 0');
  const components: FrameComponent[] = [];
  for (let i = 0; i < count; i++) {
    const o = 6 + i * 3;
    const h = data[o + 1] >> 4;
    const v = data[o + 1] & 15;
    ensure(h >= 1 && h <= 4 && v >= 1 && v <= 4, 'JPEG frame header has invalid sampling factors');
    components.push({ id: data[o], h, v, tq: data[o + 2] });
  }
  return { marker, precision, width, height, components };
}

function parseQuantTables(data: Uint8Array, tables: Array<Uint16Array | undefined>): void {
  let p = 0;
  while (p < data.length) {
    const pq = data[p] >> 4;
    const tq = data[p] & 15;
    const size = pq ? 128 : 64;
    ensure(tq < 4 && p + 1 + size <= data.length, 'JPEG quantization table segment is malformed');
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) {
      table[ZIGZAG[k]] = pq ? (data[p + 1 + 2 * k] << 8) | data[p + 2 + 2 * k] : data[p + 1 + k];
    }
    tables[tq] = table;
    p += 1 + size;
  }
}

function huffmanTablesAreStandard(data: Uint8Array): boolean {
  let p = 0;
  let standard = true;
  while (p + 17 <= data.length) {
    if (!isStandardBits(data, p + 1)) standard = false;
    let symbols = 0;
    for (let i = p + 1; i < p + 17; i++) symbols += data[i];
    p += 17 + symbols;
  }
  return standard;
}

/** The IJG example tables of T.81 Annex K.1, natural order (libjpeg jcparam.c std_luminance_quant_tbl). */
const STD_LUMINANCE = Uint16Array.from([
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
]);
/** Annex K.2 (jcparam.c std_chrominance_quant_tbl), natural order. */
const STD_CHROMINANCE = Uint16Array.from([
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99,
  99, 99, 99, ...new Array<number>(32).fill(99),
]);

/**
 * Estimates the IJG quality (1-100) a JPEG was saved at from its quantization tables: the
 * quality whose scaled Annex K tables (libjpeg jcparam.c `jpeg_quality_scaling` and
 * `jpeg_add_quant_table`) are closest to the file's, as ImageMagick's JPEG quality estimate does.
 *
 * @param tables - quantization tables by id, natural order; table 0 is compared with the
 *   luminance example table, table 1 (when present) with the chrominance one.
 * @returns the estimated quality; 92 when no table is present.
 */
export function estimateQuality(tables: ReadonlyArray<Uint16Array | undefined>): number {
  return fitQuality(tables).quality;
}

/**
 * Whether the quantization tables are exactly the IJG tables (ITU T.81 Annex K scaled by libjpeg's
 * `jpeg_quality_scaling`) at some quality, as libjpeg, cjpeg and most web encoders write them: an
 * encoder given that quality reproduces them, so a re-encode keeps the source's size and quality.
 *
 * @param tables - quantization tables by id, natural order.
 * @returns the quality 1-100 that reproduces them exactly, or `undefined` (camera tables).
 */
export function exactIjgQuality(tables: ReadonlyArray<Uint16Array | undefined>): number | undefined {
  const fit = fitQuality(tables);
  return fit.error === 0 && tables.every((t, id) => t === undefined || id <= 1) ? fit.quality : undefined;
}

/** The IJG quality whose tables are nearest `tables` (sum of absolute differences), and that distance. */
function fitQuality(tables: ReadonlyArray<Uint16Array | undefined>): { quality: number; error: number } {
  const pairs: Array<[Uint16Array, Uint16Array]> = [];
  if (tables[0]) pairs.push([tables[0], STD_LUMINANCE]);
  if (tables[1]) pairs.push([tables[1], STD_CHROMINANCE]);
  if (pairs.length === 0) return { quality: 92, error: Infinity };
  let best = 92;
  let bestError = Infinity;
  for (let q = 1; q <= 100; q++) {
    const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
    let error = 0;
    for (const [table, basic] of pairs) {
      for (let i = 0; i < 64; i++) {
        const expected = Math.min(255, Math.max(1, Math.floor((basic[i] * scale + 50) / 100)));
        error += Math.abs(expected - table[i]);
      }
    }
    if (error < bestError) {
      bestError = error;
      best = q;
    }
  }
  return { quality: best, error: bestError };
}
