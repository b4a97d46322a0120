/**
 * A small TIFF serializer for the TIFF container writer: IFDs built from entries whose values
 * are already in the output byte order, sub-IFDs (Exif, GPS, Interoperability) and pixel blobs
 * (strips or tiles) laid out after them, every offset resolved in one pass (TIFF 6.0 section 2:
 * entries sorted by tag, values and IFDs on word boundaries).
 *
 * Output layout: 8-byte header | IFD0 | IFD0's out-of-line values | each sub-IFD and its values,
 * depth first | the pixel blobs. Metadata comes first so that readers that look only at the
 * start of a file find it.
 */
import { copyBytes } from '../bytes.js';
import { ensure, ExifFixError } from '../errors.js';
import { type IfdEntry, type TiffView } from '../metadata/tiff.js';

/** Field types named where the writer creates values itself. */
export const FIELD = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, UNDEFINED: 7, IFD: 13 } as const;

/** The byte-swap unit of each field type: RATIONAL is two LONGs, DOUBLE one 8-byte value. */
const SWAP_UNIT: Readonly<Record<number, number>> = { 3: 2, 4: 4, 5: 4, 8: 2, 9: 4, 10: 4, 11: 4, 12: 8, 13: 4 };

/** One entry of an output IFD. */
export type OutEntry =
  /** A value stored as is: `data` holds `count` values of `type`, in the output byte order. */
  | { readonly tag: number; readonly type: number; readonly count: number; readonly data: Uint8Array }
  /** A pointer to a sub-IFD (Exif 0x8769, GPS 0x8825, Interoperability 0xA005), written as one LONG. */
  | { readonly tag: number; readonly type: number; readonly ifd: OutIfd }
  /** StripOffsets/TileOffsets: one LONG per blob, the offsets where the serializer puts `blobs`. */
  | { readonly tag: number; readonly blobs: readonly Uint8Array[] };

/** An output IFD: its entries in any order (they are sorted by tag when written). */
export interface OutIfd {
  readonly entries: readonly OutEntry[];
}

/** Sub-IFDs may nest this deep below IFD0 (IFD0 -> Exif -> Interoperability is 2). */
const MAX_DEPTH = 4;

/**
 * Converts the values of an entry between byte orders.
 *
 * @param data - `count` values of `type`, in the source byte order (not modified).
 * @param type - TIFF field type.
 * @param swap - whether the byte orders differ.
 * @returns `data` itself when nothing changes, else a swapped copy.
 */
export function convertValues(data: Uint8Array, type: number, swap: boolean): Uint8Array {
  const unit = SWAP_UNIT[type];
  if (!swap || unit === undefined) return data;
  const out = copyBytes(data);
  for (let i = 0; i + unit <= out.length; i += unit) out.subarray(i, i + unit).reverse();
  return out;
}

/**
 * The value bytes of an input entry, converted to the output byte order.
 *
 * @param t - the input blob.
 * @param entry - an entry read with `readIfd` (its values are known to be in range).
 * @param littleEndian - the output byte order.
 * @param opaque - treat the values as a byte string, whatever the type says (IPTC 33723 is
 *   often declared LONG but is a byte stream).
 */
export function entryValues(t: TiffView, entry: IfdEntry, littleEndian: boolean, opaque = false): OutEntry {
  const data = copyBytes(t.bytes, entry.valueOffset, entry.valueOffset + entry.byteLength);
  return { tag: entry.tag, type: entry.type, count: entry.count, data: opaque ? data : convertValues(data, entry.type, t.littleEndian !== littleEndian) };
}

/**
 * Every value of an integer entry (BYTE, SHORT, LONG).
 *
 * @param t - the blob.
 * @param entry - the entry, or `undefined`.
 * @param max - refuse entries with more values than this.
 * @returns the values; `[]` for a missing entry or another type.
 * @throws {ExifFixError} code `'corrupt'` for more than `max` values.
 */
export function entryInts(t: TiffView, entry: IfdEntry | undefined, max: number): number[] {
  if (!entry) return [];
  ensure(entry.count <= max, `tag 0x${entry.tag.toString(16)} has ${entry.count} values, more than ${max}`);
  const out: number[] = [];
  for (let i = 0; i < entry.count; i++) {
    if (entry.type === 3 || entry.type === 8) out.push(t.u16(entry.valueOffset + 2 * i));
    else if (entry.type === 4 || entry.type === 9 || entry.type === 13) out.push(t.u32(entry.valueOffset + 4 * i));
    else if (entry.type === 1 || entry.type === 6 || entry.type === 7) out.push(t.bytes[entry.valueOffset + i]);
    else return [];
  }
  return out;
}

/**
 * An entry holding integers, SHORT when every value fits in 16 bits, else LONG.
 *
 * @param tag - the tag number.
 * @param values - the values (non-negative integers below 2^32).
 * @param littleEndian - the output byte order.
 * @param type - force SHORT (3) or LONG (4).
 */
