/**
 * Conversion of a HEIF/HEIC file to an upright JPEG, PNG or WebP (`--to jpeg|png|webp`), for the
 * HEICs this tool cannot re-encode in their own container (HEVC; docs/DESIGN.md section 6).
 *
 * The pixels come from {@link decodeHeif} (irot/imir applied by libheif; the EXIF orientation
 * applied only when the file has no irot/imir, docs/HEIF-ORIENTATION.md). What is carried over
 * from the HEIF, written into the new file by this module (not by sharp, which cannot attach raw
 * EXIF or ICC bytes):
 * - the EXIF item of the primary image: orientation 1 in IFD0 and IFD1, PixelXDimension and
 *   PixelYDimension set to the new size, the IFD1 thumbnail made upright (or removed);
 * - the XMP item: `tiff:Orientation` 1 and the new size;
 * - the colour profile: the `colr` ICC profile (`prof`/`rICC`) byte for byte, or for an `nclx`
 *   `colr` with Display P3 primaries an equivalent ICC profile (libvips' built-in Display P3);
 *   BT.709/sRGB needs none.
 * Not carried, each reported in a warning: depth maps, HDR gain maps, other auxiliary images,
 * thumbnails, the other images of the file, image sequences, other metadata items; alpha in a
 * JPEG; bit depths above 8 in a JPEG or WebP (reduced to 8 bits).
 *
 * Cost: a 4032x3024 HEIC (3.5 MB, EXIF 6 without irot) becomes an upright 3024x4032 JPEG in
 * 4.3 s CPU with a 315 MiB peak (whole process, median of 5, `bench/heic-convert.js`); libheif's
 * native `heif-convert` takes 1.8 s and 79 MiB for the same file without rotating it.
 *
 * Containers: JPEG gets APP1 Exif, APP1 XMP and APP2 ICC_PROFILE segments after SOI/JFIF
 * (EXIF 2.32 section 4.7.2, XMP Part 3 section 1.1.3, ICC.1 Annex B.4); PNG gets iCCP, eXIf and
 * iTXt `XML:com.adobe.xmp` chunks after IHDR (PNG 3rd edition sections 11.3.2.3, 11.3.3.6,
 * 11.3.4.5); WebP gets the extended format: VP8X, ICCP, image, EXIF, XMP chunks (WebP Container
 * Specification, "Extended File Format").
 */
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { concat } from '../bytes.js';
import { ensure } from '../errors.js';
import { EXIF_HEADER, readThumbnail, rewriteExif, type ThumbnailLookup } from '../metadata/exif.js';
import { patchXmpBytes, XMP_APP1_HEADER } from '../metadata/xmp.js';
import { decideOrientation, isOrientation, type Orientation } from '../orientation.js';
import type { HeifInfo } from '../containers/heif.js';
import { itemData, itemProperties, Reader, type Box } from '../containers/isobmff.js';
import { buildChunk, parsePng } from '../containers/png-chunks.js';
import { buildRiff, buildRiffChunk, parseWebp } from '../containers/webp-riff.js';
import { decodeHeif, type DecodedHeif } from './heif-decode.js';
import { transformThumbnail } from './thumbnail.js';

/** Output formats of a conversion (`--to`). */
export type ConvertTarget = 'jpeg' | 'png' | 'webp';

/** The file extension written for each target (lower case, with the dot). */
export const CONVERT_EXTENSIONS: Readonly<Record<ConvertTarget, string>> = { jpeg: '.jpg', png: '.png', webp: '.webp' };

/**
 * JPEG and WebP quality of a conversion when none is given: 92, high enough that a phone photo
 * shows no visible loss at about 1.5-2x the bytes of its HEIC (libjpeg scale, 1-100). HEVC carries
 * no quantization tables in the IJG sense to estimate the source quality from.
 */
export const DEFAULT_CONVERT_QUALITY = 92;

