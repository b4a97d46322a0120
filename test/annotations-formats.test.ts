// Real-shaped label files in each format on the real fixture images in all 8 orientations: the
// images are normalized with the real `normalize`, the labels with `transformAnnotations`, and
// every label is checked against the pixels of the normalized image (the quadrant colours).
import { cp, mkdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { transformAnnotations, type AnnotationFormat, type AnnotationRecord, type AnnotationSpace } from '../src/annotations/index.js';
import { decodeCompressedCounts, decodeRle } from '../src/annotations/geometry.js';
import { normalize, type FileResult } from '../src/index.js';
import { CLASSES, boxesOf, classify } from '../scripts/make-annotation-fixtures.js';
import { FIXTURES, pixels, tempDir } from './helpers.js';

const ANNOTATIONS = path.join(FIXTURES, 'annotations');
const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
const image = (o: number) => path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`);
const CLASS_INDEX = Object.fromEntries(CLASSES.map((c, i) => [c.name, i]));

/** Where images and labels go in each format's usual layout. */
const LAYOUT: Record<Exclude<AnnotationFormat, 'coco'>, { images: string; labels: string; ext: string }> = {
  yolo: { images: 'images', labels: 'labels', ext: 'txt' },
  voc: { images: 'JPEGImages', labels: 'Annotations', ext: 'xml' },
  labelme: { images: 'images', labels: 'images', ext: 'json' },
};
const COCO_FILE = path.join('ds', 'annotations', 'instances.json');

/** A dataset in a new temporary directory: the 8 fixture images and their labels, normalized to `out`. */
async function dataset(format: AnnotationFormat, space: AnnotationSpace, options: { inPlace?: boolean } = {}) {
  const dir = await tempDir();
  const imagesDir = format === 'coco' ? 'images' : LAYOUT[format].images;
  for (const o of ORIENTATIONS) {
    await mkdir(path.join(dir, 'ds', imagesDir), { recursive: true });
    await cp(image(o), path.join(dir, 'ds', imagesDir, `jpeg-420_${o}.jpg`));
    if (format !== 'coco') {
      const { labels, ext } = LAYOUT[format];
      await mkdir(path.join(dir, 'ds', labels), { recursive: true });
      await cp(path.join(ANNOTATIONS, space, format, `jpeg-420_${o}.${ext}`), path.join(dir, 'ds', labels, `jpeg-420_${o}.${ext}`));
    }
  }
  if (format === 'coco') {
    await mkdir(path.join(dir, 'ds', 'annotations'), { recursive: true });
    await cp(path.join(ANNOTATIONS, space, 'coco', 'instances.json'), path.join(dir, COCO_FILE));
  }
  const results = await normalize(['ds'], options.inPlace ? { inPlace: true, cwd: dir } : { out: 'out', cwd: dir });
  const images = results.filter((r) => r.action !== 'skipped');
  expect(images).toHaveLength(8);
  for (const r of images) expect(r.error).toBeNull();
  return { dir, results, imagesDir };
}

const resultFor = (results: readonly FileResult[], o: number) => {
  const r = results.find((x) => path.basename(x.input) === `jpeg-420_${o}.jpg`);
  if (!r) throw new Error(`no result for orientation ${o}`);
  return r;
};
const recordFor = (records: readonly AnnotationRecord[], o: number) => {
  const r = records.find((x) => path.basename(x.image) === `jpeg-420_${o}.jpg`);
  if (!r) throw new Error(`no record for orientation ${o}`);
  return r;
};

/** The normalized image's pixels as quadrant classes, and each class's pixel box `[x0, y0, x1, y1)`. */
async function classesOf(file: string) {
  const px = await pixels(file);
  const map = new Uint8Array(px.width * px.height);
  for (let i = 0; i < map.length; i++) map[i] = classify(px.data[i * px.channels], px.data[i * px.channels + 1], px.data[i * px.channels + 2]);
  const boxes: number[][] = boxesOf(map, px.width, px.height);
  return { map, boxes, width: px.width, height: px.height };
}
type Classes = Awaited<ReturnType<typeof classesOf>>;

/** A box `[x0, y0, x1, y1)` in continuous pixels lies on class `c`: edges within 1 pixel of the colour's box, and 90% of its pixels of that colour. */
function expectBoxOn(box: number[], c: number, img: Classes, what: string) {
  const expected = img.boxes[c];
  box.forEach((v, i) => expect(Math.abs(v - expected[i]), `${what}: edge ${i} at ${v}, colour edge at ${expected[i]}`).toBeLessThanOrEqual(1.001));
  let inside = 0;
  let hits = 0;
  for (let y = Math.max(0, Math.round(box[1])); y < Math.min(img.height, Math.round(box[3])); y++) {
    for (let x = Math.max(0, Math.round(box[0])); x < Math.min(img.width, Math.round(box[2])); x++) {
      inside++;
      if (img.map[y * img.width + x] === c) hits++;
    }
  }
  expect(inside, what).toBeGreaterThan(0);
  expect(hits / inside, `${what}: share of ${CLASSES[c].name} pixels inside`).toBeGreaterThanOrEqual(0.9);
}

/** A polygon (continuous pixels) lies on class `c`: 90% of the pixel centres inside it are that colour. */
function expectPolygonOn(points: number[], c: number, img: Classes, what: string) {
  let inside = 0;
  let hits = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let odd = false;
      for (let i = 0, j = points.length - 2; i < points.length; j = i, i += 2) {
        const [xi, yi, xj, yj] = [points[i], points[i + 1], points[j], points[j + 1]];
        if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) odd = !odd;
      }
      if (odd) {
        inside++;
        if (img.map[y * img.width + x] === c) hits++;
      }
    }
  }
  expect(inside, what).toBeGreaterThan(20);
  expect(hits / inside, `${what}: share of ${CLASSES[c].name} pixels inside`).toBeGreaterThanOrEqual(0.9);
}

/** Checks every label of one image's output label file against the normalized pixels. */
function checkLabels(format: AnnotationFormat, text: string, img: Classes, o: number, coco?: { doc: any; imageId: number }) {
  const W = img.width;
  const H = img.height;
  const tag = `${format} orientation ${o}`;
  if (format === 'yolo') {
    const lines = text.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(lines.length).toBe(5);
    for (const [cls, ...v] of lines) {
      const n = v.map(Number);
      if (n.length === 4) expectBoxOn([(n[0] - n[2] / 2) * W, (n[1] - n[3] / 2) * H, (n[0] + n[2] / 2) * W, (n[1] + n[3] / 2) * H], Number(cls), img, `${tag} box ${cls}`);
      else expectPolygonOn(n.map((x, i) => x * (i % 2 === 0 ? W : H)), Number(cls), img, `${tag} polygon ${cls}`);
    }
  } else if (format === 'voc') {
    expect(text).toContain(`<width>${W}</width>`);
    expect(text).toContain(`<height>${H}</height>`);
    const objects = [...text.matchAll(/<object>[\s\S]*?<name>(\w+)<\/name>[\s\S]*?<xmin>(\d+)<\/xmin>\s*<ymin>(\d+)<\/ymin>\s*<xmax>(\d+)<\/xmax>\s*<ymax>(\d+)<\/ymax>/g)];
    expect(objects.length).toBe(4);
    for (const m of objects) expectBoxOn([Number(m[2]) - 1, Number(m[3]) - 1, Number(m[4]), Number(m[5])], CLASS_INDEX[m[1]], img, `${tag} ${m[1]}`);
  } else if (format === 'labelme') {
    const doc = JSON.parse(text);
    expect([doc.imageWidth, doc.imageHeight]).toEqual([W, H]);
    for (const s of doc.shapes) {
      const flat = (s.points as number[][]).flat();
      if (s.shape_type === 'rectangle') expectBoxOn(flat, CLASS_INDEX[s.label], img, `${tag} ${s.label}`);
      else if (s.shape_type === 'polygon') expectPolygonOn(flat, CLASS_INDEX[s.label], img, `${tag} polygon`);
      else {
        const [x, y] = flat;
        expect(img.map[Math.floor(y) * W + Math.floor(x)], `${tag} point`).toBe(CLASS_INDEX.yellow);
        const b = img.boxes[CLASS_INDEX.yellow];
        expect(Math.abs(x - (b[0] + b[2]) / 2)).toBeLessThanOrEqual(1);
        expect(Math.abs(y - (b[1] + b[3]) / 2)).toBeLessThanOrEqual(1);
      }
    }
  } else if (coco) {
    const entry = coco.doc.images.find((e: any) => e.id === coco.imageId);
    expect([entry.width, entry.height]).toEqual([W, H]);
    const anns = coco.doc.annotations.filter((a: any) => a.image_id === coco.imageId);
    expect(anns).toHaveLength(5);
    for (const a of anns) {
      const c = a.category_id - 1;
      if (a.keypoints) {
        const k = a.keypoints;
        expect(img.map[k[1] * W + k[0]], `${tag} keypoint 1`).toBe(CLASS_INDEX.yellow);
        expect(k.slice(3, 6)).toEqual([0, 0, 0]);
        expect(img.map[k[7] * W + k[6]], `${tag} keypoint 3`).toBe(CLASS_INDEX.green);
        expect([k[2], k[8]]).toEqual([2, 1]);
        continue;
      }
      expectBoxOn([a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]], c, img, `${tag} bbox ${c}`);
      if (Array.isArray(a.segmentation)) for (const p of a.segmentation) expectPolygonOn(p, c, img, `${tag} polygon ${c}`);
      else {
        expect(a.segmentation.size).toEqual([H, W]);
        const counts = typeof a.segmentation.counts === 'string' ? decodeCompressedCounts(a.segmentation.counts) : a.segmentation.counts;
        const mask = decodeRle(counts, H, W);
        let on = 0;
        let hits = 0;
        mask.forEach((v: number, i: number) => {
          if (!v) return;
          on++;
          const x = Math.floor(i / H);
          const y = i % H;
          if (img.map[y * W + x] === c) hits++;
        });
        expect(on).toBe(a.area);
        expect(hits / on, `${tag} RLE`).toBeGreaterThanOrEqual(0.95);
      }
    }
  }
}

async function run(format: AnnotationFormat, space: AnnotationSpace) {
  const ds = await dataset(format, space);
  const records = await transformAnnotations(ds.results, { format, space, out: 'out', cwd: ds.dir, coco: format === 'coco' ? COCO_FILE : undefined });
  return { ...ds, records };
}

describe.each(['yolo', 'voc', 'labelme', 'coco'] as const)('%s labels', (format) => {
  it.each(['stored', 'displayed'] as const)('drawn on the %s pixels line up with the normalized pixels in all 8 orientations', async (space) => {
    const { dir, results, records } = await run(format, space);
    expect(records).toHaveLength(8);
    const cocoOut = path.join(dir, 'out', 'instances.json');
    const doc = format === 'coco' ? JSON.parse(await readFile(cocoOut, 'utf8')) : undefined;
    for (const o of ORIENTATIONS) {
      const rec = recordFor(records, o);
      expect(rec.error, `orientation ${o}`).toBeNull();
      expect(rec.transformed).toBe(space === 'stored' && o !== 1);
      expect(rec.files).toHaveLength(1);
      const file = rec.files[0];
      expect(file.shapes).toBe(format === 'yolo' ? 5 : format === 'voc' ? 4 : format === 'labelme' ? 6 : 5);
      const img = await classesOf(path.join(dir, resultFor(results, o).output as string));
      if (format === 'coco') {
        expect(path.resolve(dir, file.output)).toBe(cocoOut);
        checkLabels(format, '', img, o, { doc, imageId: o });
      } else {
        const { labels, ext } = LAYOUT[format];
        expect(path.resolve(dir, file.output)).toBe(path.join(dir, 'out', labels, `jpeg-420_${o}.${ext}`));
        checkLabels(format, await readFile(path.join(dir, file.output), 'utf8'), img, o);
      }
    }
  });
});

describe('what is not geometry', () => {
  it('is kept in every format: classes, names, flags, attributes, ids, scores', async () => {
    for (const format of ['yolo', 'voc', 'labelme', 'coco'] as const) {
      const { dir } = await run(format, 'stored');
      for (const o of [2, 6, 7]) {
        if (format === 'yolo') {
          const before = await readFile(path.join(ANNOTATIONS, 'stored', 'yolo', `jpeg-420_${o}.txt`), 'utf8');
          const after = await readFile(path.join(dir, 'out', 'labels', `jpeg-420_${o}.txt`), 'utf8');
          const classes = (t: string) => t.trim().split('\n').map((l) => l.split(' ')[0]);
          const shape = (t: string) => t.trim().split('\n').map((l) => l.split(' ').map((v) => v.length));
          expect(classes(after)).toEqual(classes(before));
          expect(shape(after)).toEqual(shape(before)); // 6 decimals kept on every value
        } else if (format === 'voc') {
          const before = await readFile(path.join(ANNOTATIONS, 'stored', 'voc', `jpeg-420_${o}.xml`), 'utf8');
          const after = await readFile(path.join(dir, 'out', 'Annotations', `jpeg-420_${o}.xml`), 'utf8');
          const strip = (t: string) => t.replace(/<(xmin|ymin|xmax|ymax|width|height)>\d+</g, '<$1>N<');
          expect(strip(after)).toBe(strip(before));
        } else if (format === 'labelme') {
          const before = JSON.parse(await readFile(path.join(ANNOTATIONS, 'stored', 'labelme', `jpeg-420_${o}.json`), 'utf8'));
          const after = JSON.parse(await readFile(path.join(dir, 'out', 'images', `jpeg-420_${o}.json`), 'utf8'));
          const strip = (d: any) => ({ ...d, imageWidth: 0, imageHeight: 0, shapes: d.shapes.map((s: any) => ({ ...s, points: s.points.length })) });
          expect(strip(after)).toEqual(strip(before));
          expect(Object.keys(after)).toEqual(Object.keys(before));
        } else {
          const before = JSON.parse(await readFile(path.join(ANNOTATIONS, 'stored', 'coco', 'instances.json'), 'utf8'));
          const after = JSON.parse(await readFile(path.join(dir, 'out', 'instances.json'), 'utf8'));
          const strip = (d: any) => ({
            ...d,
            images: d.images.map((e: any) => ({ ...e, width: 0, height: 0 })),
            annotations: d.annotations.map((a: any) => ({ ...a, bbox: 0, segmentation: 0, keypoints: a.keypoints ? 0 : undefined })),
          });
          expect(strip(after)).toEqual(strip(before));
        }
      }
    }
  });
});

describe('outputs', () => {
  it('copies the labels of upright images byte for byte, and YOLO labels in displayed space too', async () => {
    const { dir, records } = await run('yolo', 'displayed');
    for (const o of ORIENTATIONS) {
      const rec = recordFor(records, o);
      expect(rec.files[0].changed).toBe(false);
      const before = await readFile(path.join(ANNOTATIONS, 'displayed', 'yolo', `jpeg-420_${o}.txt`));
      expect(await readFile(path.join(dir, 'out', 'labels', `jpeg-420_${o}.txt`))).toEqual(before);
    }
    const stored = await run('voc', 'stored');
    expect(await readFile(path.join(stored.dir, 'out', 'Annotations', 'jpeg-420_1.xml'))).toEqual(await readFile(path.join(ANNOTATIONS, 'stored', 'voc', 'jpeg-420_1.xml')));
  });

  it('rewrites label files in place, keeping their mode, and leaves upright images\' labels untouched', async () => {
    const { dir, results } = await dataset('yolo', 'stored', { inPlace: true });
    const labels = (o: number) => path.join(dir, 'ds', 'labels', `jpeg-420_${o}.txt`);
    await chmod(labels(6), 0o640);
    const before1 = await stat(labels(1));
    const records = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir });
    for (const o of ORIENTATIONS) {
      const rec = recordFor(records, o);
      expect(rec.error).toBeNull();
      expect(rec.files[0].input).toBe(rec.files[0].output);
      expect(rec.files[0].changed).toBe(o !== 1);
      checkLabels('yolo', await readFile(labels(o), 'utf8'), await classesOf(path.join(dir, resultFor(results, o).output as string)), o);
    }
    expect((await stat(labels(6))).mode & 0o777).toBe(0o640);
    expect((await stat(labels(1))).mtimeMs).toBe(before1.mtimeMs);
  });

  it('writes labels beside the output image when the output path has no images/ directory', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'ds', 'labels'), { recursive: true });
    await cp(image(6), path.join(dir, 'ds', 'images', 'a.jpg'));
    await cp(path.join(ANNOTATIONS, 'stored', 'yolo', 'jpeg-420_6.txt'), path.join(dir, 'ds', 'labels', 'a.txt'));
    const results = await normalize(['ds/images'], { out: 'out', cwd: dir });
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', out: 'out', cwd: dir });
    expect(rec.error).toBeNull();
    expect(rec.files[0]).toMatchObject({ input: path.join('ds', 'labels', 'a.txt'), output: path.join('out', 'a.txt'), shapes: 5, changed: true });
    checkLabels('yolo', await readFile(path.join(dir, 'out', 'a.txt'), 'utf8'), await classesOf(path.join(dir, 'out', 'a.jpg')), 6);
  });

  it('replaces labelme imageData with the normalized image', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds'));
    await cp(image(8), path.join(dir, 'ds', 'p.jpg'));
    const doc = JSON.parse(await readFile(path.join(ANNOTATIONS, 'stored', 'labelme', 'jpeg-420_8.json'), 'utf8'));
    doc.imageData = (await readFile(image(8))).toString('base64');
    await writeFile(path.join(dir, 'ds', 'p.json'), JSON.stringify(doc, null, 2));
    const results = await normalize(['ds'], { out: 'out', cwd: dir });
    const [rec] = await transformAnnotations(results, { format: 'labelme', space: 'stored', out: 'out', cwd: dir });
    expect(rec.error).toBeNull();
    const after = JSON.parse(await readFile(path.join(dir, 'out', 'p.json'), 'utf8'));
    expect(Buffer.from(after.imageData, 'base64')).toEqual(await readFile(path.join(dir, 'out', 'p.jpg')));
  });
});

describe('labelme masks', () => {
  it('move the mask bitmap and its box with the pixels', async () => {
    const sharp = (await import('sharp')).default;
    for (const o of [2, 5, 6, 7]) {
      const dir = await tempDir();
      await mkdir(path.join(dir, 'ds'));
      await cp(image(o), path.join(dir, 'ds', 'p.jpg'));
      const doc = JSON.parse(await readFile(path.join(ANNOTATIONS, 'stored', 'labelme', `jpeg-420_${o}.json`), 'utf8'));
      // A mask of the blue quadrant's triangle (the polygon shape), cropped to the blue box.
      const [[bx0, by0], [bx1, by1]] = doc.shapes.find((s: any) => s.label === 'blue' && s.shape_type === 'rectangle').points;
      const tri = doc.shapes.find((s: any) => s.shape_type === 'polygon').points.flat();
      const w = bx1 - bx0;
      const h = by1 - by0;
      const bits = Buffer.alloc(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x + 0.5) / w + (y + 0.5) / h < 1) bits[y * w + x] = 255;
      const png = await sharp(bits, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
      doc.shapes.push({ label: 'blue', points: [[bx0, by0], [bx1 - 1, by1 - 1]], shape_type: 'mask', mask: png.toString('base64'), group_id: null, flags: {} });
      await writeFile(path.join(dir, 'ds', 'p.json'), JSON.stringify(doc, null, 2));
      const results = await normalize(['ds'], { out: 'out', cwd: dir });
      const [rec] = await transformAnnotations(results, { format: 'labelme', space: 'stored', out: 'out', cwd: dir });
      expect(rec.error).toBeNull();
      const after = JSON.parse(await readFile(path.join(dir, 'out', 'p.json'), 'utf8'));
      const mask = after.shapes.find((s: any) => s.shape_type === 'mask');
      const poly = after.shapes.find((s: any) => s.shape_type === 'polygon').points.flat();
      expect(tri.length).toBe(poly.length);
      const [[mx0, my0], [mx1, my1]] = mask.points;
      const { data, info } = await sharp(Buffer.from(mask.mask, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([mx1 - mx0 + 1, my1 - my0 + 1]);
      const img = await classesOf(path.join(dir, 'out', 'p.jpg'));
      expectBoxOn([mx0, my0, mx1 + 1, my1 + 1], CLASS_INDEX.blue, img, `mask box ${o}`);
      // The bitmap agrees with the transformed triangle: pixel centres inside it are set.
      let agree = 0;
      for (let y = 0; y < info.height; y++) {
        for (let x = 0; x < info.width; x++) {
          const [px, py] = [mx0 + x + 0.5, my0 + y + 0.5];
          let odd = false;
          for (let i = 0, j = poly.length - 2; i < poly.length; j = i, i += 2) {
            if (poly[i + 1] > py !== poly[j + 1] > py && px < ((poly[j] - poly[i]) * (py - poly[i + 1])) / (poly[j + 1] - poly[i + 1]) + poly[i]) odd = !odd;
          }
          if (odd === data[y * info.width + x] > 0) agree++;
        }
      }
      expect(agree / (info.width * info.height), `orientation ${o}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});

