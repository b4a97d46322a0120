/**
 * From the paths a user gives (files, directories, glob patterns, `!pattern` exclusions, listed
 * files) to a sorted plan of `{ source, target }` pairs. Before any work it proves that every
 * target is inside the output directory (by real paths) and refuses plans that would overwrite
 * an input, write one output twice, or walk the outputs as inputs.
 *
 * Directories and patterns are walked by one walker (`discover/walk.ts`), patterns matched by
 * `discover/pattern.ts`, and real paths resolved by `discover/contain.ts`.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ExifFixError } from './errors.js';
import { isInside, realThroughAncestors, relativeInside } from './discover/contain.js';
import { ignoreTest, isPattern, parseGlob } from './discover/pattern.js';
import { Walker, errnoReason, type OutDirectory, type Tree } from './discover/walk.js';

export { assertInside } from './discover/contain.js';

/** One entry of the plan: a file to normalize, or a path the walk could not read. */
export interface PlannedFile {
  /** The input path, as the user would write it (relative to the working directory when given so). */
  readonly source: string;
  /** Path of the input relative to its base: the directory given, or the static part of the glob. */
  readonly relative: string;
  /** Where the output goes: `<out>/<relative>`, or `source` itself in place (and for failures). */
  readonly target: string;
  /** Whether the file was found by walking a directory or a glob (not named by the user). */
  readonly walked: boolean;
  /**
   * Set when the walk could not read this path: a directory it could not list (permission
   * denied, a path longer than the system's PATH_MAX, removed during the walk) or, with
   * `followSymlinks`, a broken symbolic link. The run reports the entry as failed with this
   * reason (e.g. `cannot read directory: permission denied (EACCES)`) and reads nothing for it;
   * the files below an unreadable directory were never seen. Absent for files to process.
   */
  readonly error?: string;
}

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** The output directory; `undefined` means in place. */
  readonly out?: string;
  /** Working directory for relative paths. Default: `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Files listed explicitly (`--files-from`): taken as named files without checking that they
   * exist, so that a missing one fails as that file, not as the run.
   */
  readonly files?: readonly string[];
  /** Whether a glob pattern that matches nothing is an error. Default `true`. */
  readonly errorOnUnmatchedPattern?: boolean;
  /** Keep only shard `index` (1-based) of `count`; see {@link inShard}. */
  readonly shard?: Shard;
  /**
   * Follow symbolic links found by walking a directory or a pattern, the same way for both: a
   * link to a file is planned like a file, a link to a directory is walked (each real directory
   * once, by device and inode, so loops end), and a broken link is a failure entry. Default
   * `false`: links found by walking are skipped and counted ({@link Discovery.skippedSymlinks}).
   * Either way, a directory named by the user (or a pattern's base) is walked even when it is a
   * link, and a named or listed file that is a link is planned (the run decides; it fails one
   * unless links are followed).
   */
  readonly followSymlinks?: boolean;
  /**
   * Glob patterns of paths to leave out (`--ignore`, repeatable), matched against the path from
   * `cwd`; a pattern without `/` matches a name at any depth (`*.png`, `labels`), like
   * `.gitignore`. A directory that matches is not walked. Paths given as `!pattern` are added
   * here. Applies to walked, named and listed files alike. Default: none.
   */
  readonly ignore?: readonly string[];
}

/** What {@link discover} found. */
export interface Discovery {
  /**
   * The plan: one entry per distinct input, sorted by source path (UTF-16 code units), failure
   * entries (with `error`) among them. Only the shard's entries when `shard` is given.
   */
  readonly files: PlannedFile[];
  /**
   * Symbolic links found by walking and not followed because `followSymlinks` is off: the ones
   * the walk would have used (every non-hidden link in a directory walk; in a pattern walk, links
   * whose path matches the pattern or could lead to matches; ignored paths not counted). A run
   * reports it as "N symbolic links skipped (use --follow-symlinks)". Counted before sharding.
   */
  readonly skippedSymlinks: number;
  /**
   * The real path of the output directory (through the real paths of its existing ancestors),
   * for {@link assertInside} right before each write; `undefined` in place.
   */
  readonly outRoot?: string;
}

