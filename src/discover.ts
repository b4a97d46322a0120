/**
 * From the paths a user gives (files, directories, glob patterns) to a sorted plan of
 * `{ source, target }` pairs, refusing plans that would overwrite an input or write one output
 * twice before any work starts.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { ExifFixError } from './errors.js';

/** One file to normalize. */
export interface PlannedFile {
  /** The input path, as the user would write it (relative to the working directory when given so). */
  readonly source: string;
  /** Path of the input relative to its base: the directory given, or the static part of the glob. */
  readonly relative: string;
  /** Where the output goes: `<out>/<relative>`, or `source` itself in place. */
  readonly target: string;
  /** Whether the file was found by walking a directory or a glob (not named by the user). */
  readonly walked: boolean;
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
   * Follow symbolic links when walking directories, with loop detection (each real directory is
   * walked once). Default `false`: links found by walking are not listed.
   */
  readonly followSymlinks?: boolean;
}

/**
 * Walks `root` following symbolic links, visiting each real directory once (by device and inode),
 * so link loops end. Hidden entries are skipped, as in the default walk.
 *
 * @param root - absolute directory path.
 * @returns file paths relative to `root`, with `/` separators.
 */
async function walkFollowingLinks(root: string): Promise<string[]> {
  const seen = new Set<string>();
  const files: string[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    const s = await stat(dir).catch(() => undefined);
    if (!s) return;
    const key = `${s.dev}:${s.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const target = e.isSymbolicLink() ? await stat(full).catch(() => undefined) : e;
      if (!target) continue;
      if (target.isDirectory()) await visit(full, childRel);
      else if (target.isFile()) files.push(childRel);
    }
  };
  await visit(root, '');
  return files;
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
 * The static leading part of a glob pattern: its directory segments before the first one with
 * glob syntax (as glob-parent does), `.` when the pattern starts with one.
 *
 * @param pattern - a fast-glob pattern with `/` separators.
 */
export function globBase(pattern: string): string {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if (fg.isDynamicPattern(s)) break;
    fixed.push(s);
  }
  if (fixed.length === segments.length - 1 && !fg.isDynamicPattern(segments[segments.length - 1])) fixed.pop();
  const base = fixed.join('/');
  return base === '' ? (pattern.startsWith('/') ? '/' : '.') : base;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Expands `paths` into a sorted plan. Directories are walked recursively (hidden files are
 * skipped; symbolic links are not followed unless `followSymlinks`); glob patterns are expanded
 * by fast-glob.
 *
 * @param paths - files, directories or glob patterns.
 * @param options - see {@link DiscoverOptions}.
 * @returns one entry per distinct input file, sorted by source path.
 * @throws {ExifFixError} code `'usage'` when a path does not exist, a pattern matches nothing
 *   (unless allowed),
 *   two inputs map to one output, an output is its own input, or `out` lies inside an input tree
 *   that would be walked again.
 */
export async function discover(paths: readonly string[], options: DiscoverOptions = {}): Promise<PlannedFile[]> {
  const cwd = options.cwd ?? process.cwd();
  const out = options.out === undefined ? undefined : path.resolve(cwd, options.out);
  const base = path.resolve(cwd);
  const bySource = new Map<string, PlannedFile>();
  const byTarget = new Map<string, PlannedFile>();
  // Each file goes into the plan as it is found (no list of everything found first): at 10^5
  // paths the intermediate list and `path.resolve`'s garbage were most of discovery's memory.
  const add = (source: string, relative: string, walked: boolean): void => {
    const key = canonical(base, source);
    if (bySource.has(key)) return;
    if (out === undefined) {
      // In place (or reading only): every target is its own source, so no two can collide.
      bySource.set(key, { source, relative, target: source, walked });
      return;
    }
    const target = path.join(options.out as string, relative);
    const targetKey = canonical(base, target);
    if (targetKey === key) throw new ExifFixError(`The output for \`${source}\` would be the input itself`, 'usage');
    const other = byTarget.get(targetKey);
    if (other) throw new ExifFixError(`Both \`${other.source}\` and \`${source}\` would be written to \`${target}\``, 'usage');
    const planned = { source, relative, target, walked };
    bySource.set(key, planned);
    byTarget.set(targetKey, planned);
  };
  for (const given of paths) {
    const info = await stat(path.resolve(cwd, given)).catch(() => undefined);
    if (info?.isFile()) {
      add(given, path.basename(given), false);
    } else if (info?.isDirectory()) {
      const root = path.resolve(cwd, given);
      refuseOutputInside(out, options.out, cwd, root);
      if (options.followSymlinks) {
        for (const e of await walkFollowingLinks(root)) add(path.join(given, e), e, true);
      } else {
        for await (const e of fg.stream('**/*', { cwd: root, onlyFiles: true, dot: false, followSymbolicLinks: false })) {
          add(path.join(given, e as string), e as string, true);
        }
      }
    } else if (fg.isDynamicPattern(given)) {
      const pattern = given.split(path.sep).join('/');
      const patternBase = globBase(pattern);
      const root = path.resolve(cwd, patternBase);
      refuseOutputInside(out, options.out, cwd, root);
      let matched = false;
      for await (const e of fg.stream(pattern, { cwd, onlyFiles: true, dot: false, followSymbolicLinks: false, caseSensitiveMatch: false })) {
        matched = true;
        add(path.normalize(e as string), path.relative(patternBase, e as string), true);
      }
      if (!matched && options.errorOnUnmatchedPattern !== false) {
        throw new ExifFixError(`No files match the pattern \`${given}\` (use --no-error-on-unmatched-pattern to allow it)`, 'usage');
      }
    } else {
      throw new ExifFixError(`Cannot find \`${given}\`: no such file or directory`, 'usage');
    }
  }
  for (const listed of options.files ?? []) {
    // Listed paths mirror below --out by their path from the working directory; a path outside
    // it keeps only its name, so that no output escapes --out. (Without --out it is not needed.)
    let relative = listed;
    if (out !== undefined) {
      const fromCwd = path.relative(cwd, path.resolve(cwd, listed));
      relative = fromCwd.startsWith('..') || path.isAbsolute(fromCwd) ? path.basename(listed) : fromCwd;
    }
    add(listed, relative, false);
  }
  if (out !== undefined) {
    for (const p of bySource.values()) {
      if (bySource.has(canonical(base, p.target))) {
        throw new ExifFixError(`The output \`${p.target}\` would overwrite an input`, 'usage');
      }
    }
  }
  const shard = options.shard;
  const planned: PlannedFile[] = [];
  for (const p of bySource.values()) if (!shard || inShard(p.source, shard)) planned.push(p);
  return planned.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

/**
 * Refuses an output directory inside an input tree that is walked, which would walk the outputs
 * of the run as inputs.
 *
 * @throws {ExifFixError} code `'usage'`.
 */
function refuseOutputInside(out: string | undefined, given: string | undefined, cwd: string, root: string): void {
  if (out !== undefined && isInside(out, root)) {
    throw new ExifFixError(`The output directory \`${given}\` is inside the input \`${path.relative(cwd, root) || '.'}\`, which would walk it again`, 'usage');
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
