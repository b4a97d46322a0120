// Label parsing on adversarial sizes (issue 12, item 8) and label content kept out of messages
// (item 10). Every parser must take one pass: these inputs made the old VOC editor run for a
// minute (a 400 kB whitespace run in one value) or quadratically (unclosed tags). Nothing here
// measures time and no test has a time limit (a limit fails under load, not on a bug): a parser
// that is not linear does not finish on these sizes.
import { describe, expect, it } from 'vitest';
import { ExifFixError } from '../src/errors.js';
import type { ImageContext } from '../src/annotations/common.js';
import { transformCocoDocument } from '../src/annotations/coco.js';
import { parseJson } from '../src/annotations/json-text.js';
import { transformLabelme } from '../src/annotations/labelme.js';
import { locateElements, transformVoc } from '../src/annotations/voc.js';
import { transformYolo } from '../src/annotations/yolo.js';

/** Orientation 6 (rotate 90° clockwise) on a 40x30 stored image, labels on the stored grid. */
const CTX: ImageContext = { orientation: 6, width: 40, height: 30, space: 'stored' };

const SECRET = 'root:$6$hunter2$secret-hash-value:19000:0:99999:7:::';
const noImage = async () => new Uint8Array();

function voc(objects: string, size = '<size><width>40</width><height>30</height><depth>3</depth></size>'): string {
  return `<annotation>\n  <filename>a.jpg</filename>\n  ${size}\n${objects}</annotation>\n`;
}

function box(xmin: string, ymin = '2', xmax = '10', ymax = '20'): string {
  return `  <object><name>cat</name><bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox></object>\n`;
}

function corrupt(run: () => unknown): ExifFixError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ExifFixError);
    expect((error as ExifFixError).code).toBe('corrupt');
    return error as ExifFixError;
  }
  throw new Error('expected a corrupt-input error');
}

