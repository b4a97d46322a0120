/**
 * The re-encode path: decode with sharp (libvips), apply the orientation's transform, encode in
 * the input's container with settings matching the input. Colour is never converted: the
 * embedded ICC profile is ignored for the pixel data (its bytes are carried over by the
 * container writer) and the pipeline runs in the input's own colour space, so CMYK stays CMYK
 * and 16-bit stays 16-bit.
 *
 * Damaged input follows the damaged-file policy (docs/DESIGN.md): the decoder's complaints are
 * never dropped. sharp's `failOn` decides which ones fail the file (default `'warning'`: any);
 * damage the container reader already found is refused before decoding ({@link damageRefusal}).
 *
 * sharp (libvips, about 100 ms to load) is imported on first use, so this module adds nothing to
 * the start-up of runs that decode no pixels (`--check`, `--dry-run`, `--version`).
 */
import type { Container, ContainerInfo, EncodedPixels, ReadDamage } from '../containers/types.js';
import { exactIjgQuality, repairJpeg } from '../containers/jpeg-structure.js';
import type { JpegInfo } from '../containers/jpeg.js';
import { ExifFixError } from '../errors.js';
import type { Orientation } from '../orientation.js';
import { canEncodeLike, encodeLikeSource, type SourceLayout } from './jpeg-encode/index.js';
import { applyOrientation } from './sharp-transform.js';

/**
 * When damaged pixel data fails a file instead of giving best-effort pixels: sharp's `failOn`
 * levels (sharp constructor option `failOn`), least to most strict. `'none'` accepts anything
 * the decoder can read; `'truncated'` fails truncated data; `'error'` also fails decoder errors;
 * `'warning'` also fails decoder warnings (libjpeg's "Corrupt JPEG data: ...").
 */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** The default {@link FailOn}: a damaged file that needs new pixels fails, naming the complaint. */
export const DEFAULT_FAIL_ON: FailOn = 'warning';

/** Every {@link FailOn} value, least strict first. */
export const FAIL_ON_LEVELS: readonly FailOn[] = ['none', 'truncated', 'error', 'warning'];

/**
 * Which JPEG encoder makes new JPEG pixels:
 * - `source-tables` (default): the source's own quantization tables and chroma subsampling
 *   (jpeg-encode/index.ts), so the output keeps the source's size and quality; used for 8-bit
 *   sequential greyscale and YCbCr JPEGs ({@link jpegLayout}), sharp otherwise (CMYK, RGB,
 *   12-bit, and progressive files, whose re-encode stays progressive as sharp writes it);
 * - `sharp`: libvips/mozjpeg at the estimated quality, 4:2:0 or 4:4:4 (containers/jpeg.ts encode).
 */
export type JpegEncoder = 'source-tables' | 'sharp';

/** Options of {@link reencode}. */
export interface ReencodeOptions {
  /** See {@link FailOn}; default {@link DEFAULT_FAIL_ON}. */
  readonly failOn?: FailOn;
  /** See {@link JpegEncoder}; default `'source-tables'`. Ignored for other formats. */
  readonly jpegEncoder?: JpegEncoder;
}

/**
 * The layout {@link encodeLikeSource} copies from a JPEG, or `undefined` when it cannot: a
 * sequential (not progressive) frame of 8-bit samples, one component or three YCbCr ones (not RGB: an Adobe APP14 transform flag 0, or
 * component identifiers 'R','G','B' without JFIF, as libjpeg jdapimin.c `default_decompress_parms`
 * decides), every quantization table present.
 *
 * @param info - what the JPEG reader found (whole-file parse).
 */
export function jpegLayout(info: JpegInfo): SourceLayout | undefined {
  const { frame, quantTables, segments } = info.structure;
  if (info.progressive || frame.precision !== 8 || (frame.components.length !== 1 && frame.components.length !== 3)) return undefined;
  if (frame.components.length === 3) {
    const adobe = segments.find((s) => s.marker === 0xee && s.dataLength >= 12);
    const jfif = segments.some((s) => s.marker === 0xe0 && s.dataLength >= 5);
    const ids = frame.components.map((c) => c.id);
    const rgbIds = ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42;
    if (adobe && info.adobeTransform === 0) return undefined;
    if (!adobe && !jfif && rgbIds) return undefined;
  }
  const layout = { components: frame.components, quantTables };
  return canEncodeLike(layout) ? layout : undefined;
}

