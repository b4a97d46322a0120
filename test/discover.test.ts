// discover(): from what the user names to the sorted plan. Real files in a temporary directory.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, discover } from '../src/index.js';
import { tempDir } from './helpers.js';
import { DEEP_NAME, makeDeepTree, removeDeepTree } from './helpers/deep-tree.js';

/** A temporary tree: a/one.jpg, a/two.jpg, a/deep/three.jpg, b/one.jpg (contents do not matter here). */
async function tree(): Promise<string> {
  const root = await tempDir();
  await mkdir(path.join(root, 'a', 'deep'), { recursive: true });
  await mkdir(path.join(root, 'b'));
  for (const f of ['a/one.jpg', 'a/two.jpg', 'a/deep/three.jpg', 'b/one.jpg']) await writeFile(path.join(root, f), 'x');
  return root;
}

describe('discover', () => {
  it('plans one entry per file however the file is spelled', async () => {
    const cwd = await tree();
    const spellings = ['a/one.jpg', './a/one.jpg', path.join(cwd, 'a', 'one.jpg'), 'a/deep/../one.jpg', 'a//one.jpg', 'b/../a/one.jpg'];
    const { files: plan } = await discover([], { cwd, files: spellings });
    expect(plan).toHaveLength(1);
    expect(plan[0].source).toBe('a/one.jpg');
    const { files: walked } = await discover(['a', './a/one.jpg', `${cwd}/a/two.jpg`], { cwd });
    expect(walked.map((p) => p.source)).toEqual(['a/deep/three.jpg', 'a/one.jpg', 'a/two.jpg']);
  });

  it('sorts by source path and mirrors each walked tree below --out', async () => {
    const cwd = await tree();
    const { files: inPlace } = await discover(['b', 'a'], { cwd });
    expect(inPlace.map((p) => [p.source, p.target])).toEqual([
      ['a/deep/three.jpg', 'a/deep/three.jpg'],
      ['a/one.jpg', 'a/one.jpg'],
      ['a/two.jpg', 'a/two.jpg'],
      ['b/one.jpg', 'b/one.jpg'],
    ]);
    const { files: mirrored } = await discover(['a'], { cwd, out: 'fixed' });
    expect(mirrored.map((p) => [p.source, p.relative, p.target])).toEqual([
      ['a/deep/three.jpg', 'deep/three.jpg', 'fixed/deep/three.jpg'],
      ['a/one.jpg', 'one.jpg', 'fixed/one.jpg'],
      ['a/two.jpg', 'two.jpg', 'fixed/two.jpg'],
    ]);
  });

  it('refuses two inputs written to one output', async () => {
    const cwd = await tree();
    await expect(discover(['a', 'b'], { cwd, out: 'fixed' })).rejects.toThrow(/Both `a\/one.jpg` and `b\/one.jpg` would be written to `fixed\/one.jpg`/);
  });

  it('refuses an output that is its own input, or overwrites another input, spelled any way', async () => {
    const cwd = await tree();
    await expect(discover([], { cwd, files: ['a/one.jpg'], out: '.' })).rejects.toThrow(/would be the input itself/);
    await expect(discover([], { cwd, files: ['./a/one.jpg'], out: `${cwd}/.` })).rejects.toThrow(/would be the input itself/);
    // a/one.jpg goes to b/one.jpg, which is itself an input (listed, so mirrored to b/b/one.jpg).
    for (const listed of ['b/one.jpg', './b/one.jpg', `${cwd}/b/one.jpg`]) {
      await expect(discover(['a'], { cwd, out: 'b', files: [listed] })).rejects.toThrow(/The output `b\/one.jpg` would overwrite an input/);
    }
  });

  it('refuses --out inside a walked input tree before walking it', async () => {
    const cwd = await tree();
    await expect(discover(['a'], { cwd, out: 'a/fixed' })).rejects.toThrow(/inside the input `a`/);
    await expect(discover(['a/**/*.jpg'], { cwd, out: 'a/fixed' })).rejects.toThrow(/inside the input `a`/);
  });

  it('expands glob patterns case-insensitively and refuses one that matches nothing', async () => {
    const cwd = await tree();
    const { files: plan } = await discover(['a/**/*.JPG'], { cwd, out: 'fixed' });
    expect(plan.map((p) => p.target)).toEqual(['fixed/deep/three.jpg', 'fixed/one.jpg', 'fixed/two.jpg']);
    await expect(discover(['c/**/*.jpg'], { cwd })).rejects.toThrow(/No files match the pattern `c\/\*\*\/\*.jpg`/);
    expect((await discover(['c/**/*.jpg'], { cwd, errorOnUnmatchedPattern: false })).files).toEqual([]);
  });
});

