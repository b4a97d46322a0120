/**
 * TIFF: orientation lives in tag 0x0112 (Orientation) of IFD0 itself, and in XMP (tag 700,
 * `tiff:Orientation`) when present (DESIGN.md section 2; TIFF 6.0 section 8). libvips does not
 * apply the tag on load, so the pixel path rotates the decoded pixels.
 *
 * The output is a new TIFF in the input's byte order: IFD0 holds the image-structure
 * tags of the fresh encoding (size, BitsPerSample, Compression, Photometric, strips or tiles,
 * Predictor, ExtraSamples, SampleFormat, JPEG tables) and every other tag of the input's IFD0:
 * Make, Model, Software, DateTime, Artist, Copyright, ImageDescription, X/YResolution (swapped
 * with the axes for 5-8), ICC (34675, byte for byte), IPTC (33723, byte for byte), Photoshop
 * resources (34377), XMP (700, with orientation 1 and the new size) and the Exif (34665) and GPS
 * (34853) IFDs, copied with their Interoperability IFD and values relocated, PixelXDimension/
 * PixelYDimension set to the new size. Orientation is written as 1.
 *
 * Further pages of a multi-page file follow in the IFD chain, kept byte for byte: their tags
 * and strips or tiles are copied as they are (only offsets change), with their own orientation,
 * which a warning names when it is not 1. Only the first page is normalized.
 *
 * Bilevel documents (1 bit per sample, WhiteIsZero or BlackIsZero) are re-encoded bit-exact in
 * their own compression: CCITT Group 4 (compression 4), PackBits (32773), LZW (5), deflate and
 * none. CCITT Group 3 (compression 3) is read, but libvips can only write Group 4, so a
 * Group 3 page comes out Group 4 (the same bits), with a warning.
 *
 * Not kept when pixels change:
 * - maker notes whose internal offsets are absolute: they move with the relocated Exif IFD (a
 *   warning says so), as with any TIFF rewriter that is not maker-note aware;
 * - Photoshop layer data (ImageSourceData, 37724), which describes the old pixel layout;
 * - private IFD pointers other than Exif, GPS and Interoperability (their targets are unknown);
 * - tags of a field type unknown to TIFF 6.0 (their size cannot be known);
 * - the byte order, for more than 8 bits per sample in a big-endian input: the fresh encoding's
 *   sample data is little-endian, so the file is too.
 *
 * Camera raw files and DNG (TIFF-based, but raw converters apply their orientation) are refused
 * when they would need new pixels, as are BigTIFF files (version 43), floating-point or signed
 * samples and 16-bit CMYK (sharp has no pipeline that keeps them bit-exact).
 */
import { copyBytes } from '../bytes.js';
import type { Sharp, TiffOptions } from 'sharp';
import { ensure, ExifFixError, type Refusal } from '../errors.js';
import { entryInt, readIfd, TAG, tiffByteOrder, TiffView, type Ifd, type IfdEntry } from '../metadata/tiff.js';
import { patchXmpBytes, readXmpOrientation } from '../metadata/xmp.js';
import { ORIENTATIONS } from '../orientation.js';
import { estimateQuality } from './jpeg-structure.js';
import { entryInts, entryValues, FIELD, intEntry, serializeTiff, type OutEntry, type OutIfd } from './tiff-ifd.js';
import type { Container, ContainerInfo, EncodedPixels, OrientationPlace, PixelSpace, WriteContext } from './types.js';

/** Tags of TIFF 6.0 and its technical notes that this module handles by name. */
const T = {
  NewSubfileType: 254,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  SubIFDs: 330,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  ExtraSamples: 338,
  SampleFormat: 339,
  JPEGTables: 347,
  XMP: 700,
  IPTC: 33723,
  Photoshop: 34377,
  ICC: 34675,
  ImageSourceData: 37724,
  MakerNote: 0x927c,
  InteropIFD: 0xa005,
  DNGVersion: 0xc612,
} as const;

/**
 * Tags that describe how the pixel data is stored (TIFF 6.0 sections 3-8, 13, 15, 16, 21, 22,
 * Technical Note 2). In the output they come from the fresh encoding only.
 */
