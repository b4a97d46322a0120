/**
 * Writing outputs so that a failure or a crash never leaves a partial file: every write goes to a
 * temporary file in the target's directory, then is renamed over the target (rename is atomic
 * within one filesystem, POSIX rename(2)).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, utimes, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { ExifFixError } from './errors.js';

/** Temporary files carry this marker in their name, so leftovers are recognisable. */
export const TEMP_MARKER = '.exif-fix-tmp-';

/** Options of {@link writeAtomic}. */
export interface WriteOptions {
  /** File mode bits to set (e.g. the input's, for in-place rewrites). Default: 0o666 less umask. */
  readonly mode?: number;
  /** Modification and access times to set, in milliseconds since the epoch. Default: now. */
  readonly times?: { readonly atimeMs: number; readonly mtimeMs: number };
}

/**
 * Writes `data` to `target` atomically: a temporary file `.<name>.exif-fix-tmp-<random>` in the
 * same directory, then a rename. Creates missing parent directories.
 *
 * @param target - the output path.
 * @param data - the whole file.
 * @param options - mode and times to keep; see {@link WriteOptions}.
 * @throws {ExifFixError} code `'write'` naming `target` and the system error; the temporary
 *   file is removed first.
 */
export async function writeAtomic(target: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temp, data, { flag: 'wx' });
    if (options.mode !== undefined) await chmod(temp, options.mode & 0o7777);
    if (options.times) await utimes(temp, options.times.atimeMs / 1000, options.times.mtimeMs / 1000);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ExifFixError(`Cannot write \`${target}\`: ${reason}`, 'write', { cause: error });
  }
}
