/**
 * A bounded walker over the RIFF container of WebP files (WebP Container Specification, "RIFF
 * File Format" and "Extended File Format"): the `RIFF` header, then chunks of FourCC, 32-bit
 * little-endian size, payload and a pad byte when the size is odd.
 */
import { ensure, printable } from '../errors.js';

/** One RIFF chunk, with absolute byte offsets into the file. */
export interface RiffChunk {
  /** The chunk's FourCC, e.g. `VP8X`, `VP8 ` (with its space), `XMP `. */
  readonly fourcc: string;
  /** Offset of the FourCC. */
  readonly offset: number;
  /** Offset of the payload. */
  readonly dataOffset: number;
  /** Payload size in bytes, as the chunk header declares it (without the pad byte). */
  readonly size: number;
  /** Offset just past the chunk, pad byte included. */
  readonly end: number;
}

/** The chunk layout of a WebP file. */
export interface WebpStructure {
  /** Every top-level chunk after `RIFF....WEBP`, in file order. */
  readonly chunks: readonly RiffChunk[];
  /** Offset just past the RIFF payload (8 + the RIFF size): bytes from here on are a trailer. */
  readonly riffEnd: number;
}

function u32le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/** Whether `bytes` start with `RIFF`, a size, and `WEBP`. */
export function isWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP';
}


/**
 * Walks every top-level chunk of a WebP file, checking each size against the RIFF size and the file.
 *
 * @param bytes - the whole file.
 * @returns the chunk list.
 * @throws {ExifFixError} code `'corrupt'` when the RIFF header is missing, the RIFF size runs
 *   past the end of the file (truncated), or a chunk runs past the RIFF payload.
 */
export function parseWebp(bytes: Uint8Array): WebpStructure {
  ensure(isWebp(bytes), 'not a WebP file (no RIFF WEBP header)');
  const riffSize = u32le(bytes, 4);
  ensure(riffSize >= 4, `WebP RIFF size ${riffSize} is too small`);
  const riffEnd = 8 + riffSize;
  ensure(riffEnd <= bytes.length, `truncated WebP: the RIFF header declares ${riffEnd} bytes but the file has ${bytes.length}`);
  const chunks: RiffChunk[] = [];
  let p = 12;
  // Every chunk takes at least 8 bytes, so the loop runs at most riffSize / 8 times.
  while (p < riffEnd) {
    ensure(p + 8 <= riffEnd, () => `WebP chunk header at byte ${p} runs past the RIFF payload`);
    const fourcc = ascii(bytes, p, 4);
    const size = u32le(bytes, p + 4);
    const dataOffset = p + 8;
    // The FourCC is any 4 bytes of the file: escape control characters so the message stays one line.
    ensure(size <= riffEnd - dataOffset, () => `WebP chunk "${printable(fourcc)}" at byte ${p} runs past the RIFF payload`);
    // A missing pad byte after the last chunk is tolerated, as libwebp does.
    const end = Math.min(dataOffset + size + (size & 1), riffEnd);
    chunks.push({ fourcc, offset: p, dataOffset, size, end });
    p = end;
  }
  return { chunks, riffEnd };
}

/**
 * Builds one RIFF chunk: FourCC, little-endian size, payload, and a zero pad byte when the size is odd.
 *
 * @param fourcc - four ASCII characters.
 * @param data - the payload.
 * @throws {ExifFixError} code `'corrupt'` when the payload is larger than a chunk can declare.
 */
export function buildRiffChunk(fourcc: string, data: Uint8Array): Uint8Array {
  ensure(data.length <= 0xfffffff6, `WebP chunk "${fourcc}" would be larger than RIFF allows`);
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  for (let i = 0; i < 4; i++) out[i] = fourcc.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

/**
 * Wraps chunks in a RIFF `WEBP` header with the right size.
 *
 * @param chunks - whole chunks (with their pad bytes), in order.
 * @returns `RIFF`, size, `WEBP`, then the chunks.
 */
export function buildRiff(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 4;
  for (const c of chunks) size += c.length;
  ensure(size <= 0xfffffffe, 'WebP file would be larger than RIFF allows');
  const out = new Uint8Array(8 + size);
  out.set([0x52, 0x49, 0x46, 0x46], 0);
  new DataView(out.buffer).setUint32(4, size, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8);
  let o = 12;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