const STRUCTURE_TAGS: ReadonlySet<number> = new Set([
  256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 292, 293, 317, 320, 322, 323, 324, 325, 332, 338, 339, 347,
  512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532,
]);

/** Pointer tags to sub-IFDs that are copied with their values relocated (EXIF 2.32 section 4.6.3). */
const SUB_IFD_TAGS: ReadonlySet<number> = new Set([TAG.ExifIFD, TAG.GPSIFD, T.InteropIFD]);

/** Tags whose values are offsets this module does not follow (SubIFDs, GlobalParametersIFD, DNGPrivateData): dropped when rewriting. */
const UNKNOWN_POINTER_TAGS: ReadonlySet<number> = new Set([T.SubIFDs, 0x0190, 0xc634]);

/** Tags whose values are byte streams whatever their declared type (IPTC is often LONG). */
const OPAQUE_TAGS: ReadonlySet<number> = new Set([T.IPTC, T.Photoshop, T.XMP, T.ICC]);

/** Values per tag accepted for per-sample and per-strip tags: more means a hostile file. */
const MAX_SAMPLES = 64;

/** Compression schemes (TIFF 6.0 section 3, TIFF Technical Note 2, libtiff tiff.h) and sharp's name for re-encoding them. */
const COMPRESSION: Readonly<Record<number, { readonly sharp: NonNullable<TiffOptions['compression']>; readonly lossless: boolean }>> = {
  1: { sharp: 'none', lossless: true },
  3: { sharp: 'ccittfax4', lossless: true },
  4: { sharp: 'ccittfax4', lossless: true },
  5: { sharp: 'lzw', lossless: true },
  7: { sharp: 'jpeg', lossless: false },
  8: { sharp: 'deflate', lossless: true },
  32946: { sharp: 'deflate', lossless: true },
  32773: { sharp: 'packbits', lossless: true },
  50000: { sharp: 'zstd', lossless: true },
};

/** What the TIFF reader found. */
export interface TiffInfo extends ContainerInfo {
  readonly format: 'tiff';
  /** Byte order of the input ("II" little-endian, "MM" big-endian). */
  readonly littleEndian: boolean;
  /** IFD0 of the input (offsets are into the input file). */
  readonly ifd0: Ifd;
  /** Images in the main IFD chain (pages). */
  readonly pages: number;
  /** The IFDs of pages 2, 3, ... (offsets are into the input file), kept byte for byte on rewrite. */
  readonly furtherPages: readonly Ifd[];
  /** Compression tag value (1 when absent). */
  readonly compression: number;
  /** Predictor tag value (1 when absent): 2 horizontal differencing, 3 floating point. */
  readonly predictor: number;
  /** BitsPerSample, one value per sample. */
  readonly bitsPerSample: readonly number[];
  /** PhotometricInterpretation (TIFF 6.0 section 8): 0/1 grey, 2 RGB, 3 palette, 5 separated (CMYK), 6 YCbCr. */
  readonly photometric: number;
  /** Tile size in pixels when the image is tiled. */
  readonly tile?: { readonly width: number; readonly height: number };
  /** Estimated IJG quality of JPEG-compressed (7) data, from its quantization tables. */
  readonly jpegQuality?: number;
  /** Why the pixels cannot be re-encoded (set for refused variants; the plan refuses them only when pixels must change). */
  readonly refusal?: Refusal;
}

/**
 * Whether `bytes` start with a classic TIFF ("II*\0" / "MM\0*") or BigTIFF (43) header.
 *
 * @param bytes - the file (4 bytes looked at).
 */
function isTiff(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const le = bytes[0] === 0x49 && bytes[1] === 0x49 && (bytes[2] === 42 || bytes[2] === 43) && bytes[3] === 0;
  const be = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && (bytes[3] === 42 || bytes[3] === 43);
  return le || be;
}

