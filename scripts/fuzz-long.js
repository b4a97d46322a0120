#!/usr/bin/env node
// @ts-check
// Fuzzing exif-fix: the properties, the input generators and the mutators, shared by the
// bounded, seeded run in `npm test` (test/fuzz.test.ts, which passes the `src/` modules) and the
// longer run of this script (which imports `../dist/`, so run `npm run build` first).
//
// Usage: node scripts/fuzz-long.js [--seconds N] [--seed S]
//   Runs every property over and over for N seconds (default 300) from seed S (default random),
//   prints the seed and the shrunk counterexample of the first failure and exits 1, else 0.
//
// Properties, for every input (generated, or a mutation of a fixture under fixtures/orientation):
//   - each entry point returns or throws an ExifFixError (never another error type);
//   - within a memory bound (256 MB growth per call), and in this script's long run also within
//     a time bound (2 s per call); `npm test` sets no time bound (no wall-clock limits in tests);
//   - normalizeBuffer never throws: a failure is `data: null` and one clean line naming `-`.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import fc from 'fast-check';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The most a single call may take in the long run of this script, in milliseconds. */
export const TIME_LIMIT_MS = 2000;
/**
 * The time bound {@link bounded} applies when its caller gives none, in milliseconds; null (no
 * bound) unless this script runs as the long fuzz run, which sets {@link TIME_LIMIT_MS}. Tests
 * leave it null: a wall-clock limit fails under load, not on a bug.
 * @type {number | null}
 */
let defaultTimeLimitMs = null;
/** The most a single call may grow the heap, array buffers or peak RSS by, in bytes. */
export const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
/** The pixel limit the fuzzed sharp paths run with, so a mutated header cannot ask for much. */
export const FUZZ_LIMIT_INPUT_PIXELS = 4_000_000;

// ---------------------------------------------------------------------------------------------
// Byte helpers

/** @param {Uint8Array} b @param {number} p */
const u16be = (b, p) => (b[p] << 8) | b[p + 1];
/** @param {Uint8Array} b @param {number} p */
const u32be = (b, p) => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
/** @param {Uint8Array} b @param {number} p */
const u32le = (b, p) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
/** @param {Uint8Array} b @param {number} p @param {number} n */
const ascii = (b, p, n) => String.fromCharCode(...b.subarray(p, p + n));

/**
 * Reads an unsigned field.
 * @param {Uint8Array} b @param {Field} f @returns {number}
 */
function readField(b, f) {
  let v = 0;
  for (let i = 0; i < f.size; i++) v = v * 256 + b[f.at + (f.le ? f.size - 1 - i : i)];
  return v;
}

/**
 * Writes an unsigned field, truncating `value` to the field's size.
 * @param {Uint8Array} b @param {Field} f @param {number | bigint} value
 */
