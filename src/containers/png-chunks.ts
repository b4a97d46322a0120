/**
 * A bounded walker over PNG chunks (PNG specification, third edition, sections 5.2-5.4): the
 * signature, each chunk's length, type and CRC, and the IHDR fields (section 11.2.1).
 */
import zlib from 'node:zlib';
import { ensure } from '../errors.js';

/** The 8-byte PNG signature (PNG spec section 5.2). */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The largest chunk length the PNG spec allows, 2^31 - 1 bytes (section 5.3). */
const MAX_CHUNK_LENGTH = 0x7fffffff;

/** One chunk, with absolute byte offsets into the file. */
export interface PngChunk {
  /** The four-letter chunk type, e.g. `IHDR`, `eXIf`. */
  readonly type: string;
  /** Offset of the chunk's 4-byte length field. */
  readonly offset: number;
  /** Offset of the chunk data (after length and type). */
  readonly dataOffset: number;
  /** Length of the chunk data in bytes. */
  readonly length: number;
  /** Offset just past the chunk's CRC. */
  readonly end: number;
}

/** The IHDR fields (PNG spec section 11.2.1). */
export interface PngHeader {
  /** Width in pixels, 1 to 2^31 - 1. */
  readonly width: number;
  /** Height in pixels, 1 to 2^31 - 1. */
  readonly height: number;
  /** Bits per sample (or per palette index): 1, 2, 4, 8 or 16. */
  readonly bitDepth: number;
  /** 0 greyscale, 2 truecolour, 3 indexed-colour, 4 greyscale with alpha, 6 truecolour with alpha. */
  readonly colourType: number;
  /** 0 none, 1 Adam7. */
  readonly interlace: number;
}

/** The chunk layout of a PNG file. */
export interface PngStructure {
  readonly header: PngHeader;
  /** Every chunk from IHDR to IEND, in file order. */
  readonly chunks: readonly PngChunk[];
  /** Offset just past IEND's CRC: bytes from here on are a trailer, kept as they are. */
  readonly iendEnd: number;
}

/** Bit depths allowed for each colour type (PNG spec table 11.1). */
const ALLOWED_DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

let crcTable: Uint32Array | undefined;

/** The CRC-32 of ISO 3309 / ITU-T V.42 as PNG uses it (PNG spec annex D), table-driven. */
function tableCrc32(data: Uint8Array, initial = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~initial >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC-32 (PNG spec section 5.3 and annex D), with node's native `zlib.crc32` (Node 20.15+) when
 * it exists.
 *
 * @param data - the bytes.
 * @param initial - the CRC of the bytes before `data`, to continue a running CRC; default 0.
 * @returns the CRC as an unsigned 32-bit integer.
 */
export function crc32(data: Uint8Array, initial = 0): number {
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  return typeof native === 'function' ? native(data, initial) >>> 0 : tableCrc32(data, initial);
}

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length) return false;
  for (let i = 0; i < PNG_SIGNATURE.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return false;
  return true;
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function isLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * Walks every chunk of a PNG file, checking each length against the file and each CRC.
 *
 * @param bytes - the whole file.
 * @param options - `verifyImageData` (default `true`): check the CRC of IDAT chunks too; `false`
 *   skips that (the bulk of the file) when only orientation and size are needed.
 * @returns the header and chunk list.
 * @throws {ExifFixError} code `'corrupt'` for a missing signature, a chunk running past the end,
 *   a chunk type that is not four ASCII letters, a bad CRC ("PNG chunk IDAT has a bad CRC"), a
 *   first chunk other than a valid IHDR, no IDAT, or no IEND (truncated file).
 */
export function parsePng(bytes: Uint8Array, options: { readonly verifyImageData?: boolean } = {}): PngStructure {
  const verifyImageData = options.verifyImageData ?? true;
  ensure(isPng(bytes), 'not a PNG file (no PNG signature)');
  const chunks: PngChunk[] = [];
  let p = PNG_SIGNATURE.length;
  // Every chunk takes at least 12 bytes, so the loop runs at most bytes.length / 12 times.
  for (;;) {
    ensure(p + 12 <= bytes.length, 'truncated PNG: the file ends before its IEND chunk');
    const length = u32(bytes, p);
    ensure(length <= MAX_CHUNK_LENGTH, () => `PNG chunk at byte ${p} declares length ${length}`);
    ensure(isLetter(bytes[p + 4]) && isLetter(bytes[p + 5]) && isLetter(bytes[p + 6]) && isLetter(bytes[p + 7]), () => `PNG chunk at byte ${p} has an invalid type`);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const dataOffset = p + 8;
    const end = dataOffset + length + 4;
    ensure(end <= bytes.length, () => `truncated PNG: chunk ${type} runs past the end of the file`);
    if (verifyImageData || type !== 'IDAT') {
      const stored = u32(bytes, dataOffset + length);
      ensure(crc32(bytes.subarray(p + 4, dataOffset + length)) === stored, () => `PNG chunk ${type} has a bad CRC`);
    }
    ensure(chunks.length > 0 || type === 'IHDR', 'PNG does not start with an IHDR chunk');
    chunks.push({ type, offset: p, dataOffset, length, end });
    p = end;
    if (type === 'IEND') break;
  }
  const header = parseHeader(bytes, chunks[0]);
  ensure(chunks.some((c) => c.type === 'IDAT'), 'PNG has no IDAT chunk');
  return { header, chunks, iendEnd: p };
}

function parseHeader(bytes: Uint8Array, ihdr: PngChunk): PngHeader {
  ensure(ihdr.length === 13, `PNG IHDR chunk has length ${ihdr.length}, not 13`);
  const o = ihdr.dataOffset;
  const width = u32(bytes, o);
  const height = u32(bytes, o + 4);
  const bitDepth = bytes[o + 8];
  const colourType = bytes[o + 9];
  const interlace = bytes[o + 12];
  ensure(width >= 1 && width <= MAX_CHUNK_LENGTH && height >= 1 && height <= MAX_CHUNK_LENGTH, `PNG IHDR declares ${width}x${height} pixels`);
  ensure(ALLOWED_DEPTHS[colourType]?.includes(bitDepth), `PNG IHDR has bit depth ${bitDepth} with colour type ${colourType}`);
  ensure(bytes[o + 10] === 0 && bytes[o + 11] === 0 && interlace <= 1, 'PNG IHDR has an unknown compression, filter or interlace method');
  return { width, height, bitDepth, colourType, interlace };
}

/**
 * Builds one chunk: length, type, data and CRC (PNG spec section 5.3).
 *
 * @param type - four ASCII letters.
 * @param data - the chunk data.
 * @returns the whole chunk, `12 + data.length` bytes.
 */
export function buildChunk(type: string, data: Uint8Array): Uint8Array {
  ensure(data.length <= MAX_CHUNK_LENGTH, `PNG chunk ${type} would be longer than 2^31 - 1 bytes`);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Whether a chunk type is ancillary (bit 5 of the first letter, lower case; PNG spec section 5.4).
 */
export function isAncillary(type: string): boolean {
  return (type.charCodeAt(0) & 0x20) !== 0;
}

/**
 * Whether a chunk type is safe to copy (bit 5 of the fourth letter, lower case; PNG spec section
 * 5.4): an editor that changed critical chunks may copy such an unknown chunk, but must not copy
 * an unknown chunk that is not (section 14.2).
 */
export function isSafeToCopy(type: string): boolean {
  return (type.charCodeAt(3) & 0x20) !== 0;
}
