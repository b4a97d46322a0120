/**
 * The VP8 (lossy WebP) key-frame header, read with the boolean entropy decoder of RFC 6386
 * (sections 7.3, 9.2-9.6 and 19.2), and the libwebp quality the quantizer indices point back to.
 * The VP8L (lossless) header (WebP Lossless Bitstream Specification section 3.2) lives here too.
 */
import { ensure } from '../errors.js';

/**
 * The boolean decoder of RFC 6386 section 7.3. Past the end of its data it reads zero bytes, as
 * libvpx does, so a short partition can never make it read out of bounds.
 */
class BoolDecoder {
  private value: number;
  private range = 255;
  private bitCount = 0;
  private pos = 2;

  /** @param data - the first partition's bytes. */
  constructor(private readonly data: Uint8Array) {
    this.value = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
  }

  /** One boolean whose probability of being 0 is `prob`/256 (RFC 6386 section 7.3 `bool_decoder`). */
  bool(prob: number): number {
    const split = 1 + (((this.range - 1) * prob) >> 8);
    const bigSplit = split << 8;
    let bit: number;
    if (this.value >= bigSplit) {
      bit = 1;
      this.range -= split;
      this.value -= bigSplit;
    } else {
      bit = 0;
      this.range = split;
    }
    while (this.range < 128) {
      this.value <<= 1;
      this.range <<= 1;
      if (++this.bitCount === 8) {
        this.bitCount = 0;
        this.value |= this.data[this.pos++] ?? 0;
      }
    }
    return bit;
  }

  /** `L(n)`: an n-bit unsigned literal, most significant bit first, each bit at probability 128 (RFC 6386 section 19.2). */
  literal(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bool(128);
    return v;
  }

  /** A flagged signed value: `L(1)` present, then `L(n)` magnitude and `L(1)` sign; 0 when absent. */
  optionalSigned(n: number): number {
    if (!this.literal(1)) return 0;
    const magnitude = this.literal(n);
    return this.literal(1) ? -magnitude : magnitude;
  }
}

/** What exif-fix needs from a VP8 key frame. */
export interface Vp8Header {
  /** Width in pixels (14 bits; RFC 6386 section 9.1). */
  readonly width: number;
  /** Height in pixels (14 bits). */
  readonly height: number;
  /** The frame's base quantizer index `y_ac_qi`, 0-127 (RFC 6386 section 9.6). */
  readonly baseQuantizer: number;
  /** The quantizer index of each of the 4 segments when segmentation sets one (section 9.3), else empty. */
  readonly segmentQuantizers: readonly number[];
  /**
   * The 3 probabilities (0-255) of the segment id tree (RFC 6386 section 9.3 `segment_prob`,
   * section 10): 255 where the frame does not set one.
   */
  readonly segmentProbabilities: readonly number[];
}

/**
 * Parses a VP8 key frame's uncompressed header and the start of its first partition up to the
 * quantizer indices: frame tag and dimensions (RFC 6386 section 9.1), colour space and clamping
 * (9.2), segmentation (9.3), loop filter (9.4 and 9.6), partition count (9.5) and `quant_indices`
 * (9.6), in the order of section 19.2.
 *
 * @param data - the `VP8 ` chunk payload.
 * @throws {ExifFixError} code `'corrupt'` when the frame is not a key frame, lacks the start
 *   code `9d 01 2a`, or its first partition runs past the chunk.
 */
export function parseVp8Header(data: Uint8Array): Vp8Header {
  ensure(data.length >= 10, 'WebP VP8 chunk is too short for a frame header');
  const tag = data[0] | (data[1] << 8) | (data[2] << 16);
  ensure((tag & 1) === 0, 'WebP VP8 chunk does not start with a key frame');
  const firstPartitionSize = tag >>> 5;
  ensure(data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a, 'WebP VP8 frame has no start code');
  const width = (data[6] | (data[7] << 8)) & 0x3fff;
  const height = (data[8] | (data[9] << 8)) & 0x3fff;
  ensure(width > 0 && height > 0, 'WebP VP8 frame declares a zero size');
  ensure(10 + firstPartitionSize <= data.length, 'WebP VP8 first partition runs past the chunk');
  const d = new BoolDecoder(data.subarray(10, 10 + firstPartitionSize));
  d.literal(1); // color_space
  d.literal(1); // clamping_type
  let segmentQuantizers: number[] = [];
  const segmentProbabilities = [255, 255, 255];
  let absolute = true;
  if (d.literal(1)) {
    // update_segmentation (section 9.3)
    const updateMap = d.literal(1);
    const updateData = d.literal(1);
    if (updateData) {
      absolute = d.literal(1) === 1; // segment_feature_mode: 1 absolute, 0 delta
      segmentQuantizers = [0, 1, 2, 3].map(() => d.optionalSigned(7));
      for (let i = 0; i < 4; i++) d.optionalSigned(6); // loop filter level per segment
    }
    if (updateMap) for (let i = 0; i < 3; i++) if (d.literal(1)) segmentProbabilities[i] = d.literal(8);
  }
  d.literal(1); // filter_type
  d.literal(6); // loop_filter_level
  d.literal(3); // sharpness_level
  if (d.literal(1) && d.literal(1)) {
    // loop_filter_adj_enable, mode_ref_lf_delta_update (section 9.6)
    for (let i = 0; i < 8; i++) d.optionalSigned(6);
  }
  d.literal(2); // log2_nbr_of_dct_partitions
  const baseQuantizer = d.literal(7); // y_ac_qi
  if (!absolute) segmentQuantizers = segmentQuantizers.map((delta) => Math.min(127, Math.max(0, baseQuantizer + delta)));
  return { width, height, baseQuantizer, segmentQuantizers, segmentProbabilities };
}