/** Options of {@link convertHeif}. */
export interface ConvertOptions {
  /** The output format. */
  readonly to: ConvertTarget;
  /** JPEG/WebP quality, integer 1-100. Default {@link DEFAULT_CONVERT_QUALITY}. Ignored for PNG. */
  readonly quality?: number;
  /**
   * The EXIF thumbnails prepared by the job for `info.exif` and the orientation applied (the
   * job's `prepareThumbnails(info, orientation)`), so that conversion and normalization judge
   * thumbnails the same way. Without it, the thumbnail is transformed here by IFD1's own valid
   * orientation, else the image's, and removed when it cannot be decoded.
   */
  readonly thumbnails?: ThumbnailLookup;
}

/** The result of {@link convertHeif}. */
export interface Converted {
  /** The whole output file. */
  readonly data: Uint8Array;
  readonly format: ConvertTarget;
  /** Output width in pixels (upright). */
  readonly width: number;
  /** Output height in pixels (upright). */
  readonly height: number;
  /** The orientation (1-8) the HEIF asked for, now baked into the pixels; see docs/HEIF-ORIENTATION.md. */
  readonly orientation: Orientation;
  /** Bits per sample written: 8, or 16 for a PNG from a 10/12-bit HEIF. */
  readonly bitDepth: 8 | 16;
  /** What was not carried over or was changed, without the file name. */
  readonly warnings: string[];
}

/** Largest APP1 payload after the "Exif\0\0" header in a JPEG (65535 - 2 - 6). */
const MAX_JPEG_EXIF = 65527;
/** Largest XMP packet in one JPEG APP1 segment (65535 - 2 - 29; XMP Part 3 section 1.1.3.1). */
const MAX_JPEG_XMP = 65504;
/** ICC bytes per APP2 segment (65535 - 2 - 14; ICC.1 Annex B.4). */
const ICC_CHUNK = 65519;
const MAX_METADATA_ITEM = 16 * 1024 * 1024;

/**
 * The output name for a conversion: the extension replaced by the target's
 * ({@link CONVERT_EXTENSIONS}), whatever its case; a name without an extension gets one.
 *
 * @param file - a path or file name, e.g. `DCIM/IMG_0001.HEIC`.
 * @param to - the target format.
 * @returns e.g. `DCIM/IMG_0001.jpg`.
 * @example convertedName('photo.HEIC', 'jpeg') // 'photo.jpg'
 */
export function convertedName(file: string, to: ConvertTarget): string {
  const ext = path.extname(file);
  return `${ext ? file.slice(0, -ext.length) : file}${CONVERT_EXTENSIONS[to]}`;
}

/**
 * Converts a HEIF/HEIC file (HEVC or AV1) to an upright JPEG, PNG or WebP with its EXIF, XMP and
 * colour profile (see the module comment for exactly what is carried and what is reported).
 *
 * @param bytes - the whole HEIF file.
 * @param info - what `heif.read(bytes)` returned (the whole file read, not `headerOnly`).
 * @param options - target format and quality; see {@link ConvertOptions}.
 * @returns the new file and what was done; see {@link Converted}.
 * @throws {ExifFixError} code `'corrupt'` when libheif cannot decode the primary image, or the
 *   sharp output cannot be parsed (a bug).
 * @throws {Error} from sharp when encoding fails.
 * @example
 * const out = await convertHeif(bytes, heif.read(bytes), { to: 'jpeg' });
 * await fs.writeFile(convertedName('IMG_0001.HEIC', 'jpeg'), out.data);
 */