/** Finds the DQT tables in an abbreviated or full JPEG stream (JPEGTables or a strip), bounded. */
function quantTables(bytes: Uint8Array): Array<Uint16Array | undefined> {
  const tables: Array<Uint16Array | undefined> = [];
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return tables;
  let p = 2;
  for (let segments = 0; segments < 256 && p + 4 <= bytes.length; segments++) {
    if (bytes[p] !== 0xff) break;
    const marker = bytes[p + 1];
    if (marker === 0xd9 || marker === 0xda) break;
    const length = (bytes[p + 2] << 8) | bytes[p + 3];
    if (length < 2 || p + 2 + length > bytes.length) break;
    if (marker === 0xdb) {
      let q = p + 4;
      while (q < p + 2 + length) {
        const precision = bytes[q] >> 4;
        const id = bytes[q] & 15;
        const size = precision ? 128 : 64;
        if (id > 3 || q + 1 + size > p + 2 + length) break;
        const zigzag = new Uint16Array(64);
        for (let k = 0; k < 64; k++) zigzag[k] = precision ? (bytes[q + 1 + 2 * k] << 8) | bytes[q + 2 + 2 * k] : bytes[q + 1 + k];
        tables[id] = naturalOrder(zigzag);
        q += 1 + size;
      }
    }
    p += 2 + length;
  }
  return tables;
}

/** T.81 Figure A.6: the zig-zag sequence, as natural-order index of each zig-zag position. */
const ZIGZAG_TO_NATURAL = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

function naturalOrder(zigzag: Uint16Array): Uint16Array {
  const out = new Uint16Array(64);
  for (let k = 0; k < 64; k++) out[ZIGZAG_TO_NATURAL[k]] = zigzag[k];
  return out;
}

/** The JPEG quality of a JPEG-compressed TIFF: from JPEGTables, else from the first strip or tile. */
function tiffJpegQuality(t: TiffView, ifd0: Ifd): number {
  const tablesEntry = ifd0.entries.get(T.JPEGTables);
  let tables = tablesEntry ? quantTables(t.bytes.subarray(tablesEntry.valueOffset, tablesEntry.valueOffset + tablesEntry.byteLength)) : [];
  if (!tables[0]) {
    const offsets = entryInts(t, ifd0.entries.get(T.StripOffsets) ?? ifd0.entries.get(T.TileOffsets), Number.MAX_SAFE_INTEGER);
    const counts = entryInts(t, ifd0.entries.get(T.StripByteCounts) ?? ifd0.entries.get(T.TileByteCounts), Number.MAX_SAFE_INTEGER);
    if (offsets.length > 0 && counts.length > 0 && offsets[0] + counts[0] <= t.bytes.length) {
      tables = quantTables(t.bytes.subarray(offsets[0], offsets[0] + counts[0]));
    }
  }
  return estimateQuality(tables);
}

/** At most this many pages are carried over; more means a hostile or broken file. */
const MAX_PAGES = 4096;

/**
 * The IFDs that follow IFD0 in the main chain (TIFF 6.0 section 2), in order.
 *
 * @throws {ExifFixError} code `'corrupt'` for an IFD out of range, a chain that loops, or more
 *   than 4096 pages.
 */
function readFurtherPages(t: TiffView, ifd0: Ifd): Ifd[] {
  const pages: Ifd[] = [];
  const seen = new Set<number>([ifd0.offset]);
  let next = ifd0.next;
  while (next !== 0) {
    ensure(!seen.has(next), () => `IFD chain loops back to byte ${next}`);
    ensure(pages.length < MAX_PAGES, `more than ${MAX_PAGES} pages in the IFD chain`);
    seen.add(next);
    const ifd = readIfd(t, next);
    pages.push(ifd);
    next = ifd.next;
  }
  return pages;
}

/**
 * Parses the TIFF header and IFD0 (never decoding pixels) and finds the orientation places:
 * tag 0x0112 of IFD0 (source `tiff`) and `tiff:Orientation` in the XMP of tag 700 (source `xmp`).
 *
 * @throws {ExifFixError} code `'unsupported'` for BigTIFF; code `'corrupt'` for a truncated
 *   header, an IFD out of range, an entry whose values pass the end of the file (huge counts),
 *   or an IFD chain that loops.
 */
