/**
 * Decoding HEIF pixels (HEVC-coded HEIC, and AVIF) with libheif's WebAssembly build, so that a
 * HEIC that needs new pixels can become a JPEG, PNG or WebP (`--to`; docs/DESIGN.md section 6: sharp's
 * prebuilt libvips decodes AV1 only).
 *
 * Decoder choice: `libheif-js` (the emscripten build of libheif with libde265 and dav1d, LGPL-3.0,
 * kept in step with libheif's releases). Measured on a 4032x3024 HEIC (12 MP, 3.1 MB, heif-enc
 * quality 80), whole process, median of 5: libheif-js 2.2 s CPU and 193 MiB peak; `heic-decode`
 * (a thin wrapper over the same libheif-js that always returns RGBA, hides the bit depth, and
 * exposes no colour profile) 2.4 s and 256 MiB; `@saschazar/wasm-heif` (a 2021 libheif, no
 * release since, and it does not load under Node 20 without passing `wasmBinary` by hand) 3.0 s
 * and 212 MiB. libheif-js is called directly: no wrapper adds anything needed here, and its own
 * API gives 16-bit output for 10- and 12-bit images.
 *
 * libheif applies the primary item's `irot`/`imir` (and `clap`) when decoding; it does not apply
 * the EXIF Orientation (libheif#227). The module is loaded on first use only (about 0.2 s and 2 MB
 * of WebAssembly), so runs that decode no HEIC (`--version`, `--check`) never load it.
 */
import { createRequire } from 'node:module';
import type { HeifInfo } from '../containers/heif.js';
import { ExifFixError, printable } from '../errors.js';
import { decideOrientation, type Orientation } from '../orientation.js';
import { applyOrientation } from './sharp-transform.js';

/** The few parts of libheif-js's embind API used here (libheif-js `libheif-wasm/libheif.d.ts`). */
interface LibheifValue {
  readonly value: number;
}
interface LibheifChannel {
  readonly id: LibheifValue;
  readonly width: number;
  readonly height: number;
  readonly stride: number;
  readonly bits_per_pixel: number;
  readonly data: Uint8Array;
}
interface LibheifImage {
  readonly code?: LibheifValue;
  readonly message?: string;
  readonly image: unknown;
  readonly channels: readonly LibheifChannel[];
}
interface Libheif {
  heif_get_version(): string;
  heif_context_alloc(): unknown;
  heif_context_free(context: unknown): void;
  heif_context_read_from_memory(context: unknown, bytes: Uint8Array): { code: LibheifValue; message: string };
  heif_js_context_get_primary_image_handle(context: unknown): unknown;
  heif_image_handle_has_alpha_channel(handle: unknown): number;
  heif_image_handle_release(handle: unknown): void;
  heif_js_decode_image2(handle: unknown, colorspace: LibheifValue, chroma: LibheifValue): LibheifImage | Promise<LibheifImage>;
  heif_image_release(image: unknown): void;
  readonly heif_colorspace: { readonly heif_colorspace_RGB: LibheifValue };
  readonly heif_chroma: {
    readonly heif_chroma_interleaved_RGB: LibheifValue;
    readonly heif_chroma_interleaved_RGBA: LibheifValue;
    readonly heif_chroma_interleaved_RRGGBB_LE: LibheifValue;
    readonly heif_chroma_interleaved_RRGGBBAA_LE: LibheifValue;
  };
}

/**
 * Loads libheif-js (the single-file build with the WebAssembly inlined, so no file lookup can
 * fail). Node's module cache keeps the one instance; nothing is kept here.
 */
function libheif(): Libheif {
  return createRequire(import.meta.url)('libheif-js/wasm-bundle.js') as Libheif;
}

/** The version of libheif inside libheif-js, e.g. `"1.23.2"`; loads the module. */
export function libheifVersion(): string {
  return libheif().heif_get_version();
}

