/**
 * The one walker of {@link discover}: directories given by the user and the bases of glob
 * patterns are walked by the same code, so hidden entries, symbolic links, loops, unreadable
 * directories and the output directory are handled the same way for both.
 *
 * - Hidden entries (names starting with `.`) are skipped in a directory walk; in a pattern walk
 *   the pattern decides (picomatch's `dot: false`: only a segment that names them matches).
 * - Symbolic links found by walking are counted and skipped, unless `followSymlinks`: then a
 *   link to a file is a file, and a link to a directory is walked after the rest of its tree (so
 *   a file reachable both ways keeps its real path), each real directory once (by device and
 *   inode), which also ends link loops.
 * - A directory that cannot be read (permissions, a path longer than PATH_MAX, gone while
 *   walking) and a broken link being followed become one failure each; the walk goes on.
 * - The output directory is never walked: an output inside a walked tree is refused before the
 *   walk (by real paths), and reaching it anyway (a link or a mount) is refused too.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ExifFixError } from '../errors.js';
import { relativeInside } from './contain.js';
import type { GlobPattern } from './pattern.js';

/** The output directory, resolved once per run. */
export interface OutDirectory {
  /** As the user wrote it, for messages. */
  readonly given: string;
  /** Absolute, normalized (lexical). */
  readonly absolute: string;
  /** Real path through its existing ancestors. */
  readonly real: string;
  /** `dev:ino` when it exists. */
  readonly id?: string;
}

/** One tree to walk: a directory given by the user, or the base of a glob pattern. */
export interface Tree {
  /** The directory as the user wrote it (or the pattern's base), for messages. */
  readonly given: string;
  /** The prefix of every source path found: `given` normalized, `''` for the working directory. */
  readonly display: string;
  /** Absolute path of the directory. */
  readonly absolute: string;
  /** For a pattern walk: what matches and where matches can be. */
  readonly pattern?: GlobPattern;
}

/** What the walk reports, entry by entry (nothing is collected here). */
export interface WalkSink {
  /** A file to plan: its path as shown (`display/relative`) and its path from the tree's base. */
  file(source: string, relative: string): void;
  /** A path that could not be walked, with the reason (no file name in it). */
  failure(source: string, relative: string, reason: string): void;
}

/** A link to a directory, walked once the rest of its tree is done. */
interface Deferred {
  readonly absolute: string;
  readonly relative: string;
  readonly source: string;
  readonly stats: Stats;
}

/** The walk state of one {@link discover} call: shared by all its trees. */
export class Walker {
  /** Symbolic links met and not followed (only counted when the walk would have used them). */
  skippedSymlinks = 0;
  /** Files (and failures) found by the current tree; {@link discover} reads it per pattern. */
  found = 0;
  /** `dev:ino` of every directory walked in the current tree (each tree walks its own). */
  private readonly seen = new Set<string>();

  /**
   * @param cwd - absolute working directory.
   * @param followSymlinks - see {@link DiscoverOptions.followSymlinks}.
   * @param ignored - the ignore test on paths from `cwd`, if any.
   * @param out - the output directory, if any.
   */
  constructor(
    private readonly cwd: string,
    private readonly followSymlinks: boolean,
    private readonly ignored: ((fromCwd: string) => boolean) | undefined,
    private readonly out: OutDirectory | undefined,
  ) {}

  /** Whether `source` (a path as shown) is excluded by the ignore patterns. */
  isIgnored(source: string): boolean {
    if (!this.ignored) return false;
    return this.ignored(path.isAbsolute(source) ? path.relative(this.cwd, source) : source);
  }

  /**
   * Walks `tree`, whose directory `stats` are given (from the caller's `stat`).
   *
   * @throws {ExifFixError} code `'usage'` when the output directory is in the tree where the walk
   *   would visit it (real paths compared), or the walk reaches it through a link or a mount.
   */
  async walk(tree: Tree, stats: Stats, sink: WalkSink): Promise<void> {
    this.found = 0;
    this.seen.clear();
    let real: string;
    try {
      real = await realpath(tree.absolute);
    } catch (error) {
      this.fail(sink, tree.display || '.', '', `cannot read directory: ${errnoReason(error)}`);
      return;
    }
    this.refuseOutputIn(tree, real, '', tree.given);
    const deferred: Deferred[] = [];
    await this.directory(tree, tree.absolute, '', stats, sink, deferred);
    for (let next = deferred.shift(); next; next = deferred.shift()) {
      await this.directory(tree, next.absolute, next.relative, next.stats, sink, deferred);
    }
  }

  private source(tree: Tree, relative: string): string {
    if (relative === '') return tree.display || '.';
    if (tree.display === '') return relative;
    return tree.display === '/' ? `/${relative}` : `${tree.display}/${relative}`;
  }

  private fail(sink: WalkSink, source: string, relative: string, reason: string): void {
    this.found++;
    sink.failure(source, relative, reason);
  }

