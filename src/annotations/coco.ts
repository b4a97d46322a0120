/**
 * COCO annotation files (cocodataset.org/#format-data): one JSON for a whole dataset with
 * `images` (`{ id, file_name, width, height, ... }`) and `annotations` (`{ id, image_id, bbox,
 * segmentation, keypoints, area, iscrowd, ... }`).
 *
 * Conventions: `bbox` is `[x, y, width, height]`, 0-based float continuous pixels; polygon
 * `segmentation` is `[[x1, y1, x2, y2, ...], ...]` in continuous pixels; RLE `segmentation` is
 * `{ counts, size: [height, width] }` over the pixels in column-major order, `counts` a list
 * (uncompressed, `iscrowd: 1` in the dataset files) or the pycocotools string (compressed);
 * `keypoints` is `[x1, y1, v1, ...]` with integer pixel indices (detectron2 `load_coco_json`) and
 * `v = 0` for points not labelled. `area` is a pixel count and does not change.
 *
 * The whole file is parsed once, indexed (images by `file_name`, annotations by `image_id`), edited
 * image by image, and written once: time is linear in the file's size.
 */
import path from 'node:path';
import { ExifFixError } from '../errors.js';
import { checkDeclaredSize, renamed, messageOf, movesGeometry, uprightOf, type ImageContext } from './common.js';
import {
  clean,
  decodeCompressedCounts,
  decodeRle,
  encodeCompressedCounts,
  encodeRle,
  transformCocoBox,
  transformColumnMajorMask,
  transformKeypoints,
  transformPolygon,
} from './geometry.js';
import { isNumber, isNumberArray, isObject } from './json-text.js';

/** One image of the run to find in the COCO file. */
export interface CocoImage {
  /** The image's input path, resolved (absolute). */
  readonly absolutePath: string;
  /** The image and its labels' space. */
  readonly ctx: ImageContext;
}

/** What happened to one {@link CocoImage}. */
export interface CocoOutcome {
  /** Whether an image entry of the file was found for it. */
  readonly matched: boolean;
  /** How many annotations the entry has. */
  readonly shapes: number;
  /** Whether anything of its entry or annotations changed. */
  readonly changed: boolean;
  /** Whether geometry was transformed. */
  readonly transformed: boolean;
  readonly error: string | null;
  readonly warnings: readonly string[];
}

/** Normalizes a `file_name` or path for matching: `/` separators, no `./` segments. */
export function matchKey(name: string): string {
  return name
    .replace(/\\/g, '/')
    .split('/')
    .filter((s, i) => s !== '.' && (s !== '' || i === 0))
    .join('/');
}

/**
 * Finds each image's entry in `images`: the entry whose `file_name` is the longest trailing part
 * of the image's path (so `file_name` may be a bare name, a path relative to the dataset root or
 * to the input directory, or absolute), else the one entry with the same base name. An entry
 * that two images claim, or a name several entries share, is an error for those images.
 *
 * @param entries - the `images` array of the COCO file.
 * @param images - absolute image paths.
 * @returns per image, the entry index or an error message.
 */
export function matchImages(entries: readonly unknown[], images: readonly string[]): Array<{ index: number } | { error: string } | null> {
  const byName = new Map<string, number[]>();
  const byBase = new Map<string, number[]>();
  entries.forEach((e, i) => {
    if (!isObject(e) || typeof e.file_name !== 'string') return;
    const key = matchKey(e.file_name);
    const base = key.slice(key.lastIndexOf('/') + 1);
    for (const [map, k] of [[byName, key], [byBase, base]] as const) {
      const list = map.get(k);
      if (list) list.push(i);
      else map.set(k, [i]);
    }
  });
  const found = images.map((abs): { index: number } | { error: string } | null => {
    const segments = matchKey(abs).split('/');
    for (let k = segments.length; k >= 1; k--) {
      const suffix = segments.slice(segments.length - k).join('/');
      const list = byName.get(suffix);
      if (list) return list.length === 1 ? { index: list[0] } : { error: `${list.length} entries of "images" have file_name "${suffix}"` };
    }
    const base = segments[segments.length - 1];
    const list = byBase.get(base);
    if (!list) return null;
    if (list.length === 1) return { index: list[0] };
    return { error: `${list.length} entries of "images" have the base name "${base}" and none the image's path` };
  });
  const claims = new Map<number, number>();
  for (const f of found) if (f && 'index' in f) claims.set(f.index, (claims.get(f.index) ?? 0) + 1);
  return found.map((f) => {
    if (f && 'index' in f && (claims.get(f.index) ?? 0) > 1) {
      const e = entries[f.index] as Record<string, unknown>;
      return { error: `several images of the run match the entry with file_name "${String(e.file_name)}"` };
    }
    return f;
  });
}