function readTiff(bytes: Uint8Array): TiffInfo {
  ensure(bytes.length >= 8, 'TIFF header is truncated');
  const version = bytes[0] === 0x49 ? bytes[2] | (bytes[3] << 8) : (bytes[2] << 8) | bytes[3];
  if (version === 43) throw new ExifFixError('BigTIFF (version 43) is not supported', 'unsupported');
  const littleEndian = tiffByteOrder(bytes);
  const t = new TiffView(bytes, littleEndian);
  const ifd0Offset = t.u32(4);
  ensure(ifd0Offset >= 8, 'IFD0 offset points into the TIFF header');
  const ifd0 = readIfd(t, ifd0Offset);
  const furtherPages = readFurtherPages(t, ifd0);
  const pages = 1 + furtherPages.length;
  const get = (tag: number) => ifd0.entries.get(tag);
  const width = entryInt(t, get(TAG.ImageWidth));
  const height = entryInt(t, get(TAG.ImageLength));
  ensure(width !== undefined && height !== undefined && width > 0 && height > 0, 'TIFF IFD0 has no ImageWidth/ImageLength');

  const warnings: string[] = [];
  const places: OrientationPlace[] = [];
  const orientation = entryInt(t, get(TAG.Orientation));
  if (orientation !== undefined) places.push({ source: 'tiff', value: orientation });
  const xmp = get(T.XMP);
  if (xmp) {
    const packet = Buffer.from(bytes.buffer, bytes.byteOffset + xmp.valueOffset, xmp.byteLength).toString('utf8');
    const value = readXmpOrientation(packet);
    if (value !== undefined) places.push({ source: 'xmp', value });
  }

  const samples = entryInt(t, get(T.SamplesPerPixel)) ?? 1;
  ensure(samples >= 1 && samples <= MAX_SAMPLES, `TIFF SamplesPerPixel is ${samples}`);
  const bitsPerSample = entryInts(t, get(T.BitsPerSample), MAX_SAMPLES);
  if (bitsPerSample.length === 0) bitsPerSample.push(1);
  const sampleFormats = entryInts(t, get(T.SampleFormat), MAX_SAMPLES);
  const extraSamples = entryInts(t, get(T.ExtraSamples), MAX_SAMPLES).length;
  const photometric = entryInt(t, get(T.Photometric)) ?? (samples >= 3 ? 2 : 1);
  const compression = entryInt(t, get(T.Compression)) ?? 1;
  const predictor = entryInt(t, get(T.Predictor)) ?? 1;
  const tileWidth = entryInt(t, get(T.TileWidth));
  const tileHeight = entryInt(t, get(T.TileLength));
  const bits = Math.max(...bitsPerSample);
  const colourSamples = samples - extraSamples;

  let refusal: Refusal | undefined;
  const refuse = (reason: string) => (refusal ??= { code: 'unsupported', reason });
  const raw = get(T.DNGVersion) !== undefined || get(T.SubIFDs) !== undefined || (bytes[8] === 0x43 && bytes[9] === 0x52);
  if (raw) {
    refuse('camera raw and DNG files are not normalized: their orientation belongs in metadata, which raw converters apply');
  }
  for (const [k, page] of furtherPages.entries()) {
    const pageOrientation = entryInt(t, page.entries.get(TAG.Orientation));
    if (pageOrientation !== undefined && pageOrientation !== 1) {
      warnings.push(`page ${k + 2} has its own orientation ${pageOrientation}; only the first page is normalized, the others are kept as they are`);
    }
    if (page.entries.has(513) || page.entries.has(T.StripOffsets) === page.entries.has(T.TileOffsets)) {
      refuse(`page ${k + 2} of this multi-page TIFF has no plain strips or tiles (or old-style JPEG), so it cannot be carried over`);
    }
  }
  const scheme = COMPRESSION[compression];
  if (!scheme) refuse(`TIFF compression ${compression} is not supported for re-encoding`);
  if ((compression === 3 || compression === 4) && !(bits === 1 && samples === 1 && (photometric === 0 || photometric === 1))) {
    refuse(`CCITT-compressed TIFF with ${samples} samples of ${bits} bits (photometric ${photometric}) is not supported for re-encoding`);
  }
  if (sampleFormats.some((f) => f !== 1)) refuse('TIFF with floating-point or signed samples is not supported for re-encoding');
  if (bits > 16 || bitsPerSample.some((b) => b !== bits)) refuse(`TIFF with ${bitsPerSample.join('/')} bits per sample is not supported for re-encoding`);

  let space: PixelSpace = 'srgb';
  if (photometric === 0 || photometric === 1) space = bits === 16 ? 'grey16' : 'b-w';
  else if (photometric === 2 || photometric === 6) space = bits === 16 ? 'rgb16' : 'srgb';
  else if (photometric === 5) {
    if (colourSamples !== 4) refuse(`separated TIFF with ${colourSamples} inks (not CMYK) is not supported for re-encoding`);
    if (bits === 16) refuse('16-bit CMYK TIFF cannot be re-encoded without losing bit depth');
    space = 'cmyk';
  } else if (photometric === 3) {
    warnings.push('palette TIFF: re-encoding (when needed) writes RGB with the same colours');
  } else {
    refuse(`TIFF PhotometricInterpretation ${photometric} is not supported for re-encoding`);
  }
  if (bits < 8 && photometric !== 0 && photometric !== 1 && photometric !== 3) refuse(`${bits}-bit colour TIFF is not supported for re-encoding`);

  return {
    format: 'tiff',
    width,
    height,
    places,
    lossless: scheme?.lossless ?? true,
    space,
    warnings,
    littleEndian,
    ifd0,
    pages,
    furtherPages,
    compression,
    predictor,
    bitsPerSample,
    photometric,
    tile: tileWidth !== undefined && tileHeight !== undefined ? { width: tileWidth, height: tileHeight } : undefined,
    jpegQuality: compression === 7 ? tiffJpegQuality(t, ifd0) : undefined,
    refusal,
  };
}