/** Upright pixels of a HEIF primary image. */
export interface DecodedHeif {
  /** Interleaved samples, row after row with no padding: RGB or RGBA. */
  readonly data: Uint8Array;
  /** Width in pixels, after every transform. */
  readonly width: number;
  /** Height in pixels, after every transform. */
  readonly height: number;
  /** 3 (RGB) or 4 (RGBA: the image has an alpha plane). */
  readonly channels: 3 | 4;
  /**
   * `'uchar'`: one byte per sample (8-bit images); `'ushort'`: two bytes per sample, native
   * byte order, scaled to the full 0-65535 range (10- and 12-bit images).
   */
  readonly depth: 'uchar' | 'ushort';
  /** Significant bits per sample in the file (8, 10 or 12). */
  readonly bitDepth: number;
  /**
   * The EXIF orientation applied on top of the decoder: 1 when the file has irot/imir (the
   * decoder applied them), else the value of the EXIF (or XMP) orientation, see
   * docs/HEIF-ORIENTATION.md.
   */
  readonly appliedOrientation: Orientation;
}

/**
 * The orientation that must be applied to what libheif returns: none when the primary item has
 * irot/imir (libheif applied them, and EXIF is not applied again on top: libheif#227), else the
 * EXIF or XMP orientation (docs/HEIF-ORIENTATION.md: the writers of such files, Samsung phones and
 * libheif's own heif-enc, mean it as in a JPEG).
 *
 * @param info - what the HEIF reader found.
 * @returns the value 1-8 still to apply to the decoded pixels.
 */
export function orientationAfterDecoder(info: HeifInfo): Orientation {
  if (info.transforms.length > 0) return 1;
  return decideOrientation(info.places).orientation;
}

/** 10/12-bit little-endian samples to 16 bits (bit replication, so the maximum maps to 65535). */
function widen(channel: LibheifChannel, channels: number): Uint16Array {
  const { width, height, stride, data, bits_per_pixel: bits } = channel;
  const out = new Uint16Array(width * height * channels);
  const up = 16 - bits;
  const down = bits - up;
  const rowSamples = width * channels;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const o = y * rowSamples;
    for (let i = 0; i < rowSamples; i++) {
      const v = data[row + 2 * i] | (data[row + 2 * i + 1] << 8);
      out[o + i] = (v << up) | (v >> down);
    }
  }
  return out;
}

/** 8-bit rows without the stride's padding. */
function packRows(channel: LibheifChannel, channels: number): Uint8Array {
  const { width, height, stride, data } = channel;
  const rowBytes = width * channels;
  if (stride === rowBytes) return data.slice(0, rowBytes * height);
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) out.set(data.subarray(y * stride, y * stride + rowBytes), y * rowBytes);
  return out;
}

/**
 * Decodes the primary image of a HEIF file (HEVC with libheif-js; AV1 with sharp's libvips, since
 * libheif-js has no AV1 decoder) to upright RGB(A) pixels: libheif applies irot/imir (ISO/IEC 23008-12 sections 6.5.10, 6.5.12) and clap; then, only when the file
 * has neither irot nor imir, the EXIF/XMP orientation is applied (see
 * {@link orientationAfterDecoder} and docs/HEIF-ORIENTATION.md). Colour is not converted: the
 * samples are in the file's colour space (its ICC profile or nclx primaries), which the caller
 * carries over.
 *
 * @param bytes - the whole HEIF file.
 * @param info - what the HEIF reader (`heif.read`) returned for these bytes.
 * @returns the pixels and how they were made; see {@link DecodedHeif}.
 * @throws {ExifFixError} code `'corrupt'` when libheif cannot parse the file or decode the image
 *   (its message included).
 * @example
 * const pixels = await decodeHeif(bytes, heif.read(bytes));
 * // pixels.width x pixels.height is the upright size
 */
