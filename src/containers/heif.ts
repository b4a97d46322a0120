/**
 * HEIF/AVIF: orientation lives in the `irot` (rotation) and `imir` (mirror) item properties of
 * the primary image (ISO/IEC 23008-12 sections 6.5.10 and 6.5.12), which decoders apply
 * (docs/DESIGN.md section 2). The EXIF and XMP items are places too: when the file has irot/imir they
 * win and the items are not applied on top (libheif#227; a disagreeing item gets a warning);
 * when it has neither, the EXIF orientation is applied, as its writers (Samsung phones,
 * libheif's own heif-enc) mean it (docs/HEIF-ORIENTATION.md). Either way every place says 1
 * after the run.
 *
 * Pixels: libheif (inside sharp) applies irot/imir when decoding (`decoderApplies`), and sharp
 * encodes a fresh AVIF without irot/imir. This sharp build (prebuilt libvips with libheif + aom)
 * decodes and encodes AV1 only: a HEIC (HEVC) that needs new pixels gets a `refusal` naming
 * `--to jpeg`, and `src/containers/convert.ts` converts it.
 *
 * Output: the fresh encoding's `ftyp`, items and properties, with the input's metadata added
 * back into its `meta` box: the ICC profile (`colr` of type `prof`/`rICC`, byte for byte), the
 * colour primaries and transfer characteristics of an `nclx` `colr`, and the EXIF (orientation
 * 1, PixelXDimension/PixelYDimension updated, thumbnail transformed) and XMP (orientation 1, new
 * size) items, stored in a new `mdat` box at the end of the file (file offsets, which every
 * reader follows) and linked to the primary item with `cdsc` references.
 *
 * Not kept: thumbnails, depth and other auxiliary images (alpha is re-encoded), image
 * sequences, further images and their metadata, item names, and grid tiling (the fresh
 * encoding is one image).
 */
import { createRequire } from 'node:module';
import type { Sharp } from 'sharp';
import { ensure, ExifFixError, printable } from '../errors.js';
import { concat, copyBytes } from '../bytes.js';
import { rewriteExif } from '../metadata/exif.js';
import { readExifOrientation } from '../metadata/tiff.js';
import { patchXmpBytes, readXmpOrientation } from '../metadata/xmp.js';
import { decideOrientation, type Orientation } from '../orientation.js';
import {
  box,
  fullBox,
  fullBoxBytes,
  itemData,
  itemProperties,
  parseMeta,
  readBoxes,
  Reader,
  uints,
  type Box,
  type Meta,
} from './isobmff.js';
import type { Container, ContainerInfo, EncodedPixels, OrientationPlace, WriteContext } from './types.js';

/** ftyp brands of HEIF image files (ISO/IEC 23008-12 Annex B, AV1-ISOBMFF section 6). */
const HEIF_BRANDS: ReadonlySet<string> = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

/**
 * Quality for re-encoding AVIF (and HEIC, where HEVC encoding exists). AV1 streams carry no
 * quantization tables to estimate the source quality from, so a high fixed value is used: at 90
 * libaom's output is visually lossless for photographs at roughly the size of a camera's own
 * HEIC/AVIF.
 */
export const HEIF_QUALITY = 90;

/** The largest EXIF or XMP item carried over, in bytes. */
const MAX_METADATA_ITEM = 16 * 1024 * 1024;

/** One transformative property of the primary item, in `ipma` order. */
export type HeifTransform =
  /** `irot`: rotation by `angle` x 90 degrees anti-clockwise (ISO/IEC 23008-12 section 6.5.10). */
  | { readonly kind: 'irot'; readonly angle: number }
  /**
   * `imir`: mirroring (ISO/IEC 23008-12:2022 section 6.5.12): `axis` 0 exchanges top and bottom
   * (EXIF 4), 1 exchanges left and right (EXIF 2).
   */
  | { readonly kind: 'imir'; readonly axis: number };

/** Chroma subsampling of the coded image. */
export type HeifChroma = '4:4:4' | '4:2:2' | '4:2:0' | '4:0:0';