export async function convertHeif(bytes: Uint8Array, info: HeifInfo, options: ConvertOptions): Promise<Converted> {
  const { to } = options;
  const quality = options.quality ?? DEFAULT_CONVERT_QUALITY;
  const warnings: string[] = [];
  const orientation = decideOrientation(info.places).orientation;
  let pixels = await decodeHeif(bytes, info);
  if (pixels.depth === 'ushort' && to !== 'png') {
    warnings.push(`${pixels.bitDepth}-bit samples were reduced to 8 bits for ${to === 'jpeg' ? 'JPEG' : 'WebP'} (--to png keeps 16 bits)`);
    pixels = toEightBits(pixels);
  }
  if (pixels.channels === 4 && to === 'jpeg') warnings.push('the alpha channel is not carried into a JPEG (--to png or --to webp keep it)');

  const { default: sharp } = await import('sharp');
  const raw = { width: pixels.width, height: pixels.height, channels: pixels.channels, ...(pixels.depth === 'ushort' ? { depth: 'ushort' as const } : {}) };
  // sharp reads 16-bit raw samples only from a Uint16Array (from bytes it takes 8 bits each).
  const input = pixels.depth === 'ushort' ? new Uint16Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength / 2) : pixels.data;
  let image = sharp(input, { raw, limitInputPixels: false });
  if (to === 'jpeg') {
    if (pixels.channels === 4) image = image.removeAlpha();
    image = image.jpeg({ quality, chromaSubsampling: info.chroma === '4:2:0' ? '4:2:0' : '4:4:4' });
  } else if (to === 'png') {
    if (pixels.depth === 'ushort') image = image.toColourspace('rgb16');
    image = image.png({ compressionLevel: 6 });
  } else {
    image = image.webp({ quality });
  }
  const encoded = new Uint8Array(await image.toBuffer());

  const metadata = await carriedMetadata(bytes, info, pixels, orientation, to, options.thumbnails, warnings);
  reportNotCarried(bytes, info, warnings);
  const data = to === 'jpeg' ? withJpegMetadata(encoded, metadata) : to === 'png' ? withPngMetadata(encoded, metadata) : withWebpMetadata(encoded, metadata, pixels);
  return { data, format: to, width: pixels.width, height: pixels.height, orientation, bitDepth: pixels.depth === 'ushort' ? 16 : 8, warnings };
}

/** 16-bit samples to 8 bits, rounded. */
function toEightBits(pixels: DecodedHeif): DecodedHeif {
  const wide = new Uint16Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength / 2);
  const out = new Uint8Array(wide.length);
  for (let i = 0; i < wide.length; i++) out[i] = (wide[i] * 255 + 32767) / 65535;
  return { ...pixels, data: out, depth: 'uchar' };
}

/** EXIF (TIFF structure, no header), XMP packet and ICC profile to write. */
interface Metadata {
  readonly exif?: Uint8Array;
  readonly xmp?: Uint8Array;
  readonly icc?: Uint8Array;
}

/** The primary item's EXIF and XMP items (cdsc references; all such items when the file has none). */
function metadataItemIds(info: HeifInfo): { exif: number[]; xmp: number[]; other: number[] } {
  const { meta, primary } = info;
  const cdsc = meta.references.filter((ref) => ref.type === 'cdsc');
  const describes = (id: number) => cdsc.length === 0 || cdsc.some((ref) => ref.from === id && ref.to.includes(primary));
  const isXmp = (i: (typeof meta.items)[number]) => i.type === 'mime' && i.contentType === 'application/rdf+xml';
  return {
    exif: meta.items.filter((i) => i.type === 'Exif' && describes(i.id)).map((i) => i.id),
    xmp: meta.items.filter((i) => isXmp(i) && describes(i.id)).map((i) => i.id),
    other: meta.items.filter((i) => (i.type === 'Exif' || i.type === 'mime' || i.type === 'uri ') && !((i.type === 'Exif' || isXmp(i)) && describes(i.id))).map((i) => i.id),
  };
}

