// Generates fixtures/annotations: real-shaped label files in each format (YOLO, Pascal VOC,
// labelme, COCO) for the fixture images fixtures/orientation/jpeg-420/jpeg-420_<o>.jpg.
//
// The labels are found by looking at the pixels, not computed from src/: each image is decoded
// (as stored, ignoring EXIF, for the `stored` set; upright, honouring EXIF, for the `displayed`
// set), every pixel is classified as one of the four quadrant colours of the fixture picture, and
// each format gets the quadrants' boxes (plus polygons, masks and keypoints) on that grid.
//
// Usage: node scripts/make-annotation-fixtures.js
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IMAGES = path.join(ROOT, 'fixtures', 'orientation', 'jpeg-420');
const OUT = path.join(ROOT, 'fixtures', 'annotations');

/** The quadrant colours of the fixture picture (scripts/fixtures/common.js), by class id. */
export const CLASSES = [
  { name: 'red', rgb: [220, 40, 40] },
  { name: 'green', rgb: [40, 200, 60] },
  { name: 'blue', rgb: [40, 60, 220] },
  { name: 'yellow', rgb: [230, 210, 40] },
];

/** The class of the nearest quadrant colour. */
export function classify(r, g, b) {
  let best = 0;
  let bestD = Infinity;
  CLASSES.forEach((c, i) => {
    const d = (r - c.rgb[0]) ** 2 + (g - c.rgb[1]) ** 2 + (b - c.rgb[2]) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** Decoded pixels: stored (as in the file) or displayed (EXIF applied). */
async function decode(file, space) {
  let image = sharp(file);
  if (space === 'displayed') image = image.rotate();
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Per class, the box of its quadrant `[x0, y0, x1, y1)` in a row-major class map: the columns and
 * rows holding at least a quarter of the class's fullest column/row. Stray pixels (JPEG chroma
 * blur makes the red/green edge look yellow) do not stretch the box.
 */
export function boxesOf(map, width, height) {
  return CLASSES.map((_, c) => {
    const cols = new Array(width).fill(0);
    const rows = new Array(height).fill(0);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (map[y * width + x] === c) {
          cols[x]++;
          rows[y]++;
        }
      }
    }
    const span = (counts) => {
      const min = Math.max(...counts) / 4;
      const first = counts.findIndex((n) => n >= min);
      const last = counts.length - 1 - [...counts].reverse().findIndex((n) => n >= min);
      return [first, last + 1];
    };
    const [x0, x1] = span(cols);
    const [y0, y1] = span(rows);
    return [x0, y0, x1, y1];
  });
}

/** Per class: the 0-based inclusive pixel box and the column-major mask of its pixels in that box. */
function regions(px) {
  const { data, width, height, channels } = px;
  const map = new Uint8Array(width * height);
  for (let i = 0; i < map.length; i++) map[i] = classify(data[i * channels], data[i * channels + 1], data[i * channels + 2]);
  const boxes = boxesOf(map, width, height).map(([x0, y0, x1, y1]) => ({ x0, y0, x1: x1 - 1, y1: y1 - 1 }));
  const masks = boxes.map((b, c) => {
    const mask = new Uint8Array(width * height);
    for (let x = b.x0; x <= b.x1; x++) for (let y = b.y0; y <= b.y1; y++) if (map[y * width + x] === c) mask[x * height + y] = 1;
    return mask;
  });
  return { boxes, masks };
}

/** Uncompressed COCO RLE counts of a column-major mask (written here independently of src/). */
function rle(mask) {
  const counts = [];
  let v = 0;
  let run = 0;
  for (const m of mask) {
    if (m !== v) {
      counts.push(run);
      run = 0;
      v = m;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

const f6 = (v) => v.toFixed(6);

/** A right triangle inside a box (continuous pixels): the corner at the box's top-left. */
function triangle(b) {
  return [b.x0, b.y0, b.x1 + 1, b.y0, b.x0, b.y1 + 1];
}

function yolo(px, { boxes }) {
  const { width: W, height: H } = px;
  const lines = boxes.map((b, c) => {
    const cx = (b.x0 + b.x1 + 1) / 2 / W;
    const cy = (b.y0 + b.y1 + 1) / 2 / H;
    return `${c} ${f6(cx)} ${f6(cy)} ${f6((b.x1 + 1 - b.x0) / W)} ${f6((b.y1 + 1 - b.y0) / H)}`;
  });
  // A segmentation line: the blue quadrant's triangle, normalized.
  const t = triangle(boxes[2]);
  lines.push(`2 ${t.map((v, i) => f6(v / (i % 2 === 0 ? W : H))).join(' ')}`);
  return lines.join('\n') + '\n';
}

function voc(px, { boxes }, file) {
  const objects = boxes
    .map(
      (b, c) => `  <object>
    <name>${CLASSES[c].name}</name>
    <pose>Unspecified</pose>
    <truncated>1</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>${b.x0 + 1}</xmin>
      <ymin>${b.y0 + 1}</ymin>
      <xmax>${b.x1 + 1}</xmax>
      <ymax>${b.y1 + 1}</ymax>
    </bndbox>
  </object>
`,
    )
    .join('');
  return `<annotation>
  <folder>JPEGImages</folder>
  <filename>${path.basename(file)}</filename>
  <source>
    <database>exif-fix fixtures</database>
  </source>
  <size>
    <width>${px.width}</width>
    <height>${px.height}</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
${objects}</annotation>
`;
}

function labelme(px, { boxes }, file) {
  const shapes = boxes.map((b, c) => ({
    label: CLASSES[c].name,
    points: [
      [b.x0, b.y0],
      [b.x1 + 1, b.y1 + 1],
    ],
    group_id: null,
    description: `quadrant ${c}`,
    shape_type: 'rectangle',
    flags: { checked: c === 0 },
  }));
  const t = triangle(boxes[2]);
  shapes.push({ label: 'blue', points: [[t[0], t[1]], [t[2], t[3]], [t[4], t[5]]], group_id: 7, description: '', shape_type: 'polygon', flags: {} });
  const y = boxes[3];
  shapes.push({ label: 'yellow-centre', points: [[(y.x0 + y.x1 + 1) / 2, (y.y0 + y.y1 + 1) / 2]], group_id: null, description: '', shape_type: 'point', flags: {} });
  const doc = {
    version: '5.5.0',
    flags: {},
    shapes,
    imagePath: path.basename(file),
    imageData: null,
    imageHeight: px.height,
    imageWidth: px.width,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

function cocoAnnotations(px, { boxes, masks }, imageId, nextId) {
  const anns = boxes.map((b, c) => ({
    id: nextId(),
    image_id: imageId,
    category_id: c + 1,
    bbox: [b.x0, b.y0, b.x1 + 1 - b.x0, b.y1 + 1 - b.y0],
    area: masks[c].reduce((s, v) => s + v, 0),
    iscrowd: 0,
    segmentation: [],
    attributes: { occluded: false, colour: CLASSES[c].name },
  }));
  anns[0].segmentation = [triangle(boxes[0])];
  anns[2].segmentation = { counts: rle(masks[2]), size: [px.height, px.width] };
  anns[2].iscrowd = 1;
  // Keypoints (pixel indices): the centre pixel of the yellow quadrant (visible), a point not
  // labelled, the centre pixel of the green quadrant (labelled, not visible).
  const centre = (b) => [Math.floor((b.x0 + b.x1) / 2), Math.floor((b.y0 + b.y1) / 2)];
  anns.push({
    id: nextId(),
    image_id: imageId,
    category_id: 5,
    bbox: anns[3].bbox,
    area: anns[3].area,
    iscrowd: 0,
    num_keypoints: 2,
    keypoints: [...centre(boxes[3]), 2, 0, 0, 0, ...centre(boxes[1]), 1],
    score: 0.97,
  });
  return anns;
}

async function main() {
  for (const space of ['stored', 'displayed']) {
    const coco = {
      info: { description: `exif-fix annotation fixtures, labels drawn on the ${space} pixels`, version: '1.0', year: 2025 },
      licenses: [{ id: 1, name: 'CC0', url: '' }],
      images: [],
      annotations: [],
      categories: [
        ...CLASSES.map((c, i) => ({ id: i + 1, name: c.name, supercategory: 'quadrant' })),
        { id: 5, name: 'centres', supercategory: 'quadrant', keypoints: ['yellow', 'none', 'green'], skeleton: [[1, 3]] },
      ],
    };
    let id = 100;
    const nextId = () => id++;
    for (let o = 1; o <= 8; o++) {
      const file = path.join(IMAGES, `jpeg-420_${o}.jpg`);
      const px = await decode(file, space);
      const found = regions(px);
      const name = `jpeg-420_${o}`;
      for (const [dir, ext, text] of [
        ['yolo', 'txt', yolo(px, found)],
        ['voc', 'xml', voc(px, found, file)],
        ['labelme', 'json', labelme(px, found, file)],
      ]) {
        await mkdir(path.join(OUT, space, dir), { recursive: true });
        await writeFile(path.join(OUT, space, dir, `${name}.${ext}`), text);
      }
      coco.images.push({ id: o, file_name: `${name}.jpg`, width: px.width, height: px.height, license: 1, date_captured: '2025-01-01 00:00:00' });
      coco.annotations.push(...cocoAnnotations(px, found, o, nextId));
    }
    await mkdir(path.join(OUT, space, 'coco'), { recursive: true });
    await writeFile(path.join(OUT, space, 'coco', 'instances.json'), JSON.stringify(coco));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
