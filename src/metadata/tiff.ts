/**
 * A bounded reader and in-place patcher for TIFF structures: the EXIF blob inside JPEG APP1,
 * PNG `eXIf`, WebP `EXIF` and HEIF `Exif` items, and the header of TIFF files themselves
 * (TIFF 6.0 section 2; EXIF 2.32 section 4.6).
 *
 * Patching writes new values into the existing bytes, so everything else (maker notes with
 * absolute offsets included) stays byte for byte.
 */
import { copyBytes } from '../bytes.js';
import { ensure } from '../errors.js';

/** TIFF field types and their sizes in bytes (TIFF 6.0 section 2, EXIF 2.32 table 1). */
const TYPE_SIZES: Readonly<Record<number, number>> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};

/** Tags this module knows by name. */
export const TAG = {
  ImageWidth: 0x0100,
  ImageLength: 0x0101,
  Orientation: 0x0112,
  JPEGInterchangeFormat: 0x0201,
  JPEGInterchangeFormatLength: 0x0202,
  ExifIFD: 0x8769,
  GPSIFD: 0x8825,
  PixelXDimension: 0xa002,
  PixelYDimension: 0xa003,
} as const;

/** At most this many entries per IFD and IFDs per chain; more means a hostile or broken file. */
const MAX_ENTRIES = 4096;
const MAX_IFDS = 64;

/** One IFD entry, with absolute byte offsets into the blob. */
export interface IfdEntry {
  /** Tag number, e.g. 0x0112. */
  readonly tag: number;
  /** TIFF field type (3 SHORT, 4 LONG, ...). */
  readonly type: number;
  /** Number of values. */
  readonly count: number;
  /** Offset of the 12-byte entry itself. */
  readonly entryOffset: number;
  /** Offset of the first value byte (inline in the entry when it fits in 4 bytes). */
  readonly valueOffset: number;
  /** Total size of the values in bytes. */
  readonly byteLength: number;
}

/** One IFD: its entries by tag, where it starts and where its next-IFD pointer is. */
export interface Ifd {
  readonly offset: number;
  readonly entries: ReadonlyMap<number, IfdEntry>;
  /** Offset of the 4-byte next-IFD pointer that follows the entries. */
  readonly nextPointerOffset: number;
  /** The value of that pointer (0 when there is no next IFD). */
  readonly next: number;
}

/** The parts of a TIFF structure that orientation normalizing needs. */
export interface TiffStructure {
  readonly littleEndian: boolean;
  /** IFD0: the main image (EXIF 2.32 "0th IFD"). */
  readonly ifd0: Ifd;
  /** IFD1: the thumbnail, when present. */
  readonly ifd1?: Ifd;
  /** The Exif private IFD, when present. */
  readonly exifIfd?: Ifd;
}

/** Reads unsigned integers from a blob with the structure's byte order. */
export class TiffView {
  readonly view: DataView;

  /**
   * @param bytes - the TIFF structure, starting at its "II"/"MM" header.
   * @param littleEndian - byte order from the header.
   */
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Unsigned 16-bit value at `offset` (bytes). @throws {ExifFixError} when out of range. */
  u16(offset: number): number {
    ensure(offset >= 0 && offset + 2 <= this.bytes.length, 'TIFF structure is truncated');
    return this.view.getUint16(offset, this.littleEndian);
  }

  /** Unsigned 32-bit value at `offset` (bytes). @throws {ExifFixError} when out of range. */
  u32(offset: number): number {
    ensure(offset >= 0 && offset + 4 <= this.bytes.length, 'TIFF structure is truncated');
    return this.view.getUint32(offset, this.littleEndian);
  }
}

/**
 * Checks the 8-byte TIFF header and returns the byte order.
 *
 * @param bytes - the TIFF structure.
 * @returns `true` for little-endian ("II"), `false` for big-endian ("MM").
 * @throws {ExifFixError} code `'corrupt'` when the header is not a TIFF header.
 */