function writeField(b, f, value) {
  let v = BigInt.asUintN(f.size * 8, BigInt(value));
  for (let i = f.size - 1; i >= 0; i--) {
    b[f.at + (f.le ? f.size - 1 - i : i)] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** @param {readonly Uint8Array[]} parts @returns {Uint8Array<ArrayBuffer>} */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** @param {number} size @param {number} value @param {boolean} [le] */
function uint(size, value, le = false) {
  const b = new Uint8Array(size);
  writeField(b, { at: 0, size: /** @type {1 | 2 | 3 | 4 | 8} */ (size), le, kind: '', pointers: [] }, value);
  return b;
}

/** @param {string} s */
const latin1 = (s) => new Uint8Array(Buffer.from(s, 'latin1'));

/**
 * A PNG chunk with its CRC.
 * @param {string} type @param {Uint8Array} data @returns {Uint8Array}
 */
export function pngChunk(type, data) {
  const body = concat([latin1(type), data]);
  return concat([uint(4, data.length), body, uint(4, zlib.crc32(body))]);
}

/**
 * A RIFF chunk, padded to an even size.
 * @param {string} fourcc @param {Uint8Array} data @param {number} [size] - the declared size (default the real one)
 */
function riffChunk(fourcc, data, size = data.length) {
  return concat([latin1(fourcc), uint(4, size, true), data, new Uint8Array(data.length & 1)]);
}

/**
 * Recomputes the CRC of every PNG chunk that lies inside the file, so that damage reaches the
 * chunk contents instead of stopping at the CRC check.
 * @param {Uint8Array} b - modified in place
 */
export function fixPngCrcs(b) {
  if (!isPngBytes(b)) return;
  for (let p = 8; p + 12 <= b.length; ) {
    const length = u32be(b, p);
    if (p + 12 + length > b.length) break;
    writeField(b, { at: p + 8 + length, size: 4, le: false, kind: '', pointers: [] }, zlib.crc32(b.subarray(p + 4, p + 8 + length)));
    p += 12 + length;
  }
}

/** @param {Uint8Array} b */
const isPngBytes = (b) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
/** @param {Uint8Array} b */
const isJpegBytes = (b) => b.length >= 2 && b[0] === 0xff && b[1] === 0xd8;
/** @param {Uint8Array} b */
const isRiffBytes = (b) => b.length >= 12 && ascii(b, 0, 4) === 'RIFF';
/** @param {Uint8Array} b */
const isBmffBytes = (b) => b.length >= 8 && ascii(b, 4, 4) === 'ftyp';

// ---------------------------------------------------------------------------------------------
// Structure walkers: where the length, count and offset fields of a file are

/**
 * @typedef {object} Field
 * @property {number} at - byte offset of the field
 * @property {1 | 2 | 3 | 4 | 8} size - bytes
 * @property {boolean} le - little-endian
 * @property {string} kind - what it is, e.g. `jpeg-length`, `ifd-count`, `box-size`
 * @property {number[]} pointers - extra values worth trying (offsets of IFDs, for loops)
 */

/** @param {Field[]} out @param {number} at @param {Field['size']} size @param {boolean} le @param {string} kind @param {number[]} [pointers] */
function field(out, at, size, le, kind, pointers = []) {
  out.push({ at, size, le, kind, pointers });
}

/** JPEG: every segment length, and the frame size. @param {Uint8Array} b @param {Field[]} out */
function jpegFields(b, out) {
  let p = 2;
  let guard = 0;
  while (p + 4 <= b.length && guard++ < 1000) {
    if (b[p] !== 0xff) {
      // Entropy-coded data: find the next marker that is not stuffing or a restart.
      let q = p;
      while (q + 1 < b.length && !(b[q] === 0xff && b[q + 1] !== 0 && !(b[q + 1] >= 0xd0 && b[q + 1] <= 0xd7) && b[q + 1] !== 0xff)) q++;
      if (q + 1 >= b.length) return;
      p = q;
      continue;
    }
    const marker = b[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd9) return;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    field(out, p + 2, 2, false, 'jpeg-length');
    const length = u16be(b, p + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && p + 9 <= b.length) {
      field(out, p + 5, 2, false, 'jpeg-height');
      field(out, p + 7, 2, false, 'jpeg-width');
      field(out, p + 9, 1, false, 'jpeg-components');
    }
    if (marker === 0xe1 && ascii(b, p + 4, 6) === 'Exif\0\0') tiffFields(b, p + 10, out);
    p += 2 + length;
  }
}

/** PNG: chunk lengths, IHDR size and depth, and the EXIF inside `eXIf`. @param {Uint8Array} b @param {Field[]} out */
function pngFields(b, out) {
  for (let p = 8; p + 8 <= b.length; ) {
    field(out, p, 4, false, 'png-length');
    const length = u32be(b, p);
    const type = ascii(b, p + 4, 4);
    if (type === 'IHDR' && p + 18 <= b.length) {
      field(out, p + 8, 4, false, 'png-width');
      field(out, p + 12, 4, false, 'png-height');
      field(out, p + 16, 1, false, 'png-depth');
      field(out, p + 17, 1, false, 'png-colour');
    }
    if (type === 'eXIf') tiffFields(b, p + 8, out);
    if (length > b.length) return;
    p += 12 + length;
  }
}

/** RIFF/WebP: the RIFF size, every chunk size, the VP8X canvas, the EXIF inside `EXIF`. @param {Uint8Array} b @param {Field[]} out */
function riffFields(b, out) {
  field(out, 4, 4, true, 'riff-size');
  for (let p = 12; p + 8 <= b.length; ) {
    field(out, p + 4, 4, true, 'riff-chunk-size');
    const size = u32le(b, p + 4);
    const type = ascii(b, p, 4);
    if (type === 'VP8X' && p + 18 <= b.length) {
      field(out, p + 12, 3, true, 'vp8x-width');
      field(out, p + 15, 3, true, 'vp8x-height');
    }
    if (type === 'EXIF') tiffFields(b, p + 8 + (ascii(b, p + 8, 6) === 'Exif\0\0' ? 6 : 0), out);
    if (size > b.length) return;
    p += 8 + size + (size & 1);
  }
}

/** ISOBMFF container boxes whose payload is more boxes, and the header bytes before them. */
const BMFF_CONTAINERS = /** @type {Record<string, number>} */ ({ meta: 4, iprp: 0, ipco: 0, dinf: 0, moov: 0, trak: 0, iinf: 6, iref: 4, grpl: 0 });

/** ISOBMFF: every box size (and 64-bit size), recursing into containers; EXIF items. @param {Uint8Array} b @param {Field[]} out */
function bmffFields(b, out, start = 0, end = b.length, depth = 0) {
  for (let p = start, n = 0; p + 8 <= end && n < 256; n++) {
    field(out, p, 4, false, 'box-size');
    let size = u32be(b, p);
    const type = ascii(b, p + 4, 4);
    let header = 8;
    if (size === 1 && p + 16 <= end) {
      field(out, p + 8, 8, false, 'box-largesize');
      size = Number(readField(b, { at: p + 8, size: 8, le: false, kind: '', pointers: [] }));
      header = 16;
    } else if (size === 0) size = end - p;
    if (size < header || p + size > end) return;
    if (type === 'iloc') field(out, p + header + 4, 2, false, 'iloc-sizes');
    const inner = BMFF_CONTAINERS[type];
    if (inner !== undefined && depth < 6) bmffFields(b, out, p + header + inner, p + size, depth + 1);
    p += size;
  }
  if (depth === 0) {
    // EXIF items live in mdat/idat behind a 4-byte offset: find their TIFF headers by their bytes.
    for (let q = b.indexOf(0x45, 0), k = 0; q >= 0 && k < 4; q = b.indexOf(0x45, q + 1)) {
      if (ascii(b, q, 6) === 'Exif\0\0') {
        tiffFields(b, q + 6, out);
        k++;
      }
    }
  }
}

const SUB_IFD_TAGS = new Set([0x8769, 0x8825, 0xa005, 0x014a]);

/**
 * TIFF/EXIF: the IFD0 offset, and in every IFD reachable (chain and sub-IFDs) the entry count,
 * each entry's type, count and value/offset, and the next-IFD pointer. Pointer fields carry
 * the offsets of every IFD found, so a mutation can point one IFD at another (or itself).
 * @param {Uint8Array} b @param {number} base - offset of the "II"/"MM" header @param {Field[]} out
 */
function tiffFields(b, base, out) {
  if (base + 8 > b.length) return;
  const le = b[base] === 0x49 && b[base + 1] === 0x49;
  if (!le && !(b[base] === 0x4d && b[base + 1] === 0x4d)) return;
  /** @param {number} o */
  const rd16 = (o) => (le ? b[base + o] | (b[base + o + 1] << 8) : u16be(b, base + o));
  /** @param {number} o */
  const rd32 = (o) => (le ? u32le(b, base + o) : u32be(b, base + o));
  /** @type {number[]} */
  const ifds = [];
  /** @type {Field[]} */
  const pointerFields = [];
  /** @type {Field[]} */
  const fields = [];
  const ifd0 = { at: base + 4, size: /** @type {4} */ (4), le, kind: 'tiff-ifd0-offset', pointers: [] };
  fields.push(ifd0);
  pointerFields.push(ifd0);
  const queue = [rd32(4)];
  while (queue.length > 0 && ifds.length < 8) {
    const offset = /** @type {number} */ (queue.shift());
    if (offset === 0 || ifds.includes(offset) || base + offset + 2 > b.length) continue;
    ifds.push(offset);
    const count = rd16(offset);
    field(fields, base + offset, 2, le, 'ifd-count');
    const shown = Math.min(count, 64);
    for (let i = 0; i < shown; i++) {
      const e = offset + 2 + i * 12;
      if (base + e + 12 > b.length) return void out.push(...fields);
      const tag = rd16(e);
      field(fields, base + e + 2, 2, le, 'ifd-type');
      field(fields, base + e + 4, 4, le, 'ifd-value-count');
      const value = { at: base + e + 8, size: /** @type {4} */ (4), le, kind: 'ifd-value', pointers: [] };
      fields.push(value);
      pointerFields.push(value);
      if (SUB_IFD_TAGS.has(tag)) queue.push(rd32(e + 8));
    }
    const nextAt = offset + 2 + count * 12;
    if (count <= 64 && base + nextAt + 4 <= b.length) {
      const next = { at: base + nextAt, size: /** @type {4} */ (4), le, kind: 'ifd-next', pointers: [] };
      fields.push(next);
      pointerFields.push(next);
      queue.push(rd32(nextAt));
    }
  }
  for (const f of pointerFields) f.pointers = ifds;
  out.push(...fields);
}

/**
 * Every length, count, size and offset field of a file that the structure-aware mutations
 * target: JPEG segment lengths and frame size, PNG chunk lengths and IHDR, RIFF sizes, ISOBMFF
 * box sizes (32- and 64-bit), and the IFD entry counts, types, value counts, offsets and
 * next-IFD pointers of every EXIF/TIFF structure found.
 *
 * @param {Uint8Array} bytes - a whole file
 * @returns {Field[]} the fields found, in file order per structure
 */
export function structureFields(bytes) {
  /** @type {Field[]} */
  const out = [];
  if (isJpegBytes(bytes)) jpegFields(bytes, out);
  else if (isPngBytes(bytes)) pngFields(bytes, out);
  else if (isRiffBytes(bytes)) riffFields(bytes, out);
  else if (isBmffBytes(bytes)) bmffFields(bytes, out);
  else tiffFields(bytes, 0, out);
  return out;
}

/**
 * The values worth writing into a field: zero, one, the extremes and their neighbours, the
 * file's own length around the field, the old value off by one or doubled, 0x40000000 (a count
 * that overflows 32 bits once multiplied by a type size), and the field's IFD offsets.
 * @param {Uint8Array} b @param {Field} f @returns {number[]}
 */
function candidates(b, f) {
  const max = f.size === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * f.size) - 1;
  const old = readField(b, f);
  const values = [0, 1, 2, 7, 8, 9, 12, 16, max, max - 1, Math.floor(max / 2), Math.floor(max / 2) + 1, b.length, b.length - f.at, b.length - f.at + 1, old + 1, old - 1, old * 2];
  if (f.size >= 4) values.push(0x40000000, 0x3fffffff, 0xffff, 0x10000);
  if (f.size === 8) values.push(2 ** 64 - 1, 2 ** 63, 2 ** 32 + 8);
  return [...values, ...f.pointers];
}

// ---------------------------------------------------------------------------------------------
// Mutations

/**
 * @typedef {{ op: 'flip', at: number, bit: number }
 *   | { op: 'byte', at: number, value: number }
 *   | { op: 'truncate', at: number }
 *   | { op: 'duplicate', start: number, length: number, to: number }
 *   | { op: 'remove', start: number, length: number }
 *   | { op: 'field', which: number, choice: number }
 *   | { op: 'box64', which: number }} Mutation
 */

/** @type {fc.Arbitrary<Mutation>} */
export const mutationArb = fc.oneof(
  fc.record({ op: fc.constant(/** @type {const} */ ('flip')), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant(/** @type {const} */ ('byte')), at: fc.nat(), value: fc.oneof(fc.constantFrom(0x00, 0xff, 0x7f, 0x80), fc.nat(255)) }),
  fc.record({ op: fc.constant(/** @type {const} */ ('truncate')), at: fc.nat() }),
  fc.record({ op: fc.constant(/** @type {const} */ ('duplicate')), start: fc.nat(), length: fc.integer({ min: 1, max: 512 }), to: fc.nat() }),
  fc.record({ op: fc.constant(/** @type {const} */ ('remove')), start: fc.nat(), length: fc.integer({ min: 1, max: 512 }) }),
  // Structure-aware mutations weigh most: they get past the first checks.
  { arbitrary: fc.record({ op: fc.constant(/** @type {const} */ ('field')), which: fc.nat(), choice: fc.nat() }), weight: 4 },
  fc.record({ op: fc.constant(/** @type {const} */ ('box64')), which: fc.nat() }),
);

/**
 * Applies mutations to a copy of `bytes`; positions are taken modulo the current length and
 * field indices modulo the fields found in the current bytes.
 *
 * @param {Uint8Array} bytes - the original (not modified)
 * @param {readonly Mutation[]} mutations
 * @param {boolean} fixCrc - recompute PNG chunk CRCs afterwards
 * @returns {Uint8Array} the mutated copy
 */
export function mutate(bytes, mutations, fixCrc) {
  let b = bytes.slice();
  for (const m of mutations) {
    if (b.length === 0) break;
    if (m.op === 'flip') b[m.at % b.length] ^= 1 << m.bit;
    else if (m.op === 'byte') b[m.at % b.length] = m.value;
    else if (m.op === 'truncate') b = b.slice(0, m.at % b.length);
    else if (m.op === 'duplicate') {
      const start = m.start % b.length;
      const piece = b.slice(start, start + m.length);
      const to = m.to % (b.length + 1);
      b = concat([b.subarray(0, to), piece, b.subarray(to)]);
    } else if (m.op === 'remove') {
      const start = m.start % b.length;
      b = concat([b.subarray(0, start), b.subarray(start + m.length)]);
    } else if (m.op === 'field') {
      const fields = structureFields(b);
      if (fields.length === 0) continue;
      const f = fields[m.which % fields.length];
      const values = candidates(b, f);
      writeField(b, f, values[m.choice % values.length]);
    } else if (m.op === 'box64' && isBmffBytes(b)) {
      // Rewrite one top-level box with a 64-bit size (size field 1 + largesize): equivalent
      // bytes for a correct reader, though absolute offsets (iloc) behind it shift by 8.
      const tops = [];
      for (let p = 0; p + 8 <= b.length && tops.length < 64; ) {
        const size = u32be(b, p);
        if (size < 8 || p + size > b.length) break;
        tops.push({ p, size });
        p += size;
      }
      if (tops.length === 0) continue;
      const { p, size } = tops[m.which % tops.length];
      b = concat([b.subarray(0, p), uint(4, 1), b.subarray(p + 4, p + 8), uint(8, size + 8), b.subarray(p + 8)]);
    }
  }
  if (fixCrc) fixPngCrcs(b);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Generated inputs

const IFD_TAGS = [0x0100, 0x0101, 0x0112, 0x0201, 0x0202, 0x8769, 0x8825, 0xa002, 0xa003, 0xa005, 0x927c, 0x010f];
const COUNTS = [0, 1, 2, 3, 4, 5, 8, 0xffff, 0x3fffffff, 0x40000000, 0x80000000, 0xffffffff];

/**
 * An EXIF/TIFF structure: 1-4 IFDs with hostile entries. Each value, next pointer and the IFD0
 * offset is either a raw number or a reference to one of the IFDs (so loops IFD0 -> IFD1 ->
 * IFD0 and an Exif IFD pointing at itself come up often); entry counts include 0xFFFFFFFF and
 * 0x40000000, and an IFD may declare 65535 entries.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const exifBlobArb = fc
  .record({
    le: fc.boolean(),
    ifd0: fc.oneof(fc.nat(3).map((k) => ({ ref: k })), fc.nat().map((raw) => ({ raw }))),
    ifds: fc.array(
      fc.record({
        entries: fc.array(
          fc.record({
            tag: fc.oneof(fc.constantFrom(...IFD_TAGS), fc.nat(0xffff)),
            type: fc.oneof(fc.constantFrom(1, 3, 4, 7, 13), fc.nat(20)),
            count: fc.oneof(fc.constantFrom(...COUNTS), fc.nat()),
            value: fc.oneof(fc.nat(3).map((k) => ({ ref: k })), fc.nat().map((raw) => ({ raw })), fc.nat(8).map((raw) => ({ raw }))),
          }),
          { maxLength: 8 },
        ),
        declared: fc.option(fc.constantFrom(0, 0xffff, 0x1001, 9), { freq: 5 }),
        next: fc.oneof(fc.constant({ raw: 0 }), fc.nat(3).map((k) => ({ ref: k })), fc.nat().map((raw) => ({ raw }))),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    tail: fc.uint8Array({ maxLength: 64 }),
  })
  .map(({ le, ifd0, ifds, tail }) => {
    /** @type {number[]} */
    const offsets = [];
    let o = 8;
    for (const ifd of ifds) {
      offsets.push(o);
      o += 2 + 12 * ifd.entries.length + 4;
    }
    /** @param {{ ref?: number, raw?: number }} v */
    const resolve = (v) => (v.ref !== undefined ? offsets[v.ref % offsets.length] : /** @type {number} */ (v.raw));
    const parts = [le ? latin1('II*\0') : latin1('MM\0*'), uint(4, resolve(ifd0), le)];
    for (const ifd of ifds) {
      parts.push(uint(2, ifd.declared ?? ifd.entries.length, le));
      for (const e of ifd.entries) parts.push(uint(2, e.tag, le), uint(2, e.type, le), uint(4, e.count, le), uint(4, resolve(e.value), le));
      parts.push(uint(4, resolve(ifd.next), le));
    }
    parts.push(tail);
    return concat(parts);
  });