/** `cwd/data/real/a.jpg`, `cwd/elsewhere/b.jpg` and `cwd/data/link -> ../elsewhere` (a linked directory). */
async function linkedTree(): Promise<string> {
  const cwd = await tempDir();
  await mkdir(path.join(cwd, 'data', 'real'), { recursive: true });
  await mkdir(path.join(cwd, 'elsewhere'));
  await writeFile(path.join(cwd, 'data', 'real', 'a.jpg'), 'x');
  await writeFile(path.join(cwd, 'elsewhere', 'b.jpg'), 'x');
  await symlink('../elsewhere', path.join(cwd, 'data', 'link'));
  return cwd;
}

describe('discover: one walker for directories and patterns', () => {
  it('follows a linked directory in a pattern exactly as in a directory walk with followSymlinks', async () => {
    const cwd = await linkedTree();
    const walked = await discover(['data'], { cwd, followSymlinks: true });
    const matched = await discover(['data/**/*.jpg'], { cwd, followSymlinks: true });
    expect(walked.files.map((p) => p.source)).toEqual(['data/link/b.jpg', 'data/real/a.jpg']);
    expect(matched.files.map((p) => [p.source, p.relative])).toEqual([
      ['data/link/b.jpg', 'link/b.jpg'],
      ['data/real/a.jpg', 'real/a.jpg'],
    ]);
  });

  it('counts the links it does not follow, in directories and patterns alike', async () => {
    const cwd = await linkedTree();
    await symlink('real/a.jpg', path.join(cwd, 'data', 'file-link.jpg'));
    await symlink('real', path.join(cwd, 'data', '.hidden-link'));
    const walked = await discover(['data'], { cwd });
    expect(walked.files.map((p) => p.source)).toEqual(['data/real/a.jpg']);
    expect(walked.skippedSymlinks).toBe(2);
    const matched = await discover(['data/**/*.jpg'], { cwd });
    expect(matched.files.map((p) => p.source)).toEqual(['data/real/a.jpg']);
    expect(matched.skippedSymlinks).toBe(2);
    // A link the pattern could never use is not counted: data/*.png neither matches nor enters it.
    expect((await discover(['data/*.png'], { cwd, errorOnUnmatchedPattern: false })).skippedSymlinks).toBe(0);
    await expect(discover(['data/link/*.jpg'], { cwd })).resolves.toMatchObject({ files: [{ source: 'data/link/b.jpg' }] });
  });

  it('gives a run the count of skipped links with the plan', async () => {
    const cwd = await linkedTree();
    const seen: [number, number][] = [];
    await check(['data'], { cwd, onPlan: (total, info) => seen.push([total, info.skippedSymlinks]) });
    await check(['data'], { cwd, followSymlinks: true, onPlan: (total, info) => seen.push([total, info.skippedSymlinks]) });
    expect(seen).toEqual([
      [1, 1],
      [2, 0],
    ]);
  });

  it('says how many links were skipped when a pattern matches nothing but links', async () => {
    const cwd = await linkedTree();
    await expect(discover(['data/*/b.jpg'], { cwd })).rejects.toThrow(/No files match the pattern `data\/\*\/b\.jpg` \(use --no-error-on-unmatched-pattern to allow it; 1 symbolic link skipped, use --follow-symlinks to follow them\)/);
  });

  it('walks each real directory once through loops, preferring the path without links', async () => {
    const cwd = await linkedTree();
    await symlink('..', path.join(cwd, 'data', 'real', 'loop'));
    await symlink('../data', path.join(cwd, 'elsewhere', 'back'));
    for (const given of ['data', 'data/**/*.jpg', 'data/**']) {
      const { files } = await discover([given], { cwd, followSymlinks: true });
      expect(files.map((p) => p.source), given).toEqual(['data/link/b.jpg', 'data/real/a.jpg']);
    }
  });

  it('plans a broken link as one failure when following links', async () => {
    const cwd = await linkedTree();
    await symlink('missing.jpg', path.join(cwd, 'data', 'broken.jpg'));
    const { files } = await discover(['data/*.jpg', 'data/real'], { cwd, followSymlinks: true });
    expect(files).toEqual([
      { source: 'data/broken.jpg', relative: 'broken.jpg', target: 'data/broken.jpg', walked: true, error: expect.stringMatching(/^broken symbolic link: no such file or directory \(ENOENT\)/) },
      { source: 'data/real/a.jpg', relative: 'a.jpg', target: 'data/real/a.jpg', walked: true },
    ]);
  });

  it('plans a directory deeper than PATH_MAX as one failure and walks on, following links or not', async () => {
    const cwd = await tempDir();
    await mkdir(path.join(cwd, 'data'));
    await writeFile(path.join(cwd, 'data', 'b.jpg'), 'x');
    await makeDeepTree(path.join(cwd, 'data'), 'a.jpg', 'x');
    try {
      for (const followSymlinks of [false, true]) {
        const { files } = await discover(['data'], { cwd, out: 'fixed', followSymlinks });
        const failures = files.filter((p) => p.error !== undefined);
        expect(failures).toHaveLength(1);
        expect(failures[0].source.startsWith(`data/deep/${DEEP_NAME}/`)).toBe(true);
        expect(failures[0].error).toMatch(/^cannot read directory: path too long for the system \(ENAMETOOLONG, over PATH_MAX\)$/);
        expect(failures[0].target).toBe(failures[0].source);
        expect(files.filter((p) => p.error === undefined).map((p) => p.target)).toEqual(['fixed/b.jpg']);
      }
    } finally {
      await removeDeepTree(path.join(cwd, 'data'));
    }
  });
});

