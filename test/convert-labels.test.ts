// With --to, label files that name the image follow its new name (photo.HEIC -> photo.jpg).
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from './helpers.js';

const VOC = (name: string) => `<annotation>
  <folder>images</folder>
  <filename>${name}</filename>
  <path>/data/images/${name}</path>
  <size><width>64</width><height>48</height><depth>3</depth></size>
  <object><name>cat</name><bndbox><xmin>5</xmin><ymin>6</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object>
</annotation>
`;

describe('--to with --annotations', () => {
  it('VOC <filename> and <path> follow the converted name, and nothing else changes in displayed space', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'ds', 'Annotations'), { recursive: true });
    await cp(path.join(FIXTURES, 'heif', 'exif-only_6.heic'), path.join(dir, 'ds', 'images', 'photo.HEIC'));
    await writeFile(path.join(dir, 'ds', 'Annotations', 'photo.xml'), VOC('photo.HEIC'));
    const { code, stderr } = await runCli(['ds', '--out', 'fixed', '--to', 'jpeg', '--annotations', 'voc', '--annotations-space', 'displayed'], dir);
    expect(code, stderr).toBe(0);
    const out = await readFile(path.join(dir, 'fixed', 'Annotations', 'photo.xml'), 'utf8');
    expect(out).toBe(VOC('photo.jpg'));
    await expect(readFile(path.join(dir, 'fixed', 'images', 'photo.jpg'))).resolves.toBeInstanceOf(Buffer);
  }, 120_000);

  it('a COCO file_name follows the converted name', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await cp(path.join(FIXTURES, 'heif', 'exif-only_6.heic'), path.join(dir, 'ds', 'images', 'photo.HEIC'));
    const coco = { images: [{ id: 1, file_name: 'images/photo.HEIC', width: 64, height: 48 }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [5, 6, 15, 24] }], categories: [{ id: 1, name: 'cat' }] };
    await writeFile(path.join(dir, 'ds', 'coco.json'), JSON.stringify(coco));
    const { code, stderr } = await runCli(['ds', '--out', 'fixed', '--to', 'jpeg', '--annotations', 'coco', '--coco', 'ds/coco.json', '--annotations-space', 'displayed'], dir);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(await readFile(path.join(dir, 'fixed', 'coco.json'), 'utf8'));
    expect(out.images[0].file_name).toBe('images/photo.jpg');
    expect(out.annotations[0].bbox).toEqual([5, 6, 15, 24]);
  }, 120_000);
});
