/**
 * PNG text chunks (PNG spec section 11.3.3: `tEXt`, `zTXt`, `iTXt`) and the "Raw profile type"
 * text that ImageMagick stores metadata profiles in (ImageMagick coders/png.c,
 * `Magick_png_write_raw_profile` / `Magick_png_read_raw_profile`).
 *
 * Compressed text is inflated with a hard output limit, so a zlib bomb in a text chunk fails
 * fast instead of exhausting memory.
 */
import zlib from 'node:zlib';
import { ExifFixError, ensure, printable } from '../errors.js';

/** The most bytes a compressed text chunk may inflate to: 16 MiB. */
export const MAX_TEXT_BYTES = 16 * 1024 * 1024;

/** The longest keyword the PNG spec allows, in bytes (section 11.3.3.2). */
const MAX_KEYWORD = 79;

/** The three text chunk types. */
export type TextChunkType = 'tEXt' | 'zTXt' | 'iTXt';

/** One parsed text chunk. */
export interface PngText {
  readonly type: TextChunkType;
  /** The keyword (Latin-1, 1-79 bytes). */
  readonly keyword: string;
  /**
   * The chunk data before the text field: keyword and its null separator, plus for `zTXt` the
   * compression method, for `iTXt` the compression flag and method, language tag and translated
   * keyword with their separators. Kept byte for byte when the text is rewritten.
   */
  readonly head: Uint8Array;
  /** Whether the text field is zlib-compressed (`zTXt` always; `iTXt` when its flag says so). */
  readonly compressed: boolean;
  /** The text field as stored (compressed or not). */
  readonly stored: Uint8Array;
}

/** Whether `type` is one of the three text chunk types. */
export function isTextChunk(type: string): type is TextChunkType {
  return type === 'tEXt' || type === 'zTXt' || type === 'iTXt';
}


/**
 * Splits a text chunk's data into keyword, head and stored text (PNG spec sections
 * 11.3.3.2-11.3.3.4). Does not inflate anything.
 *
 * @param type - `tEXt`, `zTXt` or `iTXt`.
 * @param data - the chunk data.
 * @throws {ExifFixError} code `'corrupt'` when a separator is missing or the keyword is not 1-79 bytes.
 */
export function parseTextChunk(type: TextChunkType, data: Uint8Array): PngText {
  const keywordEnd = data.indexOf(0);
  ensure(keywordEnd >= 1 && keywordEnd <= MAX_KEYWORD, `PNG ${type} chunk has no valid keyword`);
  const keyword = Buffer.from(data.buffer, data.byteOffset, keywordEnd).toString('latin1');
  // The keyword comes from the file and goes into one-line error messages: escape control
  // characters there (a hostile "\n" or ESC would otherwise split or forge output lines).
  const shown = printable(keyword);
  let p = keywordEnd + 1;
  let compressed = false;
  if (type === 'zTXt') {
    ensure(p + 1 <= data.length && data[p] === 0, `PNG zTXt chunk "${shown}" has an unknown compression method`);
    p += 1;
    compressed = true;
  } else if (type === 'iTXt') {
    ensure(p + 2 <= data.length, `PNG iTXt chunk "${shown}" is truncated`);
    compressed = data[p] === 1;
    ensure(data[p] <= 1 && (!compressed || data[p + 1] === 0), `PNG iTXt chunk "${shown}" has an unknown compression method`);
    p += 2;
    const languageEnd = data.indexOf(0, p);
    ensure(languageEnd >= 0, `PNG iTXt chunk "${shown}" has no language tag separator`);
    const translatedEnd = data.indexOf(0, languageEnd + 1);
    ensure(translatedEnd >= 0, `PNG iTXt chunk "${shown}" has no translated keyword separator`);
    p = translatedEnd + 1;
  }
  return { type, keyword, head: data.subarray(0, p), compressed, stored: data.subarray(p) };
}

/**
 * The text field's bytes, inflated when compressed.
 *
 * @param text - a parsed text chunk.
 * @returns the raw text bytes (Latin-1 for `tEXt`/`zTXt`, UTF-8 for `iTXt`).
 * @throws {ExifFixError} code `'limit'` when the text inflates to more than {@link MAX_TEXT_BYTES}
 *   (a zlib bomb); code `'corrupt'` when the zlib stream is broken.
 */
