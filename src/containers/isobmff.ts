/**
 * A bounded reader and a small writer for the ISOBMFF boxes of HEIF/AVIF still images
 * (ISO/IEC 14496-12 section 4.2 boxes, 8.11 `meta`, `iloc`, `iinf`, `pitm`, `iref`, `idat`;
 * ISO/IEC 23008-12 section 9.3 `iprp`/`ipco`/`ipma`). Every size, count and offset is checked
 * against its parent before use; nesting is walked explicitly (never recursively on input).
 */
import { copyBytes } from '../bytes.js';
import { ensure, printable } from '../errors.js';

/** At most this many boxes in one container, items, extents per item, or properties. */
const MAX_BOXES = 4096;
const MAX_ITEMS = 65536;
const MAX_EXTENTS = 1024;

/** One box (ISO/IEC 14496-12 section 4.2), with absolute byte offsets. */
export interface Box {
  /** The four-character type, e.g. `meta`. */
  readonly type: string;
  /** Offset of the box's first byte (its size field). */
  readonly offset: number;
  /** Offset of the payload, just past the size/type (and largesize) header. */
  readonly payload: number;
  /** Offset just past the box. */
  readonly end: number;
}

/** Big-endian reads with bounds checks. */
export class Reader {
  /** @param bytes - the whole file. */
  constructor(readonly bytes: Uint8Array) {}

  /** Unsigned integer of `size` bytes (0, 1, 2, 4 or 8; 0 reads as 0) at `offset`. @throws {ExifFixError} when out of range. */
  uint(offset: number, size: number): number {
    ensure(offset >= 0 && offset + size <= this.bytes.length, 'HEIF box is truncated');
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.bytes[offset + i];
    ensure(Number.isSafeInteger(v), 'HEIF value does not fit in 53 bits');
    return v;
  }

  /** Four Latin-1 characters at `offset`. */
  fourcc(offset: number): string {
    ensure(offset >= 0 && offset + 4 <= this.bytes.length, 'HEIF box is truncated');
    return String.fromCharCode(this.bytes[offset], this.bytes[offset + 1], this.bytes[offset + 2], this.bytes[offset + 3]);
  }

  /** A NUL-terminated UTF-8 string starting at `offset`, ending before `end`; returns it and the offset after the NUL. */
  cstring(offset: number, end: number): { value: string; next: number } {
    let p = offset;
    while (p < end && this.bytes[p] !== 0) p++;
    return { value: Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, p - offset).toString('utf8'), next: Math.min(p + 1, end) };
  }
}

/**
 * The boxes between `start` and `end` (a file or a container box's payload).
 *
 * @param r - the file.
 * @param start - offset of the first box.
 * @param end - offset just past the last; every box must end by then.
 * @returns the boxes in order, at most 4096.
 * @throws {ExifFixError} code `'corrupt'` for a size smaller than its header or past `end`.
 */
export function readBoxes(r: Reader, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let p = start;
  while (p < end) {
    ensure(boxes.length < MAX_BOXES, `more than ${MAX_BOXES} boxes in one container`);
    ensure(p + 8 <= end, 'HEIF box header is truncated');
    let size = r.uint(p, 4);
    const type = r.fourcc(p + 4);
    let header = 8;
    if (size === 1) {
      size = r.uint(p + 8, 8);
      header = 16;
    } else if (size === 0) {
      size = end - p; // extends to the end of its container (ISO/IEC 14496-12 section 4.2)
    }
    if (type === 'uuid') header += 16;
    ensure(size >= header && p + size <= end, () => `HEIF box '${printable(type)}' at byte ${p} has a bad size ${size}`);
    boxes.push({ type, offset: p, payload: p + header, end: p + size });
    p += size;
  }
  return boxes;
}

/** The version and flags of a full box (ISO/IEC 14496-12 section 4.2.2), and where its fields start. */
export function fullBox(r: Reader, box: Box): { version: number; flags: number; body: number } {
  ensure(box.payload + 4 <= box.end, `HEIF full box '${printable(box.type)}' is truncated`);
  return { version: r.bytes[box.payload], flags: r.uint(box.payload + 1, 3), body: box.payload + 4 };
}