/**
 * The layout of the upright output: the source's for orientations 1-4; for 5-8 (which swap the
 * axes) each component's sampling factors swapped, so every upright axis keeps the chroma
 * resolution it had (4:2:2 stored sideways becomes 4:4:0 upright), as the lossless transform
 * does (libjpeg-turbo transupp.c swaps them for transpose and the 90/270 rotations). The
 * quantization tables are used as they are.
 *
 * @param layout - the source's layout.
 * @param orientation - the orientation being applied.
 */
export function uprightLayout(layout: SourceLayout, orientation: Orientation): SourceLayout {
  if (orientation < 5) return layout;
  return { ...layout, components: layout.components.map((c) => ({ ...c, h: c.v, v: c.h })) };
}

/**
 * New JPEG pixels with the source's own tables and subsampling: sharp decodes and applies the
 * orientation to raw 8-bit RGB or grey samples, {@link encodeLikeSource} encodes them.
 */
async function reencodeLikeSource(source: Uint8Array, info: JpegInfo, sourceLayout: SourceLayout, orientation: Orientation, failOn: FailOn): Promise<EncodedPixels> {
  const layout = uprightLayout(sourceLayout, orientation);
  const { default: sharp } = await import('sharp');
  const grey = layout.components.length === 1;
  let image = sharp(source, { ignoreIcc: true, failOn, limitInputPixels: false });
  if (grey) image = image.pipelineColourspace('b-w');
  image = applyOrientation(image, orientation).toColourspace(grey ? 'b-w' : 'srgb');
  let raw;
  try {
    raw = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decoderComplaint(error, failOn);
  }
  const { data, info: out } = raw;
  const channels = out.channels;
  if (channels !== layout.components.length) throw new ExifFixError(`the decoder gave ${channels} channels for ${layout.components.length} JPEG components`, 'unsupported');
  const jpegBytes = encodeLikeSource({ data, width: out.width, height: out.height, channels: channels as 1 | 3 }, layout);
  return { data: jpegBytes, width: out.width, height: out.height };
}

/** The least strict level that still rejects `level`, for the "accept with" hint. */
function weakerThan(level: FailOn): FailOn {
  return FAIL_ON_LEVELS[Math.max(0, FAIL_ON_LEVELS.indexOf(level) - 1)];
}

/**
 * Whether `damage` read past by a container reader forbids new pixels under `failOn`. Damage
 * that leaves the pixel data complete (extraneous bytes between JPEG segments) never does: the
 * pixel path reads the repaired file ({@link sourceForPixels}).
 *
 * @param info - what the container's reader found (its `damage` list).
 * @param failOn - the user's level; default {@link DEFAULT_FAIL_ON}.
 * @returns the refusal, one sentence naming the decoder's complaint and the `--fail-on` level
 *   that would accept it; `undefined` when new pixels may be made.
 */
export function damageRefusal(info: ContainerInfo, failOn: FailOn = DEFAULT_FAIL_ON): string | undefined {
  const rank = FAIL_ON_LEVELS.indexOf(failOn);
  const d = (info.damage ?? []).find((x: ReadDamage) => !x.pixelsIntact && rank >= FAIL_ON_LEVELS.indexOf(x.level));
  if (!d) return undefined;
  const what = d.level === 'truncated' ? 'the file is truncated' : 'the image data is damaged';
  return `${what} (${d.message}); --fail-on ${weakerThan(d.level)} accepts best-effort pixels`;
}

/**
 * The bytes the pixel path should decode: for a JPEG whose only damage lies between segments,
 * the file without the extraneous bytes (jpeg-structure.ts `repairJpeg`), else `bytes`.
 *
 * @param bytes - the whole input file.
 * @param info - what the container's reader found for it.
 */