export function intEntry(tag: number, values: readonly number[], littleEndian: boolean, type?: 3 | 4): OutEntry {
  const t = type ?? (values.every((v) => v <= 0xffff) ? FIELD.SHORT : FIELD.LONG);
  const size = t === FIELD.SHORT ? 2 : 4;
  const data = new Uint8Array(values.length * size);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => (t === FIELD.SHORT ? view.setUint16(i * size, v, littleEndian) : view.setUint32(i * size, v, littleEndian)));
  return { tag, type: t, count: values.length, data };
}

const even = (n: number): number => n + (n & 1);

function valueLength(e: OutEntry): number {
  if ('data' in e) return e.data.length;
  if ('ifd' in e) return 4;
  return 4 * e.blobs.length;
}

/** Bytes an IFD takes with its out-of-line values (each padded to a word). */
function ifdSize(ifd: OutIfd): number {
  let size = 2 + 12 * ifd.entries.length + 4;
  for (const e of ifd.entries) {
    const len = valueLength(e);
    if (len > 4) size += even(len);
  }
  return size;
}

/**
 * Serializes a TIFF whose IFD0 is `ifd0`, followed in the IFD chain by the `further` pages
 * (TIFF 6.0 section 2: each IFD's next-IFD pointer names the next page; the last one is 0).
 *
 * @param ifd0 - IFD0; sub-IFDs are reached through its `ifd` entries.
 * @param littleEndian - byte order of the header ("II" or "MM"); entry values must already be in it.
 * @param further - the IFDs of pages 2, 3, ... in order (default none: a single-page file).
 * @returns the whole file.
 * @throws {ExifFixError} code `'unsupported'` when the file would pass 4 GiB (classic TIFF
 *   offsets are 32-bit), or sub-IFDs nest deeper than 4.
 */
export function serializeTiff(ifd0: OutIfd, littleEndian: boolean, further: readonly OutIfd[] = []): Uint8Array {
  // Pass 1: the IFDs in output order, their offsets, then the blobs'.
  const order: OutIfd[] = [];
  const visit = (ifd: OutIfd, depth: number) => {
    if (depth > MAX_DEPTH) throw new ExifFixError(`sub-IFDs nest deeper than ${MAX_DEPTH} levels`, 'unsupported');
    order.push(ifd);
    for (const e of ifd.entries) if ('ifd' in e) visit(e.ifd, depth + 1);
  };
  const chain = [ifd0, ...further];
  for (const page of chain) visit(page, 0);
  const ifdOffsets = new Map<OutIfd, number>();
  let offset = 8;
  for (const ifd of order) {
    ifdOffsets.set(ifd, offset);
    offset += ifdSize(ifd);
  }
  const blobOffsets = new Map<Uint8Array, number>();
  for (const ifd of order) {
    for (const e of ifd.entries) {
      if (!('blobs' in e)) continue;
      for (const blob of e.blobs) {
        blobOffsets.set(blob, offset);
        offset += even(blob.length);
      }
    }
  }
  if (offset > 0xffffffff) throw new ExifFixError('the TIFF would be larger than 4 GiB, which needs BigTIFF', 'unsupported');

  // Pass 2: write.
  const out = new Uint8Array(offset);
  const view = new DataView(out.buffer);
  out[0] = out[1] = littleEndian ? 0x49 : 0x4d;
  view.setUint16(2, 42, littleEndian);
  view.setUint32(4, 8, littleEndian);
  for (const ifd of order) {
    const start = ifdOffsets.get(ifd) as number;
    const entries = [...ifd.entries].sort((a, b) => a.tag - b.tag);
    view.setUint16(start, entries.length, littleEndian);
    let data = start + 2 + 12 * entries.length + 4;
    entries.forEach((e, i) => {
      const p = start + 2 + 12 * i;
      let type: number;
      let count: number;
      let bytes: Uint8Array;
      if ('data' in e) {
        ({ type, count } = e);
        bytes = e.data;
      } else if ('ifd' in e) {
        type = e.type;
        count = 1;
        bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setUint32(0, ifdOffsets.get(e.ifd) as number, littleEndian);
      } else {
        type = FIELD.LONG;
        count = e.blobs.length;
        bytes = new Uint8Array(4 * count);
        const v = new DataView(bytes.buffer);
        e.blobs.forEach((b, k) => v.setUint32(4 * k, blobOffsets.get(b) as number, littleEndian));
      }
      view.setUint16(p, e.tag, littleEndian);
      view.setUint16(p + 2, type, littleEndian);
      view.setUint32(p + 4, count, littleEndian);
      if (bytes.length <= 4) {
        out.set(bytes, p + 8);
      } else {
        view.setUint32(p + 8, data, littleEndian);
        out.set(bytes, data);
        data += even(bytes.length);
      }
    });
    const page = chain.indexOf(ifd);
    const next = page >= 0 && page + 1 < chain.length ? (ifdOffsets.get(chain[page + 1]) as number) : 0;
    view.setUint32(start + 2 + 12 * entries.length, next, littleEndian);
  }
  for (const [blob, at] of blobOffsets) out.set(blob, at);
  return out;
}