/** What the HEIF reader found. */
export interface HeifInfo extends ContainerInfo {
  readonly format: 'heif' | 'avif';
  /** Coding of the primary image: `av01`, `hvc1`, or the item type when it is neither (e.g. `jpeg`). */
  readonly codec: string;
  /** Bits per sample of the coded image (8, 10 or 12). */
  readonly bitDepth: number;
  readonly chroma: HeifChroma;
  /** irot/imir of the primary item in `ipma` order (empty when it has none). */
  readonly transforms: readonly HeifTransform[];
  /** The parsed `meta` box of the input (offsets into the input). */
  readonly meta: Meta;
  /** The primary item's ID. */
  readonly primary: number;
}

/**
 * A 2x2 integer matrix `[a, b, c, d]` mapping a pixel offset (x right, y down) to
 * `(a*x + b*y, c*x + d*y)`: the linear part of an orientation transform.
 */
type Matrix = readonly [number, number, number, number];

/** What a viewer applies for each EXIF value (DESIGN.md section 1), as matrices; compare mapPoint in orientation.ts. */
const EXIF_MATRICES: ReadonlyArray<readonly [Orientation, Matrix]> = [
  [1, [1, 0, 0, 1]],
  [2, [-1, 0, 0, 1]],
  [3, [-1, 0, 0, -1]],
  [4, [1, 0, 0, -1]],
  [5, [0, 1, 1, 0]],
  [6, [0, -1, 1, 0]],
  [7, [0, -1, -1, 0]],
  [8, [0, 1, -1, 0]],
];

/** `second` after `first`. */
function compose(second: Matrix, first: Matrix): Matrix {
  const [a, b, c, d] = second;
  const [e, f, g, h] = first;
  return [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h];
}

/**
 * The EXIF orientation equivalent to a sequence of irot/imir properties applied in `ipma` order
 * (ISO/IEC 23008-12:2022 section 6.5.1: transformative properties apply in the order of their
 * association). irot 1 (90 degrees anti-clockwise) is EXIF 8; imir axis 0 is EXIF 4, axis 1 is
 * EXIF 2. So irot 3 then imir 1 is 5 (transpose), irot 3 then imir 0 is 7 (transverse), while
 * imir 1 then irot 3 is 7.
 *
 * @param transforms - the properties in order; angles are taken modulo 4, axes modulo 2.
 * @returns the value 1-8 a viewer would apply to the stored pixels to the same effect.
 * @example orientationFromTransforms([{ kind: 'irot', angle: 3 }]) // 6 (90 degrees clockwise)
 */
export function orientationFromTransforms(transforms: readonly HeifTransform[]): Orientation {
  const ccw90: Matrix = [0, 1, -1, 0];
  let m: Matrix = [1, 0, 0, 1];
  for (const t of transforms) {
    if (t.kind === 'irot') for (let k = 0; k < (t.angle & 3); k++) m = compose(ccw90, m);
    else m = compose((t.axis & 1) === 0 ? [1, 0, 0, -1] : [-1, 0, 0, 1], m);
  }
  const found = EXIF_MATRICES.find(([, e]) => e.every((v, i) => v === m[i]));
  return (found as readonly [Orientation, Matrix])[0];
}

/**
 * The ftyp brands of a file (major and compatible), or `[]` when it does not start with `ftyp`.
 *
 * @param bytes - the file; only the `ftyp` box is looked at, up to `limit` bytes.
 * @param limit - how many bytes to look at.
 */
function brands(bytes: Uint8Array, limit: number): string[] {
  if (bytes.length < 16) return [];
  const type = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (type !== 'ftyp') return [];
  const size = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const end = Math.min(size, bytes.length, limit);
  const out: string[] = [];
  const at = (o: number) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  out.push(at(8));
  for (let o = 16; o + 4 <= end; o += 4) out.push(at(o));
  return out;
}

/** Whether `bytes` start with an ISOBMFF `ftyp` naming a HEIF/AVIF image brand (first 32 bytes). */
function isHeif(bytes: Uint8Array): boolean {
  return brands(bytes, 32).some((b) => HEIF_BRANDS.has(b));
}