async function carriedMetadata(bytes: Uint8Array, info: HeifInfo, pixels: DecodedHeif, orientation: Orientation, to: ConvertTarget, thumbnails: ThumbnailLookup | undefined, warnings: string[]): Promise<Metadata> {
  const r = new Reader(bytes);
  const ids = metadataItemIds(info);
  let exif: Uint8Array | undefined;
  const exifData = ids.exif.length > 0 ? itemData(r, info.meta, ids.exif[0], MAX_METADATA_ITEM) : undefined;
  if (exifData) {
    try {
      ensure(exifData.length >= 4, 'the EXIF item is truncated');
      const start = 4 + (((exifData[0] << 24) | (exifData[1] << 16) | (exifData[2] << 8) | exifData[3]) >>> 0);
      ensure(start + 8 <= exifData.length, 'the EXIF item points past its end');
      const tiff = exifData.subarray(start);
      const maxLength = to === 'jpeg' ? MAX_JPEG_EXIF : undefined;
      exif = rewriteExif(tiff, { width: pixels.width, height: pixels.height, thumbnails: thumbnails ?? (await ownThumbnail(tiff, orientation)), pixelsChanged: orientation !== 1, maxLength, where: 'HEIF EXIF item' }, warnings);
      if (!exif) warnings.push('the EXIF item could not be rewritten with orientation 1, so it is not carried over');
    } catch (error) {
      warnings.push(`the EXIF item is unreadable (${(error as Error).message}); it is not carried over`);
    }
  } else if (ids.exif.length > 0) {
    warnings.push('the EXIF item is stored in a way this tool does not read; it is not carried over');
  }
  if (ids.exif.length > 1) warnings.push(`${ids.exif.length - 1} further EXIF item(s) are not carried over`);

  let xmp: Uint8Array | undefined;
  const xmpData = ids.xmp.length > 0 ? itemData(r, info.meta, ids.xmp[0], MAX_METADATA_ITEM) : undefined;
  if (xmpData) {
    xmp = patchXmpBytes(xmpData, pixels.width, pixels.height);
    if (to === 'jpeg' && xmp.length > MAX_JPEG_XMP) {
      warnings.push(`the XMP packet (${xmp.length} bytes) is larger than one JPEG segment holds; it is not carried over`);
      xmp = undefined;
    }
  }
  if (ids.xmp.length > 1) warnings.push(`${ids.xmp.length - 1} further XMP item(s) are not carried over`);

  return { exif, xmp, icc: await colourProfile(r, info, warnings) };
}

/**
 * A thumbnail lookup for one EXIF structure when the caller prepared none: the IFD1 thumbnail
 * transformed by IFD1's own valid orientation, else by the image's (EXIF 2.32 section 4.6.2).
 */
async function ownThumbnail(tiff: Uint8Array, orientation: Orientation): Promise<ThumbnailLookup> {
  const thumbnail = readThumbnail(tiff);
  if (!thumbnail) return () => undefined;
  const wanted = isOrientation(thumbnail.ifd1Orientation) ? thumbnail.ifd1Orientation : orientation;
  const made = wanted === 1 ? undefined : await transformThumbnail(thumbnail.jpeg, wanted);
  return () => made;
}

/**
 * The ICC profile for the output: the `colr` `prof`/`rICC` bytes, or one equivalent to an `nclx`
 * `colr` (ISO/IEC 23008-12 section 6.5.5; code points from ITU-T H.273).
 */