describe('Pascal VOC parsing is linear', () => {
  it('transforms a value padded with 400 kB of whitespace, keeping the padding byte for byte', () => {
    const pad = ' \t\n'.repeat(400_000 / 3);
    const text = voc(box(`${pad}1${pad}`));
    const out = transformVoc(text, CTX);
    expect(out.shapes).toBe(1);
    // Orientation 6: xmin' = H + 1 - ymax, ymin' = xmin, xmax' = H + 1 - ymin, ymax' = xmax; each
    // value goes where the old one was, in its whitespace.
    const expected = voc(box(`${pad}11${pad}`, '1', '29', '10')).replace('<width>40</width><height>30</height>', '<width>30</width><height>40</height>');
    // Compared as a boolean: a failing diff of two 800 kB strings would itself take minutes.
    expect(out.text === expected).toBe(true);
  });

  it('refuses a value of 800 kB of whitespace with a letter at its end, in one pass', () => {
    const pad = ' '.repeat(400_000);
    expect(corrupt(() => transformVoc(voc(box('1', `${pad}2${pad}x`)), CTX)).message).toBe('<ymin> in <bndbox> 1 is not a number');
  });

  it('fails cleanly on 10^5 unclosed tags', () => {
    const e = corrupt(() => transformVoc(`<annotation>${'<bndbox>'.repeat(100_000)}`, CTX));
    expect(e.message).toMatch(/^not well-formed XML \(line 1, column \d+\)$/);
  });

  it('fails cleanly on 10^5 unclosed start tags without their >', () => {
    corrupt(() => transformVoc(`<annotation>${'<bndbox '.repeat(100_000)}`, CTX));
  });

  it('fails cleanly on 10^5 stray end tags', () => {
    corrupt(() => transformVoc(`<annotation>${'</xmin>'.repeat(100_000)}</annotation>`, CTX));
  });

  it('transforms 2 x 10^4 objects in one pass', () => {
    const text = voc(box('1').repeat(20_000));
    const out = transformVoc(text, CTX);
    expect(out.shapes).toBe(20_000);
    expect(out.text.split('<xmin>11</xmin>').length - 1).toBe(20_000);
  });

  it('locates elements nested 10^5 deep', () => {
    const depth = 100_000;
    const elements = locateElements(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`);
    expect(elements.length).toBe(depth);
    expect(elements[depth - 1].parent).toBe(depth - 2);
  });

  it('keeps a CRLF file, a BOM, comments and attributes byte for byte except the values', () => {
    const text = '\ufeff<?xml version="1.0"?>\r\n<annotation verified="yes">\r\n<!-- a <bndbox> in a comment -->\r\n<size><width> 40 </width><height>30</height></size>\r\n<object><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20</ymax></bndbox></object>\r\n</annotation>\r\n';
    const out = transformVoc(text, CTX);
    expect(out.text).toBe(text.replace('<width> 40 </width><height>30</height>', '<width> 30 </width><height>40</height>').replace('<xmin>1</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20</ymax>', '<xmin>11</xmin><ymin>1</ymin><xmax>29</xmax><ymax>10</ymax>'));
  });

  it('never quotes the file in its messages', () => {
    expect(corrupt(() => transformVoc(voc(box(SECRET)), CTX)).message).toBe('<xmin> in <bndbox> 1 is not a number');
    expect(corrupt(() => transformVoc(`<annotation>${SECRET}<${SECRET}`, CTX)).message).not.toContain('hunter2');
    expect(corrupt(() => transformVoc(`${SECRET}\n`, CTX)).message).not.toContain('hunter2');
  });
});

describe('YOLO parsing is linear', () => {
  it('transforms a line padded with 400 kB of whitespace', () => {
    const pad = ' \t'.repeat(200_000);
    const out = transformYolo(`0${pad}0.25${pad}0.5 0.1 0.2${pad}\n`, CTX);
    expect(out.text).toBe('0 0.5 0.25 0.2 0.1\n');
  });

  it('transforms 10^5 lines and a polygon of 10^5 points', () => {
    expect(transformYolo('0 0.25 0.5 0.1 0.2\n'.repeat(100_000), CTX).shapes).toBe(100_000);
    const polygon = `0 ${'0.25 0.5 '.repeat(100_000)}\n`;
    expect(transformYolo(polygon, CTX).text === `0 ${Array(100_000).fill('0.5 0.25').join(' ')}\n`).toBe(true);
  });

  it('never quotes the file in its messages', () => {
    expect(corrupt(() => transformYolo(`${SECRET}\n`, CTX)).message).toBe('line 1: expected 4 values (a box) or an even number of at least 6 (a polygon) after the class, found 0');
    expect(corrupt(() => transformYolo(`0 ${SECRET} 0.5 0.1 0.2\n`, CTX)).message).toBe('line 1, value 1 is not a number');
  });
});

describe('JSON label parsing is linear', () => {
  it('parses a labelme file with 400 kB of whitespace and 10^5 points', async () => {
    const pad = ' '.repeat(400_000);
    const points = Array(100_000).fill('[1, 2]').join(',');
    const text = `{${pad}"shapes": [{"label": "cat", "points": [${points}], "shape_type": "polygon"}],${pad}"imageWidth": 40, "imageHeight": 30}\n`;
    const out = await transformLabelme(text, CTX, noImage);
    expect(out.shapes).toBe(1);
    expect((JSON.parse(out.text) as { shapes: Array<{ points: number[][] }> }).shapes[0].points[99_999]).toEqual([28, 1]);
  });

  it('parses or refuses cleanly a value nested 10^5 deep', async () => {
    const deep = `{"shapes": [], "flags": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const outcome = await transformLabelme(deep, CTX, noImage).then(
      (o) => o.shapes,
      (e: unknown) => e,
    );
    if (typeof outcome === 'number') expect(outcome).toBe(0);
    else expect(outcome).toBeInstanceOf(Error);
  });

  it('indexes a COCO file of 10^5 images and annotations once', () => {
    const n = 100_000;
    const images = Array.from({ length: n }, (_, i) => ({ id: i, file_name: `d/${i}.jpg`, width: 40, height: 30 }));
    const annotations = Array.from({ length: n }, (_, i) => ({ id: i, image_id: i, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0, category_id: 1 }));
    const doc = { images, annotations, categories: [{ id: 1, name: 'cat' }] };
    const wanted = [0, n - 1].map((i) => ({ absolutePath: `/data/d/${i}.jpg`, ctx: CTX }));
    const outcomes = transformCocoDocument(doc, wanted);
    expect(outcomes.map((o) => [o.matched, o.shapes, o.error])).toEqual([
      [true, 1, null],
      [true, 1, null],
    ]);
    expect(annotations[n - 1].bbox).toEqual([24, 1, 4, 3]);
  });

  it('never quotes the file in its messages', async () => {
    expect(corrupt(() => parseJson(SECRET)).message).toBe('not valid JSON');
    expect(corrupt(() => parseJson(`{"a": 1 ${SECRET}`)).message).toMatch(/^not valid JSON( \(at character \d+\))?$/);
    const bad = `{"shapes": [{"points": [["${SECRET}", 1]]}]}`;
    const e = await transformLabelme(bad, CTX, noImage).catch((error: unknown) => error as Error);
    expect((e as Error).message).toBe('shape 1: point 1 is not [x, y] (two numbers)');
  });
});