/** Whether this sharp build can decode HEVC-coded HEIF: its heif loader then lists `.heic`. */
function hevcAvailable(): boolean {
  // Loaded here, on first need, so that reading headers (--check) never loads libvips.
  const sharp = createRequire(import.meta.url)('sharp') as typeof import('sharp');
  return sharp.format.heif?.input.fileSuffix?.includes('.heic') ?? false;
}

/**
 * Bit depth and chroma from `av1C` (AV1-ISOBMFF section 2.3.3) or `hvcC` (ISO/IEC 14496-15
 * section 8.3.3.1); `undefined` when neither is present or complete (the decoder judges the
 * stream itself, and a file that needs no new pixels does not need its coding).
 */
function codingOf(r: Reader, props: readonly Box[]): { bitDepth: number; chroma: HeifChroma } | undefined {
  const av1C = props.find((p) => p.type === 'av1C');
  if (av1C) {
    if (av1C.payload + 3 > av1C.end) return undefined;
    const b = r.bytes[av1C.payload + 2];
    const high = (b >> 6) & 1;
    const twelve = (b >> 5) & 1;
    const mono = (b >> 4) & 1;
    const sx = (b >> 3) & 1;
    const sy = (b >> 2) & 1;
    return { bitDepth: high ? (twelve ? 12 : 10) : 8, chroma: mono ? '4:0:0' : sx && sy ? '4:2:0' : sx ? '4:2:2' : '4:4:4' };
  }
  const hvcC = props.find((p) => p.type === 'hvcC');
  if (hvcC) {
    if (hvcC.payload + 19 > hvcC.end) return undefined;
    const format = r.bytes[hvcC.payload + 16] & 3;
    const depth = (r.bytes[hvcC.payload + 17] & 7) + 8;
    return { bitDepth: depth, chroma: (['4:0:0', '4:2:0', '4:2:2', '4:4:4'] as const)[format] };
  }
  return undefined;
}

/** The items holding EXIF and XMP of the primary item (cdsc references; all of them when the file has none). */
function metadataItems(meta: Meta, primary: number): { exif: number[]; xmp: number[] } {
  const cdsc = meta.references.filter((ref) => ref.type === 'cdsc');
  const describes = (id: number) => cdsc.length === 0 || cdsc.some((ref) => ref.from === id && ref.to.includes(primary));
  return {
    exif: meta.items.filter((i) => i.type === 'Exif' && describes(i.id)).map((i) => i.id),
    xmp: meta.items.filter((i) => i.type === 'mime' && i.contentType === 'application/rdf+xml' && describes(i.id)).map((i) => i.id),
  };
}

/** The TIFF structure inside an EXIF item: a 4-byte big-endian offset to it, then the bytes (ISO/IEC 23008-12 Annex A.2.1). */
function exifTiffStart(data: Uint8Array): number {
  ensure(data.length >= 4, 'HEIF EXIF item is truncated');
  const offset = ((data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]) >>> 0;
  ensure(4 + offset + 8 <= data.length, 'HEIF EXIF item points past its end');
  return 4 + offset;
}

/**
 * Parses the box structure (never decoding pixels): the primary item, its `ispe` (stored size),
 * its irot/imir in `ipma` order (one place, source `irot-imir`), its coding, and the EXIF/XMP
 * items' orientation (warnings only, libheif#227).
 *
 * @throws {ExifFixError} code `'corrupt'` for a box, item or property out of range, a missing
 *   `meta`, `pitm` or `ispe`; `'unsupported'` for a non-image handler.
 */
