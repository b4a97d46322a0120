// discover(): from what the user names to the sorted plan. Real files in a temporary directory.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover } from '../src/index.js';
import { tempDir } from './helpers.js';

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
    const plan = await discover([], { cwd, files: spellings });
    expect(plan).toHaveLength(1);
    expect(plan[0].source).toBe('a/one.jpg');
    const walked = await discover(['a', './a/one.jpg', `${cwd}/a/two.jpg`], { cwd });
    expect(walked.map((p) => p.source)).toEqual(['a/deep/three.jpg', 'a/one.jpg', 'a/two.jpg']);
  });

  it('sorts by source path and mirrors each walked tree below --out', async () => {
    const cwd = await tree();
    const inPlace = await discover(['b', 'a'], { cwd });
    expect(inPlace.map((p) => [p.source, p.target])).toEqual([
      ['a/deep/three.jpg', 'a/deep/three.jpg'],
      ['a/one.jpg', 'a/one.jpg'],
      ['a/two.jpg', 'a/two.jpg'],
      ['b/one.jpg', 'b/one.jpg'],
    ]);
    const mirrored = await discover(['a'], { cwd, out: 'fixed' });
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
    const plan = await discover(['a/**/*.JPG'], { cwd, out: 'fixed' });
    expect(plan.map((p) => p.target)).toEqual(['fixed/deep/three.jpg', 'fixed/one.jpg', 'fixed/two.jpg']);
    await expect(discover(['c/**/*.jpg'], { cwd })).rejects.toThrow(/No files match the pattern `c\/\*\*\/\*.jpg`/);
    expect(await discover(['c/**/*.jpg'], { cwd, errorOnUnmatchedPattern: false })).toEqual([]);
  });
});
