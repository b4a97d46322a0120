/**
 * JPEG: orientation lives in APP1 EXIF IFD0 (and IFD1 for the thumbnail) and APP1 XMP
 * `tiff:Orientation` (DESIGN.md section 2). The output keeps every APPn and COM segment of the
 * input in order, byte for byte except the values that must change, around the new frame.
 */
import type { Sharp } from 'sharp';
import { ExifFixError } from '../errors.js';
import { concat, startsWith } from '../bytes.js';
import { EXIF_HEADER, exifPlaces, rewriteExif } from '../metadata/exif.js';
import { parseTiff, readExifOrientation, readIfd, TiffView } from '../metadata/tiff.js';
import { patchXmpBytes, readXmpOrientation, XMP_APP1_HEADER } from '../metadata/xmp.js';
import type { Container, ContainerInfo, EncodedPixels, OrientationPlace, ReadOptions, WriteContext } from './types.js';
import { estimateQuality, isJpeg, parseJpeg, type JpegDamage, type JpegSegment, type JpegStructure } from './jpeg-structure.js';

const MPF_HEADER = Buffer.from('MPF\0', 'latin1');
const ADOBE_HEADER = Buffer.from('Adobe', 'latin1');
/** MP Entry tag of the MP Index IFD (CIPA DC-007 section 5.2.3.3). */
const MP_ENTRY = 0xb002;
/** The largest EXIF TIFF structure an APP1 segment can hold: 65535 - 2 (length) - 6 ("Exif\0\0"). */
const MAX_EXIF_LENGTH = 65527;

/**
 * Chroma subsampling named from the frame's sampling factors: `4:4:4`, `4:2:2`, `4:2:0`,
 * `4:4:0`, `4:1:1`, `grey`, or `HxV` for anything else.
 */
export type ChromaSubsampling = string;

/** What the JPEG reader found. */
export interface JpegInfo extends ContainerInfo {
  readonly format: 'jpeg';
  readonly structure: JpegStructure;
  readonly chromaSubsampling: ChromaSubsampling;
  /** SOF2: progressive Huffman. */
  readonly progressive: boolean;
  /**
   * The colour transform flag of an Adobe APP14 segment (0 none: RGB or CMYK; 1 YCbCr; 2 YCCK),
   * when the file has one (Adobe Technical Note 5116).
   */
  readonly adobeTransform?: number;
}

function chromaSubsampling(s: JpegStructure): ChromaSubsampling {
  const c = s.frame.components;
  if (c.length === 1) return 'grey';
  const [y, ...rest] = c;
  if (rest.some((k) => k.h !== 1 || k.v !== 1)) return c.map((k) => `${k.h}x${k.v}`).join(',');
  const key = `${y.h}x${y.v}`;
  const names: Record<string, string> = { '1x1': '4:4:4', '2x1': '4:2:2', '2x2': '4:2:0', '1x2': '4:4:0', '4x1': '4:1:1' };
  return names[key] ?? c.map((k) => `${k.h}x${k.v}`).join(',');
}

/** Prefix of every warning about damage read past, so reports can tell them from the rest. */
export const DAMAGE_WARNING_PREFIX = 'damaged JPEG: ';

/** The warning for one piece of damage: libjpeg's message and what was done about it. */
function damageWarning(d: JpegDamage): string {
  const what = d.pixelsIntact ? 'skipped, as libjpeg does; the image data is complete' : 'read up to there, as libjpeg does; the image data may be incomplete';
  return `${DAMAGE_WARNING_PREFIX}${d.message} (${what})`;
}

