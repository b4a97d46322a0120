/**
 * Writing outputs so that a failure, a crash or a power loss never leaves a partial file, and an
 * in-place rewrite keeps what the file's owner expects of it.
 *
 * Every write goes to a temporary file in the target's directory, which is filled, given the
 * original's owner, extended attributes, mode and times, flushed to the disk (`fsync(2)`; by
 * default in place only), then renamed over the target (`rename(2)` is atomic within one
 * filesystem); the directory is flushed after the rename so that the new name survives a power
 * loss. A crash leaves either the old file
 * or the new one, and at worst a temporary file that only its owner, or a later run once it is
 * provably abandoned, removes (see {@link removeStaleTemporaries}).
 *
 * Hard links: a rename gives the target a new inode, so an in-place rewrite of a file with other
 * hard links would part it from them silently. Such a file is refused unless
 * {@link WriteOptions.breakHardLinks} says to part it (then a warning says so). Rewriting through
 * the same inode would keep the links but is not atomic (a crash would tear the photo), so it is
 * not offered.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExifFixError } from './errors.js';

/** Every temporary file name starts with this (`.exif-fix-<scope>-<pid>-<random>-<check>.tmp`). */
export const TEMP_MARKER = '.exif-fix-';
const TEMP_PATTERN = /^\.exif-fix-([0-9a-f]{12})-(\d{1,10})-([0-9a-f]{16})-([0-9a-f]{8})\.tmp$/;
/** The scope written when the process cannot tell its host boot and PID namespace. */
const UNKNOWN_SCOPE = '000000000000';
/** Default age after which an abandoned temporary file of another host or namespace is removed. */
export const STALE_TEMPORARY_AGE_MS = 24 * 60 * 60 * 1000;

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
  /** File mode bits to set (e.g. the input's `st_mode`, for in-place rewrites). Default: 0o666 less umask. */
  readonly mode?: number;
  /** Access and modification times to set, in milliseconds since the epoch. Default: now. */
  readonly times?: { readonly atimeMs: number; readonly mtimeMs: number };
  /**
   * Owner and group to give the new file (in place: the input's `st_uid`/`st_gid`). Default: the
   * process's. Set with `fchown(2)`: root keeps any owner; another user can keep only a group it
   * belongs to, and gets a warning naming what was not kept.
   */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /**
   * A file whose extended attributes (`user.*`, and as root `trusted.*`/`security.*`, POSIX ACLs
   * `system.posix_acl_*`) are copied to the new file (in place: the target itself, before it is
   * replaced). Each one that cannot be set gives a warning naming it. Default: none copied.
   */
  readonly copyXattrsFrom?: string;
  /**
   * In place: the identity the target had when it was read. If the target no longer matches
   * (another process rewrote it, or a user edited it), it is not overwritten. Also turns on the
   * hard-link check of {@link WriteOptions.breakHardLinks}.
   */
  readonly expect?: FileIdentity;
  /**
   * In place (with `expect`): whether a target with other hard links (`st_nlink > 1`) may be
   * parted from them by the rename. Default `false`: such a target is refused (code `'linked'`).
   */
  readonly breakHardLinks?: boolean;
  /**
   * Whether to `fsync(2)` the file before the rename and its directory after it, so that a power
   * loss cannot leave an empty or torn file under the target's name. Default: `true` in place
   * (with `expect`: the original is at stake), `false` otherwise (a new output whose input is
   * intact; pass `true` to make outputs durable too). The rename is atomic either way. Cost: see
   * `bench/write-fsync.js`.
   */
  readonly fsync?: boolean;
  /** Test hook: fills the (created, empty) temporary file. Default: writes `data` through its handle. */
  readonly writer?: (file: string, data: Uint8Array) => Promise<void>;
}

/** What {@link writeAtomic} could not keep. */
export interface WriteResult {
  /** Warnings without the file name, e.g. "extended attribute `security.foo` not kept (EPERM)". */
  readonly warnings: readonly string[];
}

/** Who wrote a temporary file: the host boot and PID namespace (`scope`), and the process. */
export interface TemporaryOwner {
  /** 12 hex digits: a hash of the host's boot id and the PID namespace, or `000000000000` when unknown. */
  readonly scope: string;
  /** The process id within that namespace. */
  readonly pid: number;
}

let ownScope: string | undefined;

/**
 * The scope of this process: 12 hex digits of the SHA-256 of the Linux boot id
 * (`/proc/sys/kernel/random/boot_id`, new at each boot of each host) and the PID namespace
 * (`readlink /proc/self/ns/pid`). Two processes with the same scope see the same PIDs, so one
 * can tell whether the other is alive; `000000000000` where either is unreadable (not Linux).
 */
export function temporaryScope(): string {
  if (ownScope === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const ns = readlinkSync('/proc/self/ns/pid');
      ownScope = createHash('sha256').update(`${boot}\0${ns}`).digest('hex').slice(0, 12);
    } catch {
      ownScope = UNKNOWN_SCOPE;
    }
  }
  return ownScope;
}