/** One extent of an item's data. */
export interface Extent {
  /** Absolute file offset (construction method 0) or offset into `idat` (1). */
  readonly offset: number;
  /** Length in bytes. */
  readonly length: number;
}

/** One item's location (ISO/IEC 14496-12 section 8.11.3). */
export interface ItemLocation {
  readonly id: number;
  /** 0 file offsets, 1 inside `idat`, 2 item offsets (not supported for reading). */
  readonly constructionMethod: number;
  readonly dataReferenceIndex: number;
  readonly extents: readonly Extent[];
}

/** One `infe` entry (ISO/IEC 14496-12 section 8.11.6; versions 2 and 3). */
export interface ItemInfo {
  readonly id: number;
  /** e.g. `av01`, `hvc1`, `grid`, `Exif`, `mime`. */
  readonly type: string;
  /** For `mime` items: the content type, e.g. `application/rdf+xml`. */
  readonly contentType?: string;
  /** The whole `infe` box. */
  readonly box: Box;
}

/** One property association (ISO/IEC 23008-12 section 9.3.2). */
export interface Association {
  /** 1-based index into `ipco`'s boxes (0 means none). */
  readonly index: number;
  readonly essential: boolean;
}

/** Item references of one type from one item (ISO/IEC 14496-12 section 8.11.12). */
export interface ItemReference {
  readonly type: string;
  readonly from: number;
  readonly to: readonly number[];
}

/** The parts of a `meta` box that a still-image writer needs. */
export interface Meta {
  readonly box: Box;
  /** The child boxes of `meta`, in order. */
  readonly children: readonly Box[];
  readonly handler?: string;
  readonly primary?: number;
  readonly items: readonly ItemInfo[];
  readonly locations: ReadonlyMap<number, ItemLocation>;
  /** The property boxes of `ipco`, in order (index 1 is the first). */
  readonly properties: readonly Box[];
  /** Each item's associations, in `ipma` order (the order transformative properties apply in). */
  readonly associations: ReadonlyMap<number, readonly Association[]>;
  readonly references: readonly ItemReference[];
  /** The `idat` box, when present. */
  readonly idat?: Box;
}

function child(children: readonly Box[], type: string): Box | undefined {
  return children.find((b) => b.type === type);
}

function parseIloc(r: Reader, box: Box): Map<number, ItemLocation> {
  const { version, body } = fullBox(r, box);
  ensure(version <= 2, `HEIF iloc version ${version} is not supported`);
  let p = body;
  const sizes = r.uint(p, 2);
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 15;
  const baseOffsetSize = (sizes >> 4) & 15;
  const indexSize = version >= 1 ? sizes & 15 : 0;
  for (const s of [offsetSize, lengthSize, baseOffsetSize, indexSize]) ensure(s === 0 || s === 4 || s === 8, `HEIF iloc field size ${s} is invalid`);
  p += 2;
  const idSize = version === 2 ? 4 : 2;
  const count = r.uint(p, idSize);
  ensure(count <= MAX_ITEMS, `HEIF iloc declares ${count} items`);
  p += idSize;
  const out = new Map<number, ItemLocation>();
  for (let i = 0; i < count; i++) {
    const id = r.uint(p, idSize);
    p += idSize;
    let constructionMethod = 0;
    if (version >= 1) {
      constructionMethod = r.uint(p, 2) & 15;
      p += 2;
    }
    const dataReferenceIndex = r.uint(p, 2);
    const baseOffset = r.uint(p + 2, baseOffsetSize);
    p += 2 + baseOffsetSize;
    const extentCount = r.uint(p, 2);
    ensure(extentCount <= MAX_EXTENTS, `HEIF item ${id} has ${extentCount} extents`);
    p += 2;
    const extents: Extent[] = [];
    for (let k = 0; k < extentCount; k++) {
      p += indexSize;
      const offset = baseOffset + r.uint(p, offsetSize);
      const length = r.uint(p + offsetSize, lengthSize);
      p += offsetSize + lengthSize;
      extents.push({ offset, length });
    }
    ensure(p <= box.end, 'HEIF iloc is truncated');
    if (!out.has(id)) out.set(id, { id, constructionMethod, dataReferenceIndex, extents });
  }
  return out;
}