const XMP_FRAGMENTS = [
  '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
  '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
  '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description ',
  ' xmlns:tiff="http://ns.adobe.com/tiff/1.0/"',
  " xmlns:t='http://ns.adobe.com/tiff/1.0/'",
  ' xmlns:exif="http://ns.adobe.com/exif/1.0/"',
  ' xmlns:tiff=',
  ' tiff:Orientation="6"',
  ' tiff:Orientation="',
  " t:Orientation = ' 8 '",
  ' exif:PixelXDimension="',
  '<tiff:Orientation>',
  '</tiff:Orientation>',
  '<tiff:ImageWidth> 4032 </tiff:ImageWidth>',
  '<exif:PixelYDimension>',
  '"',
  "'",
  '<',
  '>',
  '6',
  '99999999999999999999',
  ' ',
  '\n',
  ' '.repeat(3000),
  '\t\n '.repeat(700),
  '1'.repeat(2000),
  '/>',
  '</rdf:Description></rdf:RDF></x:xmpmeta>',
  ' '.repeat(2000) + '\n',
  '<?xpacket end="w"?>',
];

/**
 * An XMP packet assembled from fragments that matter to the orientation reader: namespace
 * bindings (several prefixes), attribute and element forms, unterminated values, and long runs
 * of whitespace and digits (the inputs that make backtracking regular expressions blow up).
 * @type {fc.Arbitrary<string>}
 */