function nameCheck(scope: string, pid: number, random: string): string {
  return createHash('sha256').update(`exif-fix temporary file ${scope}-${pid}-${random}`).digest('hex').slice(0, 8);
}

/**
 * A fresh temporary file name: `.exif-fix-<scope>-<pid>-<16 random hex>-<8 hex check>.tmp`. The
 * check is a hash of the rest, so a user's file matches only if exif-fix made it; the name does
 * not depend on the target's, so it never exceeds NAME_MAX (255 bytes).
 *
 * @param owner - who writes it; default this process ({@link temporaryScope}, `process.pid`).
 */
export function temporaryName(owner: TemporaryOwner = { scope: temporaryScope(), pid: process.pid }): string {
  const random = randomBytes(8).toString('hex');
  return `${TEMP_MARKER}${owner.scope}-${owner.pid}-${random}-${nameCheck(owner.scope, owner.pid, random)}.tmp`;
}

/**
 * Who wrote a temporary file, from its name, or `null` when the name is not one that
 * {@link temporaryName} makes (including user files that merely look alike).
 *
 * @param name - a file name without directory.
 */
export function temporaryOwner(name: string): TemporaryOwner | null {
  const m = TEMP_PATTERN.exec(name);
  if (!m) return null;
  const pid = Number(m[2]);
  if (nameCheck(m[1], pid, m[3]) !== m[4]) return null;
  return { scope: m[1], pid };
}

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

async function createTemporary(dir: string, mode: number): Promise<{ file: string; handle: FileHandle }> {
  for (let attempt = 0; ; attempt++) {
    const file = path.join(dir, temporaryName());
    try {
      return { file, handle: await open(file, 'wx', mode) };
    } catch (error) {
      // O_EXCL: an existing file of that name is never opened, let alone overwritten.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 4) throw error;
    }
  }
}

type XattrModule = typeof import('@napi-rs/xattr');
let xattrModule: Promise<XattrModule | null> | undefined;

/** `@napi-rs/xattr` (prebuilt N-API binaries per platform; no compiler or system library needed), or `null`. */
function loadXattr(): Promise<XattrModule | null> {
  xattrModule ??= import('@napi-rs/xattr').then(
    (m) => ((m as { default?: XattrModule }).default ?? m) as XattrModule,
    () => null,
  );
  return xattrModule;
}

/**
 * The errno name of an `@napi-rs/xattr` error: it throws `GenericFailure` with Rust's message
 * ("Operation not supported (os error 95)"), whose number is looked up in `os.constants.errno`.
 */
function xattrReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = /\(os error (\d+)\)/.exec(message);
  if (m) {
    const name = Object.entries(os.constants.errno).find(([, n]) => n === Number(m[1]))?.[0];
    if (name) return name;
  }
  return errnoCode(error);
}

async function copyXattrs(from: string, to: string, warnings: string[]): Promise<void> {
  const lib = await loadXattr();
  if (lib === null) {
    if (process.platform !== 'win32') warnings.push('extended attributes were not checked nor kept (no extended-attribute support for this platform)');
    return;
  }
  let names: string[];
  try {
    names = await lib.listAttributes(from);
  } catch (error) {
    // A filesystem without extended attributes has none to lose.
    const code = xattrReason(error);
    if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') warnings.push(`extended attributes were not read, so not kept (${code})`);
    return;
  }
  for (const name of names) {
    try {
      const value = await lib.getAttribute(from, name);
      if (value !== null) await lib.setAttribute(to, name, value);
    } catch (error) {
      warnings.push(`extended attribute \`${name}\` not kept (${xattrReason(error)})`);
    }
  }
}

