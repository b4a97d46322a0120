// --annotations through the CLI: labels found in the usual layouts are written beside the
// normalized images and reported per image; bad flag combinations are refused before any work.
import { cp, mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from './helpers.js';

/** ds/images/train/*.jpg with YOLO labels in ds/labels/train/*.txt (stored grid). */
async function yoloDataset(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'ds', 'images', 'train'), { recursive: true });
  await mkdir(path.join(dir, 'ds', 'labels', 'train'), { recursive: true });
  for (const o of [1, 6, 8]) {
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`), path.join(dir, 'ds', 'images', 'train', `jpeg-420_${o}.jpg`));
    await cp(path.join(FIXTURES, 'annotations', 'stored', 'yolo', `jpeg-420_${o}.txt`), path.join(dir, 'ds', 'labels', 'train', `jpeg-420_${o}.txt`));
  }
  return dir;
}

describe('exif-fix --annotations', () => {
  it('writes the labels of each image, transformed with it, into the mirrored layout', async () => {
    const dir = await yoloDataset();
    const { code, stdout, stderr } = await runCli(['ds', '--out', 'fixed', '--annotations', 'yolo', '--annotations-space', 'stored'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/labels found for 3 of 3 images; 2 label files changed \(15 shapes\); 0 failed/);
    expect(stdout).toMatch(/^labels transformed for ds\/images\/train\/jpeg-420_6\.jpg: fixed\/labels\/train\/jpeg-420_6\.txt \(5 shapes\)$/m);
    expect((await readdir(path.join(dir, 'fixed', 'labels', 'train'))).sort()).toEqual(['jpeg-420_1.txt', 'jpeg-420_6.txt', 'jpeg-420_8.txt']);
    // Once normalized, the stored grid is the displayed one: the labels of every orientation
    // match the labels of the upright image.
    const upright = await readFile(path.join(FIXTURES, 'annotations', 'stored', 'yolo', 'jpeg-420_1.txt'), 'utf8');
    const boxes = (text: string) => text.trim().split('\n').filter((l) => l.split(' ').length === 5).map((l) => l.split(' ').map(Number));
    for (const o of [6, 8]) {
      const out = await readFile(path.join(dir, 'fixed', 'labels', 'train', `jpeg-420_${o}.txt`), 'utf8');
      const got = boxes(out);
      const want = boxes(upright);
      expect(got.length).toBe(want.length);
      got.forEach((b, i) => b.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 2)));
    }
  });

  it('adds one NDJSON record per image with its label files and shape counts', async () => {
    const dir = await yoloDataset();
    const { code, stdout } = await runCli(['ds', '--out', 'fixed', '--annotations', 'yolo', '--annotations-space', 'stored', '--json'], dir);
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const labels = records.filter((r) => r.type === 'annotations');
    expect(labels.map((r) => r.image)).toEqual(['ds/images/train/jpeg-420_1.jpg', 'ds/images/train/jpeg-420_6.jpg', 'ds/images/train/jpeg-420_8.jpg']);
    expect(labels[1]).toMatchObject({ transformed: true, error: null, files: [{ input: 'ds/labels/train/jpeg-420_6.txt', output: 'fixed/labels/train/jpeg-420_6.txt', shapes: 5, changed: true }] });
    expect(records[records.length - 1]).toMatchObject({ type: 'summary', annotations: { images: 3, labelled: 3, filesChanged: 2, failed: 0 } });
  });

  it('fails an image whose labels are malformed, with exit 1, and leaves both alone', async () => {
    const dir = await yoloDataset();
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dir, 'ds', 'labels', 'train', 'jpeg-420_6.txt'), '0 0.5 zero 0.1 0.1\n'));
    const { code, stderr } = await runCli(['ds', '--in-place', '--annotations', 'yolo', '--annotations-space', 'stored'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/failed: `ds\/images\/train\/jpeg-420_6\.jpg`: its labels cannot be transformed, so neither is written: /);
    expect(await readFile(path.join(dir, 'ds', 'images', 'train', 'jpeg-420_6.jpg'))).toEqual(await readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg')));
    expect(await readFile(path.join(dir, 'ds', 'labels', 'train', 'jpeg-420_6.txt'), 'utf8')).toBe('0 0.5 zero 0.1 0.1\n');
  });

  it.each([
    [['ds', '--out', 'f', '--annotations', 'yolo'], /--annotations needs --annotations-space/],
    [['ds', '--out', 'f', '--annotations-space', 'stored'], /go with --annotations/],
    [['ds', '--check', '--annotations', 'voc', '--annotations-space', 'stored'], /--annotations goes with --out or --in-place/],
    [['ds', '--out', 'f', '--annotations', 'coco', '--annotations-space', 'stored'], /Expected --coco <file> with --annotations coco/],
  ])('refuses %j with exit 2 before any work', async (args, message) => {
    const dir = await yoloDataset();
    const { code, stderr } = await runCli(args, dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(await readdir(dir)).toEqual(['ds']);
  });
});
