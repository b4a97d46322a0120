/**
 * Glob patterns for {@link discover}: where a pattern's walk starts (its base), which files it
 * matches, which directories can hold matches (so the walk prunes the rest), and the `ignore`
 * patterns. Matching is picomatch's (Bash glob syntax with braces and extglobs), case-insensitive,
 * and without hidden entries unless a pattern segment names them (`.cache`, `.*`).
 */
import path from 'node:path';
import braces from 'braces';
import picomatch from 'picomatch';
import { ExifFixError } from '../errors.js';

const MATCH: picomatch.PicomatchOptions = { nocase: true, dot: false };

/** Whether `given` has glob syntax (`*`, `?`, `[...]`, `{a,b}`, extglobs) and is walked as a pattern. */
export function isPattern(given: string): boolean {
  return picomatch.scan(given).isGlob;
}

/** A glob pattern, split where its walk starts. */
export interface GlobPattern {
  /** The pattern as given. */
  readonly given: string;
  /**
   * The static leading directory of the pattern, escapes removed: every segment before the first
   * one with glob syntax, braces and extglobs included even when they hold a `/` (so the base of
   * `data/{train/images,val/images}/*.jpg` is `data`). `.` when the pattern starts with glob
   * syntax, `/` for `/*.jpg`.
   */
  readonly base: string;
  /** Whether a file at `relative` (from the base, `/` separators) matches the pattern. */
  readonly matches: (relative: string) => boolean;
  /** Whether a directory at `relative` (from the base) can hold matches below it; `''` is the base. */
  readonly mayContain: (relative: string) => boolean;
}

/** A segment matcher; `'**'` stands for a globstar, `'deep'` for a segment whose syntax spans `/`. */
type Segment = ((name: string) => boolean) | '**' | 'deep';

/**
 * Splits a glob pattern into its base and matchers.
 *
 * @param given - a pattern as the user wrote it (`/` separators).
 * @returns see {@link GlobPattern}.
 * @throws {ExifFixError} code `'usage'` when an alternative of the pattern has a `..` or `.`
 *   segment after its base (`data/{a,../../secret}/*.jpg`): the walk never goes up, and outputs
 *   mirror the path from the base, so such a pattern is refused rather than half matched; or when
 *   its braces expand to too many alternatives (braces' range limit, 1,000).
 */
export function parseGlob(given: string): GlobPattern {
  const scan = picomatch.scan(given);
  const rest = scan.glob;
  const unescaped = scan.base.replace(/\\(.)/g, '$1');
  const base = unescaped === '' ? (given.startsWith('/') ? '/' : '.') : unescaped;
  let alternatives: string[];
  try {
    alternatives = braces.expand(rest);
  } catch (error) {
    throw new ExifFixError(`The pattern \`${given}\` expands to too many alternatives: ${(error as Error).message}`, 'usage');
  }
  const segmented: Segment[][] = [];
  for (const alternative of alternatives) {
    const names = alternative.split('/');
    if (names.some((s) => s === '..' || s === '.')) {
      throw new ExifFixError(
        `The pattern \`${given}\` has \`..\` or \`.\` after its first wildcard (in \`${base === '.' ? '' : `${base}/`}${alternative}\`); ` +
          'a pattern is walked down from its static part, so name that directory as a separate path or pattern instead',
        'usage',
      );
    }
    segmented.push(segments(names));
  }
  const file = picomatch(rest, MATCH);
  const hiddenNamed = alternatives.some((a) => a.split('/').some((s) => s.startsWith('.')));
  return {
    given,
    base,
    matches: (relative) => file(relative),
    mayContain: (relative) => {
      if (relative === '') return true;
      const names = relative.split('/');
      return segmented.some((s) => mayContain(s, names, hiddenNamed));
    },
  };
}

/**
 * Matchers for the `/`-separated segments of one brace-free alternative. A segment whose
 * parentheses do not balance belongs to an extglob that spans `/` (`@(train|val/images)`); from
 * there on anything may match, so the walk does not prune below it (the file matcher decides).
 */
function segments(names: readonly string[]): Segment[] {
  const out: Segment[] = [];
  for (const name of names) {
    if (name === '**') out.push('**');
    else if (!balanced(name)) {
      out.push('deep');
      break;
    } else out.push(picomatch(name, MATCH));
  }
  return out;
}

function balanced(segment: string): boolean {
  let depth = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return depth === 0;
}

/**
 * Whether a directory whose path from the base is `names` can hold a match of `pattern` below
 * it: each of its names matches the pattern's segment at the same depth, and the pattern goes
 * deeper. A globstar matches any rest, but not through hidden directories unless the pattern
 * names hidden entries (picomatch's `dot: false`).
 */
function mayContain(pattern: readonly Segment[], names: readonly string[], hiddenNamed: boolean): boolean {
  for (let i = 0; i < names.length; i++) {
    const segment = pattern[i];
    if (segment === undefined) return false;
    if (segment === 'deep') return true;
    if (segment === '**') return hiddenNamed || !names.slice(i).some((n) => n.startsWith('.'));
    if (!segment(names[i])) return false;
  }
  return pattern.length > names.length;
}

/**
 * The `ignore` patterns as one test, or `undefined` when there are none. A pattern is matched
 * against the path from the working directory (`/` separators; an absolute pattern is made
 * relative to `cwd` first); a pattern without `/` matches a name at any depth, as in
 * `.gitignore` (`--ignore '*.png'`, `--ignore labels`). A directory that matches is not walked.
 * Case-insensitive like the patterns it excludes from; hidden names match.
 *
 * @param patterns - glob patterns, e.g. from `--ignore` and `!pattern` paths (without the `!`).
 * @param cwd - the absolute working directory.
 */
export function ignoreTest(patterns: readonly string[], cwd: string): ((fromCwd: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const tests = patterns.map((given) => {
    let p = path.isAbsolute(given) ? path.relative(cwd, given) : given;
    while (p.startsWith('./')) p = p.slice(2);
    if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
    return picomatch(p, { nocase: true, dot: true, basename: !p.includes('/') });
  });
  return (fromCwd) => tests.some((t) => t(fromCwd));
}