/** Whether JPEG-in-TIFF can be re-encoded as JPEG-in-TIFF by libvips: 8-bit grey or RGB/YCbCr. */
function jpegFeasible(info: TiffInfo): boolean {
  return info.bitsPerSample[0] === 8 && (info.space === 'srgb' || info.space === 'b-w');
}

/**
 * Sets sharp's TIFF output to match the input: the same compression (lossless stays lossless
 * and bit-exact; JPEG at the estimated quality, or deflate where libvips cannot write JPEG for
 * the sample layout), predictor, tiling, 1/2/4-bit grey depth and WhiteIsZero.
 *
 * @throws {ExifFixError} code `'unsupported'` for the variants {@link readTiff} refused.
 */
function encodeTiff(image: Sharp, info: TiffInfo): Sharp {
  if (info.refusal) throw new ExifFixError(info.refusal.reason, info.refusal.code);
  const scheme = COMPRESSION[info.compression];
  let compression = scheme.sharp;
  const options: TiffOptions = {};
  if (compression === 'jpeg') {
    if (jpegFeasible(info)) options.quality = info.jpegQuality;
    else compression = 'deflate';
  }
  options.compression = compression;
  if (compression === 'lzw' || compression === 'deflate' || compression === 'zstd') {
    options.predictor = info.predictor === 2 ? 'horizontal' : info.predictor === 3 ? 'float' : 'none';
  }
  if (info.tile) Object.assign(options, { tile: true, tileWidth: info.tile.width, tileHeight: info.tile.height });
  const bits = info.bitsPerSample[0];
  if ((info.photometric === 0 || info.photometric === 1) && (bits === 1 || bits === 2 || bits === 4)) options.bitdepth = bits;
  if (info.photometric === 0) options.miniswhite = true;
  return image.tiff(options);
}

