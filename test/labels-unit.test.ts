// An image and its labels are one unit: written together or not at all.
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from './helpers.js';

/** ds/images/train/{a,b}.jpg (orientation 6) with YOLO labels; b's label is malformed. */
async function dataset(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'ds', 'images', 'train'), { recursive: true });
  await mkdir(path.join(dir, 'ds', 'labels', 'train'), { recursive: true });
  for (const name of ['a', 'b']) {
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'ds', 'images', 'train', `${name}.jpg`));
    await cp(path.join(FIXTURES, 'annotations', 'stored', 'yolo', 'jpeg-420_6.txt'), path.join(dir, 'ds', 'labels', 'train', `${name}.txt`));
  }
  await writeFile(path.join(dir, 'ds', 'labels', 'train', 'b.txt'), '0 0.5 0.5 banana 0.2\n');
  return dir;
}

const orientation = async (file: string) => (await exifr.parse(await readFile(file), { translateValues: false }))?.Orientation;

describe('an image and its labels', () => {
  it('in place: a malformed label keeps its image from being rotated; fixing the label and rerunning transforms both', async () => {
    const dir = await dataset();
    const image = path.join(dir, 'ds', 'images', 'train', 'b.jpg');
    const label = path.join(dir, 'ds', 'labels', 'train', 'b.txt');
    const imageBefore = await readFile(image);
    const args = ['ds', '--in-place', '--annotations', 'yolo', '--annotations-space', 'stored'];
    const first = await runCli(args, dir);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/failed: `ds\/images\/train\/b\.jpg`: its labels cannot be transformed, so neither is written: `ds\/labels\/train\/b\.txt`/);
    expect((await readFile(image)).equals(imageBefore)).toBe(true);
    expect(await readFile(label, 'utf8')).toBe('0 0.5 0.5 banana 0.2\n');
    // The other image and its label went through together.
    expect(await orientation(path.join(dir, 'ds', 'images', 'train', 'a.jpg'))).toBe(1);
    expect(await readFile(path.join(dir, 'ds', 'labels', 'train', 'a.txt'), 'utf8')).not.toBe(await readFile(path.join(FIXTURES, 'annotations', 'stored', 'yolo', 'jpeg-420_6.txt'), 'utf8'));

    await cp(path.join(FIXTURES, 'annotations', 'stored', 'yolo', 'jpeg-420_6.txt'), label);
    const second = await runCli(args, dir);
    expect(second.code, second.stderr).toBe(0);
    expect(await orientation(image)).toBe(1);
    expect(await readFile(label, 'utf8')).toBe(await readFile(path.join(dir, 'ds', 'labels', 'train', 'a.txt'), 'utf8'));
  });

  it('with --out: an image whose label cannot be transformed is not written without it', async () => {
    const dir = await dataset();
    const { code, stderr } = await runCli(['ds', '--out', 'fixed', '--annotations', 'yolo', '--annotations-space', 'stored', '--json'], dir);
    expect(code).toBe(1);
    expect((await readdir(path.join(dir, 'fixed', 'images', 'train'))).sort()).toEqual(['a.jpg']);
    expect((await readdir(path.join(dir, 'fixed', 'labels', 'train'))).sort()).toEqual(['a.txt']);
    expect(stderr).not.toMatch(/unexpected error/);
  });

  it('the failed record carries the code labels and no output', async () => {
    const dir = await dataset();
    const { stdout } = await runCli(['ds', '--out', 'fixed', '--annotations', 'yolo', '--annotations-space', 'stored', '--json'], dir);
    const b = stdout.trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.type === 'file' && r.input.endsWith('b.jpg'));
    expect(b).toMatchObject({ action: 'failed', code: 'labels', output: null });
  });
});