function readJpeg(bytes: Uint8Array, options: ReadOptions = {}): JpegInfo {
  const structure = parseJpeg(bytes, options);
  const { frame } = structure;
  if (frame.height === 0) throw new ExifFixError('JPEG height is defined by a DNL marker, which is not supported', 'unsupported');
  const places: OrientationPlace[] = [];
  const warnings: string[] = structure.damage.map(damageWarning);
  const exif: Uint8Array[] = [];
  let sawExif = false;
  let adobeTransform: number | undefined;
  for (const seg of structure.segments) {
    if (seg.marker === 0xda) break;
    if (seg.marker === 0xee && seg.dataLength >= 12 && startsWith(bytes, ADOBE_HEADER, seg.dataOffset)) adobeTransform ??= bytes[seg.dataOffset + 11];
    if (seg.marker !== 0xe1) continue;
    if (!sawExif && startsWith(bytes, EXIF_HEADER, seg.dataOffset)) {
      sawExif = true;
      const tiff = bytes.subarray(seg.dataOffset + EXIF_HEADER.length, seg.dataOffset + seg.dataLength);
      exif.push(tiff);
      try {
        const exif = readExifOrientation(tiff);
        places.push(...exifPlaces(exif));
      } catch (error) {
        warnings.push(`EXIF is unreadable (${(error as Error).message}); it is kept as it is`);
      }
    } else if (startsWith(bytes, XMP_APP1_HEADER, seg.dataOffset)) {
      const packet = Buffer.from(bytes.buffer, bytes.byteOffset + seg.dataOffset + XMP_APP1_HEADER.length, seg.dataLength - XMP_APP1_HEADER.length);
      const value = readXmpOrientation(packet.toString('utf8'));
      if (value !== undefined) places.push({ source: 'xmp', value });
    }
  }
  const n = frame.components.length;
  return {
    format: 'jpeg',
    width: frame.width,
    height: frame.height,
    places,
    lossless: false,
    space: n === 1 ? 'b-w' : n === 4 ? 'cmyk' : 'srgb',
    warnings,
    exif,
    damage: structure.damage,
    structure,
    chromaSubsampling: chromaSubsampling(structure),
    adobeTransform,
    progressive: frame.marker === 0xc2 || frame.marker === 0xc6 || frame.marker === 0xca || frame.marker === 0xce,
  };
}

function encodeJpeg(image: Sharp, info: JpegInfo): Sharp {
  // sharp (libvips jpegsave) offers only 4:2:0 and 4:4:4; anything finer than 4:2:0 in either
  // direction is kept at full chroma resolution rather than lose chroma detail.
  const chroma = info.chromaSubsampling === '4:2:0' ? '4:2:0' : '4:4:4';
  return image.jpeg({
    quality: estimateQuality(info.structure.quantTables),
    chromaSubsampling: chroma,
    progressive: info.progressive,
    optimiseCoding: info.progressive || !info.structure.standardHuffman,
  });
}

