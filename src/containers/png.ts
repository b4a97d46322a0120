/**
 * PNG: orientation lives in the `eXIf` chunk, in XMP (`iTXt` keyword `XML:com.adobe.xmp`) and in
 * ImageMagick's "Raw profile type exif" text chunks (DESIGN.md section 2; PNG spec third edition
 * sections 11.3.3 and 11.3.6). The output keeps every other chunk of the input byte for byte and
 * in a valid position (PNG spec section 5.6), around the new image data.
 */
import type { Sharp } from 'sharp';
import { ExifFixError } from '../errors.js';
import { EXIF_HEADER, exifPlaces, rewriteExif } from '../metadata/exif.js';
import { readExifOrientation } from '../metadata/tiff.js';
import { patchXmp, patchXmpBytes, readXmpOrientation, XMP_APP1_HEADER } from '../metadata/xmp.js';
import { decideOrientation, ORIENTATIONS, type Orientation } from '../orientation.js';
import { concat, startsWith } from '../bytes.js';
import { buildChunk, isAncillary, isPng, isSafeToCopy, parsePng, PNG_SIGNATURE, type PngChunk, type PngHeader, type PngStructure } from './png-chunks.js';
import { formatRawProfile, isTextChunk, MAX_TEXT_BYTES, parseRawProfile, parseTextChunk, rebuildText, textBytes, type PngText } from './png-text.js';
import type { Container, ContainerInfo, EncodedPixels, OrientationPlace, ReadOptions, WriteContext } from './types.js';

/** The iTXt keyword of XMP in PNG (XMP Specification Part 3, section 1.1.5). */
const XMP_KEYWORD = 'XML:com.adobe.xmp';
/** ImageMagick's keywords for an EXIF profile: "exif" (EXIF with or without "Exif\0\0"), "APP1" (a JPEG APP1 payload). */
const RAW_EXIF_KEYWORDS = new Set(['Raw profile type exif', 'Raw profile type APP1']);
const RAW_XMP_KEYWORD = 'Raw profile type xmp';

/**
 * Chunks that exif-fix understands, so that the unsafe-to-copy rule for unknown chunks (PNG spec
 * section 14.2) does not apply to them: the critical chunks, the ancillary chunks of the spec
 * and its extensions, and APNG's.
 */
const KNOWN_CHUNKS = new Set([
  'IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB', 'cICP', 'mDCV', 'mDCv', 'cLLI', 'cLLi',
  'tEXt', 'zTXt', 'iTXt', 'bKGD', 'hIST', 'pHYs', 'sPLT', 'eXIf', 'tIME', 'acTL', 'fcTL', 'fdAT', 'oFFs', 'pCAL', 'sCAL',
  'sTER', 'gIFg', 'gIFx', 'orNT', 'vpAg', 'caNv',
]);

/** What the PNG reader found. */
export interface PngInfo extends ContainerInfo {
  readonly format: 'png';
  /** Signature, IHDR fields and every chunk. */
  readonly structure: PngStructure;
  /** Whether an `acTL` chunk makes this an animated PNG (APNG). */
  readonly animated: boolean;
}

/** A metadata chunk that holds (or may hold) an orientation, and how to read it. */
type Carrier =
  | { readonly kind: 'exif'; readonly chunk: PngChunk; readonly prefixed: boolean; readonly tiff: Uint8Array }
  | { readonly kind: 'xmp'; readonly chunk: PngChunk; readonly text: PngText; readonly packet: Uint8Array }
  | {
      readonly kind: 'raw-exif' | 'raw-xmp';
      readonly chunk: PngChunk;
      readonly text: PngText;
      readonly name: string;
      /** Bytes before the payload inside the profile: "Exif\0\0", the XMP APP1 header, or none. */
      readonly prefix: Uint8Array;
      readonly payload: Uint8Array;
    };

function dataOf(bytes: Uint8Array, chunk: PngChunk): Uint8Array {
  return bytes.subarray(chunk.dataOffset, chunk.dataOffset + chunk.length);
}

/**
 * Finds the orientation carrier in a chunk, if it is one.
 *
 * @param budget - bytes that compressed carriers of this file may still inflate to; reduced here.
 * @returns the carrier, or `undefined` for any other chunk.
 * @throws {ExifFixError} code `'limit'` for a text chunk that inflates past 16 MiB, or when the
 *   file's carriers together inflate past {@link MAX_TOTAL_TEXT_BYTES}; code `'corrupt'` for a
 *   carrier that cannot be decoded (the caller warns and keeps it as it is).
 */