function parseIinf(r: Reader, box: Box): ItemInfo[] {
  const { version, body } = fullBox(r, box);
  const countSize = version === 0 ? 2 : 4;
  const count = r.uint(body, countSize);
  ensure(count <= MAX_ITEMS, `HEIF iinf declares ${count} items`);
  const items: ItemInfo[] = [];
  for (const infe of readBoxes(r, body + countSize, box.end)) {
    if (infe.type !== 'infe') continue;
    const f = fullBox(r, infe);
    if (f.version < 2) continue; // versions 0/1 describe files (MPEG-21), not image items
    const idSize = f.version === 2 ? 2 : 4;
    const id = r.uint(f.body, idSize);
    const type = r.fourcc(f.body + idSize + 2);
    const name = r.cstring(f.body + idSize + 6, infe.end);
    const contentType = type === 'mime' ? r.cstring(name.next, infe.end).value : undefined;
    items.push({ id, type, contentType, box: infe });
  }
  return items;
}

function parseIpma(r: Reader, box: Box, into: Map<number, Association[]>): void {
  const { version, flags, body } = fullBox(r, box);
  const count = r.uint(body, 4);
  ensure(count <= MAX_ITEMS, `HEIF ipma declares ${count} entries`);
  let p = body + 4;
  for (let i = 0; i < count; i++) {
    const id = r.uint(p, version < 1 ? 2 : 4);
    p += version < 1 ? 2 : 4;
    const n = r.uint(p, 1);
    p += 1;
    const list = into.get(id) ?? [];
    for (let k = 0; k < n; k++) {
      if (flags & 1) {
        const v = r.uint(p, 2);
        list.push({ essential: v >= 0x8000, index: v & 0x7fff });
        p += 2;
      } else {
        const v = r.uint(p, 1);
        list.push({ essential: v >= 0x80, index: v & 0x7f });
        p += 1;
      }
    }
    ensure(p <= box.end, 'HEIF ipma is truncated');
    into.set(id, list);
  }
}

function parseIref(r: Reader, box: Box): ItemReference[] {
  const { version, body } = fullBox(r, box);
  const idSize = version === 0 ? 2 : 4;
  const refs: ItemReference[] = [];
  for (const ref of readBoxes(r, body, box.end)) {
    const from = r.uint(ref.payload, idSize);
    const n = r.uint(ref.payload + idSize, 2);
    ensure(ref.payload + idSize + 2 + n * idSize <= ref.end, `HEIF iref '${printable(ref.type)}' is truncated`);
    const to: number[] = [];
    for (let k = 0; k < n; k++) to.push(r.uint(ref.payload + idSize + 2 + k * idSize, idSize));
    refs.push({ type: ref.type, from, to });
  }
  return refs;
}

/**
 * Parses a `meta` box: handler, primary item, item infos, locations, properties and their
 * associations, references.
 *
 * @param r - the file.
 * @param box - the `meta` box (a full box).
 * @throws {ExifFixError} code `'corrupt'` for anything out of range.
 */