export const xmpArb = fc
  .array(fc.oneof({ arbitrary: fc.constantFrom(...XMP_FRAGMENTS), weight: 6 }, fc.string({ maxLength: 8 })), { maxLength: 24 })
  .map((parts) => parts.join(''));

/** @param {number} marker @param {Uint8Array} data */
const jpegSegment = (marker, data, length = data.length + 2) => concat([Uint8Array.of(0xff, marker), uint(2, length), data]);

/**
 * A JPEG made of hostile segments: APPn/COM/DQT/DHT/SOF/SOS/DRI with random payloads and true
 * or random lengths, then some entropy-coded bytes and maybe an EOI.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const jpegArb = fc
  .record({
    segments: fc.array(
      fc.record({
        marker: fc.oneof(fc.constantFrom(0xe0, 0xe1, 0xe2, 0xed, 0xee, 0xfe, 0xdb, 0xc4, 0xc0, 0xc1, 0xc2, 0xc3, 0xdd, 0xda), fc.integer({ min: 0xc0, max: 0xfe })),
        data: fc.uint8Array({ maxLength: 80 }),
        length: fc.option(fc.constantFrom(0, 1, 2, 0xffff), { freq: 6 }),
      }),
      { maxLength: 8 },
    ),
    scan: fc.uint8Array({ maxLength: 64 }),
    eoi: fc.boolean(),
  })
  .map(({ segments, scan, eoi }) =>
    concat([
      Uint8Array.of(0xff, 0xd8),
      ...segments.map((s) => jpegSegment(s.marker, s.data, s.length ?? undefined)),
      scan,
      eoi ? Uint8Array.of(0xff, 0xd9) : new Uint8Array(0),
    ]),
  );

const PNG_TYPES = ['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'bKGD', 'sBIT', 'eXIf', 'zTXt', 'iTXt', 'tEXt', 'acTL', 'orNT', 'iCCP', 'pHYs', 'caNv'];
const PNG_KEYWORDS = ['XML:com.adobe.xmp', 'Raw profile type exif', 'Raw profile type APP1', 'Raw profile type xmp', 'Comment'];

/**
 * A PNG: a signature, an IHDR with any size and depth, and chunks (text chunks with the
 * keywords the reader decodes, compressed or not; random others), CRCs right or wrong.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const pngArb = fc
  .record({
    width: fc.oneof(fc.constantFrom(0, 1, 16, 0x7fffffff, 0xffffffff), fc.nat(4096)),
    height: fc.oneof(fc.constantFrom(0, 1, 16, 0x7fffffff), fc.nat(4096)),
    depth: fc.constantFrom(1, 2, 4, 8, 16, 3),
    colour: fc.constantFrom(0, 2, 3, 4, 6, 5),
    chunks: fc.array(
      fc.oneof(
        fc.record({ type: fc.constantFrom(...PNG_TYPES), data: fc.uint8Array({ maxLength: 64 }) }),
        fc
          .record({ type: fc.constantFrom('zTXt', 'iTXt', 'tEXt'), keyword: fc.constantFrom(...PNG_KEYWORDS), body: fc.oneof(xmpArb, fc.string()), flags: fc.uint8Array({ minLength: 2, maxLength: 2 }) })
          .map(({ type, keyword, body, flags }) => {
            const text = latin1(body);
            const head = latin1(`${keyword}\0`);
            if (type === 'tEXt') return { type, data: concat([head, text]) };
            if (type === 'zTXt') return { type, data: concat([head, Uint8Array.of(flags[0] & 1), zlib.deflateSync(text)]) };
            const compressed = flags[1] & 1;
            return { type, data: concat([head, Uint8Array.of(compressed, 0), latin1('\0\0'), compressed ? zlib.deflateSync(text) : text]) };
          }),
      ),
      { maxLength: 6 },
    ),
    badCrc: fc.boolean(),
  })
  .map(({ width, height, depth, colour, chunks, badCrc }) => {
    const ihdr = concat([uint(4, width), uint(4, height), Uint8Array.of(depth, colour, 0, 0, 0)]);
    const file = concat([Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), pngChunk('IHDR', ihdr), ...chunks.map((c) => pngChunk(c.type, c.data)), pngChunk('IEND', new Uint8Array(0))]);
    if (badCrc && file.length > 20) file[file.length - 13] ^= 0x55;
    return file;
  });

/**
 * A WebP RIFF: a RIFF size right or wrong, and VP8X/VP8/VP8L/ALPH/ANIM/ANMF/EXIF/XMP chunks
 * with random payloads and true or random sizes.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const riffArb = fc
  .record({
    chunks: fc.array(
      fc.record({
        fourcc: fc.constantFrom('VP8X', 'VP8 ', 'VP8L', 'ALPH', 'ANIM', 'ANMF', 'EXIF', 'XMP ', 'ICCP', 'JUNK'),
        data: fc.uint8Array({ maxLength: 64 }),
        size: fc.option(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff), { freq: 6 }),
      }),
      { maxLength: 6 },
    ),
    riffSize: fc.option(fc.constantFrom(0, 4, 0xffffffff), { freq: 4 }),
  })
  .map(({ chunks, riffSize }) => {
    const body = concat([latin1('WEBP'), ...chunks.map((c) => riffChunk(c.fourcc, c.data, c.size ?? undefined))]);
    return concat([latin1('RIFF'), uint(4, riffSize ?? body.length, true), body]);
  });

/** @typedef {{ type: string, size: 'exact' | 'zero' | 'one' | 'large' | number, payload: Uint8Array, children: BoxSpec[] }} BoxSpec */

