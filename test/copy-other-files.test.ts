// --copy-other-files: --out produces a complete dataset, labels transformed with their images.
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from './helpers.js';

async function yolo(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
  await mkdir(path.join(dir, 'ds', 'labels'), { recursive: true });
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'ds', 'images', 'a.jpg'));
  await cp(path.join(FIXTURES, 'annotations', 'stored', 'yolo', 'jpeg-420_6.txt'), path.join(dir, 'ds', 'labels', 'a.txt'));
  await writeFile(path.join(dir, 'ds', 'data.yaml'), 'path: .\ntrain: images\nnames: [cat]\n');
  await writeFile(path.join(dir, 'ds', 'notes.csv'), 'a,b\n1,2\n');
  return dir;
}

describe('--copy-other-files', () => {
  it('copies what is not an image byte for byte, so --out is a complete dataset', async () => {
    const dir = await yolo();
    const { code, stderr } = await runCli(['ds', '--out', 'fixed', '--copy-other-files'], dir);
    expect(code, stderr).toBe(0);
    expect(await readFile(path.join(dir, 'fixed', 'data.yaml'), 'utf8')).toBe('path: .\ntrain: images\nnames: [cat]\n');
    expect(await readFile(path.join(dir, 'fixed', 'notes.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(await readdir(path.join(dir, 'fixed', 'labels'))).toEqual(['a.txt']);
    expect(stderr).toMatch(/3 other files copied/);
  });

  it('with --annotations, the labels are written transformed by the label step, not copied raw', async () => {
    const dir = await yolo();
    const { code, stderr } = await runCli(['ds', '--out', 'fixed', '--copy-other-files', '--annotations', 'yolo', '--annotations-space', 'stored'], dir);
    expect(code, stderr).toBe(0);
    const raw = await readFile(path.join(dir, 'ds', 'labels', 'a.txt'), 'utf8');
    const written = await readFile(path.join(dir, 'fixed', 'labels', 'a.txt'), 'utf8');
    expect(written).not.toBe(raw);
    expect(await readFile(path.join(dir, 'fixed', 'data.yaml'), 'utf8')).toContain('names: [cat]');
  });

  it('goes with --out only', async () => {
    const dir = await yolo();
    const { code, stderr } = await runCli(['ds', '--in-place', '--copy-other-files'], dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--copy-other-files goes with --out/);
  });
});
