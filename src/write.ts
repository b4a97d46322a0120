/**
 * Writing outputs so that a failure or a crash never leaves a partial file: every write goes to a
 * temporary file in the target's directory, then is renamed over the target (rename is atomic
 * within one filesystem, POSIX rename(2)). A crash leaves either the old file or the new one,
 * and at worst a recognisable temporary file that the next run removes.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExifFixError } from './errors.js';

/** Temporary files are named `.<target name>.exif-fix-tmp-<pid>-<random>`. */
export const TEMP_MARKER = '.exif-fix-tmp-';
const TEMP_PATTERN = /^\..*\.exif-fix-tmp-(\d+)-[0-9a-f]+$/;

/** The identity of a file when it was read, to detect a change before overwriting it. */
export interface FileIdentity {
  /** Inode number (a rename by another process gives a new one). */
  readonly ino: number;
  /** Size in bytes. */
  readonly size: number;
  /** Modification time in milliseconds since the epoch. */
  readonly mtimeMs: number;
}

/** Options of {@link writeAtomic}. */
export interface WriteOptions {
  /** File mode bits to set (e.g. the input's, for in-place rewrites). Default: 0o666 less umask. */
  readonly mode?: number;
  /** Modification and access times to set, in milliseconds since the epoch. Default: now. */
  readonly times?: { readonly atimeMs: number; readonly mtimeMs: number };
  /**
   * In place: the identity the target had when it was read. If the target no longer matches
   * (another process rewrote it, or a user edited it), it is not overwritten.
   */
  readonly expect?: FileIdentity;
  /** Test hook: writes the temporary file's bytes (default `fs.promises.writeFile` with flag `wx`). */
  readonly writer?: (file: string, data: Uint8Array) => Promise<void>;
}

/**
 * Writes `data` to `target` atomically: a temporary file `.<name>.exif-fix-tmp-<pid>-<random>`
 * in the same directory, then a rename. Creates missing parent directories.
 *
 * @param target - the output path.
 * @param data - the whole file.
 * @param options - mode and times to keep, identity to check; see {@link WriteOptions}.
 * @throws {ExifFixError} code `'write'` naming `target` and the system error (`cause` holds it),
 *   or code `'changed'` when `expect` no longer matches; the temporary file is removed first.
 */
export async function writeAtomic(target: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`);
  let created = false;
  try {
    await mkdir(dir, { recursive: true });
    created = true;
    await (options.writer ?? ((f, d) => writeFile(f, d, { flag: 'wx' })))(temp, data);
    if (options.mode !== undefined) await chmod(temp, options.mode & 0o7777);
    if (options.times) await utimes(temp, options.times.atimeMs / 1000, options.times.mtimeMs / 1000);
    if (options.expect) {
      const now = await stat(target).catch(() => undefined);
      if (!now || now.ino !== options.expect.ino || now.size !== options.expect.size || now.mtimeMs !== options.expect.mtimeMs) {
        throw new ExifFixError(`\`${target}\` changed while it was being processed; not overwritten`, 'changed');
      }
    }
    await rename(temp, target);
  } catch (error) {
    if (created) await unlink(temp).catch(() => undefined);
    if (error instanceof ExifFixError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ExifFixError(`Cannot write \`${target}\`: ${reason}`, 'write', { cause: error });
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that an earlier, killed run left in `dirs` (not recursively: callers
 * pass every directory they will write to): those named by {@link writeAtomic} whose process is
 * no longer alive. Files of a run still going on (another exif-fix process on the same tree) are
 * left alone.
 *
 * @param dirs - directories to clean (missing ones are ignored).
 * @returns the paths removed.
 */
export async function removeStaleTemporaries(dirs: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const m = TEMP_PATTERN.exec(e.name);
      if (!m || !e.isFile() || processAlive(Number(m[1]))) continue;
      const file = path.join(dir, e.name);
      await unlink(file).then(
        () => removed.push(file),
        () => undefined,
      );
    }
  }
  return removed;
}