export function tiffByteOrder(bytes: Uint8Array): boolean {
  ensure(bytes.length >= 8, 'TIFF header is truncated');
  const le = bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0;
  const be = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42;
  ensure(le || be, 'TIFF header is not "II*" or "MM*"');
  return le;
}

/**
 * Reads one IFD at `offset`, checking every entry against the blob's bounds.
 *
 * @param t - the blob and byte order.
 * @param offset - byte offset of the IFD.
 * @throws {ExifFixError} code `'corrupt'` when any entry or value is out of range.
 */
export function readIfd(t: TiffView, offset: number): Ifd {
  const count = t.u16(offset);
  ensure(count <= MAX_ENTRIES, () => `IFD at byte ${offset} declares ${count} entries`);
  const entries = new Map<number, IfdEntry>();
  for (let i = 0; i < count; i++) {
    const entryOffset = offset + 2 + i * 12;
    const tag = t.u16(entryOffset);
    const type = t.u16(entryOffset + 2);
    const n = t.u32(entryOffset + 4);
    const size = TYPE_SIZES[type];
    if (size === undefined) continue; // unknown type: readers must skip it (TIFF 6.0 section 2)
    const byteLength = size * n;
    const valueOffset = byteLength <= 4 ? entryOffset + 8 : t.u32(entryOffset + 8);
    ensure(
      byteLength <= t.bytes.length && valueOffset + byteLength <= t.bytes.length,
      `tag 0x${tag.toString(16)} points outside the TIFF structure`,
    );
    if (!entries.has(tag)) entries.set(tag, { tag, type, count: n, entryOffset, valueOffset, byteLength });
  }
  const nextPointerOffset = offset + 2 + count * 12;
  return { offset, entries, nextPointerOffset, next: t.u32(nextPointerOffset) };
}

/**
 * The first value of an integer entry (BYTE, SHORT or LONG).
 *
 * @returns the value, or `undefined` for other types or a zero count.
 */
export function entryInt(t: TiffView, entry: IfdEntry | undefined): number | undefined {
  if (!entry || entry.count < 1) return undefined;
  if (entry.type === 3 || entry.type === 8) return t.u16(entry.valueOffset);
  if (entry.type === 4 || entry.type === 9) return t.u32(entry.valueOffset);
  if (entry.type === 1 || entry.type === 6 || entry.type === 7) return t.bytes[entry.valueOffset];
  return undefined;
}

/**
 * Parses IFD0, IFD1 and the Exif IFD of a TIFF structure, with loop and bounds checks.
 *
 * @param bytes - the TIFF structure starting at its header (for JPEG APP1, after `Exif\0\0`).
 * @throws {ExifFixError} code `'corrupt'` on a bad header, an IFD out of range or an IFD loop.
 */
export function parseTiff(bytes: Uint8Array): TiffStructure {
  const littleEndian = tiffByteOrder(bytes);
  const t = new TiffView(bytes, littleEndian);
  const ifd0Offset = t.u32(4);
  ensure(ifd0Offset >= 8, 'IFD0 offset points into the TIFF header');
  const ifd0 = readIfd(t, ifd0Offset);
  const seen = new Set<number>([ifd0Offset]);
  let ifd1: Ifd | undefined;
  if (ifd0.next !== 0 && ifd0.next < bytes.length && !seen.has(ifd0.next)) {
    seen.add(ifd0.next);
    ifd1 = readIfd(t, ifd0.next);
  }
  let exifIfd: Ifd | undefined;
  const exifPointer = entryInt(t, ifd0.entries.get(TAG.ExifIFD));
  if (exifPointer !== undefined && exifPointer >= 8 && !seen.has(exifPointer) && exifPointer < bytes.length) {
    exifIfd = readIfd(t, exifPointer);
  }
  return { littleEndian, ifd0, ifd1, exifIfd };
}