describe('discover: exclusions and spellings', () => {
  it('leaves out !patterns and ignore globs, pruning ignored directories, for walked, named and listed files', async () => {
    const cwd = await tree();
    await writeFile(path.join(cwd, 'a', 'deep', 'four.png'), 'x');
    const negated = await discover(['a', '!a/deep/**'], { cwd });
    expect(negated.files.map((p) => p.source)).toEqual(['a/one.jpg', 'a/two.jpg']);
    const byName = await discover(['a', 'b/one.jpg'], { cwd, ignore: ['*.png', 'one.jpg'], files: ['a/deep/three.jpg'] });
    expect(byName.files.map((p) => p.source)).toEqual(['a/deep/three.jpg', 'a/two.jpg']);
    const directory = await discover(['a/**/*.jpg'], { cwd, ignore: ['deep'] });
    expect(directory.files.map((p) => p.source)).toEqual(['a/one.jpg', 'a/two.jpg']);
    const absolute = await discover([cwd], { cwd, ignore: [`${cwd}/a/**`] });
    expect(absolute.files.map((p) => path.relative(cwd, p.source))).toEqual(['b/one.jpg']);
  });

  it('refuses an empty exclusion', async () => {
    const cwd = await tree();
    await expect(discover(['a', '!'], { cwd })).rejects.toThrow(/Expected a glob pattern after `!`/);
    await expect(discover(['a'], { cwd, ignore: [''] })).rejects.toThrow(/Expected a glob pattern after `!`/);
  });

  it('plans a listed file whose directory cannot be resolved, so that it fails alone when read', async () => {
    const cwd = await tree();
    await symlink('loop', path.join(cwd, 'loop'));
    const { files } = await discover(['a/one.jpg'], { cwd, out: 'fixed', files: ['loop/x.jpg'] });
    expect(files.map((p) => [p.source, p.target])).toEqual([
      ['a/one.jpg', 'fixed/one.jpg'],
      ['loop/x.jpg', 'fixed/loop/x.jpg'],
    ]);
  });

  it('takes a directory with a trailing slash, and an --out hidden inside it that the walk never enters', async () => {
    const cwd = await tree();
    const first = await discover(['a/'], { cwd, out: 'a/.upright' });
    expect(first.files.map((p) => [p.source, p.target])).toEqual([
      ['a/deep/three.jpg', 'a/.upright/deep/three.jpg'],
      ['a/one.jpg', 'a/.upright/one.jpg'],
      ['a/two.jpg', 'a/.upright/two.jpg'],
    ]);
    // Once the outputs exist, a rerun plans the same files: the hidden output is not walked.
    await mkdir(path.join(cwd, 'a', '.upright'));
    await writeFile(path.join(cwd, 'a', '.upright', 'one.jpg'), 'x');
    expect((await discover(['a/'], { cwd, out: 'a/.upright' })).files).toEqual(first.files);
    // An output that the walk would enter is still refused, and one a pattern could match too.
    await expect(discover(['a/'], { cwd, out: 'a/upright' })).rejects.toThrow(/The output directory `a\/upright` is inside the input `a\/`/);
    await expect(discover(['a/.*/*.jpg'], { cwd, out: 'a/.upright' })).rejects.toThrow(/The output directory `a\/.upright` is inside the input `a`/);
    await expect(discover(['a/*.jpg'], { cwd, out: 'a/upright', errorOnUnmatchedPattern: false })).resolves.toMatchObject({ files: [{}, {}] });
  });
});