function readHeif(bytes: Uint8Array): HeifInfo {
  const r = new Reader(bytes);
  const top = readBoxes(r, 0, bytes.length);
  ensure(top[0]?.type === 'ftyp', 'HEIF file does not start with an ftyp box');
  const metaBox = top.find((b) => b.type === 'meta');
  ensure(metaBox, 'HEIF file has no meta box');
  const meta = parseMeta(r, metaBox);
  if (meta.handler !== 'pict') throw new ExifFixError(`HEIF meta handler '${meta.handler ?? 'none'}' is not an image handler ('pict')`, 'unsupported');
  ensure(meta.primary !== undefined, 'HEIF file has no primary item (pitm)');
  const primary = meta.primary;
  const item = meta.items.find((i) => i.id === primary);
  ensure(item, `HEIF primary item ${primary} has no item info`);
  const props = itemProperties(meta, primary);
  const ispe = props.find((p) => p.type === 'ispe');
  ensure(ispe, 'HEIF primary item has no ispe (image spatial extents) property');
  const { body } = fullBox(r, ispe);
  const width = r.uint(body, 4);
  const height = r.uint(body + 4, 4);
  ensure(width > 0 && height > 0, 'HEIF primary item has a zero size');

  const transforms: HeifTransform[] = [];
  for (const p of props) {
    if (p.type === 'irot') transforms.push({ kind: 'irot', angle: r.uint(p.payload, 1) & 3 });
    else if (p.type === 'imir') transforms.push({ kind: 'imir', axis: r.uint(p.payload, 1) & 1 });
  }
  const places: OrientationPlace[] = [];
  const orientation = orientationFromTransforms(transforms);
  if (transforms.length > 0) places.push({ source: 'irot-imir', value: orientation });

  // A grid's coding is that of its tiles (dimg references, ISO/IEC 23008-12 section 6.6.2.3).
  let codec = item.type;
  let coding = codingOf(r, props);
  if (item.type === 'grid') {
    const tile = meta.references.find((ref) => ref.type === 'dimg' && ref.from === primary)?.to[0];
    const tileItem = meta.items.find((i) => i.id === tile);
    if (tileItem && tile !== undefined) {
      codec = tileItem.type;
      coding = codingOf(r, itemProperties(meta, tile));
    }
  }

  // The EXIF and XMP items are places too (docs/HEIF-ORIENTATION.md): irot/imir win when the
  // file has them (decideOrientation ranks them first, and warns when the items disagree); when it
  // has neither, the EXIF orientation is what its writer meant and is applied.
  const warnings: string[] = [];
  const { exif, xmp } = metadataItems(meta, primary);
  const exifStructures: Uint8Array[] = [];
  for (const id of exif) {
    try {
      const data = itemData(r, meta, id, MAX_METADATA_ITEM);
      const tiff = data ? data.subarray(exifTiffStart(data)) : undefined;
      if (tiff) exifStructures.push(tiff);
      const value = tiff ? readExifOrientation(tiff).orientation : undefined;
      if (value !== undefined) places.push({ source: 'exif', value });
    } catch (error) {
      warnings.push(`EXIF item is unreadable (${(error as Error).message}); it is kept as it is`);
    }
  }
  for (const id of xmp) {
    const data = itemData(r, meta, id, MAX_METADATA_ITEM);
    const value = data ? readXmpOrientation(Buffer.from(data).toString('utf8')) : undefined;
    if (value !== undefined) places.push({ source: 'xmp', value });
  }
  const decision = decideOrientation(places);
  if (transforms.length === 0 && decision.orientation !== 1) {
    warnings.push(`no irot/imir: the EXIF orientation ${decision.orientation} is applied, as the file's writer meant (readers that follow only irot/imir, libheif among them, show this file sideways; docs/HEIF-ORIENTATION.md)`);
  }

  const fileBrands = brands(bytes, top[0].end);
  const format = codec === 'av01' || (codec !== 'hvc1' && fileBrands.some((b) => b === 'avif' || b === 'avis')) ? 'avif' : 'heif';
  const bitDepth = coding?.bitDepth ?? 8;
  // HEVC (and any coding but AV1) cannot be re-encoded here: new pixels need a conversion.
  const refusal = decision.orientation !== 1 && codec !== 'av01'
    ? { code: 'unsupported' as const, reason: `${codec === 'hvc1' ? 'HEIC (HEVC-coded)' : `HEIF ('${printable(codec)}'-coded)`} image needs new pixels (orientation ${decision.orientation}), and this tool cannot re-encode ${codec === 'hvc1' ? 'HEVC' : 'that coding'}: convert it with --to jpeg (or --to png, --to webp)` }
    : undefined;
  return {
    format,
    width,
    height,
    places,
    lossless: false,
    space: bitDepth > 8 ? 'rgb16' : 'srgb',
    decoderApplies: transforms.length > 0,
    warnings,
    refusal,
    exif: exifStructures,
    codec,
    bitDepth,
    chroma: coding?.chroma ?? '4:2:0',
    transforms,
    meta,
    primary,
  };
}