export function sourceForPixels(bytes: Uint8Array, info: ContainerInfo): Uint8Array {
  if (info.format !== 'jpeg' || !info.damage?.length) return bytes;
  const structure = (info as JpegInfo).structure;
  return structure && structure.eoiEnd >= 0 ? repairJpeg(bytes, structure) : bytes;
}

/**
 * Re-encodes `bytes` with `orientation` baked in.
 *
 * @param bytes - the whole input file.
 * @param container - the input's container module (sets the encoder options).
 * @param info - what the container's reader found.
 * @param orientation - the value to apply; ignored when the decoder applies it itself (HEIF).
 * @param options - see {@link ReencodeOptions}.
 * @returns the encoded file without metadata, and its size in pixels.
 * @throws {ExifFixError} code `'corrupt'` when damage found by the reader or a complaint of the
 *   decoder fails under `failOn`; the message names the complaint and the `--fail-on` level that
 *   would accept it.
 * @throws {Error} from sharp for other failures (e.g. an unsupported encoding).
 */
export async function reencode<I extends ContainerInfo>(
  bytes: Uint8Array,
  container: Container<I>,
  info: I,
  orientation: Orientation,
  options: ReencodeOptions = {},
): Promise<EncodedPixels> {
  const failOn = options.failOn ?? DEFAULT_FAIL_ON;
  const refusal = damageRefusal(info, failOn);
  if (refusal) throw new ExifFixError(refusal, 'corrupt');
  const source = sourceForPixels(bytes, info);
  if (info.format === 'jpeg' && options.jpegEncoder !== 'sharp' && !sharpReproduces(info as unknown as JpegInfo)) {
    const layout = jpegLayout(info as unknown as JpegInfo);
    if (layout) return reencodeLikeSource(source, info as unknown as JpegInfo, layout, orientation, failOn);
  }
  const { default: sharp } = await import('sharp');
  let image = sharp(source, { ignoreIcc: true, failOn, limitInputPixels: false });
  if (info.space !== 'srgb') image = image.pipelineColourspace(info.space);
  image = applyOrientation(image, info.decoderApplies ? 1 : orientation);
  if (info.space !== 'srgb') image = image.toColourspace(info.space);
  image = container.encode(image, info);
  try {
    const { data, info: out } = await image.toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: out.width, height: out.height };
  } catch (error) {
    throw decoderComplaint(error, failOn);
  }
}

/**
 * Whether sharp's encoder writes the same quantization tables and chroma subsampling as the
 * source: IJG tables at some quality ({@link exactIjgQuality}) with 4:2:0, 4:4:4 or grey. Then it
 * is used (about 1.5x faster than the own encoder) with the same size and quality; otherwise
 * (camera tables, 4:2:2, 4:4:0, 4:1:1) only the own encoder keeps them.
 */
function sharpReproduces(info: JpegInfo): boolean {
  if (!['4:2:0', '4:4:4', 'grey'].includes(info.chromaSubsampling)) return false;
  return exactIjgQuality(info.structure.quantTables) !== undefined;
}

/** libvips prefixes of decoder messages ("VipsJpeg: ...", "VipsForeignLoadPng: ..."), stripped for the report. */
const VIPS_PREFIX = /^(?:Vips\w*|\w+load\w*): /;

/**
 * Turns a sharp failure caused by damaged input into an ExifFixError naming the decoder's
 * complaint; other failures are returned as they are.
 */
function decoderComplaint(error: unknown, failOn: FailOn): unknown {
  if (!(error instanceof Error)) return error;
  const first = error.message.split('\n')[0].trim();
  const damaged = /corrupt|premature|truncat|invalid|damaged|bad |extraneous|unexpected end|Huffman/i.test(first);
  if (!damaged || failOn === 'none') return error;
  const complaint = first.replace(VIPS_PREFIX, '');
  const level = /premature end of JPEG image|truncat/i.test(complaint) ? 'truncated' : failOn;
  return new ExifFixError(`the decoder rejects the pixel data (${complaint}); --fail-on ${weakerThan(level)} accepts best-effort pixels`, 'corrupt', { cause: error });
}