/**
 * A box tree at most `depth` levels deep.
 * @param {number} depth @returns {fc.Arbitrary<BoxSpec>}
 */
function boxArb(depth) {
  return fc.record({
    type: fc.constantFrom('meta', 'hdlr', 'pitm', 'iinf', 'infe', 'iloc', 'iprp', 'ipco', 'ipma', 'irot', 'imir', 'ispe', 'iref', 'idat', 'mdat', 'colr', 'pixi', 'av1C', 'hvcC', 'uuid', 'free', 'dinf'),
    size: fc.oneof({ arbitrary: fc.constant(/** @type {const} */ ('exact')), weight: 6 }, fc.constantFrom(/** @type {const} */ ('zero'), /** @type {const} */ ('one'), /** @type {const} */ ('large')), fc.nat()),
    payload: fc.uint8Array({ maxLength: 40 }),
    children: depth === 0 ? fc.constant([]) : fc.array(boxArb(depth - 1), { maxLength: 3 }),
  });
}

/** @param {BoxSpec} spec @returns {Uint8Array} */
function buildBox(spec) {
  const body = concat([spec.payload, ...spec.children.map(buildBox)]);
  const type = latin1(spec.type);
  if (spec.size === 'one') return concat([uint(4, 1), type, uint(8, body.length + 16), body]);
  if (spec.size === 'large') return concat([uint(4, 1), type, uint(8, 2 ** 53 + 1), body]);
  const size = spec.size === 'exact' ? body.length + 8 : spec.size === 'zero' ? 0 : spec.size;
  return concat([uint(4, size), type, body]);
}

/**
 * An ISOBMFF file: an `ftyp` with a HEIF/AVIF brand, then a tree of boxes (meta, iinf, iloc,
 * ipco, irot, ...) with random payloads and sizes that are exact, 0 ("to the end"), 1 with a
 * true or huge 64-bit size, or random.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const bmffArb = fc
  .record({ brand: fc.constantFrom('heic', 'avif', 'mif1', 'heix'), boxes: fc.array(boxArb(3), { maxLength: 4 }) })
  .map(({ brand, boxes }) => concat([uint(4, 24), latin1('ftyp'), latin1(brand), uint(4, 0), latin1('mif1'), latin1(brand), ...boxes.map(buildBox)]));

/**
 * Random bytes behind a real magic number, so every container's first checks pass.
 * @type {fc.Arbitrary<Uint8Array>}
 */
export const magicBytesArb = fc
  .record({
    magic: fc.constantFrom(
      Uint8Array.of(0xff, 0xd8, 0xff),
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      latin1('RIFF\x40\0\0\0WEBP'),
      latin1('II*\0'),
      latin1('MM\0*'),
      latin1('\0\0\0\x18ftypheic\0\0\0\0mif1heic'),
      latin1('\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf'),
      latin1('GIF89a'),
      latin1('BM'),
    ),
    rest: fc.uint8Array({ maxLength: 256 }),
  })
  .map(({ magic, rest }) => concat([magic, rest]));

// ---------------------------------------------------------------------------------------------
// Wrapping a generated EXIF or XMP into each container, from a real upright fixture

/**
 * Rebuilds `file` with `exif` as its only EXIF: a JPEG APP1, a PNG `eXIf`, a WebP `EXIF` chunk
 * (with the VP8X flag set), or, for a TIFF, the blob itself is the file.
 * @param {Uint8Array} file - a real upright fixture @param {Uint8Array} exif @returns {Uint8Array}
 */
