/**
 * WebP: orientation lives in the `EXIF` chunk and the `XMP ` chunk of the extended format
 * (DESIGN.md section 2; WebP Container Specification, "Extended File Format"). exifr cannot read
 * WebP, so the RIFF structure is read here. The output keeps ICCP and unknown chunks byte for
 * byte and in order; lossless (`VP8L`) files stay lossless and bit-exact, lossy (`VP8 `) files
 * are re-encoded at the quality their quantizer indices point to.
 */
import type { Sharp } from 'sharp';
import { ExifFixError, ensure, printable } from '../errors.js';
import { EXIF_HEADER, exifPlaces, rewriteExif } from '../metadata/exif.js';
import { readExifOrientation } from '../metadata/tiff.js';
import { patchXmpBytes, readXmpOrientation } from '../metadata/xmp.js';
import { decideOrientation, type Orientation } from '../orientation.js';
import { concat, startsWith } from '../bytes.js';
import type { Container, ContainerInfo, EncodedPixels, OrientationPlace, WriteContext } from './types.js';
import { estimateVp8Quality, parseVp8Header, parseVp8lHeader } from './webp-vp8.js';
import { buildRiff, buildRiffChunk, isWebp, parseWebp, type RiffChunk, type WebpStructure } from './webp-riff.js';


/** VP8X feature flags (WebP Container Specification, "Extended File Format"). */
const VP8X_FLAG = { icc: 0x20, alpha: 0x10, exif: 0x08, xmp: 0x04, animation: 0x02 } as const;

/** The image data chunks of a still WebP. */
const IMAGE_CHUNKS = new Set(['VP8 ', 'VP8L', 'ALPH']);

/** What the WebP reader found. */
export interface WebpInfo extends ContainerInfo {
  readonly format: 'webp';
  readonly structure: WebpStructure;
  /** Whether the file is animated (VP8X animation flag, or ANIM/ANMF chunks). */
  readonly animated: boolean;
  /**
   * For lossy (`VP8 `) files: the estimated libwebp quality 0-100 (see
   * {@link estimateVp8Quality}); `undefined` for lossless and animated files.
   */
  readonly quality?: number;
}

function payload(bytes: Uint8Array, chunk: RiffChunk): Uint8Array {
  return bytes.subarray(chunk.dataOffset, chunk.dataOffset + chunk.size);
}

function u24le(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
}

/** The TIFF structure of an `EXIF` chunk, which libvips and others prefix with "Exif\0\0". */
function exifTiff(data: Uint8Array): { prefixed: boolean; tiff: Uint8Array } {
  const prefixed = startsWith(data, EXIF_HEADER);
  return { prefixed, tiff: prefixed ? data.subarray(EXIF_HEADER.length) : data };
}