/**
 * Counts the IFDs in the main chain (IFD0, IFD1, ...), for multi-page TIFF detection.
 *
 * @returns the number of IFDs, at most {@link MAX_IFDS}.
 * @throws {ExifFixError} code `'corrupt'` on an IFD loop.
 */
export function countIfds(bytes: Uint8Array): number {
  const t = new TiffView(bytes, tiffByteOrder(bytes));
  const seen = new Set<number>();
  let offset = t.u32(4);
  while (offset !== 0 && seen.size < MAX_IFDS) {
    ensure(!seen.has(offset), () => `IFD chain loops back to byte ${offset}`);
    seen.add(offset);
    offset = readIfd(t, offset).next;
  }
  return seen.size;
}

/** The orientation-related values of an EXIF blob. */
export interface ExifOrientationInfo {
  /** IFD0 0x0112, when present (may be outside 1-8). */
  readonly orientation?: number;
  /** IFD1 0x0112 (the thumbnail's), when present. */
  readonly thumbnailOrientation?: number;
  /** Where the JPEG thumbnail is, in bytes from the TIFF header, when present and in range. */
  readonly thumbnail?: { readonly offset: number; readonly length: number };
}

/**
 * Reads the orientation of IFD0 and IFD1 and locates the JPEG thumbnail (EXIF 2.32 section 4.5.4).
 *
 * @param bytes - the TIFF structure.
 * @throws {ExifFixError} code `'corrupt'` when the structure is broken.
 */
export function readExifOrientation(bytes: Uint8Array): ExifOrientationInfo {
  const s = parseTiff(bytes);
  const t = new TiffView(bytes, s.littleEndian);
  const orientation = entryInt(t, s.ifd0.entries.get(TAG.Orientation));
  const thumbnailOrientation = s.ifd1 ? entryInt(t, s.ifd1.entries.get(TAG.Orientation)) : undefined;
  return { orientation, thumbnailOrientation, thumbnail: locateThumbnail(t, s) };
}

function locateThumbnail(t: TiffView, s: TiffStructure): { offset: number; length: number } | undefined {
  if (!s.ifd1) return undefined;
  const offset = entryInt(t, s.ifd1.entries.get(TAG.JPEGInterchangeFormat));
  const length = entryInt(t, s.ifd1.entries.get(TAG.JPEGInterchangeFormatLength));
  if (offset === undefined || length === undefined || length === 0) return undefined;
  if (offset + length > t.bytes.length) return undefined;
  // A thumbnail overlapping the header or an IFD is a broken (or hostile) structure: patching
  // would write the new thumbnail over the directory, or cut the directory away under maxLength.
  const overlaps = (ifd: Ifd | undefined) => ifd !== undefined && offset < ifd.nextPointerOffset + 4 && ifd.offset < offset + length;
  if (offset < 8 || overlaps(s.ifd0) || overlaps(s.ifd1) || overlaps(s.exifIfd)) return undefined;
  return { offset, length };
}

function writeInt(t: TiffView, entry: IfdEntry, value: number): void {
  if (entry.type === 3 || entry.type === 8) t.view.setUint16(entry.valueOffset, value, t.littleEndian);
  else if (entry.type === 4 || entry.type === 9) t.view.setUint32(entry.valueOffset, value, t.littleEndian);
  else if (entry.type === 1 || entry.type === 6 || entry.type === 7) t.bytes[entry.valueOffset] = value;
}

function fits(entry: IfdEntry, value: number): boolean {
  if (entry.type === 3 || entry.type === 8) return value <= 0xffff;
  if (entry.type === 1 || entry.type === 6 || entry.type === 7) return value <= 0xff;
  return entry.type === 4 || entry.type === 9;
}

