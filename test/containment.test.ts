// Containment as an invariant (issue 12, items 1 and 2): no pattern, symbolic link or listed path
// can make a run write outside --out or over an input. Real files, real links, the real CLI; each
// case snapshots the whole temporary tree before and after, so a write anywhere else shows.
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertInside, discover } from '../src/index.js';
import { FIXTURES, runCli, tempDir, tree } from './helpers.js';

const SIDEWAYS = path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg');

/** Every entry below `root` (files by content hash, links by target), as one sorted map. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const state = new Map<string, string>();
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    const rel = path.relative(root, full);
    if (e.isSymbolicLink()) state.set(rel, `-> ${await readlink(full)}`);
    else if (e.isFile()) state.set(rel, createHash('sha256').update(await readFile(full)).digest('hex'));
  }
  return new Map([...state].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** What changed between two snapshots: added, removed or rewritten paths. */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [p, v] of after) if (before.get(p) !== v) changed.add(p);
  for (const p of before.keys()) if (!after.has(p)) changed.add(p);
  return [...changed].sort();
}

/**
 * A working directory four levels below a fresh temporary root (so that an output escaping by
 * up to `../../../..`, as a wrong pattern base did, still lands inside the root, where the
 * snapshot sees it), with sideways photos at
 * `work/data/train/images/a.jpg`, `work/data/val/images/b.jpg`, `work/data/a/c.jpg`, an unrelated
 * `secret/s.jpg` beside `work` (where `data/../../secret` leads) and an unrelated
 * `w/x/train/images/a.jpg` (where `fixed/../../train/images/a.jpg` leads).
 */
async function dataset(): Promise<{ root: string; cwd: string }> {
  const root = await tempDir();
  const cwd = path.join(root, 'w', 'x', 'y', 'work');
  for (const f of ['data/train/images/a.jpg', 'data/val/images/b.jpg', 'data/a/c.jpg']) {
    await mkdir(path.dirname(path.join(cwd, f)), { recursive: true });
    await cp(SIDEWAYS, path.join(cwd, f));
  }
  await mkdir(path.join(cwd, '..', 'secret'));
  await cp(SIDEWAYS, path.join(cwd, '..', 'secret', 's.jpg'));
  await mkdir(path.join(root, 'w', 'x', 'train', 'images'), { recursive: true });
  await writeFile(path.join(root, 'w', 'x', 'train', 'images', 'a.jpg'), 'an unrelated file that must survive');
  return { root, cwd };
}

describe('glob patterns with / inside braces or extglobs', () => {
  const cases: [string, string[]][] = [
    ['data/{train/images,val/images}/*.jpg', ['fixed/train/images/a.jpg', 'fixed/val/images/b.jpg']],
    ['{data/train,data/val}/images/*.jpg', ['fixed/data/train/images/a.jpg', 'fixed/data/val/images/b.jpg']],
    ['data/@(train|val/images)/**/*.jpg', ['fixed/train/images/a.jpg', 'fixed/val/images/b.jpg']],
  ];
  for (const [pattern, outputs] of cases) {
    it(`writes every output of ${pattern} inside --out, mirrored below the pattern's static part`, async () => {
      const { root, cwd } = await dataset();
      const before = await snapshot(root);
      const { code, stderr } = await runCli([pattern, '--out', 'fixed'], cwd);
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/2 rotated/);
      expect(changes(before, await snapshot(root))).toEqual(outputs.map((o) => path.join('w', 'x', 'y', 'work', o)));
    });
  }

  it('computes the static part of a pattern through braces and extglobs', async () => {
    const { cwd } = await dataset();
    const plan = await discover(['data/{train/images,val/images}/*.jpg', 'data/@(a)/*.jpg'], { cwd, out: 'fixed' });
    expect(plan.files.map((p) => [p.source, p.target])).toEqual([
      ['data/a/c.jpg', 'fixed/a/c.jpg'],
      ['data/train/images/a.jpg', 'fixed/train/images/a.jpg'],
      ['data/val/images/b.jpg', 'fixed/val/images/b.jpg'],
    ]);
  });

  it('refuses a pattern that goes up after its first wildcard, writing nothing', async () => {
    const { root, cwd } = await dataset();
    const before = await snapshot(root);
    const { code, stderr } = await runCli(['data/{a,../../secret}/*.jpg', '--out', 'fixed'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The pattern `data\/\{a,\.\.\/\.\.\/secret\}\/\*\.jpg` has `\.\.` or `\.` after its first wildcard/);
    expect(changes(before, await snapshot(root))).toEqual([]);
  });
});

