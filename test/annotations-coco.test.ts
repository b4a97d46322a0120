// COCO specifics: what the file's own image sizes say about the space, matching images by path,
// compressed RLE, in-place rewrites, bad files, and a file with thousands of images in one pass.
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { transformAnnotations, type AnnotationSpace } from '../src/annotations/index.js';
import { decodeCompressedCounts, encodeCompressedCounts } from '../src/annotations/geometry.js';
import { normalize } from '../src/index.js';
import { FIXTURES, tempDir } from './helpers.js';

const ANNOTATIONS = path.join(FIXTURES, 'annotations');
const image = (o: number) => path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`);
const fixture = async (space: AnnotationSpace) => JSON.parse(await readFile(path.join(ANNOTATIONS, space, 'coco', 'instances.json'), 'utf8'));

/** The 8 fixture images in `<dir>/ds/images`, with `doc` as `<dir>/ds/instances.json`. */
async function setup(doc: unknown, names: (o: number) => string = (o) => `jpeg-420_${o}.jpg`) {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
  for (let o = 1; o <= 8; o++) await cp(image(o), path.join(dir, 'ds', 'images', names(o)));
  await writeFile(path.join(dir, 'ds', 'instances.json'), JSON.stringify(doc));
  return dir;
}

const of = (doc: any, id: number) => ({ entry: doc.images.find((e: any) => e.id === id), anns: doc.annotations.filter((a: any) => a.image_id === id) });

describe('COCO', () => {
  it.each([
    ['stored', 'displayed'],
    ['displayed', 'stored'],
  ] as const)('flags images whose width/height say %s when the space is %s, and leaves them untouched', async (drawn, claimed) => {
    const doc = await fixture(drawn);
    const dir = await setup(doc);
    const results = await normalize(['ds/images'], { out: 'out', cwd: dir });
    const records = await transformAnnotations(results, { format: 'coco', space: claimed, coco: 'ds/instances.json', out: 'out', cwd: dir });
    const after = JSON.parse(await readFile(path.join(dir, 'out', 'instances.json'), 'utf8'));
    for (let o = 1; o <= 8; o++) {
      const rec = records.find((r) => r.image.endsWith(`_${o}.jpg`));
      if (o >= 5) {
        expect(rec?.error).toMatch(new RegExp(`instances\\.json\`: the image entry's width/height \\d+x\\d+ is the ${drawn} size .* --annotations-space is ${claimed}`));
        expect(rec?.files).toEqual([]);
        expect(of(after, o)).toEqual(of(doc, o));
      } else {
        expect(rec?.error).toBeNull();
      }
    }
  });

  it('matches images by their path relative to the dataset and refuses ambiguous base names', async () => {
    const doc = await fixture('stored');
    for (const e of doc.images) e.file_name = `images/${e.file_name}`;
    // A second entry with the same base name in another directory: the longer path still decides.
    doc.images.push({ id: 99, file_name: 'other/jpeg-420_6.jpg', width: 29, height: 45 });
    const dir = await setup(doc);
    const results = await normalize(['ds'], { out: 'out', cwd: dir });
    const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir, out: 'out' });
    expect(records).toHaveLength(8);
    for (const r of records) expect(r.error).toBeNull();
    const after = JSON.parse(await readFile(path.join(dir, 'out', 'instances.json'), 'utf8'));
    expect(of(after, 6).entry).toMatchObject({ width: 45, height: 29 });
    expect(of(after, 99).entry).toMatchObject({ width: 29, height: 45 });

    // Bare names shared by two entries, and an image no entry names.
    const doc2 = await fixture('stored');
    doc2.images.push({ ...doc2.images[5], id: 98, file_name: 'elsewhere/jpeg-420_6.jpg' });
    doc2.images[5].file_name = 'somewhere/jpeg-420_6.jpg';
    doc2.images = doc2.images.filter((e: any) => e.id !== 2);
    const dir2 = await setup(doc2);
    const results2 = await normalize(['ds'], { out: 'out', cwd: dir2 });
    const records2 = await transformAnnotations(results2, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir2, out: 'out' });
    expect(records2.find((r) => r.image.endsWith('_6.jpg'))?.error).toMatch(/2 entries of "images" have the base name "jpeg-420_6.jpg"/);
    expect(records2.find((r) => r.image.endsWith('_2.jpg'))?.warnings).toEqual(['no entry of "images" in the COCO file matches this image']);
    expect(records2.find((r) => r.image.endsWith('_7.jpg'))?.error).toBeNull();
  });

  it('transforms compressed RLE and rewrites the file in place', async () => {
    const doc = await fixture('stored');
    const rles = doc.annotations.filter((a: any) => a.segmentation && !Array.isArray(a.segmentation));
    expect(rles).toHaveLength(8);
    const uncompressed = await fixture('stored');
    for (const a of rles) a.segmentation.counts = encodeCompressedCounts(a.segmentation.counts);
    const dir = await setup(doc);
    const results = await normalize(['ds/images'], { inPlace: true, cwd: dir });
    const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir });
    for (const r of records) expect(r.error).toBeNull();
    expect(records.find((r) => r.image.endsWith('_6.jpg'))?.files).toEqual([{ input: 'ds/instances.json', output: 'ds/instances.json', shapes: 5, changed: true }]);
    const after = JSON.parse(await readFile(path.join(dir, 'ds', 'instances.json'), 'utf8'));
    // The same masks as the uncompressed fixture gives.
    const dirU = await setup(uncompressed);
    const resultsU = await normalize(['ds/images'], { inPlace: true, cwd: dirU });
    await transformAnnotations(resultsU, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dirU });
    const afterU = JSON.parse(await readFile(path.join(dirU, 'ds', 'instances.json'), 'utf8'));
    for (const [i, a] of after.annotations.entries()) {
      if (typeof a.segmentation?.counts !== 'string') continue;
      expect(decodeCompressedCounts(a.segmentation.counts)).toEqual(afterU.annotations[i].segmentation.counts);
      expect(a.segmentation.size).toEqual(afterU.annotations[i].segmentation.size);
    }
  });

  it('leaves the file untouched in place when no image needs anything', async () => {
    const doc = await fixture('stored');
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds'));
    await cp(image(1), path.join(dir, 'ds', 'jpeg-420_1.jpg'));
    await writeFile(path.join(dir, 'ds', 'instances.json'), JSON.stringify(doc));
    const before = await stat(path.join(dir, 'ds', 'instances.json'));
    const results = await normalize(['ds'], { inPlace: true, cwd: dir });
    const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir });
    expect(records[0]).toMatchObject({ error: null, transformed: false, files: [{ shapes: 5, changed: false }] });
    expect((await stat(path.join(dir, 'ds', 'instances.json'))).mtimeMs).toBe(before.mtimeMs);
  });

  it('gives every image an error for a file that is not COCO, and for invalid geometry only that image', async () => {
    const dir = await setup({ images: 'nope' });
    await writeFile(path.join(dir, 'bad.json'), '{"images": [');
    const results = await normalize(['ds/images'], { out: 'out', cwd: dir });
    for (const [file, message] of [
      ['ds/instances.json', /no "images" array/],
      ['bad.json', /not valid JSON/],
      ['missing.json', /cannot read the COCO file `missing.json`: ENOENT/],
    ] as const) {
      const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: file, cwd: dir, out: 'out' });
      expect(records).toHaveLength(8);
      for (const r of records) expect(r.error).toMatch(message);
    }
    const doc = await fixture('stored');
    of(doc, 3).anns[0].bbox = [1, 2, 'x', 4];
    of(doc, 7).anns[2].segmentation.counts = [1, 2, 3];
    await writeFile(path.join(dir, 'ds', 'instances.json'), JSON.stringify(doc));
    const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir, out: 'out' });
    expect(records.find((r) => r.image.endsWith('_3.jpg'))?.error).toMatch(/bbox is not \[x, y, width, height\]/);
    expect(records.find((r) => r.image.endsWith('_7.jpg'))?.error).toMatch(/RLE counts cover 6 pixels, expected 45x29 = 1305/);
    const after = JSON.parse(await readFile(path.join(dir, 'out', 'instances.json'), 'utf8'));
    expect(of(after, 3)).toEqual(of(doc, 3));
    expect(of(after, 7)).toEqual(of(doc, 7));
    expect(of(after, 6)).not.toEqual(of(doc, 6));
  });

  it('rewrites a file with thousands of images in one pass', async () => {
    const N = 3000;
    const small = await fixture('stored');
    // Reference: the 8 fixture images on their own.
    const refDir = await setup(small);
    const refResults = await normalize(['ds/images'], { out: 'out', cwd: refDir });
    await transformAnnotations(refResults, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: refDir, out: 'out' });
    const reference = JSON.parse(await readFile(path.join(refDir, 'out', 'instances.json'), 'utf8'));

    // Every 8th image rotated (orientations 2-8 in turn), the rest upright; in nested folders.
    const dir = await tempDir();
    const orientationOf = (i: number) => (i % 8 === 0 ? 2 + ((i / 8) % 7) : 1);
    const doc = { ...small, images: [] as any[], annotations: [] as any[] };
    let annId = 1;
    const bytes = new Map<number, Buffer>();
    for (let o = 1; o <= 8; o++) bytes.set(o, await readFile(image(o)));
    for (let p = 0; p < 10; p++) await mkdir(path.join(dir, 'ds', 'images', `part${p}`), { recursive: true });
    const writes: Array<[string, Buffer]> = [];
    for (let i = 0; i < N; i++) {
      const o = orientationOf(i);
      const rel = `part${i % 10}/img_${String(i).padStart(5, '0')}.jpg`;
      writes.push([path.join(dir, 'ds', 'images', rel), bytes.get(o) as Buffer]);
      const { entry, anns } = of(small, o);
      doc.images.push({ ...entry, id: 10_000 + i, file_name: rel });
      for (const a of anns) doc.annotations.push({ ...structuredClone(a), id: annId++, image_id: 10_000 + i });
    }
    for (let i = 0; i < writes.length; i += 100) await Promise.all(writes.slice(i, i + 100).map(([f, b]) => writeFile(f, b)));
    await writeFile(path.join(dir, 'ds', 'instances.json'), JSON.stringify(doc));
    const results = await normalize(['ds/images'], { out: 'out', cwd: dir });
    expect(results.filter((r) => r.error !== null)).toEqual([]);

    const records = await transformAnnotations(results, { format: 'coco', space: 'stored', coco: 'ds/instances.json', cwd: dir, out: 'out' });
    expect(records).toHaveLength(N);
    expect(records.filter((r) => r.error !== null || r.files.length !== 1)).toEqual([]);

    const after = JSON.parse(await readFile(path.join(dir, 'out', 'instances.json'), 'utf8'));
    expect(after.images).toHaveLength(N);
    const geometry = (x: any) => ({ entry: { width: x.entry.width, height: x.entry.height }, anns: x.anns.map((a: any) => [a.bbox, a.segmentation, a.keypoints]) });
    for (let i = 0; i < N; i++) {
      const o = orientationOf(i);
      expect(geometry(of(after, 10_000 + i)), `image ${i}`).toEqual(geometry(of(reference, o)));
    }
  });
});