/** What {@link patchExif} should write. */
export interface ExifPatch {
  /** The new pixel width (PixelXDimension, and ImageWidth where IFD0 has it). */
  readonly width: number;
  /** The new pixel height (PixelYDimension, and ImageLength where IFD0 has it). */
  readonly height: number;
  /**
   * The thumbnail to store instead of the old one: a JPEG, or `null` to remove the thumbnail
   * (IFD1 is unlinked). `undefined` leaves it as it is.
   */
  readonly thumbnail?: Uint8Array | null;
  /** The largest size the patched blob may have, in bytes (65527 inside a JPEG APP1). */
  readonly maxLength?: number;
}

/**
 * Returns a copy of an EXIF blob with orientation 1 in IFD0 and IFD1, the new pixel size in
 * PixelXDimension/PixelYDimension (and IFD0 ImageWidth/ImageLength if present), and the
 * thumbnail replaced or removed. Every other byte is kept, so maker notes stay valid.
 *
 * A new thumbnail is stored where the old one was when it fits there or when the old one ends
 * the blob; otherwise (or past `maxLength`) the thumbnail is removed.
 *
 * @param bytes - the TIFF structure (not modified).
 * @param patch - see {@link ExifPatch}.
 * @returns the patched copy and the warnings it produced (values that do not fit their type).
 * @throws {ExifFixError} code `'corrupt'` when the structure is broken.
 */
export function patchExif(bytes: Uint8Array, patch: ExifPatch): { bytes: Uint8Array; warnings: string[] } {
  const warnings: string[] = [];
  let out: Uint8Array = copyBytes(bytes);
  let s = parseTiff(out);
  let t = new TiffView(out, s.littleEndian);
  const set = (ifd: Ifd | undefined, tag: number, value: number) => {
    const entry = ifd?.entries.get(tag);
    if (!entry || entry.count < 1) return;
    if (fits(entry, value)) writeInt(t, entry, value);
    else warnings.push(`EXIF tag 0x${tag.toString(16)} cannot hold ${value}; left unchanged`);
  };
  set(s.ifd0, TAG.Orientation, 1);
  set(s.ifd1, TAG.Orientation, 1);
  set(s.exifIfd, TAG.PixelXDimension, patch.width);
  set(s.exifIfd, TAG.PixelYDimension, patch.height);
  set(s.ifd0, TAG.ImageWidth, patch.width);
  set(s.ifd0, TAG.ImageLength, patch.height);

  const old = locateThumbnail(t, s);
  // Only a thumbnail that ends the blob can be cut off without cutting anything else away.
  const endsBlob = old !== undefined && old.offset + old.length === bytes.length;
  if (patch.thumbnail !== undefined && s.ifd1) {
    const removeThumbnail = () => t.view.setUint32(s.ifd0.nextPointerOffset, 0, t.littleEndian);
    const lengthEntry = s.ifd1.entries.get(TAG.JPEGInterchangeFormatLength);
    const thumb = patch.thumbnail;
    if (!old || !thumb || !lengthEntry || !fits(lengthEntry, thumb.length)) {
      removeThumbnail();
    } else if (thumb.length <= old.length) {
      out.set(thumb, old.offset);
      out.fill(0, old.offset + thumb.length, old.offset + old.length);
      writeInt(t, lengthEntry, thumb.length);
    } else if (old.offset + old.length === out.length) {
      const grown = new Uint8Array(old.offset + thumb.length);
      grown.set(out.subarray(0, old.offset));
      grown.set(thumb, old.offset);
      out = grown;
      s = parseTiff(out);
      t = new TiffView(out, s.littleEndian);
      writeInt(t, lengthEntry, thumb.length);
    } else {
      removeThumbnail();
    }
    if (patch.maxLength !== undefined && out.length > patch.maxLength) {
      // Still too long: drop the thumbnail, and its bytes when it ends the blob. (The blob may
      // stay over maxLength; the container refuses it with an ExifFixError.)
      if (old && endsBlob) {
        out = copyBytes(out, 0, old.offset);
        t = new TiffView(out, s.littleEndian);
      }
      removeThumbnail();
    }
  }
  return { bytes: out, warnings };
}