export function parseMeta(r: Reader, box: Box): Meta {
  const { body } = fullBox(r, box);
  const children = readBoxes(r, body, box.end);
  const hdlr = child(children, 'hdlr');
  const handler = hdlr ? r.fourcc(fullBox(r, hdlr).body + 4) : undefined;
  const pitm = child(children, 'pitm');
  let primary: number | undefined;
  if (pitm) {
    const f = fullBox(r, pitm);
    primary = r.uint(f.body, f.version === 0 ? 2 : 4);
  }
  const iinf = child(children, 'iinf');
  const iloc = child(children, 'iloc');
  const iref = child(children, 'iref');
  const iprp = child(children, 'iprp');
  let properties: Box[] = [];
  const associations = new Map<number, Association[]>();
  if (iprp) {
    const parts = readBoxes(r, iprp.payload, iprp.end);
    const ipco = child(parts, 'ipco');
    if (ipco) properties = readBoxes(r, ipco.payload, ipco.end);
    for (const ipma of parts.filter((b) => b.type === 'ipma')) parseIpma(r, ipma, associations);
  }
  return {
    box,
    children,
    handler,
    primary,
    items: iinf ? parseIinf(r, iinf) : [],
    locations: iloc ? parseIloc(r, iloc) : new Map(),
    properties,
    associations,
    references: iref ? parseIref(r, iref) : [],
    idat: child(children, 'idat'),
  };
}

/**
 * The property boxes associated with an item, in `ipma` order.
 *
 * @throws {ExifFixError} code `'corrupt'` for an index past `ipco`.
 */
export function itemProperties(meta: Meta, id: number): Box[] {
  const out: Box[] = [];
  for (const a of meta.associations.get(id) ?? []) {
    if (a.index === 0) continue;
    ensure(a.index <= meta.properties.length, `HEIF item ${id} is associated with property ${a.index}, past the end of ipco`);
    out.push(meta.properties[a.index - 1]);
  }
  return out;
}

/**
 * An item's data, concatenated from its extents.
 *
 * @param r - the file.
 * @param meta - the parsed `meta`.
 * @param id - the item.
 * @param maxLength - refuse items larger than this, in bytes.
 * @returns the bytes (a copy), or `undefined` when the item has no location or uses a
 *   construction method or data reference this reader does not follow.
 * @throws {ExifFixError} code `'corrupt'` when an extent is out of range.
 */
export function itemData(r: Reader, meta: Meta, id: number, maxLength: number): Uint8Array | undefined {
  const loc = meta.locations.get(id);
  if (!loc || loc.dataReferenceIndex !== 0 || loc.constructionMethod > 1) return undefined;
  let base = 0;
  let limit = r.bytes.length;
  if (loc.constructionMethod === 1) {
    if (!meta.idat) return undefined;
    base = meta.idat.payload;
    limit = meta.idat.end;
  }
  let total = 0;
  for (const e of loc.extents) total += e.length;
  ensure(total <= maxLength, `HEIF item ${id} is ${total} bytes, more than ${maxLength}`);
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of loc.extents) {
    // extent_length 0 means "to the end of the file" for a single extent (ISO/IEC 14496-12 8.11.3.3)
    const length = e.length === 0 && loc.extents.length === 1 ? limit - base - e.offset : e.length;
    ensure(length >= 0 && base + e.offset + length <= limit, `HEIF item ${id} has data out of range`);
    if (length !== e.length) {
      ensure(length <= maxLength, `HEIF item ${id} is ${length} bytes, more than ${maxLength}`);
      return copyBytes(r.bytes, base + e.offset, base + e.offset + length);
    }
    out.set(r.bytes.subarray(base + e.offset, base + e.offset + length), o);
    o += length;
  }
  return out;
}

// ---- writing --------------------------------------------------------------------------

/**
 * A box from its type and payload parts.
 *
 * @param type - four characters.
 * @param parts - the payload pieces, concatenated.
 */
export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  let length = 8;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  new DataView(out.buffer).setUint32(0, length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A full box: `box` with version and flags before the payload. */
export function fullBoxBytes(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, Uint8Array.of(version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255), ...parts);
}

/** Big-endian unsigned integers of `size` bytes (1, 2 or 4) each. */
export function uints(size: 1 | 2 | 4, ...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (size === 1) view.setUint8(i, v);
    else if (size === 2) view.setUint16(i * 2, v);
    else view.setUint32(i * 4, v);
  });
  return out;
}