/** The pieces of the fresh encoding that go into the output: its structure entries and pixel blobs. */
function freshStructure(pixels: EncodedPixels, littleEndian: boolean): { entries: OutEntry[]; bits: number; littleEndian: boolean; compression: number } {
  const fresh = pixels.data;
  const freshLE = tiffByteOrder(fresh);
  const t = new TiffView(fresh, freshLE);
  const ifd = readIfd(t, t.u32(4));
  const bits = Math.max(...entryInts(t, ifd.entries.get(T.BitsPerSample), MAX_SAMPLES), 1);
  const compression = entryInt(t, ifd.entries.get(T.Compression)) ?? 1;
  // Samples wider than a byte are stored in the fresh encoding's order, inside compressed data.
  const outLE = bits > 8 && compression !== 7 ? freshLE : littleEndian;
  const entries: OutEntry[] = [];
  const blobsOf = (offsetsTag: number, countsTag: number) => {
    const offsets = entryInts(t, ifd.entries.get(offsetsTag), Number.MAX_SAFE_INTEGER);
    const counts = entryInts(t, ifd.entries.get(countsTag), Number.MAX_SAFE_INTEGER);
    ensure(offsets.length === counts.length, 'the fresh TIFF encoding has mismatched strip tables');
    return offsets.map((o, k) => {
      ensure(o + counts[k] <= fresh.length, 'the fresh TIFF encoding has a strip out of range');
      return fresh.subarray(o, o + counts[k]);
    });
  };
  for (const [tag, entry] of ifd.entries) {
    if (!STRUCTURE_TAGS.has(tag)) continue;
    if (tag === T.StripOffsets) entries.push({ tag, blobs: blobsOf(T.StripOffsets, T.StripByteCounts) });
    else if (tag === T.TileOffsets) entries.push({ tag, blobs: blobsOf(T.TileOffsets, T.TileByteCounts) });
    else entries.push(entryValues(t, entry, outLE));
  }
  return { entries, bits, littleEndian: outLE, compression };
}

/** Copies a sub-IFD (Exif, GPS, Interoperability) with its values, bounded in depth. */
function copySubIfd(
  t: TiffView,
  offset: number,
  littleEndian: boolean,
  depth: number,
  seen: Set<number>,
  patch: (entry: IfdEntry) => OutEntry | null | undefined,
  warnings: string[],
): OutIfd {
  ensure(!seen.has(offset), `sub-IFD at byte ${offset} is reached twice`);
  seen.add(offset);
  const ifd = readIfd(t, offset);
  const entries: OutEntry[] = [];
  for (const [tag, entry] of ifd.entries) {
    if (SUB_IFD_TAGS.has(tag)) {
      const target = entryInt(t, entry);
      if (depth < 3 && target !== undefined && target >= 8 && target < t.bytes.length && !seen.has(target)) {
        entries.push({ tag, type: entry.type === FIELD.IFD ? FIELD.IFD : FIELD.LONG, ifd: copySubIfd(t, target, littleEndian, depth + 1, seen, patch, warnings) });
      } else {
        warnings.push(`sub-IFD pointer 0x${tag.toString(16)} at depth ${depth} is invalid and was dropped`);
      }
      continue;
    }
    const patched = patch(entry);
    if (patched === null) continue;
    entries.push(patched ?? entryValues(t, entry, littleEndian, OPAQUE_TAGS.has(tag)));
  }
  return { entries };
}

/** Writes orientation 1 into IFD0's existing Orientation entry (SHORT, LONG or BYTE). */
function setOrientationInPlace(t: TiffView, ifd0: Ifd): void {
  const entry = ifd0.entries.get(TAG.Orientation);
  if (!entry || entry.count < 1) return;
  if (entry.type === 3 || entry.type === 8) t.view.setUint16(entry.valueOffset, 1, t.littleEndian);
  else if (entry.type === 4 || entry.type === 9) t.view.setUint32(entry.valueOffset, 1, t.littleEndian);
  else if (entry.type === 1 || entry.type === 6 || entry.type === 7) t.bytes[entry.valueOffset] = 1;
}

/**
 * Metadata-only rewrite: the input's bytes with orientation 1 in IFD0's entry and, when the XMP
 * packet changes, the new packet in place (same length, the usual case thanks to its padding)
 * or appended at the end of the file with tag 700 pointing to it (the old bytes are zeroed).
 * Further pages are left untouched.
 */