describe('symbolic links between inputs and the output', () => {
  /** `cwd/data/sub/a.jpg` and `cwd/data/b.jpg`, sideways. */
  async function inputs(): Promise<string> {
    const cwd = await tempDir();
    await mkdir(path.join(cwd, 'data', 'sub'), { recursive: true });
    await cp(SIDEWAYS, path.join(cwd, 'data', 'sub', 'a.jpg'));
    await cp(SIDEWAYS, path.join(cwd, 'data', 'b.jpg'));
    return cwd;
  }

  it('refuses --out that is a link into the input tree (ln -s data/sub fixed), keeping every input', async () => {
    const cwd = await inputs();
    await symlink('data/sub', path.join(cwd, 'fixed'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['data', '--out', 'fixed', '-c', '1'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output directory `fixed` is inside the input `data` \(through symbolic links: it resolves to `.*\/data\/sub`\)/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('refuses --out that is a link to the input itself (ln -s data fixed)', async () => {
    const cwd = await inputs();
    await symlink('data', path.join(cwd, 'fixed'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['data', '--out', 'fixed'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output directory `fixed` is the input `data`/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('refuses an input that is a link to a directory holding --out (ln -s data alias; alias --out data/fixed)', async () => {
    const cwd = await inputs();
    await symlink('data', path.join(cwd, 'alias'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['alias', '--out', 'data/fixed'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output directory `data\/fixed` is inside the input `alias`/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('with --follow-symlinks, refuses a link in the input tree that leads to the output directory', async () => {
    const cwd = await inputs();
    const first = await runCli(['data', '--out', 'fixed'], cwd);
    expect(first.code, first.stderr).toBe(0);
    await symlink('../fixed', path.join(cwd, 'data', 'outputs'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['data', '--out', 'fixed', '--follow-symlinks'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output directory `fixed` is reached through the symbolic link `data\/outputs` in the input `data`/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
    // The same through a pattern: one walker, one rule.
    const pattern = await runCli(['data/**/*.jpg', '--out', 'fixed', '--follow-symlinks'], cwd);
    expect(pattern.code).toBe(2);
    expect(pattern.stderr).toMatch(/is reached through the symbolic link `data\/outputs`/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('refuses a target that a link already inside --out would send elsewhere', async () => {
    const cwd = await inputs();
    await mkdir(path.join(cwd, 'fixed'));
    await mkdir(path.join(cwd, 'elsewhere'));
    await symlink('../elsewhere', path.join(cwd, 'fixed', 'sub'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['data', '--out', 'fixed'], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output for `data\/sub\/a\.jpg` would be written to `fixed\/sub\/a\.jpg`, which resolves to `.*\/elsewhere\/a\.jpg`, outside the output directory `fixed`/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('refuses a listed file whose output is, through a linked --out, the file itself', async () => {
    const cwd = await inputs();
    await symlink('.', path.join(cwd, 'here'));
    const before = await snapshot(cwd);
    const { code, stderr } = await runCli(['--files-from', '-', '--out', 'here'], cwd, 'data/b.jpg\n');
    expect(code).toBe(2);
    expect(stderr).toMatch(/The output for `data\/b\.jpg` would be the input itself \(`here\/data\/b\.jpg` resolves to it\)/);
    expect(changes(before, await snapshot(cwd))).toEqual([]);
  });

  it('refuses an output that overwrites another input through a linked directory', async () => {
    const cwd = await inputs();
    // b.jpg goes to out/b.jpg; out/ is a link to data/sub, and data/sub/b.jpg is listed too.
    await cp(SIDEWAYS, path.join(cwd, 'b.jpg'));
    await cp(SIDEWAYS, path.join(cwd, 'data', 'sub', 'b.jpg'));
    await symlink('data/sub', path.join(cwd, 'out'));
    await expect(discover([], { cwd, out: 'out', files: ['b.jpg', 'data/sub/b.jpg'] })).rejects.toThrow(/The output `out\/b\.jpg` would overwrite an input \(`data\/sub\/b\.jpg`\)/);
  });

  it('lets a run write below a link to a directory outside the inputs', async () => {
    const cwd = await inputs();
    await mkdir(path.join(cwd, 'store'));
    await symlink('store', path.join(cwd, 'fixed'));
    const { code, stderr } = await runCli(['data', '--out', 'fixed'], cwd);
    expect(code, stderr).toBe(0);
    expect(await tree(path.join(cwd, 'store'))).toEqual(['b.jpg', path.join('sub', 'a.jpg')]);
    expect((await lstat(path.join(cwd, 'fixed'))).isSymbolicLink()).toBe(true);
  });
});

describe('assertInside', () => {
  it('accepts a target below the real output root and refuses one that a link sends outside', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'fixed', 'a'), { recursive: true });
    await mkdir(path.join(dir, 'elsewhere'));
    const { outRoot } = await discover([], { cwd: dir, out: 'fixed' });
    expect(outRoot).toBe(path.join(dir, 'fixed'));
    await expect(assertInside(outRoot as string, path.join(dir, 'fixed', 'a', 'new', 'x.jpg'))).resolves.toBeUndefined();
    await symlink('../elsewhere', path.join(dir, 'fixed', 'b'));
    await expect(assertInside(outRoot as string, path.join(dir, 'fixed', 'b', 'x.jpg'))).rejects.toThrow(
      /Refusing to write `.*\/fixed\/b\/x\.jpg`: its directory resolves to `.*\/elsewhere`, outside the output directory/,
    );
    await symlink('missing', path.join(dir, 'fixed', 'broken'));
    await expect(assertInside(outRoot as string, path.join(dir, 'fixed', 'broken', 'x.jpg'))).rejects.toThrow(/is a broken symbolic link/);
  });
});
