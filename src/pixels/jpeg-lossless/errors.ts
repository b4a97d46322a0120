import type { LosslessRefusal } from './index.js';

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
