// A directory tree deeper than PATH_MAX (4,096 bytes on Linux), made and removed with short
// paths only: each level is built by moving the tree so far into a new parent, so no system call
// ever sees a path longer than about 300 bytes. (fs.rm cannot remove such a tree: it fails with
// ENAMETOOLONG; removeDeepTree unwraps it level by level instead.)
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The name of every level: 250 bytes, under NAME_MAX (255). */
export const DEEP_NAME = 'd'.repeat(250);
/** Levels below `deep`: 18 x 251 bytes = 4,518 bytes, past PATH_MAX whatever the parent. */
export const DEEP_LEVELS = 18;

/**
 * Makes `parent/deep/<DEEP_NAME>/.../<DEEP_NAME>/<file>` ({@link DEEP_LEVELS} levels).
 *
 * @param parent - an existing directory.
 * @param file - name of the file at the bottom.
 * @param content - its bytes.
 */
export async function makeDeepTree(parent: string, file: string, content: Uint8Array | string): Promise<void> {
  const current = path.join(parent, 'deep');
  const wrapper = path.join(parent, 'deep-wrapper');
  await mkdir(current);
  await writeFile(path.join(current, file), content);
  for (let i = 0; i < DEEP_LEVELS; i++) {
    await mkdir(wrapper);
    await rename(current, path.join(wrapper, DEEP_NAME));
    await rename(wrapper, current);
  }
}

/** Removes what {@link makeDeepTree} made below `parent`, one level at a time. */
export async function removeDeepTree(parent: string): Promise<void> {
  const top = path.join(parent, 'deep');
  const next = path.join(parent, 'deep-next');
  for (;;) {
    const names: string[] = await readdir(top).catch(() => []);
    if (!names.includes(DEEP_NAME)) break;
    await rename(path.join(top, DEEP_NAME), next);
    await rm(top, { recursive: true });
    await rename(next, top);
  }
  await rm(top, { recursive: true, force: true });
}