/** One shard of a split run: `index` from 1 to `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Whether `source` belongs to shard `shard.index` of `shard.count`: FNV-1a (32-bit) of the path
 * with `/` separators, modulo `count`. Every path falls in exactly one shard, whatever the machine,
 * so N runs with shards 1/N..N/N together cover the whole set without overlap.
 *
 * @param source - the path as given or discovered (relative paths hash the same on every machine).
 * @param shard - see {@link Shard}.
 */
export function inShard(source: string, shard: Shard): boolean {
  const key = source.split(path.sep).join('/');
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % shard.count) + 1 === shard.index;
}

/**
 * The static leading directory of a glob pattern, where its walk starts and from which outputs
 * mirror: every segment before the first with glob syntax, counting braces and extglobs as one
 * piece even when they hold a `/` (picomatch's `scan`). `.` when the pattern starts with glob
 * syntax.
 *
 * @param pattern - a glob pattern with `/` separators.
 * @example
 * globBase('data/{train/images,val/images}/*.jpg'); // 'data'
 * globBase('{data/train,data/val}/images/*.jpg');   // '.'
 * @throws {ExifFixError} code `'usage'` for a pattern that goes up after its base (see {@link discover}).
 */
export function globBase(pattern: string): string {
  return parseGlob(pattern).base;
}