function carrierOf(bytes: Uint8Array, chunk: PngChunk, budget: TextBudget): Carrier | undefined {
  const data = dataOf(bytes, chunk);
  if (chunk.type === 'eXIf') {
    // The PNG spec (section 11.3.6.1) says raw TIFF; some writers put JPEG's "Exif\0\0" first.
    const prefixed = startsWith(data, EXIF_HEADER);
    return { kind: 'exif', chunk, prefixed, tiff: prefixed ? data.subarray(EXIF_HEADER.length) : data };
  }
  if (!isTextChunk(chunk.type)) return undefined;
  const text = parseTextChunk(chunk.type, data);
  if (text.keyword === XMP_KEYWORD) return { kind: 'xmp', chunk, text, packet: inflateWithin(text, budget) };
  if (!RAW_EXIF_KEYWORDS.has(text.keyword) && text.keyword !== RAW_XMP_KEYWORD) return undefined;
  const profile = parseRawProfile(inflateWithin(text, budget));
  const none = new Uint8Array(0);
  if (text.keyword === RAW_XMP_KEYWORD) return { kind: 'raw-xmp', chunk, text, name: profile.name, prefix: none, payload: profile.data };
  if (startsWith(profile.data, XMP_APP1_HEADER)) {
    const prefix = profile.data.subarray(0, XMP_APP1_HEADER.length);
    return { kind: 'raw-xmp', chunk, text, name: profile.name, prefix, payload: profile.data.subarray(prefix.length) };
  }
  const prefix = startsWith(profile.data, EXIF_HEADER) ? profile.data.subarray(0, EXIF_HEADER.length) : none;
  return { kind: 'raw-exif', chunk, text, name: profile.name, prefix, payload: profile.data.subarray(prefix.length) };
}

/**
 * The most bytes all compressed orientation carriers of one file may inflate to together. Each
 * chunk is held to 16 MiB, but without a total, 64 chunks of just under 16 MiB (a 1 MB file)
 * took 15 s and 3.9 GB of memory.
 */
export const MAX_TOTAL_TEXT_BYTES = 2 * MAX_TEXT_BYTES;

/** What is left of {@link MAX_TOTAL_TEXT_BYTES} while one file's chunks are walked. */
interface TextBudget {
  left: number;
}

/** A fresh per-file budget for {@link carrierOf}. */
function textBudget(): TextBudget {
  return { left: MAX_TOTAL_TEXT_BYTES };
}

/** {@link textBytes}, counted against the file's budget. @throws {ExifFixError} code `'limit'` past it. */
function inflateWithin(text: PngText, budget: TextBudget): Uint8Array {
  const bytes = textBytes(text);
  if (text.compressed) {
    budget.left -= bytes.length;
    if (budget.left < 0) {
      throw new ExifFixError(`PNG text chunks inflate to more than ${MAX_TOTAL_TEXT_BYTES} bytes in all`, 'limit');
    }
  }
  return bytes;
}

/** Like {@link carrierOf}, but a carrier that cannot be decoded becomes a warning. */
function tryCarrier(bytes: Uint8Array, chunk: PngChunk, warnings: string[], budget: TextBudget): Carrier | undefined {
  try {
    return carrierOf(bytes, chunk, budget);
  } catch (error) {
    if (error instanceof ExifFixError && error.code === 'corrupt') {
      warnings.push(`PNG ${chunk.type} chunk at byte ${chunk.offset} is unreadable (${error.message}); it is kept as it is`);
      return undefined;
    }
    throw error;
  }
}

function xmpString(carrier: Carrier & { kind: 'xmp' }): string {
  const encoding = carrier.text.type === 'iTXt' ? 'utf8' : 'latin1';
  return Buffer.from(carrier.packet.buffer, carrier.packet.byteOffset, carrier.packet.byteLength).toString(encoding);
}

/**
 * Reads the chunk layout and every orientation place. With `options.headerOnly` the CRCs of the
 * IDAT chunks are not checked (the rest still are), so planning a run over large files stays fast.
 */