export async function decodeHeif(bytes: Uint8Array, info: HeifInfo): Promise<DecodedHeif> {
  if (info.codec === 'av01') return decodeAvif(bytes, info);
  const lib = libheif();
  const context = lib.heif_context_alloc();
  let handle: unknown;
  let image: LibheifImage | undefined;
  try {
    const read = lib.heif_context_read_from_memory(context, bytes);
    if (read.code.value !== 0) throw new ExifFixError(`libheif cannot read the file: ${printable(read.message)}`, 'corrupt');
    handle = lib.heif_js_context_get_primary_image_handle(context);
    if (!handle || (handle as { code?: unknown }).code) throw new ExifFixError('libheif finds no primary image', 'corrupt');
    const alpha = lib.heif_image_handle_has_alpha_channel(handle) !== 0;
    const high = info.bitDepth > 8;
    const chroma = high
      ? alpha ? lib.heif_chroma.heif_chroma_interleaved_RRGGBBAA_LE : lib.heif_chroma.heif_chroma_interleaved_RRGGBB_LE
      : alpha ? lib.heif_chroma.heif_chroma_interleaved_RGBA : lib.heif_chroma.heif_chroma_interleaved_RGB;
    image = await lib.heif_js_decode_image2(handle, lib.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!image || image.code || !image.channels?.length) {
      throw new ExifFixError(`libheif cannot decode the primary image${image?.message ? `: ${printable(String(image.message))}` : ''}`, 'corrupt');
    }
    const channel = image.channels[0];
    const channels = alpha ? 4 : 3;
    const samples = high ? widen(channel, channels) : packRows(channel, channels);
    const data = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    const orientation = orientationAfterDecoder(info);
    const decoded: DecodedHeif = {
      data,
      width: channel.width,
      height: channel.height,
      channels,
      depth: high ? 'ushort' : 'uchar',
      bitDepth: high ? channel.bits_per_pixel : 8,
      appliedOrientation: orientation,
    };
    return orientation === 1 ? decoded : await orient(decoded, orientation);
  } finally {
    if (image?.image) lib.heif_image_release(image.image);
    if (handle && !(handle as { code?: unknown }).code) lib.heif_image_handle_release(handle);
    lib.heif_context_free(context);
  }
}

/**
 * AV1-coded HEIF (AVIF): libheif-js is built without an AV1 decoder, and sharp's libvips (libheif
 * with aom inside) decodes it, applying irot/imir the same way.
 */
async function decodeAvif(bytes: Uint8Array, info: HeifInfo): Promise<DecodedHeif> {
  const { default: sharp } = await import('sharp');
  const high = info.bitDepth > 8;
  let image = sharp(bytes, { ignoreIcc: true, failOn: 'error', limitInputPixels: false });
  if (high) image = image.pipelineColourspace('rgb16').toColourspace('rgb16');
  const { data, info: out } = await image.raw({ depth: high ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const channels = out.channels === 4 ? 4 : 3;
  if (out.channels !== channels) throw new ExifFixError(`the AVIF decodes to ${out.channels} channels; only RGB and RGBA are converted`, 'unsupported');
  const decoded: DecodedHeif = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: out.width,
    height: out.height,
    channels,
    depth: high ? 'ushort' : 'uchar',
    bitDepth: info.bitDepth,
    appliedOrientation: orientationAfterDecoder(info),
  };
  return decoded.appliedOrientation === 1 ? decoded : orient(decoded, decoded.appliedOrientation);
}

/** Applies `orientation` to raw pixels with sharp (docs/DESIGN.md section 1). */
async function orient(pixels: DecodedHeif, orientation: Orientation): Promise<DecodedHeif> {
  const { default: sharp } = await import('sharp');
  const raw = { width: pixels.width, height: pixels.height, channels: pixels.channels, ...(pixels.depth === 'ushort' ? { depth: 'ushort' as const } : {}) };
  // sharp reads 16-bit raw samples only from a Uint16Array (from bytes it takes 8 bits each).
  const input = pixels.depth === 'ushort' ? new Uint16Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength / 2) : pixels.data;
  let image = sharp(input, { raw, limitInputPixels: false });
  image = applyOrientation(image, orientation);
  const { data, info } = await image.raw({ depth: pixels.depth }).toBuffer({ resolveWithObject: true });
  return { ...pixels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