/**
 * Transforms, in place in `doc`, the entries and annotations of every image: in stored space the
 * geometry of its annotations moves with the pixels; in both spaces the entry's `width`/`height`
 * become the upright size. An image whose entry contradicts the space, or whose annotations hold
 * invalid geometry, gets an error and is left exactly as it was.
 *
 * @param doc - the parsed COCO file (modified).
 * @param images - the images of the run.
 * @returns one outcome per image, in order.
 * @throws {ExifFixError} code `'corrupt'` when `doc` has no `images` array (a whole-file error).
 */
export function transformCocoDocument(doc: unknown, images: readonly CocoImage[]): CocoOutcome[] {
  if (!isObject(doc) || !Array.isArray(doc.images)) throw new ExifFixError('not a COCO file: no "images" array', 'corrupt');
  const entries = doc.images as unknown[];
  const annotations = Array.isArray(doc.annotations) ? (doc.annotations as unknown[]) : [];
  const idCount = new Map<unknown, number>();
  for (const e of entries) if (isObject(e)) idCount.set(e.id, (idCount.get(e.id) ?? 0) + 1);
  const byImage = new Map<unknown, number[]>();
  annotations.forEach((a, i) => {
    if (!isObject(a)) return;
    const list = byImage.get(a.image_id);
    if (list) list.push(i);
    else byImage.set(a.image_id, [i]);
  });
  const matches = matchImages(entries, images.map((i) => i.absolutePath));
  return images.map((image, n): CocoOutcome => {
    const match = matches[n];
    const none = { matched: false, shapes: 0, changed: false, transformed: false, error: null, warnings: [] as string[] };
    if (match === null) return { ...none, warnings: ['no entry of "images" in the COCO file matches this image'] };
    if ('error' in match) return { ...none, error: match.error };
    const entry = entries[match.index] as Record<string, unknown>;
    const annIndexes = byImage.get(entry.id) ?? [];
    const base = { ...none, matched: true, shapes: annIndexes.length };
    if ((idCount.get(entry.id) ?? 0) > 1) return { ...base, error: `several entries of "images" have the id ${JSON.stringify(entry.id)}` };
    try {
      return { ...base, ...transformEntry(entry, annIndexes.map((i) => annotations[i] as Record<string, unknown>), image.ctx) };
    } catch (error) {
      return { ...base, error: messageOf(error) };
    }
  });
}

function transformEntry(
  entry: Record<string, unknown>,
  anns: Array<Record<string, unknown>>,
  ctx: ImageContext,
): { changed: boolean; transformed: boolean; warnings: string[] } {
  const declared = isNumber(entry.width) && isNumber(entry.height) ? { width: entry.width, height: entry.height } : null;
  const warnings = checkDeclaredSize(declared, ctx, 'the image entry\'s width/height');
  // A converted image's new name (`--to`).
  const fileName = typeof entry.file_name === 'string' ? renamed(entry.file_name, ctx.rename) : undefined;
  if (fileName !== undefined) entry.file_name = fileName;
  if (ctx.orientation === 1) return { changed: fileName !== undefined, transformed: false, warnings };
  const move = movesGeometry(ctx);
  // Compute everything first, so that an invalid annotation leaves the image untouched.
  const updates = move ? anns.map((a, i) => transformAnnotation(a, ctx, `annotation ${JSON.stringify(a.id ?? i)}`)) : [];
  updates.forEach((u, i) => Object.assign(anns[i], u));
  const up = uprightOf(ctx);
  let changed = fileName !== undefined || updates.some((u) => Object.keys(u).length > 0);
  if (isNumber(entry.width) && entry.width !== up.width) {
    entry.width = up.width;
    changed = true;
  }
  if (isNumber(entry.height) && entry.height !== up.height) {
    entry.height = up.height;
    changed = true;
  }
  return { changed, transformed: move, warnings };
}

