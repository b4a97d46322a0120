/**
 * Pure geometry for labels: where a point, box, polygon, keypoint or mask drawn on the *stored*
 * pixel grid lands once the orientation is baked into the pixels (docs/DESIGN.md section 1).
 *
 * Three coordinate conventions occur in label formats, and they transform differently:
 *
 * - **Pixel index** (0-based column/row of a pixel): a flip maps `x` to `W - 1 - x`. This is
 *   {@link mapPoint} of `src/orientation.ts`. Used by COCO keypoints (detectron2 `load_coco_json`:
 *   "keypoint coordinates are integers in [0, H-1 or W-1]"; mmpose `flip_keypoints` uses
 *   `W - 1 - x`), Pascal VOC corners (after removing the 1-based offset) and labelme masks.
 * - **Continuous** (pixel `i` covers `[i, i + 1)`, the picture covers `[0, W] x [0, H]`): a flip
 *   maps `x` to `W - x`. Used by COCO boxes and polygons (COCO format docs; detectron2: "segmentation
 *   coordinates are floating points in [0, H or W]") and labelme points.
 * - **Normalized** (continuous divided by the size, `[0, 1]`): a flip maps `u` to `1 - u`, the size
 *   is not needed. Used by YOLO (Ultralytics dataset docs: "box coordinates must be in normalized
 *   xywh format (from 0 to 1)").
 *
 * Boxes transform their two opposite corners and re-take the min/max, so every function here
 * returns boxes with `min <= max` whatever the orientation.
 *
 * Every `width`/`height` argument is the **stored** size in pixels (`FileResult.before`); the
 * results are in the upright picture, whose size is {@link uprightSize} of the stored size.
 */
import { mapContinuous, mapPoint, type Orientation } from '../orientation.js';

export { mapContinuous };

/** A box as two opposite corners `[xmin, ymin, xmax, ymax]`, in the units of its convention. */
export type Corners = [number, number, number, number];

/**
 * Maps a point in normalized coordinates (continuous divided by the size: `[0, 1] x [0, 1]`) to
 * the upright picture, where it is normalized by the upright size. No size is needed.
 *
 * @param u - horizontal position, 0-1 of the stored width.
 * @param v - vertical position, 0-1 of the stored height.
 * @param orientation - the EXIF value being applied.
 * @returns `[u, v]` normalized by the upright width and height.
 */
export function mapNormalized(u: number, v: number, orientation: Orientation): [number, number] {
  return mapContinuous(u, v, 1, 1, orientation);
}

/**
 * Maps a pixel index (0-based column/row; fractional values allowed) to the upright picture:
 * {@link mapPoint} of `src/orientation.ts`, exported here for symmetry.
 *
 * @param x - column in the stored picture, 0-based pixels.
 * @param y - row in the stored picture, 0-based pixels.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns `[x, y]` as a pixel index of the upright picture.
 */
export function mapPixel(x: number, y: number, width: number, height: number, orientation: Orientation): [number, number] {
  return mapPoint(x, y, width, height, orientation);
}

function cornersOf(
  box: Readonly<Corners>,
  map: (x: number, y: number) => [number, number],
): Corners {
  const [ax, ay] = map(box[0], box[1]);
  const [bx, by] = map(box[2], box[3]);
  return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)];
}

/**
 * Transforms a box given by two opposite corners in continuous pixel coordinates.
 *
 * @param box - `[x1, y1, x2, y2]`, continuous pixels, corners in any order.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns `[xmin, ymin, xmax, ymax]` in the upright picture, continuous pixels.
 */
export function transformCorners(box: Readonly<Corners>, width: number, height: number, orientation: Orientation): Corners {
  return cornersOf(box, (x, y) => mapContinuous(x, y, width, height, orientation));
}

/**
 * Transforms a COCO box `[x, y, width, height]`: 0-based, float, continuous pixel coordinates, so
 * a box covering pixel columns 0..w-1 is `x = 0, width = w` (COCO data format docs,
 * cocodataset.org/#format-data: "bbox : [x,y,width,height]").
 *
 * @param box - `[x, y, w, h]` in continuous pixels of the stored picture.
 * @param width - stored picture width in pixels.
 * @param height - stored picture height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns `[x, y, w, h]` in the upright picture (w and h swap for 5-8).
 */