/**
 * Sets sharp's output: AVIF at {@link HEIF_QUALITY}, 4:4:4 kept (4:2:2 and 4:0:0 become 4:4:4,
 * the nearest sharp offers without losing chroma), bit depth kept (10 and 12 bits).
 *
 * @throws {ExifFixError} code `'unsupported'` for HEVC-coded files when this sharp build cannot
 *   decode HEVC, and for other codings (e.g. JPEG-coded HEIF).
 */
function encodeHeif(image: Sharp, info: HeifInfo): Sharp {
  const chromaSubsampling = info.chroma === '4:2:0' ? '4:2:0' : '4:4:4';
  const bitdepth = info.bitDepth >= 12 ? 12 : info.bitDepth > 8 ? 10 : 8;
  if (info.codec === 'hvc1') {
    if (!hevcAvailable()) throw new ExifFixError(info.refusal?.reason ?? 'HEIC (HEVC-coded) image needs new pixels: convert it with --to jpeg', 'unsupported');
    return image.heif({ compression: 'hevc', quality: HEIF_QUALITY, chromaSubsampling, bitdepth });
  }
  if (info.codec !== 'av01') throw new ExifFixError(`HEIF primary image coded as '${info.codec}' is not supported`, 'unsupported');
  return image.avif({ quality: HEIF_QUALITY, chromaSubsampling, bitdepth });
}

/** The `colr` boxes of an item's properties, by colour type (`nclx`, `prof`, `rICC`). */
function colourBoxes(r: Reader, props: readonly Box[]): Map<string, Box> {
  const out = new Map<string, Box>();
  for (const p of props) if (p.type === 'colr' && p.payload + 4 <= p.end && !out.has(r.fourcc(p.payload))) out.set(r.fourcc(p.payload), p);
  return out;
}

/** A metadata item to add to the output. */
interface ExtraItem {
  readonly type: 'Exif' | 'mime';
  readonly data: Uint8Array;
}

/** The input's EXIF and XMP items, patched for an upright `width` x `height` picture. */
function patchedMetadata(original: Uint8Array, info: HeifInfo, width: number, height: number, context: WriteContext, warnings: string[]): ExtraItem[] {
  const r = new Reader(original);
  const { exif, xmp } = metadataItems(info.meta, info.primary);
  const out: ExtraItem[] = [];
  for (const id of exif) {
    const data = itemData(r, info.meta, id, MAX_METADATA_ITEM);
    if (!data) {
      warnings.push(`EXIF item ${id} is stored in a way this tool does not read; it was dropped`);
      continue;
    }
    let start = 0;
    let patched: Uint8Array | undefined;
    try {
      start = exifTiffStart(data);
      patched = rewriteExif(data.subarray(start), { width, height, thumbnails: context.thumbnails, pixelsChanged: context.orientation !== 1, where: 'HEIF EXIF item' }, warnings);
    } catch (error) {
      warnings.push(`EXIF item is unreadable (${(error as Error).message}); it is kept as it is`);
    }
    out.push({ type: 'Exif', data: patched ? concat([data.subarray(0, start), patched]) : data });
  }
  for (const id of xmp) {
    const data = itemData(r, info.meta, id, MAX_METADATA_ITEM);
    if (data) out.push({ type: 'mime', data: patchXmpBytes(data, width, height) });
  }
  return out;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));


/**
 * A `colr` nclx box with the input's colour primaries and transfer characteristics and the
 * fresh encoding's matrix coefficients and range (the decoder converted YCbCr to RGB with the
 * input's matrix, and the encoder back with its own; primaries and transfer pass through
 * untouched). ISO/IEC 23008-12 section 6.5.5, ITU-T H.273.
 */
