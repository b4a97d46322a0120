// Whole label files: transforming with an orientation and then with its inverse (on the upright
// size) gives the original back, for every format, the sample files and random files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ImageContext } from '../src/annotations/common.js';
import { transformCocoDocument } from '../src/annotations/coco.js';
import { transformLabelme } from '../src/annotations/labelme.js';
import { transformVoc } from '../src/annotations/voc.js';
import { transformYolo } from '../src/annotations/yolo.js';
import { ORIENTATIONS, uprightSize, type Orientation } from '../src/orientation.js';
import { FIXTURES } from './helpers.js';

const ANNOTATIONS = path.join(FIXTURES, 'annotations', 'stored');
const ALL: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];
const noImage = () => Promise.reject(new Error('imageData is null; the image must not be read'));

/** The contexts there and back for orientation `o` of a picture stored `width` x `height`. */
function thereAndBack(o: Orientation, width: number, height: number): [ImageContext, ImageContext] {
  const up = uprightSize(width, height, o);
  return [
    { orientation: o, width, height, space: 'stored' },
    { orientation: ORIENTATIONS[o].inverse, width: up.width, height: up.height, space: 'stored' },
  ];
}

async function storedSize(o: number) {
  const meta = await sharp(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`)).metadata();
  return { width: meta.width as number, height: meta.height as number };
}

/** Deep equality with numbers compared to a relative tolerance of 1e-9. */
function expectClose(actual: unknown, expected: unknown, where = '$'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, where).toBe('number');
    expect(Math.abs((actual as number) - expected), where).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length === expected.length, where).toBe(true);
    expected.forEach((v, i) => expectClose((actual as unknown[])[i], v, `${where}[${i}]`));
  } else if (typeof expected === 'object' && expected !== null) {
    expect(Object.keys(actual as object), where).toEqual(Object.keys(expected));
    for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
  } else {
    expect(actual, where).toEqual(expected);
  }
}

describe('the sample files come back unchanged after an orientation and its inverse', () => {
  it.each(ALL)('orientation %i, YOLO, VOC, labelme and COCO', async (o) => {
    const { width, height } = await storedSize(o);
    const [there, back] = thereAndBack(o, width, height);
    const name = `jpeg-420_${o}`;
    const yolo = await readFile(path.join(ANNOTATIONS, 'yolo', `${name}.txt`), 'utf8');
    expect(transformYolo(transformYolo(yolo, there).text, back).text).toBe(yolo);
    const voc = await readFile(path.join(ANNOTATIONS, 'voc', `${name}.xml`), 'utf8');
    expect(transformVoc(transformVoc(voc, there).text, back).text).toBe(voc);
    const labelme = await readFile(path.join(ANNOTATIONS, 'labelme', `${name}.json`), 'utf8');
    expect((await transformLabelme((await transformLabelme(labelme, there, noImage)).text, back, noImage)).text).toBe(labelme);
    const original = JSON.parse(await readFile(path.join(ANNOTATIONS, 'coco', 'instances.json'), 'utf8'));
    const doc = structuredClone(original);
    const abs = path.resolve(`${name}.jpg`);
    for (const ctx of [there, back]) {
      const [outcome] = transformCocoDocument(doc, [{ absolutePath: abs, ctx }]);
      expect(outcome.error).toBeNull();
      expect(outcome.transformed).toBe(ctx.orientation !== 1);
    }
    expect(doc).toEqual(original);
  });
});

describe('random label files come back after an orientation and its inverse', () => {
  const orientation = fc.constantFrom(...ALL);
  const size = fc.integer({ min: 1, max: 4000 });
  const unit = fc.double({ min: 0, max: 1, noNaN: true });

  it('YOLO boxes and polygons, with their decimals', () => {
    const line = fc.oneof(
      fc.tuple(fc.nat(80), fc.array(unit, { minLength: 4, maxLength: 4 })),
      fc.tuple(fc.nat(80), fc.array(unit, { minLength: 6, maxLength: 40 }).filter((a) => a.length % 2 === 0)),
    );
    fc.assert(
      fc.property(orientation, size, size, fc.array(line, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 8 }), fc.boolean(), (o, W, H, lines, decimals, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const text = lines.map(([c, v]) => [c, ...v.map((x) => x.toFixed(decimals))].join(' ')).join(eol) + eol;
        const [there, back] = thereAndBack(o, W, H);
        const moved = transformYolo(text, there);
        expect(moved.shapes).toBe(lines.length);
        expect(transformYolo(moved.text, back).text).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('Pascal VOC boxes', () => {
    fc.assert(
      fc.property(orientation, size, size, fc.array(fc.tuple(unit, unit, unit, unit), { minLength: 1, maxLength: 8 }), (o, W, H, boxes) => {
        const px = (u: number, n: number) => 1 + Math.round(u * (n - 1));
        const objects = boxes
          .map(([a, b, c, d]) => {
            const [x0, x1] = [px(Math.min(a, b), W), px(Math.max(a, b), W)];
            const [y0, y1] = [px(Math.min(c, d), H), px(Math.max(c, d), H)];
            return `<object><name>n</name><bndbox><xmin>${x0}</xmin><ymin>${y0}</ymin><xmax>${x1}</xmax><ymax>${y1}</ymax></bndbox></object>`;
          })
          .join('\n');
        const text = `<annotation><size><width>${W}</width><height>${H}</height><depth>3</depth></size>\n${objects}\n</annotation>`;
        const [there, back] = thereAndBack(o, W, H);
        const moved = transformVoc(text, there);
        const up = uprightSize(W, H, o);
        expect(moved.text).toContain(`<width>${up.width}</width><height>${up.height}</height>`);
        expect(transformVoc(moved.text, back).text).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('labelme shapes and COCO boxes, polygons and keypoints, within float tolerance', async () => {
    await fc.assert(
      fc.asyncProperty(orientation, size, size, fc.array(fc.tuple(unit, unit), { minLength: 3, maxLength: 12 }), async (o, W, H, pts) => {
        const [there, back] = thereAndBack(o, W, H);
        const points = pts.map(([u, v]) => [u * W, v * H]);
        const xs = points.map((p) => p[0]);
        const ys = points.map((p) => p[1]);
        const rect = [
          [Math.min(...xs), Math.min(...ys)],
          [Math.max(...xs), Math.max(...ys)],
        ];
        const labelme = {
          version: '5.5.0',
          flags: {},
          shapes: [
            { label: 'p', points, shape_type: 'polygon', group_id: null, flags: {} },
            { label: 'r', points: rect, shape_type: 'rectangle', group_id: 1, flags: {} },
            { label: 'l', points: points.slice(0, 2), shape_type: 'line', group_id: null, flags: {} },
          ],
          imagePath: 'a.jpg',
          imageData: null,
          imageHeight: H,
          imageWidth: W,
        };
        const text = JSON.stringify(labelme, null, 2);
        const moved = await transformLabelme(text, there, noImage);
        expectClose(JSON.parse((await transformLabelme(moved.text, back, noImage)).text), labelme);

        const kps = pts.flatMap(([u, v], i) => (i % 3 === 0 ? [0, 0, 0] : [Math.round(u * (W - 1)), Math.round(v * (H - 1)), 2]));
        const coco = {
          images: [{ id: 1, file_name: 'a.jpg', width: W, height: H }],
          annotations: [
            { id: 1, image_id: 1, bbox: [rect[0][0], rect[0][1], rect[1][0] - rect[0][0], rect[1][1] - rect[0][1]], segmentation: [points.flat()], keypoints: kps, area: 1, iscrowd: 0 },
          ],
        };
        const doc = structuredClone(coco);
        for (const ctx of [there, back]) expect(transformCocoDocument(doc, [{ absolutePath: path.resolve('a.jpg'), ctx }])[0].error).toBeNull();
        expectClose(doc, coco);
      }),
      { numRuns: 200 },
    );
  });

  it('YOLO pose lines with a keypoint shape, leaving keypoints that are not labelled alone', () => {
    fc.assert(
      fc.property(orientation, fc.array(fc.tuple(unit, unit, fc.constantFrom(0, 1, 2)), { minLength: 3, maxLength: 3 }), (o, kp) => {
        const fmt = (x: number) => x.toFixed(6);
        const keypoints = kp.flatMap(([u, v, vis]) => (vis === 0 ? ['0.000000', '0.000000', '0'] : [fmt(u), fmt(v), String(vis)]));
        const text = `0 0.500000 0.400000 0.200000 0.300000 ${keypoints.join(' ')}\n`;
        const [there, back] = thereAndBack(o, 45, 29);
        const moved = transformYolo(text, there, { kptShape: [3, 3] });
        const tokens = moved.text.trim().split(' ');
        kp.forEach(([, , vis], i) => {
          if (vis === 0) expect(tokens.slice(5 + 3 * i, 8 + 3 * i)).toEqual(['0.000000', '0.000000', '0']);
        });
        expect(transformYolo(moved.text, back, { kptShape: [3, 3] }).text).toBe(text);
        expect(() => transformYolo(text, there)).toThrow(/kpt_shape/);
      }),
      { numRuns: 200 },
    );
  });
});