function readPng(bytes: Uint8Array, options: ReadOptions = {}): PngInfo {
  const structure = parsePng(bytes, { verifyImageData: !options.headerOnly });
  const { header } = structure;
  const places: OrientationPlace[] = [];
  const warnings: string[] = [];
  const exif: Uint8Array[] = [];
  let animated = false;
  const budget = textBudget();
  for (const chunk of structure.chunks) {
    if (chunk.type === 'acTL') animated = true;
    if (chunk.type === 'orNT' && chunk.length === 1) {
      const value = bytes[chunk.dataOffset];
      if (value > 1) warnings.push(`ImageMagick orNT chunk says ${value}; it is not counted as an orientation place and is set to 1 when the file is rewritten`);
    }
    const carrier = tryCarrier(bytes, chunk, warnings, budget);
    if (!carrier) continue;
    if (carrier.kind === 'exif' || carrier.kind === 'raw-exif') {
      const tiff = carrier.kind === 'exif' ? carrier.tiff : carrier.payload;
      exif.push(tiff);
      try {
        const exif = readExifOrientation(tiff);
        places.push(...exifPlaces(exif, carrier.kind === 'exif' ? 'exif' : 'exif-raw-profile'));
      } catch (error) {
        warnings.push(`EXIF in PNG ${chunk.type} chunk is unreadable (${(error as Error).message}); it is kept as it is`);
      }
    } else {
      const text = carrier.kind === 'xmp' ? xmpString(carrier) : Buffer.from(carrier.payload).toString('utf8');
      const value = readXmpOrientation(text);
      if (value !== undefined) places.push({ source: 'xmp', value });
    }
  }
  const { colourType, bitDepth } = header;
  const grey = colourType === 0 || colourType === 4;
  return {
    format: 'png',
    width: header.width,
    height: header.height,
    places,
    lossless: true,
    space: bitDepth === 16 ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb',
    warnings,
    structure,
    animated,
    exif,
    refusal: animated ? { code: 'unsupported', reason: 'animated PNG (acTL chunk) is not supported when the pixels must change: each frame would have to be transformed and re-encoded' } : undefined,
  };
}

/**
 * Sets sharp's PNG output: lossless, the input's interlacing, never a palette. 16-bit input stays
 * 16-bit (the pipeline runs in `rgb16`/`grey16`), grey stays grey and alpha stays alpha.
 * Indexed-colour (palette) input becomes truecolour (with alpha when it had `tRNS`): every pixel
 * keeps its exact colour, only the storage changes; bit depths below 8 become 8.
 */
function encodePng(image: Sharp, info: PngInfo): Sharp {
  return image.png({ compressionLevel: 6, adaptiveFiltering: true, palette: false, progressive: info.structure.header.interlace === 1, force: true });
}

/** Scales a sample from `fromDepth` to `toDepth` bits, as PNG decoders expand samples (PNG spec section 13.12). */
function scaleSample(value: number, fromDepth: number, toDepth: number): number {
  if (fromDepth === toDepth) return value;
  return Math.round((value * (2 ** toDepth - 1)) / (2 ** fromDepth - 1));
}

function isGreyType(colourType: number): boolean {
  return colourType === 0 || colourType === 4;
}

function hasAlphaChannel(colourType: number): boolean {
  return colourType === 4 || colourType === 6;
}

/**
 * Translates a `bKGD` chunk (PNG spec section 11.3.5.1) to a new colour type and bit depth: a
 * palette index becomes the palette's RGB, samples are rescaled.
 *
 * @returns the new chunk data, or `undefined` when it cannot be translated.
 */