describe('bad and contradicting labels', () => {
  it('gives a per-image error for malformed files and goes on with the others', async () => {
    const { dir, results } = await dataset('yolo', 'stored');
    await writeFile(path.join(dir, 'ds', 'labels', 'jpeg-420_3.txt'), '0 0.5 0.5 zero 0.2\n');
    await writeFile(path.join(dir, 'ds', 'labels', 'jpeg-420_5.txt'), '0 0.5 0.5 0.1\n');
    const records = await transformAnnotations(results, { format: 'yolo', space: 'stored', out: 'out', cwd: dir });
    expect(recordFor(records, 3).error).toMatch(/jpeg-420_3\.txt`: line 1, value 3 is not a number/);
    expect(recordFor(records, 5).error).toMatch(/expected 4 values/);
    for (const o of [3, 5]) await expect(stat(path.join(dir, 'out', 'labels', `jpeg-420_${o}.txt`))).rejects.toThrow();
    for (const o of [1, 2, 4, 6, 7, 8]) expect(recordFor(records, o).error).toBeNull();

    const lm = await dataset('labelme', 'stored');
    await writeFile(path.join(lm.dir, 'ds', 'images', 'jpeg-420_6.json'), '{"shapes": [ {"points": [[1, 2, 3]]} ]');
    await writeFile(path.join(lm.dir, 'ds', 'images', 'jpeg-420_7.json'), '{"shapes": [{"label": "x", "points": [[1, "a"]]}]}');
    const lmRecords = await transformAnnotations(lm.results, { format: 'labelme', space: 'stored', out: 'out', cwd: lm.dir });
    expect(recordFor(lmRecords, 6).error).toMatch(/not valid JSON/);
    expect(recordFor(lmRecords, 7).error).toMatch(/shape 1: point 1 is not \[x, y\]/);
    expect(recordFor(lmRecords, 8).error).toBeNull();

    const voc = await dataset('voc', 'stored');
    await writeFile(path.join(voc.dir, 'ds', 'Annotations', 'jpeg-420_2.xml'), '<annotation><object><bndbox><xmin>1</xmin></bndbox></object></annotation>');
    const vocRecords = await transformAnnotations(voc.results, { format: 'voc', space: 'stored', out: 'out', cwd: voc.dir });
    expect(recordFor(vocRecords, 2).error).toMatch(/<bndbox> 1 has no <ymin>/);
  });

  it('flags VOC and labelme sizes that contradict the space, per image', async () => {
    for (const format of ['voc', 'labelme'] as const) {
      const { dir, results } = await dataset(format, 'stored');
      const records = await transformAnnotations(results, { format, space: 'displayed', out: 'out', cwd: dir });
      for (const o of ORIENTATIONS) {
        const rec = recordFor(records, o);
        if (o >= 5) expect(rec.error, `${format} ${o}`).toMatch(/is the stored size .* but --annotations-space is displayed/);
        else expect(rec.error, `${format} ${o}`).toBeNull();
      }
    }
  });

  it('refuses a label file shared by two images', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds'));
    await cp(image(6), path.join(dir, 'ds', 'a.jpg'));
    await cp(image(6), path.join(dir, 'ds', 'a.jpeg'));
    await cp(path.join(ANNOTATIONS, 'stored', 'yolo', 'jpeg-420_6.txt'), path.join(dir, 'ds', 'a.txt'));
    const results = await normalize(['ds'], { inPlace: true, cwd: dir });
    const records = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir });
    expect(records).toHaveLength(2);
    for (const r of records) expect(r.error).toMatch(/is also the label file of/);
    expect(await readFile(path.join(dir, 'ds', 'a.txt'))).toEqual(await readFile(path.join(ANNOTATIONS, 'stored', 'yolo', 'jpeg-420_6.txt')));
  });

  it('rejects invalid options before any work', async () => {
    const dir = await tempDir();
    const bad = [
      { format: 'yaml', space: 'stored' },
      { format: 'yolo', space: 'upright' },
      { format: 'coco', space: 'stored' },
      { format: 'yolo', space: 'stored', coco: 'x.json' },
      { format: 'voc', space: 'stored', yoloKptShape: [17, 3] },
    ];
    for (const options of bad) await expect(transformAnnotations([], { cwd: dir, ...(options as any) })).rejects.toThrow(/Expected|only used/);
  });
});