function mergedNclx(input: Reader, inputBox: Box, fresh: Reader, freshBox: Box): Uint8Array {
  ensure(inputBox.payload + 11 <= inputBox.end && freshBox.payload + 11 <= freshBox.end, 'HEIF nclx colr box is truncated');
  const out = copyBytes(fresh.bytes, freshBox.offset, freshBox.end);
  const at = freshBox.payload - freshBox.offset + 4;
  out.set(input.bytes.subarray(inputBox.payload + 4, inputBox.payload + 8), at); // colour_primaries, transfer_characteristics
  return out;
}

/**
 * Builds the output: the fresh AVIF with the input's ICC, nclx primaries/transfer, EXIF and XMP
 * added to its `meta` (see the module comment). Metadata-only (`pixels` null) happens only for
 * irot/imir that amount to no change; the input is returned as it is.
 *
 * @throws {ExifFixError} code `'corrupt'` when the fresh encoding still carries irot/imir or
 *   lacks a primary item; `'unsupported'` when a metadata-only rewrite would have to remove a
 *   real rotation, or the file would pass 4 GiB.
 */
function writeHeif(original: Uint8Array, info: HeifInfo, pixels: EncodedPixels | null, context: WriteContext): Uint8Array {
  if (!pixels) {
    if (orientationFromTransforms(info.transforms) !== 1) {
      throw new ExifFixError('irot/imir cannot be removed without re-encoding the pixels', 'unsupported');
    }
    return patchMetadataInPlace(original, info, context);
  }
  const { warnings } = context;
  const fr = new Reader(pixels.data);
  const freshTop = readBoxes(fr, 0, pixels.data.length);
  const freshMetaBox = freshTop.find((b) => b.type === 'meta');
  ensure(freshMetaBox, 'the fresh HEIF encoding has no meta box');
  const fm = parseMeta(fr, freshMetaBox);
  ensure(fm.primary !== undefined, 'the fresh HEIF encoding has no primary item');
  const freshPrimary = fm.primary;
  const freshProps = itemProperties(fm, freshPrimary);
  ensure(!freshProps.some((p) => p.type === 'irot' || p.type === 'imir'), 'the fresh HEIF encoding carries irot/imir');

  const or = new Reader(original);
  const inputColours = colourBoxes(or, itemProperties(info.meta, info.primary));
  const freshColours = colourBoxes(fr, freshProps);
  const extras = patchedMetadata(original, info, pixels.width, pixels.height, context, warnings);
  reportDropped(info, extras.length, warnings);
  if (readBoxes(or, 0, original.length).some((b) => b.type === 'moov')) warnings.push('the image sequence (moov track) is not carried over: only the primary still image is');

  // Properties: the fresh ones, the nclx merged, the input's ICC added.
  const properties = fm.properties.map((p) => pixels.data.subarray(p.offset, p.end));
  const inputNclx = inputColours.get('nclx');
  const freshNclx = freshColours.get('nclx');
  if (inputNclx && freshNclx) properties[fm.properties.indexOf(freshNclx)] = mergedNclx(or, inputNclx, fr, freshNclx);
  const associations = new Map<number, Array<{ index: number; essential: boolean }>>();
  for (const [id, list] of fm.associations) associations.set(id, list.map((a) => ({ ...a })));
  const icc = inputColours.get('prof') ?? inputColours.get('rICC');
  if (icc && !freshColours.has('prof') && !freshColours.has('rICC')) {
    properties.push(original.subarray(icc.offset, icc.end));
    associations.get(freshPrimary)?.push({ index: properties.length, essential: false }) ??
      associations.set(freshPrimary, [{ index: properties.length, essential: false }]);
  }

  // Items: the fresh ones, then the metadata items, numbered after the highest fresh ID. Their
  // data goes into a new mdat at the end of the file (construction method 0, file offsets), where
  // readers that ignore idat (exifr among them) find it too.
  let nextId = Math.max(0, ...fm.items.map((i) => i.id), ...fm.locations.keys()) + 1;
  const newItems = extras.map((e) => ({ ...e, id: nextId++ }));
  let mdatLength = 0;
  const newLocations = newItems.map((item) => {
    const loc = { id: item.id, offset: mdatLength, length: item.data.length };
    mdatLength += item.data.length;
    return loc;
  });
  const extraMdat = newItems.length > 0 ? box('mdat', ...newItems.map((i) => i.data)) : new Uint8Array(0);
  const wide = nextId > 0xffff;
  const idSize = wide ? 4 : 2;

  const iinf = fullBoxBytes(
    'iinf',
    wide ? 1 : 0,
    0,
    uints(wide ? 4 : 2, fm.items.length + newItems.length),
    ...fm.items.map((i) => pixels.data.subarray(i.box.offset, i.box.end)),
    ...newItems.map((i) =>
      fullBoxBytes('infe', wide ? 3 : 2, 1, uints(idSize, i.id), uints(2, 0), latin1(i.type), Uint8Array.of(0), ...(i.type === 'mime' ? [latin1('application/rdf+xml'), Uint8Array.of(0)] : [])),
    ),
  );
  const references = [
    ...fm.references,
    ...newItems.map((i) => ({ type: 'cdsc', from: i.id, to: [freshPrimary] })),
  ];
  const iref = references.length === 0
    ? new Uint8Array(0)
    : fullBoxBytes('iref', wide ? 1 : 0, 0, ...references.map((ref) => box(ref.type, uints(idSize, ref.from), uints(2, ref.to.length), uints(idSize, ...ref.to))));
  const bigIndex = properties.length > 127;
  const ipma = fullBoxBytes(
    'ipma',
    wide ? 1 : 0,
    bigIndex ? 1 : 0,
    uints(4, associations.size),
    ...[...associations].sort(([a], [b]) => a - b).map(([id, list]) =>
      concat([uints(idSize, id), uints(1, list.length), ...list.map((a) => (bigIndex ? uints(2, (a.essential ? 0x8000 : 0) | a.index) : uints(1, (a.essential ? 0x80 : 0) | a.index)))]),
    ),
  );
  const iprp = box('iprp', box('ipco', ...properties), ipma);
  const kept = fm.children.filter((c) => !['iloc', 'iinf', 'iref', 'iprp'].includes(c.type)).map((c) => pixels.data.subarray(c.offset, c.end));

  // iloc (version 1: construction methods; 4-byte offsets and lengths) is built twice: its size
  // does not depend on the offsets, which depend on the size of the new meta box.
  const buildIloc = (delta: number, mdatData: number) => {
    const entries: Uint8Array[] = [];
    const oldMetaEnd = freshMetaBox.end;
    for (const loc of [...fm.locations.values()].sort((a, b) => a.id - b.id)) {
      const extents = loc.extents.map((e) => {
        const offset = loc.constructionMethod === 0 && e.offset >= oldMetaEnd ? e.offset + delta : e.offset;
        if (offset > 0xffffffff || e.length > 0xffffffff) throw new ExifFixError('the HEIF file would be larger than 4 GiB', 'unsupported');
        return uints(4, offset, e.length);
      });
      entries.push(uints(idSize, loc.id), uints(2, loc.constructionMethod, loc.dataReferenceIndex), uints(2, extents.length), ...extents);
    }
    for (const loc of newLocations) {
      if (mdatData + loc.offset + loc.length > 0xffffffff) throw new ExifFixError('the HEIF file would be larger than 4 GiB', 'unsupported');
      entries.push(uints(idSize, loc.id), uints(2, 0, 0), uints(2, 1), uints(4, mdatData + loc.offset, loc.length));
    }
    const count = fm.locations.size + newLocations.length;
    return fullBoxBytes('iloc', wide ? 2 : 1, 0, uints(1, 0x44, 0x00), uints(wide ? 4 : 2, count), ...entries);
  };
  const metaWith = (iloc: Uint8Array) => {
    const hdlr = kept.filter((c) => latin1ToString(c.subarray(4, 8)) === 'hdlr');
    const others = kept.filter((c) => latin1ToString(c.subarray(4, 8)) !== 'hdlr');
    return fullBoxBytes('meta', 0, 0, ...hdlr, ...others, iloc, iinf, iref, iprp);
  };
  const draft = metaWith(buildIloc(0, 0));
  const delta = draft.length - (freshMetaBox.end - freshMetaBox.offset);
  const meta = metaWith(buildIloc(delta, pixels.data.length + delta + 8));
  ensure(meta.length === draft.length, 'HEIF iloc size changed between passes');
  return concat([...freshTop.map((b) => (b === freshMetaBox ? meta : pixels.data.subarray(b.offset, b.end))), extraMdat]);
}