  /** Whether the walk of `tree` visits the directory at `relative`, hidden names and ignores considered. */
  private visits(tree: Tree, relative: string): boolean {
    if (relative === '') return true;
    if (tree.pattern ? !tree.pattern.mayContain(relative) : relative.split('/').some((n) => n.startsWith('.'))) return false;
    if (this.ignored) {
      const names = relative.split('/');
      for (let i = 1; i <= names.length; i++) if (this.isIgnored(this.source(tree, names.slice(0, i).join('/')))) return false;
    }
    return true;
  }

  /**
   * Refuses the run when the output directory lies, by real paths, inside the directory `real`
   * (reached at `relative` in `tree`) where the walk would visit it: its outputs would be walked
   * as inputs on the next run, or overwrite the inputs on this one.
   */
  private refuseOutputIn(tree: Tree, real: string, relative: string, shown: string): void {
    const out = this.out;
    if (!out) return;
    const below = relativeInside(real, out.real);
    if (below === undefined) return;
    const at = relative === '' ? below : below === '' ? relative : `${relative}/${below}`;
    if (!this.visits(tree, at)) return;
    const how = out.absolute === path.join(tree.absolute, at) ? '' : ` (through symbolic links: it resolves to \`${out.real}\`)`;
    if (relative !== '') {
      throw new ExifFixError(`The output directory \`${out.given}\` is reached through the symbolic link \`${shown}\` in the input \`${tree.given}\`${how}, which would walk the outputs as inputs`, 'usage');
    }
    if (below === '') throw new ExifFixError(`The output directory \`${out.given}\` is the input \`${shown}\`${how}, whose files would be overwritten`, 'usage');
    throw new ExifFixError(`The output directory \`${out.given}\` is inside the input \`${shown}\`${how}, which would walk it again`, 'usage');
  }

  private async directory(tree: Tree, absolute: string, relative: string, stats: Stats, sink: WalkSink, deferred: Deferred[]): Promise<void> {
    const id = `${stats.dev}:${stats.ino}`;
    if (this.out?.id === id) {
      throw new ExifFixError(`The input \`${this.source(tree, relative)}\` is the output directory \`${this.out.given}\` (reached through a symbolic link or a mount), which would walk it again`, 'usage');
    }
    if (this.seen.has(id)) return;
    this.seen.add(id);
    let entries: Dirent[];
    try {
      entries = await readdir(absolute, { withFileTypes: true });
    } catch (error) {
      this.fail(sink, this.source(tree, relative), relative, `cannot read directory: ${errnoReason(error)}`);
      return;
    }
    const pattern = tree.pattern;
    for (const entry of entries) {
      const name = entry.name;
      if (!pattern && name.startsWith('.')) continue;
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const isLink = entry.isSymbolicLink();
      const isDirectory = entry.isDirectory();
      if (!isLink && !isDirectory && !entry.isFile()) continue;
      if (pattern && !(isDirectory ? pattern.mayContain(childRelative) : pattern.matches(childRelative) || (isLink && pattern.mayContain(childRelative)))) continue;
      const source = this.source(tree, childRelative);
      if (this.isIgnored(source)) continue;
      const full = path.join(absolute, name);
      if (isLink) {
        if (!this.followSymlinks) {
          this.skippedSymlinks++;
          continue;
        }
        let target: Stats;
        try {
          target = await stat(full);
        } catch (error) {
          this.fail(sink, source, childRelative, `broken symbolic link: ${errnoReason(error)}`);
          continue;
        }
        if (target.isDirectory()) {
          if (pattern && !pattern.mayContain(childRelative)) continue;
          let real: string;
          try {
            real = await realpath(full);
          } catch (error) {
            this.fail(sink, source, childRelative, `cannot resolve symbolic link: ${errnoReason(error)}`);
            continue;
          }
          this.refuseOutputIn(tree, real, childRelative, source);
          deferred.push({ absolute: full, relative: childRelative, source, stats: target });
        } else if (target.isFile() && (!pattern || pattern.matches(childRelative))) {
          this.found++;
          sink.file(source, childRelative);
        }
      } else if (isDirectory) {
        let child: Stats;
        try {
          child = await stat(full);
        } catch (error) {
          this.fail(sink, source, childRelative, `cannot read directory: ${errnoReason(error)}`);
          continue;
        }
        await this.directory(tree, full, childRelative, child, sink, deferred);
      } else {
        this.found++;
        sink.file(source, childRelative);
      }
    }
  }
}

/**
 * A short reason for a file-system error, without the path: `permission denied (EACCES)`,
 * `path too long (ENAMETOOLONG)`, `no such file or directory (ENOENT)`; the code alone otherwise.
 */
export function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ENAMETOOLONG') return 'path too long for the system (ENAMETOOLONG, over PATH_MAX)';
  if (code === 'ENOENT') return 'no such file or directory (ENOENT); it may have been removed during the walk';
  if (code === 'ELOOP') return 'too many levels of symbolic links (ELOOP)';
  if (code === 'ENOTDIR') return 'not a directory (ENOTDIR)';
  return code ?? (error instanceof Error ? error.message : String(error));
}