function translateBkgd(data: Uint8Array, from: PngHeader, to: PngHeader, palette: Uint8Array | undefined): Uint8Array | undefined {
  let samples: number[];
  let depth = from.bitDepth;
  if (from.colourType === 3) {
    if (data.length !== 1 || !palette || data[0] * 3 + 3 > palette.length) return undefined;
    samples = Array.from(palette.subarray(data[0] * 3, data[0] * 3 + 3));
    depth = 8;
  } else if (isGreyType(from.colourType)) {
    if (data.length !== 2) return undefined;
    samples = [(data[0] << 8) | data[1]];
  } else {
    if (data.length !== 6) return undefined;
    samples = [0, 2, 4].map((i) => (data[i] << 8) | data[i + 1]);
  }
  if (to.colourType === 3) return undefined;
  if (isGreyType(to.colourType)) {
    if (samples.length !== 1) return undefined;
  } else if (samples.length === 1) samples = [samples[0], samples[0], samples[0]];
  const out = new Uint8Array(samples.length * 2);
  samples.forEach((s, i) => {
    const v = scaleSample(s, depth, to.bitDepth);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/**
 * Translates an `sBIT` chunk (PNG spec section 11.3.4.2) to a new colour type and bit depth: the
 * significant bits of the colour samples are kept, an alpha channel that was `tRNS` gets full depth.
 *
 * @returns the new chunk data, or `undefined` when it cannot be translated.
 */
function translateSbit(data: Uint8Array, from: PngHeader, to: PngHeader): Uint8Array | undefined {
  const colourCount = isGreyType(from.colourType) ? 1 : 3;
  if (data.length !== colourCount + (hasAlphaChannel(from.colourType) ? 1 : 0)) return undefined;
  let colour = Array.from(data.subarray(0, colourCount));
  if (isGreyType(to.colourType)) {
    if (colour.length !== 1) return undefined;
  } else if (colour.length === 1) colour = [colour[0], colour[0], colour[0]];
  const values = hasAlphaChannel(to.colourType) ? [...colour, hasAlphaChannel(from.colourType) ? data[colourCount] : from.colourType === 3 ? 8 : from.bitDepth] : colour;
  if (to.colourType === 3 || values.some((v) => v < 1 || v > to.bitDepth)) return undefined;
  return Uint8Array.from(values);
}

/**
 * Swaps the X and Y values of `pHYs` (pixels per unit; PNG spec section 11.3.5.3) or `sCAL`
 * (physical pixel size; section 11.3.5.4) for a transform that swaps width and height.
 *
 * @returns the new chunk data, or `undefined` when nothing changes or the chunk is malformed.
 */
function swapAxes(type: string, data: Uint8Array): Uint8Array | undefined {
  if (type === 'pHYs') {
    if (data.length !== 9) return undefined;
    const out = new Uint8Array(9);
    out.set(data.subarray(4, 8), 0);
    out.set(data.subarray(0, 4), 4);
    out[8] = data[8];
    return startsWith(out, data) ? undefined : out;
  }
  // sCAL: unit byte, width as ASCII, null, height as ASCII.
  const sep = data.indexOf(0, 1);
  if (data.length < 4 || sep < 2 || sep >= data.length - 1) return undefined;
  const x = data.subarray(1, sep);
  const y = data.subarray(sep + 1);
  return concat([data.subarray(0, 1), y, Uint8Array.of(0), x]);
}

/**
 * The new bytes of an orientation carrier: orientation 1 and the new pixel size, everything else
 * of the chunk kept; or `undefined` when nothing in it needs changing.
 */
function patchCarrier(
  carrier: Carrier,
  width: number,
  height: number,
  context: WriteContext,
  warnings: string[],
): Uint8Array | undefined {
  const exifPatch = (tiff: Uint8Array) => rewriteExif(tiff, { width, height, thumbnails: context.thumbnails, pixelsChanged: context.orientation !== 1, where: `PNG ${carrier.chunk.type} chunk` }, warnings);
  switch (carrier.kind) {
    case 'exif': {
      const tiff = exifPatch(carrier.tiff);
      if (!tiff) return undefined;
      return buildChunk('eXIf', carrier.prefixed ? concat([EXIF_HEADER, tiff]) : tiff);
    }
    case 'xmp': {
      let packet: Uint8Array;
      if (carrier.text.type === 'iTXt') {
        packet = patchXmpBytes(carrier.packet, width, height);
      } else {
        const text = xmpString(carrier);
        const patched = patchXmp(text, width, height);
        packet = patched === text ? carrier.packet : new Uint8Array(Buffer.from(patched, 'latin1'));
      }
      if (packet === carrier.packet) return undefined;
      return buildChunk(carrier.chunk.type, rebuildText(carrier.text, packet));
    }
    case 'raw-exif':
    case 'raw-xmp': {
      let payload: Uint8Array | undefined;
      if (carrier.kind === 'raw-exif') payload = exifPatch(carrier.payload);
      else {
        const patched = patchXmpBytes(carrier.payload, width, height);
        payload = patched === carrier.payload ? undefined : patched;
      }
      if (!payload) return undefined;
      const text = formatRawProfile({ name: carrier.name, data: concat([carrier.prefix, payload]) });
      return buildChunk(carrier.chunk.type, rebuildText(carrier.text, text));
    }
  }
}

/**
 * Builds the output. Metadata-only (`pixels` null): every chunk of the input in order, with the
 * orientation carriers patched. With new pixels: the new encoding's IHDR, PLTE, tRNS and IDAT
 * chunks; every other chunk of the input in its place (before or after the image data, PLTE
 * where the input's was), patched where it describes the pixels (see the module doc); bytes after
 * IEND kept.
 *
 * Dropped with new pixels: the input's IHDR, IDAT, tRNS, a palette's PLTE and hIST (the new image
 * is truecolour), `bKGD`/`sBIT` that cannot be translated to the new colour type (warned), and
 * unknown chunks that are not safe to copy (PNG spec section 14.2; warned).
 */
function writePng(original: Uint8Array, info: PngInfo, pixels: EncodedPixels | null, context: WriteContext): Uint8Array {
  const { structure } = info;
  const width = pixels?.width ?? info.width;
  const height = pixels?.height ?? info.height;
  const swaps = pixels !== null && ORIENTATIONS[context.orientation].swapsDimensions;
  const whole = (c: PngChunk) => original.subarray(c.offset, c.end);

  // Ancillary chunks that change: orientation carriers, and the pixel-geometry chunks.
  const replaced = new Map<PngChunk, Uint8Array>();
  const budget = textBudget();
  for (const chunk of structure.chunks) {
    const carrier = tryCarrier(original, chunk, context.warnings, budget);
    if (carrier) {
      const patched = patchCarrier(carrier, width, height, context, context.warnings);
      if (patched) replaced.set(chunk, patched);
    } else if (chunk.type === 'orNT' && chunk.length === 1 && original[chunk.dataOffset] > 1) {
      replaced.set(chunk, buildChunk('orNT', Uint8Array.of(1)));
    } else if (swaps && (chunk.type === 'pHYs' || chunk.type === 'sCAL')) {
      const swapped = swapAxes(chunk.type, dataOf(original, chunk));
      if (swapped) replaced.set(chunk, buildChunk(chunk.type, swapped));
    }
  }
  const parts: Uint8Array[] = [PNG_SIGNATURE];
  if (!pixels) {
    for (const chunk of structure.chunks) parts.push(replaced.get(chunk) ?? whole(chunk));
    parts.push(original.subarray(structure.iendEnd));
    return concat(parts);
  }

  const fresh = parsePng(pixels.data);
  const freshWhole = (c: PngChunk) => pixels.data.subarray(c.offset, c.end);
  const from = structure.header;
  const to = fresh.header;
  const sameLayout = from.colourType === to.colourType && from.bitDepth === to.bitDepth;
  const freshPalette = fresh.chunks.filter((c) => c.type === 'PLTE' || c.type === 'tRNS').map(freshWhole);
  // A suggested palette (PLTE in a truecolour image, PNG spec section 11.2.3) still suits the
  // same colours, so it stays when the new image is truecolour without one.
  const keepSuggestedPalette = from.colourType !== 3 && (to.colourType === 2 || to.colourType === 6) && freshPalette.length === 0;
  const inputPlte = structure.chunks.find((c) => c.type === 'PLTE');
  const palette = inputPlte ? dataOf(original, inputPlte) : undefined;

  const before: Uint8Array[] = [];
  const after: Uint8Array[] = [];
  let paletteAt = -1;
  let sawIdat = false;
  for (const chunk of structure.chunks) {
    const { type } = chunk;
    if (type === 'IDAT') {
      sawIdat = true;
      continue;
    }
    if (type === 'IHDR' || type === 'IEND' || type === 'tRNS') continue;
    const list = sawIdat ? after : before;
    let data = replaced.get(chunk) ?? whole(chunk);
    if (type === 'PLTE' || type === 'hIST') {
      if (type === 'PLTE' && paletteAt < 0) paletteAt = before.length;
      if (!keepSuggestedPalette) continue;
    } else if ((type === 'bKGD' || type === 'sBIT') && !sameLayout) {
      const chunkData = dataOf(original, chunk);
      const translated = type === 'bKGD' ? translateBkgd(chunkData, from, to, palette) : translateSbit(chunkData, from, to);
      if (!translated) {
        context.warnings.push(`PNG ${type} chunk does not fit the new colour type ${to.colourType} (bit depth ${to.bitDepth}); it is dropped`);
        continue;
      }
      data = buildChunk(type, translated);
      if (type === 'bKGD' && paletteAt < 0) paletteAt = before.length;
    } else if (!KNOWN_CHUNKS.has(type) && !(isAncillary(type) && isSafeToCopy(type))) {
      context.warnings.push(`PNG chunk ${type} is unknown and not safe to copy after the image data changes (PNG spec section 14.2); it is dropped`);
      continue;
    }
    list.push(data);
  }
  if (freshPalette.length > 0) before.splice(paletteAt < 0 ? before.length : paletteAt, 0, ...freshPalette);
  const ihdr = fresh.chunks[0];
  const iend = structure.chunks[structure.chunks.length - 1];
  parts.push(freshWhole(ihdr), ...before);
  for (const chunk of fresh.chunks) if (chunk.type === 'IDAT') parts.push(freshWhole(chunk));
  parts.push(...after, whole(iend), original.subarray(structure.iendEnd));
  return concat(parts);
}

/** The PNG container module. */
export const png: Container<PngInfo> = {
  format: 'png',
  sniff: isPng,
  read: readPng,
  encode: encodePng,
  write: writePng,
};
