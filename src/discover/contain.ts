/**
 * Containment: where a path really is once the symbolic links of its existing ancestors are
 * resolved, and the check that an output stays inside the output directory. The write step
 * calls {@link assertInside} right before writing, so a link planted after the plan was made
 * still cannot send an output elsewhere.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ExifFixError } from '../errors.js';

/**
 * Whether `child` is `parent` or below it. Both absolute and normalized; compared by path
 * segments, so `/a/bc` is not inside `/a/b`, and `/a/..b` is inside `/a`.
 */
export function isInside(child: string, parent: string): boolean {
  return relativeInside(parent, child) !== undefined;
}

/**
 * The path from `parent` down to `child` (`''` when equal, `/` separators), or `undefined` when
 * `child` is not inside `parent`. Both absolute and normalized.
 */
export function relativeInside(parent: string, child: string): string | undefined {
  const rel = path.relative(parent, child);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/**
 * Where `absolute` really is: the real path (`fs.realpath`) of its longest existing ancestor,
 * followed by the names that do not exist yet. This is where a write to `absolute` lands, since
 * creating the missing directories follows the links above them.
 *
 * @param absolute - an absolute, normalized path (as `path.resolve` makes: what the write step uses).
 * @returns the real absolute path.
 * @throws {ExifFixError} code `'usage'` when a component is a broken symbolic link (a write there
 *   would depend on what the link's missing target becomes), or cannot be resolved (`ELOOP`,
 *   `EACCES`, `ENAMETOOLONG`); the message names the component.
 */
export async function realThroughAncestors(absolute: string): Promise<string> {
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      const real = await realpath(existing);
      return missing.length === 0 ? real : path.join(real, ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(existing);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === existing) {
        throw new ExifFixError(`Cannot resolve \`${existing}\`: ${code ?? String(error)}`, 'usage', { cause: error });
      }
      if (code === 'ENOENT' && (await lstat(existing).then((s) => s.isSymbolicLink(), () => false))) {
        throw new ExifFixError(`\`${existing}\` is a broken symbolic link; refusing to write through it`, 'usage');
      }
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Proves that writing `target` lands inside `outRoot`: the real path of the target's directory
 * (through its existing ancestors, see {@link realThroughAncestors}) must be `outRoot` or below
 * it. {@link discover} proves this for every target before any work; the write step calls this
 * again right before writing each file (after creating nothing), so a symbolic link planted in
 * the output tree during the run is refused rather than followed. The target's own name may be
 * a link: the atomic rename replaces the link itself, not what it points to.
 *
 * @param outRoot - the real path of the output directory, as {@link Discovery.outRoot} gives it.
 * @param target - the output path (absolute, or relative to the working directory).
 * @throws {ExifFixError} code `'write'` naming `target` and where it would land.
 * @example
 * const { files, outRoot } = await discover(['data'], { out: 'fixed' });
 * for (const f of files) {
 *   if (outRoot !== undefined) await assertInside(outRoot, f.target); // then write f.target
 * }
 */
export async function assertInside(outRoot: string, target: string): Promise<void> {
  const directory = path.dirname(path.resolve(target));
  let real: string;
  try {
    real = await realThroughAncestors(directory);
  } catch (error) {
    throw new ExifFixError(`Refusing to write \`${target}\`: ${(error as Error).message}`, 'write', { cause: error });
  }
  if (!isInside(real, outRoot)) {
    throw new ExifFixError(`Refusing to write \`${target}\`: its directory resolves to \`${real}\`, outside the output directory \`${outRoot}\``, 'write');
  }
}