/**
 * A metadata-only rewrite (the picture is upright, but an EXIF or XMP item says otherwise, or
 * holds a value outside 1-8): the EXIF and XMP items get orientation 1 where they are, byte
 * lengths unchanged (the EXIF value is a fixed-size field; XMP takes the difference out of its
 * padding), so no offset in the file moves.
 *
 * @throws {ExifFixError} code `'unsupported'` when an item is split over several extents, stored
 *   in a way this reader does not follow, or would change length.
 */
function patchMetadataInPlace(original: Uint8Array, info: HeifInfo, context: WriteContext): Uint8Array {
  const { warnings } = context;
  const out = copyBytes(original);
  const r = new Reader(original);
  const { exif, xmp } = metadataItems(info.meta, info.primary);
  const put = (id: number, before: Uint8Array, after: Uint8Array) => {
    if (after === before || Buffer.from(after).equals(Buffer.from(before))) return;
    const loc = info.meta.locations.get(id);
    const base = loc?.constructionMethod === 1 ? info.meta.idat?.payload : 0;
    if (!loc || base === undefined || loc.extents.length !== 1 || after.length !== before.length) {
      throw new ExifFixError(`the HEIF metadata item ${id} cannot be rewritten in place`, 'unsupported');
    }
    out.set(after, base + loc.extents[0].offset);
  };
  for (const id of exif) {
    const data = itemData(r, info.meta, id, MAX_METADATA_ITEM);
    if (!data) continue;
    const start = exifTiffStart(data);
    const patched = rewriteExif(data.subarray(start), { width: info.width, height: info.height, thumbnails: context.thumbnails, pixelsChanged: false, where: 'HEIF EXIF item' }, warnings);
    if (patched) put(id, data, concat([data.subarray(0, start), patched]));
  }
  for (const id of xmp) {
    const data = itemData(r, info.meta, id, MAX_METADATA_ITEM);
    if (data) put(id, data, patchXmpBytes(data, info.width, info.height));
  }
  return out;
}