export function withExif(file, exif) {
  if (isJpegBytes(file)) {
    const rest = dropJpegSegments(file, (marker, data) => marker === 0xe1 && ascii(data, 0, 6) === 'Exif\0\0');
    return concat([Uint8Array.of(0xff, 0xd8), jpegSegment(0xe1, concat([latin1('Exif\0\0'), exif.subarray(0, 65000)])), rest.subarray(2)]);
  }
  if (isPngBytes(file)) {
    const chunks = pngChunks(file).filter((c) => c.type !== 'eXIf');
    const ihdr = chunks.shift();
    return concat([file.subarray(0, 8), /** @type {{ raw: Uint8Array }} */ (ihdr).raw, pngChunk('eXIf', exif), ...chunks.map((c) => c.raw)]);
  }
  if (isRiffBytes(file)) {
    const chunks = riffChunks(file).filter((c) => c.fourcc !== 'EXIF');
    const vp8x = chunks.find((c) => c.fourcc === 'VP8X');
    if (vp8x) vp8x.raw[8] |= 0x08;
    const body = concat([latin1('WEBP'), ...chunks.map((c) => c.raw), riffChunk('EXIF', exif)]);
    return concat([latin1('RIFF'), uint(4, body.length, true), body]);
  }
  return exif;
}

/**
 * Rebuilds `file` with `xmp` as its XMP: a JPEG APP1 (`http://ns.adobe.com/xap/1.0/`), a PNG
 * `iTXt` `XML:com.adobe.xmp`, or a WebP `XMP ` chunk. Other formats are returned unchanged.
 * @param {Uint8Array} file @param {string} xmp @returns {Uint8Array}
 */
export function withXmp(file, xmp) {
  const packet = new Uint8Array(Buffer.from(xmp, 'utf8')).subarray(0, 65000);
  if (isJpegBytes(file)) {
    return concat([Uint8Array.of(0xff, 0xd8), jpegSegment(0xe1, concat([latin1('http://ns.adobe.com/xap/1.0/\0'), packet])), file.subarray(2)]);
  }
  if (isPngBytes(file)) {
    const chunks = pngChunks(file);
    const ihdr = chunks.shift();
    const itxt = pngChunk('iTXt', concat([latin1('XML:com.adobe.xmp\0\0\0\0\0'), packet]));
    return concat([file.subarray(0, 8), /** @type {{ raw: Uint8Array }} */ (ihdr).raw, itxt, ...chunks.map((c) => c.raw)]);
  }
  if (isRiffBytes(file)) {
    const chunks = riffChunks(file).filter((c) => c.fourcc !== 'XMP ');
    const vp8x = chunks.find((c) => c.fourcc === 'VP8X');
    if (vp8x) vp8x.raw[8] |= 0x04;
    const body = concat([latin1('WEBP'), ...chunks.map((c) => c.raw), riffChunk('XMP ', packet)]);
    return concat([latin1('RIFF'), uint(4, body.length, true), body]);
  }
  return file;
}

/** @param {Uint8Array} file @param {(marker: number, data: Uint8Array) => boolean} drop */
function dropJpegSegments(file, drop) {
  const parts = [file.subarray(0, 2)];
  let p = 2;
  while (p + 4 <= file.length && file[p] === 0xff && file[p + 1] !== 0xda) {
    const end = p + 2 + u16be(file, p + 2);
    if (!drop(file[p + 1], file.subarray(p + 4, end))) parts.push(file.subarray(p, end));
    p = end;
  }
  parts.push(file.subarray(p));
  return concat(parts);
}

/** @param {Uint8Array} file */
function pngChunks(file) {
  const chunks = [];
  for (let p = 8; p + 12 <= file.length; ) {
    const length = u32be(file, p);
    chunks.push({ type: ascii(file, p + 4, 4), raw: file.slice(p, p + 12 + length) });
    p += 12 + length;
  }
  return chunks;
}