export function textBytes(text: PngText): Uint8Array {
  if (!text.compressed) return text.stored;
  try {
    return new Uint8Array(zlib.inflateSync(text.stored, { maxOutputLength: MAX_TEXT_BYTES }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ExifFixError(`PNG ${text.type} chunk "${printable(text.keyword)}" inflates to more than ${MAX_TEXT_BYTES} bytes`, 'limit', { cause: error });
    }
    throw new ExifFixError(`PNG ${text.type} chunk "${printable(text.keyword)}" has broken compressed text`, 'corrupt', { cause: error });
  }
}

/**
 * Builds the data of a text chunk with a new text field, keeping the head (keyword, flags,
 * language) and compressing the text when the original was compressed.
 *
 * @param text - the parsed original chunk.
 * @param raw - the new text field, uncompressed.
 * @returns the new chunk data.
 */
export function rebuildText(text: PngText, raw: Uint8Array): Uint8Array {
  const field = text.compressed ? zlib.deflateSync(raw, { level: 9 }) : raw;
  const out = new Uint8Array(text.head.length + field.length);
  out.set(text.head);
  out.set(field, text.head.length);
  return out;
}

/** An ImageMagick raw profile: its name line and its decoded bytes. */
export interface RawProfile {
  /** The profile name written on the first line, e.g. `exif`, `xmp`. */
  readonly name: string;
  /** The decoded profile bytes. */
  readonly data: Uint8Array;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Decodes ImageMagick's raw profile text: `"\n<name>\n<length, right-aligned in 8>\n"` then the
 * bytes as hexadecimal digits, 72 per line. As ImageMagick's reader does, anything that is not a
 * hex digit between the digits is skipped.
 *
 * @param text - the text field (Latin-1 bytes).
 * @returns the profile name and bytes.
 * @throws {ExifFixError} code `'corrupt'` when the layout is wrong or the digits fall short of
 *   the declared length.
 */
export function parseRawProfile(text: Uint8Array): RawProfile {
  let p = 0;
  while (p < text.length && (text[p] === 0x0a || text[p] === 0x0d || text[p] === 0x20)) p++;
  const nameEnd = text.indexOf(0x0a, p);
  ensure(nameEnd > p, 'raw profile text has no name line');
  const name = Buffer.from(text.buffer, text.byteOffset + p, nameEnd - p).toString('latin1').trim();
  p = nameEnd + 1;
  while (p < text.length && text[p] === 0x20) p++;
  let length = 0;
  let digits = 0;
  while (p < text.length && text[p] >= 0x30 && text[p] <= 0x39 && digits < 10) {
    length = length * 10 + (text[p] - 0x30);
    p++;
    digits++;
  }
  ensure(digits > 0, 'raw profile text has no length');
  ensure(length * 2 <= text.length - p, `raw profile declares ${length} bytes but holds fewer hex digits`);
  const data = new Uint8Array(length);
  let n = 0;
  let high = -1;
  for (; p < text.length && n < length; p++) {
    const v = hexValue(text[p]);
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      data[n++] = (high << 4) | v;
      high = -1;
    }
  }
  ensure(n === length, `raw profile declares ${length} bytes but holds ${n}`);
  return { name, data };
}

/**
 * Encodes a raw profile in ImageMagick's layout (`Magick_png_write_raw_profile`): a newline, the
 * name, a newline, the length right-aligned in 8 characters, then a newline before every 36
 * bytes (72 lower-case hex digits) and a final newline.
 *
 * @param profile - name and bytes.
 * @returns the text field as Latin-1 bytes.
 */
export function formatRawProfile(profile: RawProfile): Uint8Array {
  const hex = Buffer.from(profile.data.buffer, profile.data.byteOffset, profile.data.byteLength).toString('hex');
  let text = `\n${profile.name}\n${String(profile.data.length).padStart(8, ' ')}`;
  for (let i = 0; i < hex.length; i += 72) text += `\n${hex.slice(i, i + 72)}`;
  text += '\n';
  return new Uint8Array(Buffer.from(text, 'latin1'));
}