function latin1ToString(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Warns about input items that the output does not carry (thumbnails, depth maps, other images). */
function reportDropped(info: HeifInfo, carried: number, warnings: string[]): void {
  const { meta, primary } = info;
  const tiles = new Set(meta.references.filter((ref) => ref.type === 'dimg' && ref.from === primary).flatMap((ref) => ref.to));
  const auxiliaries = meta.references.filter((ref) => ref.type === 'auxl' && ref.to.includes(primary)).map((ref) => ref.from);
  // The first auxiliary image is usually alpha, which the fresh encoding re-creates.
  const others = meta.items.filter((i) => i.id !== primary && !tiles.has(i.id) && i.type !== 'Exif' && i.type !== 'mime' && i.id !== auxiliaries[0]).length;
  const metadata = meta.items.filter((i) => i.type === 'Exif' || i.type === 'mime').length - carried;
  if (others + metadata > 0) warnings.push(`${others + metadata} further HEIF item(s) (thumbnails, auxiliary images, other metadata) are not carried over`);
}

/** The HEIF/AVIF container module (ISO/IEC 23008-12; AV1 Image File Format). */
export const heif: Container<HeifInfo> = {
  format: 'heif',
  sniff: isHeif,
  read: readHeif,
  encode: encodeHeif,
  write: writeHeif,
};