/** @param {Uint8Array} file */
function riffChunks(file) {
  const chunks = [];
  for (let p = 12; p + 8 <= file.length; ) {
    const size = u32le(file, p + 4);
    const padded = size + (size & 1);
    chunks.push({ fourcc: ascii(file, p, 4), raw: file.slice(p, p + 8 + padded) });
    p += 8 + padded;
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// The library under test, and the properties

/**
 * The modules the properties call: `src/` under vitest, `dist/` in this script.
 * @typedef {object} Lib
 * @property {any} index - `index.js`: readOrientation, normalizeBuffer, ExifFixError, decideOrientation
 * @property {any} containers - `containers/index.js`: CONTAINERS
 * @property {any} tiff - `metadata/tiff.js`: parseTiff, readExifOrientation, countIfds, patchExif
 * @property {any} xmp - `metadata/xmp.js`: readXmpOrientation, patchXmp, patchXmpBytes
 * @property {any} lossless - `pixels/jpeg-lossless/index.js`: transformJpegLossless, readCoefficients
 */

/**
 * Imports the library modules from a directory laid out like `src/` (`dist/` after a build).
 * @param {string} dir - absolute path of `dist` (or `src` where `.ts` imports work)
 * @returns {Promise<Lib>}
 */
export async function loadLib(dir) {
  /** @param {string} p */
  const load = (p) => import(pathToFileURL(path.join(dir, p)).href);
  return {
    index: await load('index.js'),
    containers: await load('containers/index.js'),
    tiff: await load('metadata/tiff.js'),
    xmp: await load('metadata/xmp.js'),
    lossless: await load('pixels/jpeg-lossless/index.js'),
  };
}

/**
 * Runs `fn` with a deadline and a memory bound, and says how it ended. Peak RSS (getrusage
 * maxrss), heap and array-buffer growth are measured around the call; array buffers and heap
 * are read right after it, before a collection can hide a large transient allocation.
 *
 * @param {string} label - named in the failure message
 * @param {() => unknown} fn - the call (sync or async)
 * @param {{ timeLimitMs?: number | null }} [options] - `timeLimitMs`: the time bound in
 *   milliseconds, null for none (default: none, or {@link TIME_LIMIT_MS} in the long run)
 * @returns {Promise<{ ok: true, value: any } | { ok: false, error: unknown }>}
 * @throws {Error} when the call took longer than the time bound or grew memory by more than
 *   {@link MEMORY_LIMIT_BYTES}
 */
export async function bounded(label, fn, { timeLimitMs = defaultTimeLimitMs } = {}) {
  const before = process.memoryUsage();
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const started = performance.now();
  /** @type {{ ok: true, value: any } | { ok: false, error: unknown }} */
  let outcome;
  try {
    outcome = { ok: true, value: await fn() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const ms = performance.now() - started;
  const after = process.memoryUsage();
  const peakAfter = process.resourceUsage().maxRSS * 1024;
  if (timeLimitMs !== null && ms > timeLimitMs) throw new Error(`${label} took ${ms.toFixed(0)} ms (limit ${timeLimitMs} ms)`);
  const growth = {
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    heapUsed: after.heapUsed - before.heapUsed,
    peakRss: peakAfter - peakBefore,
  };
  for (const [what, bytes] of Object.entries(growth)) {
    if (bytes > MEMORY_LIMIT_BYTES) throw new Error(`${label} grew ${what} by ${(bytes / 2 ** 20).toFixed(0)} MB (limit ${MEMORY_LIMIT_BYTES / 2 ** 20} MB)`);
  }
  return outcome;
}

/** Messages that come from the JavaScript engine, i.e. a bug that a catch-all turned into a failure. */
const ENGINE_MESSAGE = /Cannot read propert|is not a function|is not defined|is not iterable|Offset is outside the bounds|Invalid typed array length|Maximum call stack|is out of range\. It must be|Array buffer allocation failed|Invalid array length|of undefined|of null/;


/**
 * Asserts that a call ended as the contract allows: a value, or an `ExifFixError` (whose
 * message is one line and not an engine message).
 * @param {Lib} lib @param {string} label @param {{ ok: boolean, error?: unknown }} outcome
 */
function expectClean(lib, label, outcome) {
  if (outcome.ok) return;
  const error = outcome.error;
  if (!(error instanceof lib.index.ExifFixError)) {
    const e = /** @type {Error} */ (error);
    throw new Error(`${label} threw ${e?.name ?? typeof e}: ${e?.message ?? String(e)}\n${e?.stack ?? ''}`);
  }
  if (/** @type {Error} */ (error).message.includes('\n')) throw new Error(`${label}: ExifFixError message spans lines: ${JSON.stringify(/** @type {Error} */ (error).message)}`);
}

/**
 * The synchronous readers and writers of every container, and the low-level parsers, on one
 * input. Every call must return or throw an ExifFixError, within the time and memory bounds.
 * A metadata-only rewrite of whatever reads must itself read back (or fail cleanly) with every
 * integer orientation place at 1.
 *
 * @param {Lib} lib
 * @param {Uint8Array} bytes - the input file
 * @returns {Promise<void>}
 * @throws {Error} describing the first violated property
 */
export async function checkReaders(lib, bytes) {
  const { readOrientation } = lib.index;
  expectClean(lib, 'readOrientation', await bounded('readOrientation', () => readOrientation(bytes)));
  for (const container of lib.containers.CONTAINERS) {
    const name = container.format;
    expectClean(lib, `${name}.read(headerOnly)`, await bounded(`${name}.read(headerOnly)`, () => container.read(bytes, { headerOnly: true })));
    const read = await bounded(`${name}.read`, () => container.read(bytes));
    expectClean(lib, `${name}.read`, read);
    if (!read.ok) continue;
    const written = await bounded(`${name}.write`, () => container.write(bytes, read.value, null, { orientation: 1, warnings: [] }));
    expectClean(lib, `${name}.write`, written);
    if (!written.ok) continue;
    const again = await bounded(`${name}.read(output)`, () => container.read(written.value));
    expectClean(lib, `${name}.read(output)`, again);
    if (again.ok && container.sniff(bytes)) {
      const sideways = again.value.places.filter((/** @type {{ value: number }} */ p) => Number.isInteger(p.value) && p.value !== 1);
      if (sideways.length > 0) throw new Error(`${name}.write left orientation places ${JSON.stringify(sideways)} after a metadata-only rewrite`);
    }
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    const o = /** @type {1|2|3|4|5|6|7|8} */ ((bytes.length % 8) + 1);
    const t = await bounded('transformJpegLossless', () => lib.lossless.transformJpegLossless(bytes, o));
    if (!t.ok) throw new Error(`transformJpegLossless threw (it promises never to for bad input): ${String(t.error)}`);
    const c = await bounded('readCoefficients', () => lib.lossless.readCoefficients(bytes));
    // Documented: a plain Error named LosslessError for unsupported or corrupt input.
    if (!c.ok && /** @type {Error} */ (c.error)?.name !== 'LosslessError') throw new Error(`readCoefficients threw ${String(c.error)}`);
  }
}

/**
 * The EXIF/TIFF walker and patcher on one TIFF structure: parse, read, count and patch (with a
 * replaced, grown or removed thumbnail, under a small maxLength) each return or throw an
 * ExifFixError, within the bounds.
 * @param {Lib} lib @param {Uint8Array} blob @returns {Promise<void>}
 */
export async function checkExifBlob(lib, blob) {
  const t = lib.tiff;
  for (const [label, fn] of /** @type {Array<[string, () => unknown]>} */ ([
    ['parseTiff', () => t.parseTiff(blob)],
    ['readExifOrientation', () => t.readExifOrientation(blob)],
    ['countIfds', () => t.countIfds(blob)],
    ['patchExif', () => t.patchExif(blob, { width: 70000, height: 3 })],
    ['patchExif(thumbnail removed)', () => t.patchExif(blob, { width: 4, height: 3, thumbnail: null })],
    ['patchExif(thumbnail smaller)', () => t.patchExif(blob, { width: 4, height: 3, thumbnail: Uint8Array.of(0xff, 0xd8, 0xff, 0xd9) })],
    ['patchExif(thumbnail larger, maxLength)', () => t.patchExif(blob, { width: 4, height: 3, thumbnail: new Uint8Array(300).fill(0xab), maxLength: 16 })],
  ])) {
    expectClean(lib, label, await bounded(label, fn));
  }
}

/**
 * The XMP reader and patcher on one packet: both return (they never throw), within the bounds.
 * @param {Lib} lib @param {string} xmp @returns {Promise<void>}
 */
export async function checkXmp(lib, xmp) {
  for (const [label, fn] of /** @type {Array<[string, () => unknown]>} */ ([
    ['readXmpOrientation', () => lib.xmp.readXmpOrientation(xmp)],
    ['patchXmp', () => lib.xmp.patchXmp(xmp, 4032, 3024)],
    ['patchXmpBytes', () => lib.xmp.patchXmpBytes(new Uint8Array(Buffer.from(xmp, 'utf8')), 1, 99999)],
  ])) {
    const outcome = await bounded(label, fn);
    if (!outcome.ok) throw new Error(`${label} threw: ${String(outcome.error)}`);
  }
}

/**
 * The whole job on one input, through sharp: `normalizeBuffer` never throws; a failure gives
 * `data: null` and one error line naming `-` (stdin) whose reason is not an engine message; a
 * success gives output bytes. Runs with a small pixel limit so a mutated header cannot make
 * sharp decode much.
 * @param {Lib} lib @param {Uint8Array} bytes @returns {Promise<void>}
 */
export async function checkNormalize(lib, bytes) {
  const outcome = await bounded('normalizeBuffer', () => lib.index.normalizeBuffer(bytes, { limitInputPixels: FUZZ_LIMIT_INPUT_PIXELS }));
  if (!outcome.ok) {
    const e = /** @type {Error} */ (outcome.error);
    throw new Error(`normalizeBuffer threw ${e?.name}: ${e?.message}\n${e?.stack ?? ''}`);
  }
  const { data, result } = outcome.value;
  if (result.action === 'failed') {
    if (data !== null) throw new Error('normalizeBuffer failed but returned data');
    const error = result.error;
    const oneLine = !error?.includes('\n');
    if (typeof error !== 'string' || !error.startsWith('`-` (stdin): ') || !oneLine) throw new Error(`normalizeBuffer: unclean error ${JSON.stringify(error)}`);
    if (ENGINE_MESSAGE.test(error) && !/VipsJpeg|vips|sharp|Input buffer/i.test(error)) throw new Error(`normalizeBuffer error looks like a bug: ${error}`);
  } else {
    if (!(data instanceof Uint8Array) || data.length === 0) throw new Error(`normalizeBuffer ${result.action} without output bytes`);
    if (result.error !== null) throw new Error(`normalizeBuffer ${result.action} with an error: ${result.error}`);
  }
}

/**
 * The fixtures every mutation starts from: all files under `fixtures/orientation`.
 * @param {string} root - the repository root
 * @returns {Promise<Array<{ name: string, bytes: Uint8Array }>>}
 */
export async function loadSeeds(root) {
  const dir = path.join(root, 'fixtures', 'orientation');
  const seeds = [];
  for (const set of (await readdir(dir)).sort()) {
    for (const file of (await readdir(path.join(dir, set))).sort()) {
      seeds.push({ name: `${set}/${file}`, bytes: new Uint8Array(await readFile(path.join(dir, set, file))) });
    }
  }
  return seeds;
}

/**
 * A mutated fixture: which seed, the mutations, and whether PNG CRCs are fixed up afterwards.
 * @param {number} seedCount
 */
export function mutantArb(seedCount) {
  return fc.record({
    seed: fc.nat(seedCount - 1),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    fixCrc: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
  });
}

/**
 * The properties as fast-check properties over a library and seed files, named for reports.
 * @param {Lib} lib @param {Array<{ name: string, bytes: Uint8Array }>} seeds
 * @returns {Record<string, fc.IAsyncPropertyWithHooks<any>>}
 */
export function properties(lib, seeds) {
  const uprightSeeds = seeds.filter((s) => /_1\.[^.]+$/.test(s.name) && !/tiff|avif/.test(s.name));
  return {
    'mutated fixtures: readers and writers': fc.asyncProperty(mutantArb(seeds.length), async ({ seed, mutations, fixCrc }) => {
      await checkReaders(lib, mutate(seeds[seed].bytes, mutations, fixCrc));
    }),
    'generated EXIF/TIFF structures: walker, patcher and containers': fc.asyncProperty(exifBlobArb, fc.nat(uprightSeeds.length), async (blob, which) => {
      await checkExifBlob(lib, blob);
      await checkReaders(lib, which === uprightSeeds.length ? blob : withExif(uprightSeeds[which].bytes, blob));
    }),
    'generated XMP packets: reader, patcher and containers': fc.asyncProperty(xmpArb, fc.nat(uprightSeeds.length - 1), async (xmp, which) => {
      await checkXmp(lib, xmp);
      await checkReaders(lib, withXmp(uprightSeeds[which].bytes, xmp));
    }),
    'generated containers: JPEG, PNG, RIFF, ISOBMFF and magic-prefixed bytes': fc.asyncProperty(fc.oneof(jpegArb, pngArb, riffArb, bmffArb, magicBytesArb), async (bytes) => {
      await checkReaders(lib, bytes);
    }),
    'mutated fixtures: normalizeBuffer through sharp': fc.asyncProperty(mutantArb(seeds.length), async ({ seed, mutations, fixCrc }) => {
      await checkNormalize(lib, mutate(seeds[seed].bytes, mutations, fixCrc));
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// The long run

/** @param {string[]} argv */
function parseArgs(argv) {
  let seconds = 300;
  let seed = Math.floor(Math.random() * 2 ** 31);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') seconds = Number(argv[++i]);
    else if (argv[i] === '--seed') seed = Number(argv[++i]);
    else throw new Error(`Unknown argument ${argv[i]}; usage: node scripts/fuzz-long.js [--seconds N] [--seed S]`);
  }
  if (!(seconds > 0) || !Number.isInteger(seed)) throw new Error('Expected --seconds > 0 and an integer --seed');
  return { seconds, seed };
}

async function main() {
  const { seconds, seed } = parseArgs(process.argv.slice(2));
  defaultTimeLimitMs = TIME_LIMIT_MS;
  const root = path.resolve(here, '..');
  const lib = await loadLib(path.join(root, 'dist'));
  const seeds = await loadSeeds(root);
  const props = Object.entries(properties(lib, seeds));
  const deadline = Date.now() + seconds * 1000;
  console.log(`fuzzing for ${seconds} s, seed ${seed} (repeat with --seed ${seed})`);
  let round = 0;
  let runs = 0;
  while (Date.now() < deadline) {
    for (const [name, prop] of props) {
      const roundSeed = (seed + round * 7919) | 0;
      const budget = Math.max(1000, deadline - Date.now());
      const result = await fc.check(prop, { seed: roundSeed, numRuns: 200, interruptAfterTimeLimit: budget, markInterruptAsFailure: false });
      runs += result.numRuns;
      if (result.failed) {
        console.error(`FAILED: ${name}\n  seed ${seed}, round ${round} (fast-check seed ${roundSeed}, path ${result.counterexamplePath})`);
        console.error(`  counterexample: ${fc.stringify(result.counterexample)}`);
        console.error(`  ${String(result.errorInstance).split('\n').join('\n  ')}`);
        process.exitCode = 1;
        return;
      }
      if (Date.now() >= deadline) break;
    }
    round++;
  }
  console.log(`ok: ${runs} cases in ${round} rounds, no failure (seed ${seed})`);
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  await main();
}