function patchInPlace(original: Uint8Array, info: TiffInfo): Uint8Array {
  let out = copyBytes(original);
  let t = new TiffView(out, info.littleEndian);
  setOrientationInPlace(t, info.ifd0);
  const xmp = info.ifd0.entries.get(T.XMP);
  if (xmp && xmp.byteLength > 4) {
    const packet = out.subarray(xmp.valueOffset, xmp.valueOffset + xmp.byteLength);
    const patched = patchXmpBytes(packet, info.width, info.height);
    if (patched !== packet) {
      if (patched.length === packet.length) {
        out.set(patched, xmp.valueOffset);
      } else {
        const at = out.length + (out.length & 1);
        if (at + patched.length > 0xffffffff) throw new ExifFixError('the TIFF would be larger than 4 GiB, which needs BigTIFF', 'unsupported');
        const grown = new Uint8Array(at + patched.length);
        grown.set(out);
        grown.fill(0, xmp.valueOffset, xmp.valueOffset + xmp.byteLength);
        grown.set(patched, at);
        out = grown;
        t = new TiffView(out, info.littleEndian);
        // XMP is BYTE or UNDEFINED: count is the length in bytes.
        t.view.setUint32(xmp.entryOffset + 4, patched.length, t.littleEndian);
        t.view.setUint32(xmp.entryOffset + 8, at, t.littleEndian);
      }
    }
  }
  return out;
}

/**
 * Builds the output TIFF; see the module comment for what is kept.
 *
 * @param original - the input file.
 * @param info - what {@link readTiff} found.
 * @param pixels - the fresh TIFF from {@link encodeTiff}, or `null` to patch `original` in place.
 * @param context - the orientation applied (X/YResolution swap for 5-8) and a warning sink.
 * @returns the new file.
 * @throws {ExifFixError} code `'corrupt'` when a sub-IFD is out of range or reached twice,
 *   `'unsupported'` past 4 GiB.
 */
function writeTiff(original: Uint8Array, info: TiffInfo, pixels: EncodedPixels | null, context: WriteContext): Uint8Array {
  if (!pixels) return patchInPlace(original, info);
  const { warnings } = context;
  const fresh = freshStructure(pixels, info.littleEndian);
  const le = fresh.littleEndian;
  if (le !== info.littleEndian) warnings.push('written little-endian: the new encoding stores its 16-bit samples little-endian');
  if (info.compression === 7 && fresh.compression !== 7) warnings.push('JPEG-compressed TIFF re-encoded with deflate: libvips cannot write JPEG for this sample layout');
  if (info.photometric === 3) warnings.push('palette TIFF re-encoded as RGB');
  if (info.compression === 3) warnings.push('CCITT Group 3 TIFF re-encoded as Group 4 (the same bits): libvips cannot write Group 3');
  const t = new TiffView(original, info.littleEndian);
  const swapAxes = ORIENTATIONS[context.orientation].swapsDimensions;
  const entries: OutEntry[] = [...fresh.entries];
  const seen = new Set<number>([info.ifd0.offset]);
  const exifPatch = (entry: IfdEntry): OutEntry | undefined => {
    if (entry.tag === TAG.PixelXDimension || entry.tag === TAG.PixelYDimension) {
      const value = entry.tag === TAG.PixelXDimension ? pixels.width : pixels.height;
      return intEntry(entry.tag, [value], le, entry.type === 3 && value <= 0xffff ? 3 : 4);
    }
    if (entry.tag === T.MakerNote) warnings.push('the Exif IFD was relocated: a maker note that uses absolute offsets no longer resolves');
    return undefined;
  };
  for (const [tag, entry] of info.ifd0.entries) {
    if (STRUCTURE_TAGS.has(tag)) continue;
    if (tag === TAG.Orientation) {
      entries.push(intEntry(tag, [1], le, 3));
    } else if (SUB_IFD_TAGS.has(tag)) {
      const target = entryInt(t, entry);
      if (target === undefined || target < 8 || target >= original.length) {
        warnings.push(`IFD0 pointer 0x${tag.toString(16)} is out of range and was dropped`);
        continue;
      }
      entries.push({ tag, type: entry.type === FIELD.IFD ? FIELD.IFD : FIELD.LONG, ifd: copySubIfd(t, target, le, 1, seen, exifPatch, warnings) });
    } else if (UNKNOWN_POINTER_TAGS.has(tag) || entry.type === FIELD.IFD) {
      warnings.push(`IFD0 tag 0x${tag.toString(16)} points to data this tool cannot relocate and was dropped`);
    } else if (tag === T.ImageSourceData) {
      warnings.push('Photoshop layer data (ImageSourceData) describes the old pixel layout and was dropped');
    } else if (tag === T.XMP) {
      const packet = original.subarray(entry.valueOffset, entry.valueOffset + entry.byteLength);
      const data = patchXmpBytes(packet, pixels.width, pixels.height);
      entries.push({ tag, type: entry.type, count: entry.type === FIELD.BYTE || entry.type === FIELD.UNDEFINED ? data.length : entry.count, data });
    } else if ((tag === T.XResolution || tag === T.YResolution) && swapAxes) {
      const other = info.ifd0.entries.get(tag === T.XResolution ? T.YResolution : T.XResolution);
      entries.push({ ...entryValues(t, other ?? entry, le), tag });
    } else {
      entries.push(entryValues(t, entry, le, OPAQUE_TAGS.has(tag)));
    }
  }
  const further = info.furtherPages.map((page, k) => copyPage(t, page, k + 2, le, seen, warnings));
  return serializeTiff({ entries }, le, further);
}