export function transformCocoBox(
  box: readonly [number, number, number, number],
  width: number,
  height: number,
  orientation: Orientation,
): [number, number, number, number] {
  const [x0, y0, x1, y1] = transformCorners([box[0], box[1], box[0] + box[2], box[1] + box[3]], width, height, orientation);
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * Transforms a Pascal VOC box: 1-based inclusive pixel corners, so `xmin..xmax` covers 0-based
 * pixel columns `xmin - 1 .. xmax - 1` (PASCAL VOC devkit, `VOCdevkit/devkit_doc.pdf` and
 * `VOCreadrecxml.m`: "pixel indices are 1-based"). Fractional values are transformed with the
 * same formula.
 *
 * @param box - `[xmin, ymin, xmax, ymax]`, 1-based inclusive pixels of the stored picture.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns `[xmin, ymin, xmax, ymax]`, 1-based inclusive pixels of the upright picture.
 */
export function transformVocBox(box: Readonly<Corners>, width: number, height: number, orientation: Orientation): Corners {
  const [x0, y0, x1, y1] = cornersOf([box[0] - 1, box[1] - 1, box[2] - 1, box[3] - 1], (x, y) => mapPoint(x, y, width, height, orientation));
  return [x0 + 1, y0 + 1, x1 + 1, y1 + 1];
}

/**
 * Transforms a YOLO box `[cx, cy, w, h]`: centre and size normalized to 0-1 by the picture's
 * width and height (Ultralytics, docs.ultralytics.com/datasets/detect: "class x_center y_center
 * width height", "normalized xywh format (from 0 to 1)").
 *
 * @param box - `[cx, cy, w, h]` normalized by the stored size.
 * @param orientation - the EXIF value being applied.
 * @returns `[cx, cy, w, h]` normalized by the upright size (w and h swap for 5-8).
 */
export function transformYoloBox(box: readonly [number, number, number, number], orientation: Orientation): [number, number, number, number] {
  const [cx, cy] = mapNormalized(box[0], box[1], orientation);
  return orientation >= 5 ? [cx, cy, box[3], box[2]] : [cx, cy, box[2], box[3]];
}

/**
 * Transforms a flat list of points `[x1, y1, x2, y2, ...]` in continuous pixel coordinates (a
 * COCO polygon, COCO format docs: "polygon ... [x1, y1, x2, y2, ...]").
 *
 * @param flat - coordinates in continuous pixels of the stored picture; an odd trailing value is
 *   an error.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns the points in the same order, continuous pixels of the upright picture.
 * @throws {RangeError} when `flat` has an odd length.
 */
export function transformPolygon(flat: readonly number[], width: number, height: number, orientation: Orientation): number[] {
  if (flat.length % 2 !== 0) throw new RangeError(`a polygon needs an even number of coordinates, got ${flat.length}`);
  const out = new Array<number>(flat.length);
  for (let i = 0; i < flat.length; i += 2) {
    const [x, y] = mapContinuous(flat[i], flat[i + 1], width, height, orientation);
    out[i] = x;
    out[i + 1] = y;
  }
  return out;
}

/** How keypoint coordinates are expressed; see the module comment. */
export type KeypointConvention = 'pixel' | 'continuous' | 'normalized';

/**
 * Transforms keypoints `[x1, y1, (v1,) x2, y2, (v2,) ...]`. With `dims` 3 the third value is the
 * visibility flag (COCO: 0 not labelled, 1 labelled but not visible, 2 visible; Ultralytics pose
 * uses the same flags); points with visibility 0 are left exactly as they are (COCO stores them
 * as `0, 0, 0`). With `dims` 2, a point at exactly `(0, 0)` is taken as "not labelled" (the
 * Ultralytics pose convention for 2-value keypoints) and left as it is.
 *
 * @param flat - the keypoint list.
 * @param width - stored width in pixels (ignored for `'normalized'`).
 * @param height - stored height in pixels (ignored for `'normalized'`).
 * @param orientation - the EXIF value being applied.
 * @param options - `dims` 2 or 3 (default 3), `convention` (default `'pixel'`, the COCO one).
 * @returns the keypoints in the upright picture, flags unchanged.
 * @throws {RangeError} when the length is not a multiple of `dims`.
 */
export function transformKeypoints(
  flat: readonly number[],
  width: number,
  height: number,
  orientation: Orientation,
  options: { readonly dims?: 2 | 3; readonly convention?: KeypointConvention } = {},
): number[] {
  const dims = options.dims ?? 3;
  const convention = options.convention ?? 'pixel';
  if (flat.length % dims !== 0) throw new RangeError(`keypoints need a multiple of ${dims} values, got ${flat.length}`);
  const out = flat.slice();
  for (let i = 0; i < flat.length; i += dims) {
    const x = flat[i];
    const y = flat[i + 1];
    if (dims === 3 ? flat[i + 2] === 0 : x === 0 && y === 0) continue;
    const [nx, ny] =
      convention === 'pixel'
        ? mapPoint(x, y, width, height, orientation)
        : convention === 'continuous'
          ? mapContinuous(x, y, width, height, orientation)
          : mapNormalized(x, y, orientation);
    out[i] = nx;
    out[i + 1] = ny;
  }
  return out;
}

/**
 * Transforms a binary mask stored column-major (index `x * height + y`, the layout of COCO RLE).
 *
 * @param mask - `width * height` values, non-zero = inside.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns the upright mask, column-major over the upright size (values copied).
 * @throws {RangeError} when `mask.length` is not `width * height`.
 */
export function transformColumnMajorMask(mask: Uint8Array, width: number, height: number, orientation: Orientation): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`a ${width}x${height} mask needs ${width * height} values, got ${mask.length}`);
  const upHeight = orientation >= 5 ? width : height;
  const out = new Uint8Array(mask.length);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[x * height + y];
      if (v === 0) continue;
      const [nx, ny] = mapPoint(x, y, width, height, orientation);
      out[nx * upHeight + ny] = v;
    }
  }
  return out;
}