async function keepOwner(handle: FileHandle, owner: { uid: number; gid: number }, warnings: string[]): Promise<void> {
  const now = await handle.stat();
  if (now.uid === owner.uid && now.gid === owner.gid) return;
  try {
    await handle.chown(owner.uid, owner.gid);
    return;
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EPERM' && code !== 'EINVAL') throw error;
    // Not root: the owner cannot be given away, but a group the process belongs to can be kept.
    let group = now.gid;
    if (now.gid !== owner.gid) {
      group = await handle.chown(now.uid, owner.gid).then(
        () => owner.gid,
        () => now.gid,
      );
    }
    warnings.push(`owner ${owner.uid}:${owner.gid} not kept (${code}); the file is now owned by ${now.uid}:${group}`);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms and filesystems cannot open or flush a directory (Windows, some FUSE).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EBADF' && code !== 'ENOTSUP') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `data` to `target` atomically: a temporary file named by {@link temporaryName} in the
 * same directory (created with `O_EXCL`, so no existing file is ever opened), then a rename.
 * Creates missing parent directories.
 *
 * Order on the temporary file: write, `fchown` (owner), extended attributes, `fchmod` (after
 * `fchown`, which clears set-user-ID bits), `futimes`, `fsync`; then the identity and hard-link
 * check, `rename(2)`, and `fsync` of the directory.
 *
 * @param target - the output path.
 * @param data - the whole file.
 * @param options - mode, times, owner, extended attributes to keep, identity to check; see {@link WriteOptions}.
 * @returns warnings naming what could not be kept (owner, extended attributes, hard links parted).
 * @throws {ExifFixError} code `'write'` naming `target` and the system error (`cause` holds it);
 *   code `'changed'` when `expect` no longer matches; code `'linked'` when the target has other
 *   hard links and `breakHardLinks` is not set. The temporary file is removed first.
 */
export async function writeAtomic(target: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
  const dir = path.dirname(target);
  const warnings: string[] = [];
  const sync = options.fsync ?? options.expect !== undefined;
  let temp: string | undefined;
  try {
    await mkdir(dir, { recursive: true });
    const created = await createTemporary(dir, options.mode === undefined ? 0o666 : 0o600);
    temp = created.file;
    const handle = created.handle;
    try {
      if (options.writer) await options.writer(temp, data);
      else await handle.writeFile(data);
      if (options.owner) await keepOwner(handle, options.owner, warnings);
      if (options.copyXattrsFrom !== undefined) await copyXattrs(options.copyXattrsFrom, temp, warnings);
      if (options.mode !== undefined) await handle.chmod(options.mode & 0o7777);
      if (options.times) await handle.utimes(options.times.atimeMs / 1000, options.times.mtimeMs / 1000);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.expect) {
      const now = await stat(target).catch(() => undefined);
      if (!now || now.ino !== options.expect.ino || now.size !== options.expect.size || now.mtimeMs !== options.expect.mtimeMs) {
        throw new ExifFixError(`\`${target}\` changed while it was being processed; not overwritten`, 'changed');
      }
      if (now.nlink > 1) {
        if (!options.breakHardLinks) {
          throw new ExifFixError(
            `\`${target}\` has ${now.nlink - 1} other hard link${now.nlink > 2 ? 's' : ''}; rewriting it in place would part it from them (allow with breakHardLinks, --break-hard-links)`,
            'linked',
          );
        }
        warnings.push(`parted from its ${now.nlink - 1} other hard link${now.nlink > 2 ? 's' : ''}, which keep the old contents`);
      }
    }
    await rename(temp, target);
    temp = undefined;
    if (sync) await syncDirectory(dir);
    return { warnings };
  } catch (error) {
    if (temp !== undefined) await unlink(temp).catch(() => undefined);
    if (error instanceof ExifFixError) throw error;
    throw new ExifFixError(`Cannot write \`${target}\`: ${errnoCode(error)}`, 'write', { cause: error });
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

/** Options of {@link removeStaleTemporaries}. */
export interface CleanupOptions {
  /**
   * A temporary file of another host, boot or PID namespace is removed once its status change
   * time (`st_ctime`, which every write, chmod and utimes updates and no caller can set back) is
   * this many milliseconds old. Default {@link STALE_TEMPORARY_AGE_MS} (24 hours), far beyond the
   * time one file takes and any clock skew between hosts sharing a volume.
   */
  readonly maxAgeMs?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now()`. */
  readonly now?: number;
}

/**
 * Removes temporary files that an earlier, killed run left in `dirs` (not recursively: callers
 * pass every directory they will write to). Only names that {@link temporaryOwner} recognises
 * (with a valid check, so never a user's file) and only regular files are considered; one is
 * removed when
 * - its scope is this process's ({@link temporaryScope}: same boot, same PID namespace) and its
 *   process is no longer alive (`kill(pid, 0)` fails with ESRCH), or
 * - its status change time is older than `maxAgeMs` (any scope: another host or container on a
 *   shared volume, whose PIDs mean nothing here).
 * A fresh file of another namespace is therefore never touched, even when its PID does not exist
 * here (Kubernetes shards share a volume but not a PID namespace).
 *
 * @param dirs - directories to clean (missing or unreadable ones are ignored).
 * @param options - see {@link CleanupOptions}.
 * @returns the paths removed.
 */
export async function removeStaleTemporaries(dirs: Iterable<string>, options: CleanupOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  const scope = temporaryScope();
  const now = options.now ?? Date.now();
  const maxAge = options.maxAgeMs ?? STALE_TEMPORARY_AGE_MS;
  for (const dir of dirs) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const owner = temporaryOwner(e.name);
      if (owner === null || !e.isFile()) continue;
      const file = path.join(dir, e.name);
      const s = await lstat(file).catch(() => undefined);
      if (!s?.isFile()) continue;
      const abandoned = (owner.scope === scope && scope !== UNKNOWN_SCOPE && !processAlive(owner.pid)) || now - s.ctimeMs > maxAge;
      if (!abandoned) continue;
      await unlink(file).then(
        () => removed.push(file),
        () => undefined,
      );
    }
  }
  return removed;
}
