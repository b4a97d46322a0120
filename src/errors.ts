/**
 * The one error class of exif-fix. Every expected failure (bad input, refused options, a file
 * that cannot be written) is an `ExifFixError` whose message names the file in backticks and
 * the reason; anything else that escapes is a bug.
 */
export class ExifFixError extends Error {
  /** A stable machine-readable reason; see {@link ExifFixErrorCode}. */
  readonly code: ExifFixErrorCode;

  /**
   * @param message - one line: "Cannot read `a/b.jpg`: the file is empty".
   * @param code - the reason class; see {@link ExifFixErrorCode}.
   * @param options - `cause`, the underlying error, kept for debugging.
   */
  constructor(message: string, code: ExifFixErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExifFixError';
    this.code = code;
  }
}

/**
 * Reason classes of {@link ExifFixError}, and the stable `code` of a failed {@link FileResult}
 * and of its NDJSON record (the README's "Failure codes" table lists them):
 * - `usage`: options or a plan refused before any work (exit 2);
 * - `empty`: the file has no bytes;
 * - `not-image`: its bytes are no container exif-fix recognises;
 * - `unsupported`: a container variant exif-fix does not normalize (e.g. BigTIFF, a HEIC that
 *   needs new pixels without `--to`);
 * - `corrupt`: a broken structure, or pixel data the decoder cannot read;
 * - `limit`: over the pixel limit (`limitInputPixels`) or another size guard;
 * - `lossless`: `--lossless always` and the lossless transform does not apply;
 * - `read`: the file cannot be read (permissions, not a regular file, a symbolic link not followed);
 * - `write`: the output cannot be written;
 * - `changed`: the input changed while it was processed, so it was not overwritten;
 * - `linked`: in place, the file has other hard links that a rewrite would part it from
 *   (allowed with `breakHardLinks`);
 * - `labels`: the image's label files cannot be transformed, so neither is written;
 * - `interrupted`: the run was stopped (SIGINT/SIGTERM) before the file was written.
 *
 */
export type ExifFixErrorCode =
  | 'usage'
  | 'empty'
  | 'not-image'
  | 'unsupported'
  | 'corrupt'
  | 'limit'
  | 'lossless'
  | 'read'
  | 'write'
  | 'changed'
  | 'linked'
  | 'labels'
  | 'interrupted';

/** Every {@link ExifFixErrorCode}, in the README's order. */
export const ERROR_CODES: readonly ExifFixErrorCode[] = [
  'usage',
  'empty',
  'not-image',
  'unsupported',
  'corrupt',
  'limit',
  'lossless',
  'read',
  'write',
  'changed',
  'linked',
  'labels',
  'interrupted',
];

/** A reason a file is refused or failed, as data: a stable code and a one-line message without the file name. */
export interface Refusal {
  /** See {@link ExifFixErrorCode}. */
  readonly code: ExifFixErrorCode;
  /** One line, without the file name, e.g. "TIFF compression 7 is not supported for re-encoding". */
  readonly reason: string;
}

/**
 * Turns anything caught into a {@link Refusal}: an `ExifFixError` keeps its code; a system error
 * (`errno` code such as `ENOENT`) becomes `read` or `write` per `io` with a short reason; anything
 * else (a decoder's exception) becomes `corrupt` with its first line made printable.
 *
 * @param error - what was caught.
 * @param io - the class for system errors: `'read'` (default) or `'write'`.
 * @returns the code and a one-line reason.
 */
export function refusalOf(error: unknown, io: 'read' | 'write' = 'read'): Refusal {
  if (error instanceof ExifFixError) return { code: error.code, reason: printable(error.message) };
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && /^E[A-Z0-9]+$/.test(errno)) return { code: io, reason: errnoReason(errno) };
  const text = error instanceof Error ? error.message : String(error);
  return { code: 'corrupt', reason: printable(text.trim().split(/\r?\n/).join('; ')) };
}

/**
 * A short reason for a system error code.
 *
 * @param errno - Node's `error.code`, e.g. `'ENOENT'`.
 * @returns e.g. "no such file", "permission denied (EACCES)"; the code itself otherwise.
 */
export function errnoReason(errno: string): string {
  if (errno === 'ENOENT') return 'no such file';
  if (errno === 'EACCES' || errno === 'EPERM') return `permission denied (${errno})`;
  if (errno === 'EISDIR') return 'is a directory';
  return errno;
}

/**
 * Builds the message for a value that failed validation, in sharp's wording.
 *
 * @param expected - what was expected, e.g. "integer between 1 and 8".
 * @param name - the option or field name.
 * @param value - what was received.
 * @returns "Expected integer between 1 and 8 for concurrency but received 0 of type number".
 */
export function invalidParameterMessage(expected: string, name: string, value: unknown): string {
  return `Expected ${expected} for ${name} but received ${String(value)} of type ${typeof value}`;
}

/**
 * Throws a corrupt-input error if `condition` is false. For container parsers, whose input is
 * untrusted: every offset and length is checked with this before use.
 *
 * @param condition - the invariant.
 * @param reason - the reason, without the file name (callers add it); a function for a message
 *   built from values, so that loops over segments and entries build no string unless they fail
 *   (in a sampling heap profile, `--check` over 10^5 files built 50 MB of unused messages).
 * @throws {ExifFixError} code `'corrupt'`.
 */
export function ensure(condition: unknown, reason: string | (() => string)): asserts condition {
  if (!condition) throw new ExifFixError(typeof reason === 'string' ? reason : reason(), 'corrupt');
}

/**
 * Makes text taken from a file safe to put in a one-line message: control characters (C0, DEL,
 * C1) are shown as `\xNN`, so a name or box type holding a newline or an escape sequence cannot
 * split or fake output lines.
 *
 * @param text - text from untrusted input (a chunk name, keyword, box type, decoder message).
 * @returns the same text with control characters escaped.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