/**
 * Page `number` of the input as an output IFD, byte for byte: every tag's values, its strips or
 * tiles, and its Exif/GPS sub-IFDs (values relocated). Pointer tags this module cannot follow
 * are dropped with a warning, as for IFD0.
 *
 * @throws {ExifFixError} code `'unsupported'` when the output byte order differs from the input
 *   and the page has samples wider than a byte (their bytes would have to be swapped inside
 *   compressed data); `'corrupt'` for strips out of range.
 */
function copyPage(t: TiffView, page: Ifd, number: number, le: boolean, seen: Set<number>, warnings: string[]): OutIfd {
  const bits = Math.max(1, ...entryInts(t, page.entries.get(T.BitsPerSample), MAX_SAMPLES));
  if (le !== t.littleEndian && bits > 8) {
    throw new ExifFixError(`page ${number} has ${bits}-bit samples in the input's byte order, which the rewritten file does not use`, 'unsupported');
  }
  const blobsOf = (offsetsTag: number, countsTag: number): Uint8Array[] => {
    const offsets = entryInts(t, page.entries.get(offsetsTag), Number.MAX_SAFE_INTEGER);
    const counts = entryInts(t, page.entries.get(countsTag), Number.MAX_SAFE_INTEGER);
    ensure(offsets.length === counts.length, () => `page ${number} has mismatched strip tables`);
    return offsets.map((o, k) => {
      ensure(o + counts[k] <= t.bytes.length, () => `page ${number} has a strip out of range`);
      return t.bytes.subarray(o, o + counts[k]);
    });
  };
  const entries: OutEntry[] = [];
  for (const [tag, entry] of page.entries) {
    if (tag === T.StripOffsets) entries.push({ tag, blobs: blobsOf(T.StripOffsets, T.StripByteCounts) });
    else if (tag === T.TileOffsets) entries.push({ tag, blobs: blobsOf(T.TileOffsets, T.TileByteCounts) });
    else if (SUB_IFD_TAGS.has(tag)) {
      const target = entryInt(t, entry);
      if (target === undefined || target < 8 || target >= t.bytes.length || seen.has(target)) {
        warnings.push(`page ${number} pointer 0x${tag.toString(16)} is out of range and was dropped`);
        continue;
      }
      entries.push({ tag, type: entry.type === FIELD.IFD ? FIELD.IFD : FIELD.LONG, ifd: copySubIfd(t, target, le, 1, seen, () => undefined, warnings) });
    } else if (UNKNOWN_POINTER_TAGS.has(tag) || entry.type === FIELD.IFD || tag === 288 || tag === 289) {
      warnings.push(`page ${number} tag 0x${tag.toString(16)} points to data this tool cannot relocate and was dropped`);
    } else {
      entries.push(entryValues(t, entry, le, OPAQUE_TAGS.has(tag)));
    }
  }
  return { entries };
}

/** The TIFF container module (TIFF 6.0; classic TIFF only, not BigTIFF). */
export const tiff: Container<TiffInfo> = {
  format: 'tiff',
  sniff: isTiff,
  read: readTiff,
  encode: encodeTiff,
  write: writeTiff,
};