/**
 * Estimates the libwebp `quality` (0-100) a VP8 frame was encoded at, by inverting libwebp's
 * mapping (src/enc/quant_enc.c): `VP8SetSegmentParams` gives segment i the quantizer index
 * `q_i = floor(127 * (1 - c_base ^ e_i))` with `c_base = QualityToCompression(quality / 100)`,
 * where `QualityToCompression(Q) = linear_c ^ (1/3)` and `linear_c = Q < 0.75 ? Q * 2/3 : 2Q - 1`.
 * The exponents are `e_i = 1 - amp * alpha_i`, and libwebp centres the segment alphas on their
 * macroblock-weighted mean (src/enc/analysis_enc.c `SetSegmentAlphas`), so the macroblock-weighted
 * mean of `ln(1 - q_i/127)` is `ln(c_base)`. The macroblock share of each segment is read back
 * from the segment tree probabilities, which libwebp sets from the segment counts
 * (`SetSegmentProbas`). `c_base` is then mapped back to a quality.
 *
 * This is an estimate: alphas are clipped and rounded, other encoders map quality differently,
 * and with `target_size`/`target_PSNR` libwebp searches the quantizer instead. It is close
 * (within about 2) for files libwebp wrote with its defaults.
 *
 * @param header - from {@link parseVp8Header}.
 * @returns an integer quality 0-100.
 */
export function estimateVp8Quality(header: Vp8Header): number {
  let pairs: Array<[q: number, weight: number]>;
  if (header.segmentQuantizers.length === 4) {
    const [p0, p1, p2] = header.segmentProbabilities.map((p) => p / 255);
    const weights = [p0 * p1, p0 * (1 - p1), (1 - p0) * p2, (1 - p0) * (1 - p2)];
    pairs = header.segmentQuantizers.map((q, i) => [q, weights[i]]);
  } else {
    pairs = [[header.baseQuantizer, 1]];
  }
  let logSum = 0;
  let weightSum = 0;
  for (const [q, weight] of pairs) {
    if (weight <= 0) continue;
    // The middle of the truncation step of q = floor(127 * (1 - c)).
    const c = 1 - Math.min(127, q + 0.5) / 127;
    logSum += weight * Math.log(Math.max(c, 1e-4));
    weightSum += weight;
  }
  const c = Math.exp(logSum / weightSum);
  const linear = c ** 3;
  const quality = linear < 0.5 ? linear * 1.5 : (linear + 1) / 2;
  return Math.min(100, Math.max(0, Math.round(quality * 100)));
}

/** What exif-fix needs from a VP8L header. */
export interface Vp8lHeader {
  /** Width in pixels (14 bits + 1). */
  readonly width: number;
  /** Height in pixels (14 bits + 1). */
  readonly height: number;
  /** The `alpha_is_used` hint. */
  readonly alpha: boolean;
}

/**
 * Parses the 5-byte VP8L header: signature 0x2f, then (least significant bit first) 14 bits
 * width - 1, 14 bits height - 1, 1 bit `alpha_is_used`, 3 bits version 0 (WebP Lossless
 * Bitstream Specification section 3.2).
 *
 * @param data - the `VP8L` chunk payload.
 * @throws {ExifFixError} code `'corrupt'` for a missing signature or a non-zero version.
 */
export function parseVp8lHeader(data: Uint8Array): Vp8lHeader {
  ensure(data.length >= 5 && data[0] === 0x2f, 'WebP VP8L chunk has no 0x2f signature');
  const bits = (data[1] | (data[2] << 8) | (data[3] << 16) | (data[4] << 24)) >>> 0;
  ensure(bits >>> 29 === 0, 'WebP VP8L header has an unknown version');
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
}