function readWebp(bytes: Uint8Array): WebpInfo {
  const structure = parseWebp(bytes);
  const { chunks } = structure;
  ensure(chunks.length > 0, 'WebP has no chunks');
  const first = chunks[0];
  ensure(first.fourcc === 'VP8X' || first.fourcc === 'VP8 ' || first.fourcc === 'VP8L', `WebP starts with a "${printable(first.fourcc)}" chunk, not VP8X, VP8 or VP8L`);
  let canvas: { width: number; height: number } | undefined;
  let animated = false;
  if (first.fourcc === 'VP8X') {
    ensure(first.size >= 10, 'WebP VP8X chunk is too short');
    const o = first.dataOffset;
    animated = (bytes[o] & VP8X_FLAG.animation) !== 0;
    canvas = { width: u24le(bytes, o + 4) + 1, height: u24le(bytes, o + 7) + 1 };
  }
  if (chunks.some((c) => c.fourcc === 'ANIM' || c.fourcc === 'ANMF')) animated = true;

  const places: OrientationPlace[] = [];
  const warnings: string[] = [];
  const exif: Uint8Array[] = [];
  let sawExif = false;
  let sawXmp = false;
  for (const chunk of chunks) {
    if (chunk.fourcc === 'EXIF' && !sawExif) {
      sawExif = true;
      try {
        const tiff = exifTiff(payload(bytes, chunk)).tiff;
        exif.push(tiff);
        const read = readExifOrientation(tiff);
        places.push(...exifPlaces(read));
      } catch (error) {
        warnings.push(`EXIF is unreadable (${(error as Error).message}); it is kept as it is`);
      }
    } else if (chunk.fourcc === 'XMP ' && !sawXmp) {
      sawXmp = true;
      const value = readXmpOrientation(Buffer.from(payload(bytes, chunk)).toString('utf8'));
      if (value !== undefined) places.push({ source: 'xmp', value });
    }
  }

  let width: number;
  let height: number;
  let lossless = false;
  let quality: number | undefined;
  if (animated) {
    ensure(canvas, 'animated WebP has no VP8X chunk');
    ({ width, height } = canvas);
  } else {
    const image = chunks.find((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L');
    ensure(image, 'WebP has no VP8 or VP8L image chunk');
    if (image.fourcc === 'VP8L') {
      ({ width, height } = parseVp8lHeader(payload(bytes, image)));
      lossless = true;
    } else {
      const header = parseVp8Header(payload(bytes, image));
      ({ width, height } = header);
      quality = estimateVp8Quality(header);
    }
    if (canvas) {
      ensure(canvas.width === width && canvas.height === height, `WebP VP8X canvas ${canvas.width}x${canvas.height} does not match the ${width}x${height} image`);
    }
  }
  const refusal = animated ? { code: 'unsupported' as const, reason: 'animated WebP is not supported when the pixels must change: each frame would have to be transformed and re-encoded' } : undefined;
  return { format: 'webp', width, height, places, lossless, space: 'srgb', warnings, exif, structure, animated, quality, refusal };
}

/**
 * Sets sharp's WebP output: lossless files (`VP8L`) stay lossless with `exact` (RGB under
 * transparent pixels kept), so the pixels are bit-exact; lossy files are re-encoded at the
 * quality estimated from their quantizer indices (never a library default), with lossless alpha.
 */
function encodeWebp(image: Sharp, info: WebpInfo): Sharp {
  if (info.lossless) return image.webp({ lossless: true, exact: true, effort: 4, force: true });
  if (info.quality === undefined) throw new ExifFixError('WebP has no VP8 frame to estimate a quality from', 'unsupported');
  return image.webp({ quality: info.quality, alphaQuality: 100, effort: 4, force: true });
}

/** Patches an `EXIF` chunk payload; `undefined` when it cannot be read (kept as it is, with a warning). */
function patchExifPayload(
  data: Uint8Array,
  width: number,
  height: number,
  context: WriteContext,
  warnings: string[],
): Uint8Array | undefined {
  const { prefixed, tiff } = exifTiff(data);
  const patched = rewriteExif(tiff, { width, height, thumbnails: context.thumbnails, pixelsChanged: context.orientation !== 1, where: 'WebP EXIF chunk' }, warnings);
  if (!patched) return undefined;
  return prefixed ? concat([EXIF_HEADER, patched]) : patched;
}

/** Builds a VP8X chunk (WebP Container Specification, "Extended File Format"). */
function vp8x(flags: number, width: number, height: number): Uint8Array {
  const data = new Uint8Array(10);
  data[0] = flags;
  const w = width - 1;
  const h = height - 1;
  data.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 4);
  return buildRiffChunk('VP8X', data);
}

/**
 * Builds the output. Metadata-only (`pixels` null): every chunk of the input in order with the
 * `EXIF` and `XMP ` chunks patched. With new pixels: the input's chunks in order, its image
 * chunks (`ALPH`, `VP8 `/`VP8L`) replaced by the new encoding's, `VP8X` rebuilt with the new
 * canvas size and the flags of what the output holds (added when the output needs one: ICC,
 * EXIF, XMP or alpha), ICCP and unknown chunks kept byte for byte. Bytes after the RIFF payload
 * are kept.
 */
function writeWebp(original: Uint8Array, info: WebpInfo, pixels: EncodedPixels | null, context: WriteContext): Uint8Array {
  const { structure } = info;
  const width = pixels?.width ?? info.width;
  const height = pixels?.height ?? info.height;
  const whole = (c: RiffChunk) => original.subarray(c.offset, c.end);
  const out: Uint8Array[] = [];
  let freshImage: Uint8Array[] = [];
  let freshAlpha = false;
  if (pixels) {
    const fresh = parseWebp(pixels.data);
    const freshWhole = (c: RiffChunk) => pixels.data.subarray(c.offset, c.end);
    freshImage = fresh.chunks.filter((c) => IMAGE_CHUNKS.has(c.fourcc)).map(freshWhole);
    const vp8l = fresh.chunks.find((c) => c.fourcc === 'VP8L');
    freshAlpha = fresh.chunks.some((c) => c.fourcc === 'ALPH') || (vp8l !== undefined && parseVp8lHeader(payload(pixels.data, vp8l)).alpha);
  }
  let vp8xAt = -1;
  let imageDone = false;
  for (const chunk of structure.chunks) {
    if (chunk.fourcc === 'EXIF') {
      const patched = patchExifPayload(payload(original, chunk), width, height, context, context.warnings);
      out.push(patched ? buildRiffChunk('EXIF', patched) : whole(chunk));
    } else if (chunk.fourcc === 'XMP ') {
      const data = payload(original, chunk);
      const patched = patchXmpBytes(data, width, height);
      out.push(patched === data ? whole(chunk) : buildRiffChunk('XMP ', patched));
    } else if (pixels && chunk.fourcc === 'VP8X') {
      vp8xAt = out.length;
      out.push(new Uint8Array(0)); // rebuilt below, once the output's chunks are known
    } else if (pixels && IMAGE_CHUNKS.has(chunk.fourcc)) {
      if (!imageDone) out.push(...freshImage);
      imageDone = true;
    } else {
      out.push(whole(chunk));
    }
  }
  if (pixels) {
    const has = (fourcc: string) => structure.chunks.some((c) => c.fourcc === fourcc);
    const flags =
      (has('ICCP') ? VP8X_FLAG.icc : 0) | (freshAlpha ? VP8X_FLAG.alpha : 0) | (has('EXIF') ? VP8X_FLAG.exif : 0) | (has('XMP ') ? VP8X_FLAG.xmp : 0);
    if (vp8xAt >= 0) out[vp8xAt] = vp8x(flags, width, height);
    else if (flags !== 0) out.unshift(vp8x(flags, width, height));
  }
  return concat([buildRiff(out), original.subarray(structure.riffEnd)]);
}

/** The WebP container module. */
export const webp: Container<WebpInfo> = {
  format: 'webp',
  sniff: isWebp,
  read: readWebp,
  encode: encodeWebp,
  write: writeWebp,
};
