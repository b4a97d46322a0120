/**
 * labelme annotation files (github.com/wkentaro/labelme, `labelme/label_file.py`): one JSON per
 * image beside it, with `shapes` (each `{ label, points: [[x, y], ...], shape_type, group_id,
 * flags, description, mask? }`), `imagePath`, `imageData` (base64 of the image, or null),
 * `imageWidth` and `imageHeight`.
 *
 * Conventions: `points` are continuous pixel coordinates (a `rectangle` is two opposite corners,
 * a `circle` its centre and a point on the rim), except for `shape_type: "mask"`, whose two
 * points are the inclusive pixel indices of the box the base64 PNG `mask` is cropped to
 * (labelme `mask[ymin:ymax + 1, xmin:xmax + 1]`).
 *
 * `imageData`: labelme shows `imageData` instead of the image file when it is set. After
 * normalizing it would hold the old pixels, which no longer match the labels; exif-fix replaces
 * it with the bytes of the normalized image (base64), so the file keeps working standalone.
 */
import { ExifFixError } from '../errors.js';
import type { Orientation } from '../orientation.js';
import { checkDeclaredSize, renamed, movesGeometry, uprightOf, type FileOutcome, type ImageContext } from './common.js';
import { clean, mapContinuous, mapPixel, transformRowMajorMask } from './geometry.js';
import { isNumber, isObject, parseJson, stringifyJson } from './json-text.js';

/**
 * Transforms a labelme JSON file for one image: in stored space every shape's points (and mask)
 * move with the pixels, rectangles re-taking their min/max corners; in both spaces
 * `imageWidth`/`imageHeight` get the upright size and a non-null `imageData` the normalized
 * image.
 *
 * @param text - the JSON text.
 * @param ctx - the image (orientation, stored size, space).
 * @param readImage - returns the bytes of the normalized image; called only when `imageData`
 *   must be replaced.
 * @returns the new text, the number of shapes, warnings.
 * @throws {ExifFixError} code `'corrupt'` for invalid JSON, a missing `shapes` array, a point that
 *   is not two numbers or an undecodable mask; code `'usage'` when imageWidth/imageHeight
 *   contradict the space.
 */
export async function transformLabelme(text: string, ctx: ImageContext, readImage: () => Promise<Uint8Array>): Promise<FileOutcome> {
  const file = parseJson(text);
  const doc = file.value;
  if (!isObject(doc) || !Array.isArray(doc.shapes)) throw new ExifFixError('not a labelme file: no "shapes" array', 'corrupt');
  const shapes = doc.shapes as unknown[];
  const warnings: string[] = [];
  const declared = isNumber(doc.imageWidth) && isNumber(doc.imageHeight) ? { width: doc.imageWidth, height: doc.imageHeight } : null;
  warnings.push(...checkDeclaredSize(declared, ctx, 'imageWidth/imageHeight'));
  shapes.forEach((shape, i) => validateShape(shape, i));
  const next: Record<string, unknown> = { ...doc };
  // A converted image's new name (`--to`).
  const imagePath = typeof doc.imagePath === 'string' ? renamed(doc.imagePath, ctx.rename) : undefined;
  if (imagePath !== undefined) next.imagePath = imagePath;
  if (ctx.orientation === 1) return { text: imagePath === undefined ? text : stringifyJson(next, file), shapes: shapes.length, transformed: false, warnings };

  const move = movesGeometry(ctx);
  if (move) next.shapes = await Promise.all(shapes.map((s) => transformShape(s as Record<string, unknown>, ctx)));
  const up = uprightOf(ctx);
  if ('imageWidth' in doc) next.imageWidth = up.width;
  if ('imageHeight' in doc) next.imageHeight = up.height;
  if (typeof doc.imageData === 'string' && doc.imageData !== '') {
    next.imageData = Buffer.from(await readImage()).toString('base64');
  }
  return { text: stringifyJson(next, file), shapes: shapes.length, transformed: move, warnings };
}

function validateShape(shape: unknown, i: number): void {
  const where = `shape ${i + 1}`;
  if (!isObject(shape)) throw new ExifFixError(`${where} is not an object`, 'corrupt');
  if (!Array.isArray(shape.points)) throw new ExifFixError(`${where} has no "points" array`, 'corrupt');
  for (const [j, p] of (shape.points as unknown[]).entries()) {
    if (!Array.isArray(p) || p.length !== 2 || !isNumber(p[0]) || !isNumber(p[1])) {
      // Where, not what: a label file's content never goes into a message.
      throw new ExifFixError(`${where}: point ${j + 1} is not [x, y] (two numbers)`, 'corrupt');
    }
  }
  if (shape.shape_type === 'mask' && (shape.points as unknown[]).length !== 2) {
    throw new ExifFixError(`${where} is a mask whose points are not the two corners of its box`, 'corrupt');
  }
}

async function transformShape(shape: Record<string, unknown>, ctx: ImageContext): Promise<Record<string, unknown>> {
  const { orientation: o, width: W, height: H } = ctx;
  const points = shape.points as Array<[number, number]>;
  if (shape.shape_type === 'rectangle' && points.length === 2) {
    const [a, b] = points.map(([x, y]) => mapContinuous(x, y, W, H, o));
    return { ...shape, points: [[clean(Math.min(a[0], b[0])), clean(Math.min(a[1], b[1]))], [clean(Math.max(a[0], b[0])), clean(Math.max(a[1], b[1]))]] };
  }
  if (shape.shape_type === 'mask') {
    const [a, b] = points.map(([x, y]) => mapPixel(x, y, W, H, o));
    const next: Record<string, unknown> = { ...shape, points: [[Math.min(a[0], b[0]), Math.min(a[1], b[1])], [Math.max(a[0], b[0]), Math.max(a[1], b[1])]] };
    if (typeof shape.mask === 'string') next.mask = await transformMaskPng(shape.mask, o);
    return next;
  }
  return { ...shape, points: points.map(([x, y]) => mapContinuous(x, y, W, H, o).map(clean)) };
}

/** Transforms a base64 PNG mask (labelme `utils.img_arr_to_b64` of a boolean array). */
async function transformMaskPng(b64: string, o: Orientation): Promise<string> {
  let decoded;
  try {
    const { default: sharp } = await import('sharp');
    decoded = await sharp(Buffer.from(b64, 'base64'), { limitInputPixels: 0x3fff * 0x3fff }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new ExifFixError(`cannot decode a mask PNG: ${error instanceof Error ? error.message : String(error)}`, 'corrupt');
  }
  const { width, height } = decoded.info;
  const bits = new Uint8Array(width * height);
  for (let i = 0; i < bits.length; i++) bits[i] = decoded.data[i] > 0 ? 255 : 0;
  const moved = transformRowMajorMask(bits, width, height, o);
  const up = o >= 5 ? { width: height, height: width } : { width, height };
  const { default: sharp } = await import('sharp');
  const png = await sharp(Buffer.from(moved.buffer, moved.byteOffset, moved.byteLength), { raw: { width: up.width, height: up.height, channels: 1 } })
    .png()
    .toBuffer();
  return png.toString('base64');
}