function transformAnnotation(a: Record<string, unknown>, ctx: ImageContext, where: string): Record<string, unknown> {
  const { orientation: o, width: W, height: H } = ctx;
  const out: Record<string, unknown> = {};
  if (a.bbox !== undefined) {
    if (!isNumberArray(a.bbox) || a.bbox.length !== 4) throw new ExifFixError(`${where}: bbox is not [x, y, width, height]`, 'corrupt');
    out.bbox = transformCocoBox(a.bbox as [number, number, number, number], W, H, o).map(clean);
  }
  const seg = a.segmentation;
  if (Array.isArray(seg)) {
    out.segmentation = seg.map((poly: unknown) => {
      if (!isNumberArray(poly) || poly.length % 2 !== 0) throw new ExifFixError(`${where}: a segmentation polygon is not [x1, y1, x2, y2, ...]`, 'corrupt');
      return transformPolygon(poly, W, H, o).map(clean);
    });
  } else if (isObject(seg)) {
    out.segmentation = transformCocoRle(seg, ctx, where);
  } else if (seg !== undefined && seg !== null) {
    throw new ExifFixError(`${where}: segmentation is neither polygons nor RLE`, 'corrupt');
  }
  if (a.keypoints !== undefined) {
    if (!isNumberArray(a.keypoints) || a.keypoints.length % 3 !== 0) throw new ExifFixError(`${where}: keypoints is not [x1, y1, v1, ...]`, 'corrupt');
    out.keypoints = transformKeypoints(a.keypoints, W, H, o, { dims: 3, convention: 'pixel' });
  }
  return out;
}

function transformCocoRle(seg: Record<string, unknown>, ctx: ImageContext, where: string): Record<string, unknown> {
  const { orientation: o, width: W, height: H } = ctx;
  const size = seg.size;
  if (!isNumberArray(size) || size.length !== 2) throw new ExifFixError(`${where}: RLE size is not [height, width]`, 'corrupt');
  if (size[0] !== H || size[1] !== W) {
    throw new ExifFixError(`${where}: RLE size [${size[0]}, ${size[1]}] is not the stored [height, width] [${H}, ${W}]`, 'corrupt');
  }
  let counts: number[];
  const compressed = typeof seg.counts === 'string';
  try {
    if (typeof seg.counts === 'string') counts = decodeCompressedCounts(seg.counts);
    else if (isNumberArray(seg.counts)) counts = seg.counts;
    else throw new RangeError('RLE counts are neither a list of numbers nor a string');
    const mask = transformColumnMajorMask(decodeRle(counts, H, W), W, H, o);
    const next = encodeRle(mask);
    const up = uprightOf(ctx);
    return { ...seg, size: [up.height, up.width], counts: compressed ? encodeCompressedCounts(next) : next };
  } catch (error) {
    if (error instanceof ExifFixError) throw error;
    throw new ExifFixError(`${where}: ${messageOf(error)}`, 'corrupt');
  }
}

/**
 * Where the COCO output goes: `cocoOut` when given, `<out>/<basename of coco>` with an output
 * directory, else `coco` itself (in place).
 *
 * @param coco - the COCO file as given.
 * @param out - the run's output directory, or `undefined` in place.
 * @param cocoOut - an explicit output path, or `undefined`.
 */
export function cocoOutputPath(coco: string, out: string | undefined, cocoOut: string | undefined): string {
  if (cocoOut !== undefined) return cocoOut;
  if (out !== undefined) return path.join(out, path.basename(coco));
  return coco;
}
