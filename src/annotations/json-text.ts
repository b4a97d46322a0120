/**
 * Reading and writing JSON label files so that a rewrite looks like the original: same
 * indentation (labelme writes 2 spaces, pycocotools-style dumps are compact), same trailing
 * newline, key order kept (JSON.parse keeps it).
 */
import { ExifFixError } from '../errors.js';

/** A parsed JSON file and how it was laid out. */
export interface JsonFile {
  readonly value: unknown;
  /** The indentation to pass to `JSON.stringify` (`undefined` for a compact file). */
  readonly indent: string | undefined;
  /** The line ending after the value, if any. */
  readonly trailer: string;
}

/**
 * Parses JSON text and notes its layout.
 *
 * @param text - the file's contents (a leading UTF-8 BOM is allowed).
 * @throws {ExifFixError} code `'corrupt'` "not valid JSON", with the position when the parser
 *   gives one (never the text: V8's messages quote it).
 */
export function parseJson(text: string): JsonFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    // V8's message quotes the text around the error ('Unexpected token..., "..." is not valid
    // JSON'); only the position is kept, so a label file's content never reaches a log.
    const at = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
    throw new ExifFixError(at ? `not valid JSON (at character ${Number(at[1]) + 1})` : 'not valid JSON', 'corrupt');
  }
  const indentMatch = /^[[{]\s*?\r?\n([ \t]+)\S/.exec(body.trimStart());
  const trailer = /\r?\n$/.exec(body)?.[0] ?? '';
  return { value, indent: indentMatch?.[1], trailer };
}

/**
 * Serializes `value` in the layout of `like`.
 *
 * @param value - the new value.
 * @param like - the parsed original.
 */
export function stringifyJson(value: unknown, like: JsonFile): string {
  let text = JSON.stringify(value, null, like.indent);
  if (like.trailer === '\r\n' && like.indent !== undefined) text = text.replace(/\n/g, '\r\n');
  return text + like.trailer;
}

/** Whether `v` is a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `v` is a finite number. */
export function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Whether `v` is an array of finite numbers. */
export function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isNumber);
}