function isMetadataMarker(marker: number): boolean {
  return (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe;
}

/**
 * Patches the APPn segments of the input for an upright image of `width` x `height`: APP1 EXIF
 * (orientation, pixel size, thumbnail) and APP1 XMP. Every other APPn and COM segment before the
 * first scan maps to its own bytes.
 *
 * @returns for each APPn/COM segment before the first scan, in file order, its new bytes.
 */
function patchMetadataSegments(
  bytes: Uint8Array,
  info: JpegInfo,
  width: number,
  height: number,
  context: WriteContext,
  warnings: string[],
): Map<JpegSegment, Uint8Array> {
  const out = new Map<JpegSegment, Uint8Array>();
  let sawExif = false;
  for (const seg of info.structure.segments) {
    if (seg.marker === 0xda) break;
    if (!isMetadataMarker(seg.marker)) continue;
    const whole = bytes.subarray(seg.offset, seg.end);
    out.set(seg, whole);
    if (seg.marker === 0xe1 && !sawExif && startsWith(bytes, EXIF_HEADER, seg.dataOffset)) {
      sawExif = true;
      const tiff = bytes.subarray(seg.dataOffset + EXIF_HEADER.length, seg.dataOffset + seg.dataLength);
      const patched = rewriteExif(tiff, { width, height, thumbnails: context.thumbnails, pixelsChanged: context.orientation !== 1, maxLength: MAX_EXIF_LENGTH }, warnings);
      if (patched) out.set(seg, app1(EXIF_HEADER, patched));
    } else if (seg.marker === 0xe1 && startsWith(bytes, XMP_APP1_HEADER, seg.dataOffset)) {
      const packet = bytes.subarray(seg.dataOffset + XMP_APP1_HEADER.length, seg.dataOffset + seg.dataLength);
      const patched = patchXmpBytes(packet, width, height);
      if (patched !== packet) out.set(seg, app1(XMP_APP1_HEADER, patched));
    }
  }
  return out;
}

function app1(header: Uint8Array, payload: Uint8Array): Uint8Array {
  const length = 2 + header.length + payload.length;
  if (length > 0xffff) throw new ExifFixError(`APP1 segment would be ${length} bytes, more than a JPEG segment can hold`, 'unsupported');
  const seg = new Uint8Array(2 + length);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg[2] = length >> 8;
  seg[3] = length & 0xff;
  seg.set(header, 4);
  seg.set(payload, 4 + header.length);
  return seg;
}

/**
 * Builds the output. Metadata-only (`pixels` null): every segment of the input in order, with
 * the patched APP1 segments. With new pixels: the input's APPn/COM segments (patched; APP14
 * Adobe taken from the new encoding, since it describes that encoding's colour transform), then
 * the new encoding's tables, frame and scans. Bytes after the input's EOI are kept.
 */
function writeJpeg(original: Uint8Array, info: JpegInfo, pixels: EncodedPixels | null, context: WriteContext): Uint8Array {
  const width = pixels?.width ?? info.width;
  const height = pixels?.height ?? info.height;
  const meta = patchMetadataSegments(original, info, width, height, context, context.warnings);
  const parts: Uint8Array[] = [original.subarray(0, 2)];
  if (!pixels) {
    for (const seg of info.structure.segments) parts.push(meta.get(seg) ?? original.subarray(seg.offset, seg.end));
  } else {
    const fresh = parseJpeg(pixels.data);
    const freshAdobe = fresh.segments.some((s) => s.marker === 0xee);
    for (const [seg, data] of meta) if (!(freshAdobe && seg.marker === 0xee)) parts.push(data);
    for (const seg of fresh.segments) {
      if (isMetadataMarker(seg.marker) && seg.marker !== 0xee) continue;
      parts.push(pixels.data.subarray(seg.offset, seg.end));
    }
  }
  parts.push(original.subarray(info.structure.eoiEnd));
  const out = concat(parts);
  if (pixels && info.structure.eoiEnd < original.length) relocateMpfImages(original, info.structure, out, context.warnings);
  return out;
}

/** Offset of the MPF TIFF header (after "MPF\0") in an APP2 segment of `bytes`, or -1. */
function mpfHeader(bytes: Uint8Array, segments: readonly JpegSegment[]): number {
  for (const seg of segments) {
    if (seg.marker === 0xda) break;
    if (seg.marker === 0xe2 && startsWith(bytes, MPF_HEADER, seg.dataOffset)) return seg.dataOffset + MPF_HEADER.length;
  }
  return -1;
}

/**
 * MPO files (CIPA DC-007) put further images after the first one's EOI and list them in the
 * first image's APP2 MPF segment, with offsets from the MPF header. When the first image changes
 * size, those offsets move: this patches the MP Entries of `out` in place (the first entry's size,
 * the others' offsets) so they point at the same images again. Their bytes are kept as they were.
 */
function relocateMpfImages(original: Uint8Array, structure: JpegStructure, out: Uint8Array, warnings: string[]): void {
  const oldHeader = mpfHeader(original, structure.segments);
  if (oldHeader < 0) return;
  try {
    const fresh = parseJpeg(out, { headerOnly: true });
    const newHeader = mpfHeader(out, fresh.segments);
    const newEoiEnd = out.length - (original.length - structure.eoiEnd);
    const delta = newEoiEnd - newHeader - (structure.eoiEnd - oldHeader);
    const tiff = out.subarray(newHeader, fresh.segments.find((g) => g.dataOffset + MPF_HEADER.length === newHeader)!.end);
    const view = new TiffView(tiff, parseTiff(tiff).littleEndian);
    const ifd = readIfd(view, view.u32(4));
    const entry = ifd.entries.get(MP_ENTRY);
    if (!entry) return;
    for (let i = 0; i + 16 <= entry.byteLength; i += 16) {
      const at = entry.valueOffset + i;
      const offset = view.u32(at + 8);
      if (offset === 0) view.view.setUint32(at + 4, newEoiEnd, view.littleEndian);
      else view.view.setUint32(at + 8, offset + delta, view.littleEndian);
    }
  } catch (error) {
    warnings.push(`the MPF index could not be updated (${(error as Error).message}); further images may be unreachable`);
  }
}

/** The JPEG container module. */
export const jpeg: Container<JpegInfo> = {
  format: 'jpeg',
  sniff: isJpeg,
  read: readJpeg,
  encode: encodeJpeg,
  write: writeJpeg,
};

