/**
 * Why the lossless path was not taken:
 * - `imperfect`: the transform is not perfect for this size and sampling (see `checkPerfect`)
 * - `arithmetic`: arithmetic coding (SOF9-SOF15, or a DAC segment)
 * - `precision`: samples other than 8-bit (e.g. 12-bit SOF1)
 * - `lossless-sof3`: SOF3 lossless, hierarchical (SOF5-7, DHP/EXP) or another unsupported
 *   process or feature (a height defined by DNL)
 * - `components`: a component count other than 1, 3 or 4
 * - `corrupt`: cannot be parsed, truncated, bad Huffman data, or larger than the limits
 *   (2^28 pixels, 2^24 DCT blocks, 256 scans)
 */
export type LosslessRefusal =
  | 'imperfect'
  | 'arithmetic'
  | 'precision'
  | 'lossless-sof3'
  | 'components'
  | 'corrupt';

/**
 * Internal signal that the lossless path cannot be taken. Thrown by the parser, decoder and
 * encoder; caught once in `transformJpegLossless`, which turns it into a refusal result, and
 * rethrown as a plain `Error` by `readCoefficients`.
 */
export class LosslessError extends Error {
  override name = 'LosslessError';
  readonly refusal: LosslessRefusal;

  /**
   * @param refusal - the refusal category reported to the caller
   * @param reason - one human sentence saying what was found
   */
  constructor(refusal: LosslessRefusal, reason: string) {
    super(reason);
    this.refusal = refusal;
  }
}

/** Shorthand for the most common refusal: the data cannot be parsed or is truncated. */
export function corrupt(reason: string): LosslessError {
  return new LosslessError('corrupt', reason);
}