async function colourProfile(r: Reader, info: HeifInfo, warnings: string[]): Promise<Uint8Array | undefined> {
  const colr = new Map<string, Box>();
  const props = itemProperties(info.meta, info.primary);
  for (const p of props) if (p.type === 'colr' && p.payload + 4 <= p.end && !colr.has(r.fourcc(p.payload))) colr.set(r.fourcc(p.payload), p);
  const icc = colr.get('prof') ?? colr.get('rICC');
  if (icc) return r.bytes.slice(icc.payload + 4, icc.end);
  const nclx = colr.get('nclx');
  if (!nclx || nclx.payload + 10 > nclx.end) return undefined;
  const primaries = r.uint(nclx.payload + 4, 2);
  const transfer = r.uint(nclx.payload + 6, 2);
  // H.273 transfer 1, 6, 13, 14, 15: the SDR curves sRGB-like profiles stand for; 2: unspecified.
  const sdr = [1, 2, 6, 13, 14, 15].includes(transfer);
  if (!sdr) warnings.push(`the nclx transfer characteristics ${transfer} (HDR or unusual) have no ICC equivalent here; the pixels are written as they are, without tone mapping`);
  if (primaries === 12) return displayP3Profile();
  if (primaries !== 1 && primaries !== 2) warnings.push(`the nclx colour primaries ${primaries} have no ICC equivalent here; colours may shift in viewers that assume sRGB`);
  return undefined;
}

/** libvips' built-in Display P3 ICC profile, as sharp attaches it (`withIccProfile('p3')`). */
async function displayP3Profile(): Promise<Uint8Array | undefined> {
  const { default: sharp } = await import('sharp');
  const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } }).withIccProfile('p3').png().toBuffer();
  const icc = (await sharp(tagged).metadata()).icc;
  return icc ? new Uint8Array(icc) : undefined;
}

/** Warns about what a conversion does not carry: other images, auxiliary images, sequences, other metadata. */
function reportNotCarried(bytes: Uint8Array, info: HeifInfo, warnings: string[]): void {
  const { meta, primary } = info;
  const r = new Reader(bytes);
  const tiles = new Set(meta.references.filter((ref) => ref.type === 'dimg' && ref.from === primary).flatMap((ref) => ref.to));
  const counts = new Map<string, number>();
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  const ids = metadataItemIds(info);
  const metadataIds = new Set([...ids.exif, ...ids.xmp, ...ids.other]);
  for (const item of meta.items) {
    if (item.id === primary || tiles.has(item.id) || metadataIds.has(item.id)) continue;
    const refs = meta.references.filter((ref) => ref.from === item.id);
    if (tiles.has(item.id) || meta.references.some((ref) => ref.type === 'dimg' && tiles.has(ref.from) && ref.to.includes(item.id))) continue;
    if (item.type === 'tmap') {
      count('HDR gain map (tmap)');
      continue;
    }
    if (refs.some((ref) => ref.type === 'thmb')) {
      count('thumbnail');
      continue;
    }
    const auxl = refs.find((ref) => ref.type === 'auxl');
    if (auxl) {
      const auxC = itemProperties(meta, item.id).find((p) => p.type === 'auxC');
      const urn = auxC && auxC.payload + 4 < auxC.end ? r.cstring(auxC.payload + 4, auxC.end).value : '';
      if (/alpha/i.test(urn) || urn.endsWith('auxid:1')) continue; // alpha is decoded with the image
      count(/depth|disparity/i.test(urn) || urn.endsWith('auxid:2') ? 'depth map' : /gainmap/i.test(urn) ? 'HDR gain map' : 'auxiliary image');
      continue;
    }
    // Tiles of another image are counted with that image.
    if (meta.references.some((ref) => ref.type === 'dimg' && ref.to.includes(item.id))) continue;
    count('other image');
  }
  if (ids.other.length > 0) counts.set('other metadata item', ids.other.length);
  if (readsMoov(r)) count('image sequence (moov track)');
  if (counts.size > 0) {
    const list = [...counts].map(([what, n]) => `${n} ${what}${n > 1 ? 's' : ''}`).join(', ');
    warnings.push(`not carried into the converted file: ${list}; only the primary image and its EXIF, XMP and colour profile are`);
  }
}

