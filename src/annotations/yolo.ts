/**
 * YOLO label files (Ultralytics, docs.ultralytics.com/datasets/detect, /segment, /pose): one
 * object per line, `class` then coordinates normalized to 0-1 by the image's width and height.
 *
 * - detection: `class cx cy w h` (centre and size);
 * - segmentation: `class x1 y1 x2 y2 ... xn yn` (a polygon of at least 3 points; oriented boxes
 *   `class x1 y1 ... x4 y4` are polygons of 4 points and transform the same way);
 * - pose, only with `kptShape`: `class cx cy w h` then `kptShape[0]` keypoints of
 *   `kptShape[1]` values each (`x y` or `x y visibility`), as set by `kpt_shape` in the
 *   dataset YAML.
 *
 * The file records no image size, so a YOLO file cannot say which grid it was drawn on; in
 * displayed space it is left as it is.
 */
import { ExifFixError } from '../errors.js';
import { formatLike, movesGeometry, parseNumber, type FileOutcome, type ImageContext } from './common.js';
import { mapNormalized } from './geometry.js';
import type { Orientation } from '../orientation.js';

/** Options of {@link transformYolo}. */
export interface YoloOptions {
  /**
   * `[keypoints, values per keypoint]` (Ultralytics `kpt_shape`, e.g. `[17, 3]`) for pose
   * labels; without it every line is a box (4 values) or a polygon (an even number, at least 6).
   */
  readonly kptShape?: readonly [number, 2 | 3];
}

/**
 * Transforms the text of a YOLO label file for one image. Whitespace between values becomes a
 * single space (as Ultralytics writes); line endings, blank lines and class tokens are kept;
 * each value keeps the number of decimals of the value it derives from.
 *
 * @param text - the file's contents.
 * @param ctx - the image (orientation, stored size, space).
 * @param options - see {@link YoloOptions}.
 * @returns the new text and the number of objects (non-blank lines).
 * @throws {ExifFixError} code `'corrupt'` naming the line for a value that is not a number or a
 *   line of the wrong length.
 */
export function transformYolo(text: string, ctx: ImageContext, options: YoloOptions = {}): FileOutcome {
  const lines = text.split('\n');
  let shapes = 0;
  const move = movesGeometry(ctx);
  const out = lines.map((raw, index) => {
    const cr = raw.endsWith('\r');
    const line = cr ? raw.slice(0, -1) : raw;
    const tokens = line.trim().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return raw;
    shapes++;
    const where = `line ${index + 1}`;
    const values = tokens.slice(1).map((t, i) => parseNumber(t, `${where}, value ${i + 1}`));
    const kind = lineKind(values.length, options, where);
    if (!move) return raw;
    const next = transformLine(values, tokens.slice(1), kind, ctx.orientation, options);
    return [tokens[0], ...next].join(' ') + (cr ? '\r' : '');
  });
  return { text: move ? out.join('\n') : text, shapes, transformed: move, warnings: [] };
}

type LineKind = 'box' | 'polygon' | 'pose';

function lineKind(n: number, options: YoloOptions, where: string): LineKind {
  if (options.kptShape) {
    const [k, d] = options.kptShape;
    if (n === 4 + k * d) return 'pose';
    throw new ExifFixError(`${where}: a pose line with kpt_shape [${k}, ${d}] needs ${4 + k * d} values after the class, found ${n}`, 'corrupt');
  }
  if (n === 4) return 'box';
  if (n >= 6 && n % 2 === 0) return 'polygon';
  throw new ExifFixError(
    `${where}: expected 4 values (a box) or an even number of at least 6 (a polygon) after the class, found ${n}${n > 4 ? ' (pose labels need the keypoint shape, kpt_shape)' : ''}`,
    'corrupt',
  );
}

/** Transforms one line's values; returns the formatted tokens. */
function transformLine(values: number[], tokens: string[], kind: LineKind, o: Orientation, options: YoloOptions): string[] {
  const out = tokens.slice();
  const swap = o >= 5;
  const point = (i: number) => {
    const [u, v] = mapNormalized(values[i], values[i + 1], o);
    out[i] = formatLike(u, tokens[swap ? i + 1 : i]);
    out[i + 1] = formatLike(v, tokens[swap ? i : i + 1]);
  };
  if (kind === 'polygon') {
    for (let i = 0; i < values.length; i += 2) point(i);
    return out;
  }
  point(0);
  if (swap) {
    out[2] = tokens[3];
    out[3] = tokens[2];
  }
  if (kind === 'pose' && options.kptShape) {
    const d = options.kptShape[1];
    for (let i = 4; i < values.length; i += d) {
      const missing = d === 3 ? values[i + 2] === 0 : values[i] === 0 && values[i + 1] === 0;
      if (!missing) point(i);
    }
  }
  return out;
}