/**
 * Transforms a binary mask stored row-major (index `y * width + x`, the layout of decoded images).
 *
 * @param mask - `width * height` values.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the EXIF value being applied.
 * @returns the upright mask, row-major over the upright size.
 * @throws {RangeError} when `mask.length` is not `width * height`.
 */
export function transformRowMajorMask(mask: Uint8Array, width: number, height: number, orientation: Orientation): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`a ${width}x${height} mask needs ${width * height} values, got ${mask.length}`);
  const upWidth = orientation >= 5 ? height : width;
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = mask[y * width + x];
      if (v === 0) continue;
      const [nx, ny] = mapPoint(x, y, width, height, orientation);
      out[ny * upWidth + nx] = v;
    }
  }
  return out;
}

/**
 * Decodes uncompressed COCO RLE counts into a column-major 0/1 mask (COCO format docs and
 * pycocotools `maskApi.c` `rleDecode`: counts alternate runs of 0 and 1, starting with 0, over the
 * pixels in column-major order).
 *
 * @param counts - run lengths, non-negative integers, summing to `height * width`.
 * @param height - mask height in pixels (`size[0]` of the RLE).
 * @param width - mask width in pixels (`size[1]`).
 * @returns `height * width` values, column-major.
 * @throws {RangeError} when a count is not a non-negative integer or the counts do not sum to
 *   `height * width`.
 */
export function decodeRle(counts: readonly number[], height: number, width: number): Uint8Array {
  const total = height * width;
  const mask = new Uint8Array(total);
  let p = 0;
  let v = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`RLE counts must be non-negative integers, got ${String(c)}`);
    if (p + c > total) throw new RangeError(`RLE counts cover more than ${height}x${width} = ${total} pixels`);
    if (v) mask.fill(1, p, p + c);
    p += c;
    v ^= 1;
  }
  if (p !== total) throw new RangeError(`RLE counts cover ${p} pixels, expected ${height}x${width} = ${total}`);
  return mask;
}

/**
 * Encodes a column-major mask as uncompressed COCO RLE counts (pycocotools `rleEncode`): the first
 * run counts zeros (it is 0 when the first pixel is set).
 *
 * @param mask - column-major values, non-zero = inside.
 * @returns the run lengths.
 */
export function encodeRle(mask: Uint8Array): number[] {
  const counts: number[] = [];
  let v = 0;
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    const b = mask[i] ? 1 : 0;
    if (b !== v) {
      counts.push(run);
      run = 0;
      v = b;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

/** An uncompressed COCO RLE: `size` is `[height, width]` in pixels. */
export interface UncompressedRle {
  readonly counts: readonly number[];
  readonly size: readonly [number, number];
}

/**
 * Transforms an uncompressed COCO RLE: decodes it, moves every pixel, re-encodes over the upright
 * size.
 *
 * @param rle - `{ counts, size: [height, width] }` over the stored picture.
 * @param orientation - the EXIF value being applied.
 * @returns `{ counts, size }` over the upright picture (`size` swapped for 5-8).
 * @throws {RangeError} for counts that do not describe a `size[0] x size[1]` mask.
 */
export function transformRle(rle: UncompressedRle, orientation: Orientation): { counts: number[]; size: [number, number] } {
  const [height, width] = rle.size;
  const mask = decodeRle(rle.counts, height, width);
  const moved = transformColumnMajorMask(mask, width, height, orientation);
  return { counts: encodeRle(moved), size: orientation >= 5 ? [width, height] : [height, width] };
}

/**
 * Decodes the compressed RLE string of pycocotools (`maskApi.c` `rleFrString`: a LEB128-like
 * code with 5 data bits per character, characters 48-111, each count after the third stored as
 * the difference to the count two before).
 *
 * @param s - the `counts` string of a compressed RLE.
 * @returns the run lengths.
 * @throws {RangeError} for characters outside 48-111, a truncated value or a negative count.
 */
export function decodeCompressedCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new RangeError('compressed RLE ends in the middle of a value');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RangeError(`compressed RLE has an invalid character ${JSON.stringify(s[p])}`);
      if (k > 6) throw new RangeError('compressed RLE value is too long');
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    if (x < 0) throw new RangeError('compressed RLE decodes to a negative count');
    counts.push(x);
  }
  return counts;
}

/**
 * Encodes run lengths as the compressed RLE string of pycocotools (`maskApi.c` `rleToString`), the
 * inverse of {@link decodeCompressedCounts}.
 *
 * @param counts - run lengths.
 * @returns the `counts` string.
 */
export function encodeCompressedCounts(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/**
 * Rounds away binary floating-point noise (`45 - 10.3 = 34.699999999999996` becomes `34.7`) by
 * keeping 15 significant digits, the precision a double always holds.
 *
 * @param value - any finite number.
 * @returns the nearest number with at most 15 significant digits; `-0` becomes `0`.
 */
export function clean(value: number): number {
  const v = Number(value.toPrecision(15));
  return v === 0 ? 0 : v;
}