function readsMoov(r: Reader): boolean {
  // A top-level walk only: sizes were checked by the reader already.
  let p = 0;
  while (p + 8 <= r.bytes.length) {
    const size = r.uint(p, 4);
    if (r.fourcc(p + 4) === 'moov') return true;
    if (size < 8) return false;
    p += size;
  }
  return false;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A JPEG marker segment: FF, marker, 2-byte length, payload. */
function segment(marker: number, ...parts: Uint8Array[]): Uint8Array {
  const payload = concat(parts);
  ensure(payload.length <= 65533, 'JPEG segment payload too long');
  return concat([Uint8Array.of(0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 255), payload]);
}

/** Inserts APP1 Exif, APP1 XMP and APP2 ICC_PROFILE after SOI (and after a JFIF APP0). */
function withJpegMetadata(jpeg: Uint8Array, m: Metadata): Uint8Array {
  ensure(jpeg[0] === 0xff && jpeg[1] === 0xd8, 'the encoder did not write a JPEG');
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4] << 8) | jpeg[5]);
  const parts: Uint8Array[] = [];
  if (m.exif) parts.push(segment(0xe1, EXIF_HEADER, m.exif));
  if (m.xmp) parts.push(segment(0xe1, XMP_APP1_HEADER, m.xmp));
  if (m.icc) {
    const n = Math.ceil(m.icc.length / ICC_CHUNK);
    for (let i = 0; i < n; i++) parts.push(segment(0xe2, latin1('ICC_PROFILE\0'), Uint8Array.of(i + 1, n), m.icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK)));
  }
  return concat([jpeg.subarray(0, at), ...parts, jpeg.subarray(at)]);
}

/** Inserts iCCP, eXIf and iTXt XMP chunks after IHDR. */
function withPngMetadata(png: Uint8Array, m: Metadata): Uint8Array {
  const { chunks } = parsePng(png);
  const ihdr = chunks[0];
  const parts: Uint8Array[] = [];
  if (m.icc) parts.push(buildChunk('iCCP', concat([latin1('ICC profile\0'), Uint8Array.of(0), deflateSync(m.icc)])));
  if (m.exif) parts.push(buildChunk('eXIf', m.exif));
  if (m.xmp) parts.push(buildChunk('iTXt', concat([latin1('XML:com.adobe.xmp\0'), Uint8Array.of(0, 0, 0, 0), m.xmp])));
  const kept = chunks.slice(1).filter((c) => c.type !== 'iCCP' && c.type !== 'sRGB' && c.type !== 'eXIf');
  return concat([png.subarray(0, ihdr.end), ...parts, ...kept.map((c) => png.subarray(c.offset, c.end))]);
}

/** Rebuilds a WebP in the extended format with ICCP, EXIF and XMP chunks. */
function withWebpMetadata(webp: Uint8Array, m: Metadata, pixels: DecodedHeif): Uint8Array {
  const { chunks } = parseWebp(webp);
  const image = chunks.filter((c) => c.fourcc === 'ALPH' || c.fourcc === 'VP8 ' || c.fourcc === 'VP8L');
  const alpha = image.some((c) => c.fourcc === 'ALPH' || c.fourcc === 'VP8L') && pixels.channels === 4;
  if (!m.icc && !m.exif && !m.xmp) return webp;
  const flags = (m.icc ? 0x20 : 0) | (alpha ? 0x10 : 0) | (m.exif ? 0x08 : 0) | (m.xmp ? 0x04 : 0);
  const w = pixels.width - 1;
  const h = pixels.height - 1;
  const vp8x = Uint8Array.of(flags, 0, 0, 0, w & 255, (w >> 8) & 255, (w >> 16) & 255, h & 255, (h >> 8) & 255, (h >> 16) & 255);
  return buildRiff([
    buildRiffChunk('VP8X', vp8x),
    ...(m.icc ? [buildRiffChunk('ICCP', m.icc)] : []),
    ...image.map((c) => webp.subarray(c.offset, c.end)),
    ...(m.exif ? [buildRiffChunk('EXIF', m.exif)] : []),
    ...(m.xmp ? [buildRiffChunk('XMP ', m.xmp)] : []),
  ]);
}
