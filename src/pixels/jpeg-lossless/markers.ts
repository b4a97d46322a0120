/**
 * Marker codes (ITU T.81 table B.1) and the classification of frame types into what the
 * lossless path supports.
 */
import { LosslessError } from './errors.js';

/** Marker codes (the byte after 0xFF), named as in T.81 table B.1. */
export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const DQT = 0xdb;
export const DNL = 0xdc;
export const DRI = 0xdd;
export const DHP = 0xde;
export const EXP = 0xdf;
export const DHT = 0xc4;
export const DAC = 0xcc;
export const COM = 0xfe;
export const SOF0 = 0xc0;
export const SOF1 = 0xc1;
export const SOF2 = 0xc2;

/** True for the start-of-frame markers SOF0..SOF15 (0xC0..0xCF less DHT, JPG and DAC). */
export function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== DHT && m !== 0xc8 && m !== DAC;
}

/** True for APP0..APP15 and COM, the segments carried over byte for byte. */
export function isMetadata(m: number): boolean {
  return (m >= 0xe0 && m <= 0xef) || m === COM;
}

/**
 * Throws the refusal for a start-of-frame marker the lossless path does not handle
 * (T.81 table B.1): SOF9-SOF15 are arithmetic coded, SOF3 is lossless, SOF5-SOF7 are
 * differential (hierarchical). SOF0, SOF1 and SOF2 return normally.
 */
export function checkSofSupported(m: number): void {
  if (m === SOF0 || m === SOF1 || m === SOF2) return;
  const n = m - 0xc0;
  if (m >= 0xc9) throw new LosslessError('arithmetic', `the frame is arithmetic coded (SOF${n}), which the lossless path does not decode`);
  if (m === 0xc3) throw new LosslessError('lossless-sof3', 'the frame uses the lossless process (SOF3), which has no DCT coefficients');
  throw new LosslessError('lossless-sof3', `the frame uses the hierarchical differential process (SOF${n}), which the lossless path does not handle`);
}

/**
 * The Huffman table (0 or 1) each component is coded with, chosen the way libjpeg does when
 * jpegtran writes a file (jcparam.c jpeg_set_colorspace for the colour space that
 * jdapimin.c default_decompress_parms infers): grayscale, RGB and CMYK code every component
 * with tables 0; YCbCr codes Y with 0 and Cb, Cr with 1; YCCK codes Y and K with 0 and Cb, Cr
 * with 1. The colour space comes from the JFIF APP0 and Adobe APP14 segments (transform flag)
 * and, failing those, from the component identifiers ('R','G','B' means RGB).
 *
 * @param metadata - the APPn/COM segments of the file, each from its 0xFF marker byte
 * @param ids - component identifiers in frame order (1, 3 or 4 of them)
 * @returns one table index per component
 */
export function huffmanTableChoice(metadata: readonly Uint8Array[], ids: readonly number[]): number[] {
  let jfif = false;
  let adobeTransform = -1;
  for (const m of metadata) {
    const len = m.length - 4;
    const is = (text: string): boolean => [...text].every((ch, i) => m[4 + i] === ch.charCodeAt(0));
    if (m[1] === 0xe0 && len >= 14 && is('JFIF\0')) jfif = true;
    if (m[1] === 0xee && len >= 12 && is('Adobe')) adobeTransform = m[4 + 11];
  }
  if (ids.length === 3) {
    let rgb: boolean;
    if (jfif) rgb = false;
    else if (adobeTransform >= 0) rgb = adobeTransform === 0;
    else rgb = ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42;
    return rgb ? [0, 0, 0] : [0, 1, 1];
  }
  if (ids.length === 4) {
    const ycck = adobeTransform >= 0 && adobeTransform !== 0;
    return ycck ? [0, 1, 1, 0] : [0, 0, 0, 0];
  }
  return ids.map(() => 0);
}