/** A directory as a source prefix: normalized, no trailing `/` (`photos/` is `photos`), `''` for `.`. */
function displayPrefix(given: string): string {
  const normal = path.normalize(given);
  if (normal === '.' || normal === './') return '';
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * Expands `paths` into a sorted plan, proven safe to run.
 *
 * - A file is planned as named; a directory is walked recursively (hidden entries skipped); a
 *   glob pattern (picomatch syntax, case-insensitive) is walked from its base (see
 *   {@link globBase}); a path starting with `!` is an exclusion pattern (see
 *   {@link DiscoverOptions.ignore}; write `./!name` for a file whose name starts with `!`).
 *   A trailing `/` on a directory changes nothing.
 * - Symbolic links: see {@link DiscoverOptions.followSymlinks}. A directory that cannot be read
 *   is one failure entry, and the walk goes on.
 * - Containment: with `out`, every target is `<out>/<relative>` and is proven to lie inside the
 *   real output directory once the links of its existing ancestors are resolved.
 *
 * Files enter the plan as they are found (no list of everything found first), and a plain
 * relative path is its own key: at 10^5 paths, intermediate lists and `path.resolve`'s garbage
 * were most of discovery's memory.
 *
 * @param paths - files, directories, glob patterns and `!` exclusions.
 * @param options - see {@link DiscoverOptions}.
 * @returns the plan, the count of skipped links and the real output root; see {@link Discovery}.
 * @throws {ExifFixError} code `'usage'`, before any work, when: a path does not exist; a pattern
 *   matches nothing (unless allowed) or goes up (`..`) after its base; two inputs map to one
 *   output; an output is its own input or overwrites another input; the output directory is, by
 *   real paths, an input tree or inside one where the walk would visit it (a link to it included);
 *   a target would resolve outside the output directory; or a path of the output cannot be
 *   resolved (a broken link).
 * @example
 * const { files, skippedSymlinks } = await discover(['data', '!data/tmp/**'], { out: 'fixed' });
 * // files: [{ source: 'data/a.jpg', relative: 'a.jpg', target: 'fixed/a.jpg', walked: true }, ...]
 */
export async function discover(paths: readonly string[], options: DiscoverOptions = {}): Promise<Discovery> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const outGiven = options.out;
  let out: OutDirectory | undefined;
  if (outGiven !== undefined) {
    const absolute = path.resolve(cwd, outGiven);
    const real = await realThroughAncestors(absolute);
    const s = await stat(real).catch(() => undefined);
    out = { given: outGiven, absolute, real, id: s ? `${s.dev}:${s.ino}` : undefined };
  }
  const exclusions = [...(options.ignore ?? []), ...paths.filter((p) => p.startsWith('!')).map((p) => p.slice(1))];
  if (exclusions.some((p) => p === '')) throw new ExifFixError('Expected a glob pattern after `!` (or in ignore), but received an empty one', 'usage');
  const walker = new Walker(cwd, options.followSymlinks ?? false, ignoreTest(exclusions, cwd), out);

  const bySource = new Map<string, PlannedFile>();
  const byTarget = new Map<string, PlannedFile>();
  const add = (source: string, relative: string, walked: boolean): void => {
    const key = canonical(cwd, source);
    if (bySource.has(key)) return;
    if (outGiven === undefined) {
      // In place (or reading only): every target is its own source, so no two can collide.
      bySource.set(key, { source, relative, target: source, walked });
      return;
    }
    const target = path.join(outGiven, relative);
    const targetKey = canonical(cwd, target);
    if (targetKey === key) throw new ExifFixError(`The output for \`${source}\` would be the input itself`, 'usage');
    const other = byTarget.get(targetKey);
    if (other) throw new ExifFixError(`Both \`${other.source}\` and \`${source}\` would be written to \`${target}\``, 'usage');
    const planned = { source, relative, target, walked };
    bySource.set(key, planned);
    byTarget.set(targetKey, planned);
  };
  const sink = {
    file: (source: string, relative: string) => add(source, relative, true),
    failure: (source: string, relative: string, error: string) => {
      const key = canonical(cwd, source);
      if (!bySource.has(key)) bySource.set(key, { source, relative, target: source, walked: true, error });
    },
  };

  for (const given of paths) {
    if (given.startsWith('!')) continue;
    const absolute = path.resolve(cwd, given);
    let info: Stats | undefined;
    let failure: unknown;
    try {
      info = await stat(absolute);
    } catch (error) {
      failure = error;
    }
    if (info?.isDirectory()) {
      const display = displayPrefix(given);
      if (walker.isIgnored(display || '.')) continue;
      await walker.walk({ given, display, absolute }, info, sink);
    } else if (info) {
      if (!walker.isIgnored(given)) add(given, path.basename(given), false);
    } else if (isPattern(given)) {
      await walkPattern(given, cwd, walker, sink, options.errorOnUnmatchedPattern !== false);
    } else {
      const code = (failure as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ExifFixError(`Cannot find \`${given}\`: no such file or directory`, 'usage');
      throw new ExifFixError(`Cannot read \`${given}\`: ${errnoReason(failure)}`, 'usage', { cause: failure });
    }
  }
  for (const listed of options.files ?? []) {
    if (walker.isIgnored(listed)) continue;
    // Listed paths mirror below --out by their path from the working directory; a path outside
    // it keeps only its name, so that no output escapes --out. (Without --out it is not needed.)
    let relative = listed;
    if (outGiven !== undefined) {
      relative = relativeInside(cwd, path.resolve(cwd, listed)) ?? path.basename(listed);
    }
    add(listed, relative, false);
  }
  if (out !== undefined) await proveTargets(bySource, cwd, out);
  const shard = options.shard;
  const planned: PlannedFile[] = [];
  for (const p of bySource.values()) if (!shard || inShard(p.source, shard)) planned.push(p);
  planned.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  return { files: planned, skippedSymlinks: walker.skippedSymlinks, outRoot: out?.real };
}

/** Walks a glob pattern from its base; refuses one that matches nothing unless allowed. */
async function walkPattern(given: string, cwd: string, walker: Walker, sink: Parameters<Walker['walk']>[2], errorOnUnmatched: boolean): Promise<void> {
  const pattern = parseGlob(given.split(path.sep).join('/'));
  const absolute = path.resolve(cwd, pattern.base);
  const info = await stat(absolute).catch(() => undefined);
  const skippedBefore = walker.skippedSymlinks;
  walker.found = 0;
  const display = displayPrefix(pattern.base);
  if (info?.isDirectory() && !walker.isIgnored(display || '.')) {
    const tree: Tree = { given: pattern.base, display, absolute, pattern };
    await walker.walk(tree, info, sink);
  }
  if (walker.found === 0 && errorOnUnmatched) {
    const links = walker.skippedSymlinks - skippedBefore;
    const note = links > 0 ? `; ${links} symbolic link${links === 1 ? '' : 's'} skipped, use --follow-symlinks to follow them` : '';
    throw new ExifFixError(`No files match the pattern \`${given}\` (use --no-error-on-unmatched-pattern to allow it${note})`, 'usage');
  }
}

/**
 * Proves the plan's targets safe, by real paths: each lies inside the output directory, none is
 * its own input or another input, and no two are one file. Real paths are resolved once per
 * directory; files are compared one by one only in directories that are both an input's and an
 * output's (or one directory spelled two ways), so a plan of 10^5 files holds no extra copy of
 * its paths.
 *
 * @throws {ExifFixError} code `'usage'`.
 */
async function proveTargets(plan: Map<string, PlannedFile>, cwd: string, out: OutDirectory): Promise<void> {
  const targetDirectories = new Set<string>();
  const sourceDirectories = new Set<string>();
  for (const p of plan.values()) {
    if (p.error !== undefined) continue;
    targetDirectories.add(path.dirname(p.target));
    sourceDirectories.add(path.dirname(p.source));
  }
  // Directory as written -> its real path. A target's must resolve (or the plan is refused); a
  // source's that cannot (a listed file below an unreadable directory) keeps its lexical path,
  // and the file fails on its own when the run reads it.
  const real = new Map<string, string>();
  for (const d of targetDirectories) if (!real.has(d)) real.set(d, await realThroughAncestors(path.resolve(cwd, d)));
  for (const d of sourceDirectories) {
    if (!real.has(d)) real.set(d, await realThroughAncestors(path.resolve(cwd, d)).catch(() => path.resolve(cwd, d)));
  }
  const realOf = (d: string) => real.get(d) as string;
  const spellings = new Map<string, Set<string>>();
  for (const d of targetDirectories) {
    const absolute = path.resolve(cwd, d);
    if (!isInside(realOf(d), out.real) || !isInside(absolute, out.absolute)) {
      const p = [...plan.values()].find((f) => f.error === undefined && path.dirname(f.target) === d) as PlannedFile;
      const where = path.join(realOf(d), path.basename(p.target));
      throw new ExifFixError(`The output for \`${p.source}\` would be written to \`${p.target}\`, which resolves to \`${where}\`, outside the output directory \`${out.given}\``, 'usage');
    }
    let set = spellings.get(realOf(d));
    if (!set) spellings.set(realOf(d), (set = new Set()));
    set.add(absolute);
  }
  const shared = new Set<string>();
  for (const [r, set] of spellings) if (set.size > 1) shared.add(r);
  for (const d of sourceDirectories) if (spellings.has(realOf(d))) shared.add(realOf(d));
  if (shared.size === 0) return;
  const inputs = new Map<string, PlannedFile>();
  for (const p of plan.values()) {
    if (p.error !== undefined) continue;
    const r = realOf(path.dirname(p.source));
    if (shared.has(r)) inputs.set(`${r}/${path.basename(p.source)}`, p);
  }
  const outputs = new Map<string, PlannedFile>();
  for (const p of plan.values()) {
    if (p.error !== undefined) continue;
    const r = realOf(path.dirname(p.target));
    if (!shared.has(r)) continue;
    const key = `${r}/${path.basename(p.target)}`;
    const input = inputs.get(key);
    if (input === p) throw new ExifFixError(`The output for \`${p.source}\` would be the input itself (\`${p.target}\` resolves to it)`, 'usage');
    if (input) throw new ExifFixError(`The output \`${p.target}\` would overwrite an input (\`${input.source}\`)`, 'usage');
    const other = outputs.get(key);
    if (other) throw new ExifFixError(`Both \`${other.source}\` and \`${p.source}\` would be written to \`${p.target}\` (one file through symbolic links)`, 'usage');
    outputs.set(key, p);
  }
}

/**
 * The one spelling of a path that {@link discover} compares: relative to `base`, normalized. A
 * relative POSIX path with no `.`, `..` or empty segment is already that spelling and is returned
 * as it is, so that a plan of 10^5 listed files holds no second copy of each path.
 *
 * @param base - the working directory: absolute and normalized.
 * @param p - a path as the user or a walk gave it.
 */
function canonical(base: string, p: string): string {
  const simple =
    path.sep === '/' &&
    p !== '' &&
    p[0] !== '/' &&
    p[p.length - 1] !== '/' &&
    !p.includes('//') &&
    !(p === '.' || p === '..' || p.startsWith('./') || p.startsWith('../') || p.endsWith('/.') || p.endsWith('/..') || p.includes('/./') || p.includes('/../'));
  return simple ? p : path.relative(base, path.resolve(base, p));
}
