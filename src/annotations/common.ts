/**
 * Pieces shared by the per-format modules: the per-image context, the check of a declared image
 * size against the stored and displayed sizes, number formatting that keeps a file's style.
 */
import { ExifFixError } from '../errors.js';
import { ORIENTATIONS, uprightSize, type Orientation } from '../orientation.js';
import { clean } from './geometry.js';

/** Which grid the labels were drawn on; see `AnnotationSpace` in `./index.ts`. */
export type Space = 'stored' | 'displayed';

/** What a per-format transform needs to know about one image. */
export interface ImageContext {
  /** The orientation applied to the image (1 = nothing was done to the pixels). */
  readonly orientation: Orientation;
  /** Stored width in pixels (before normalizing). */
  readonly width: number;
  /** Stored height in pixels. */
  readonly height: number;
  /** The grid the labels were drawn on. */
  readonly space: Space;
  /**
   * The image's file name before and after a conversion (`--to`: `photo.HEIC` -> `photo.jpg`), so
   * that label files naming the image (VOC `<filename>`/`<path>`, LabelMe `imagePath`, COCO
   * `file_name`) follow it. Absent when the image keeps its name.
   */
  readonly rename?: { readonly from: string; readonly to: string };
}

/**
 * A path or name that ends with the image's old file name, with that name replaced by the new
 * one; `undefined` when it does not end with it (then it names something else and is kept).
 *
 * @param value - a `file_name`, `imagePath`, `<filename>` or `<path>` value.
 * @param rename - see {@link ImageContext.rename}.
 */
export function renamed(value: string, rename: ImageContext['rename']): string | undefined {
  if (!rename) return undefined;
  const name = value.trim();
  if (name !== rename.from && !name.endsWith(`/${rename.from}`) && !name.endsWith(`\\${rename.from}`)) return undefined;
  return value.slice(0, value.lastIndexOf(rename.from)) + rename.to + value.slice(value.lastIndexOf(rename.from) + rename.from.length);
}

/** What a per-format transform returns for one label file. */
export interface FileOutcome {
  /** The new file contents (equal to the input when nothing changed). */
  readonly text: string;
  /** How many shapes (boxes, polygons, objects, annotations) the file holds. */
  readonly shapes: number;
  /** Whether geometry was transformed (not just metadata). */
  readonly transformed: boolean;
  /** Warnings, without the file name. */
  readonly warnings: readonly string[];
}

/** Whether geometry must move: labels on the stored grid of an image whose pixels moved. */
export function movesGeometry(ctx: ImageContext): boolean {
  return ctx.space === 'stored' && ctx.orientation !== 1;
}

/** The upright size of the image in pixels. */
export function uprightOf(ctx: ImageContext): { width: number; height: number } {
  return uprightSize(ctx.width, ctx.height, ctx.orientation);
}

/**
 * Checks an image size a label file declares against the stored and upright sizes. For values
 * 5-8 on a non-square picture the two differ, so the declared size says which grid the labels
 * were drawn on; a contradiction with `ctx.space` is an error.
 *
 * @param declared - the size the file records, in pixels, or `null` when it records none.
 * @param ctx - the image.
 * @param what - how to name the size in messages, e.g. "<size>".
 * @returns warnings (a size matching neither).
 * @throws {ExifFixError} code `'usage'` on a contradiction with `ctx.space`.
 */
export function checkDeclaredSize(declared: { width: number; height: number } | null, ctx: ImageContext, what: string): string[] {
  if (declared === null || ctx.orientation === 1) return [];
  const up = uprightOf(ctx);
  const isStored = declared.width === ctx.width && declared.height === ctx.height;
  const isUpright = declared.width === up.width && declared.height === up.height;
  const size = `${declared.width}x${declared.height}`;
  if (ORIENTATIONS[ctx.orientation].swapsDimensions && ctx.width !== ctx.height) {
    if (isStored && ctx.space === 'displayed') {
      throw new ExifFixError(
        `${what} ${size} is the stored size (the displayed one is ${up.width}x${up.height}), so the labels were drawn on the stored pixels, but --annotations-space is displayed; labels left untouched`,
        'usage',
      );
    }
    if (isUpright && ctx.space === 'stored') {
      throw new ExifFixError(
        `${what} ${size} is the displayed size (the stored one is ${ctx.width}x${ctx.height}), so the labels were drawn on the upright view, but --annotations-space is stored; labels left untouched`,
        'usage',
      );
    }
  }
  if (!isStored && !isUpright) {
    return [`${what} ${size} matches neither the stored size ${ctx.width}x${ctx.height} nor the displayed size ${up.width}x${up.height}`];
  }
  return [];
}

const PLAIN_DECIMAL = /^[+-]?\d+(?:\.(\d*))?$/;

/**
 * Formats `value` in the style of the token it came from: as many decimals as the token had
 * (`0.500000` stays 6 decimals, `12` stays an integer) when that loses nothing beyond float
 * noise (1e-12 relative), else the shortest form; exponent notation gets the shortest form.
 *
 * @param value - the new value.
 * @param token - the original text of the value it derives from.
 */
export function formatLike(value: number, token: string): string {
  const m = PLAIN_DECIMAL.exec(token);
  const v = clean(value);
  if (m) {
    const decimals = m[1]?.length ?? 0;
    const fixed = v.toFixed(decimals);
    // Within float noise of the value (1 - x and swaps never need more decimals than x had).
    if (Math.abs(Number(fixed) - v) <= 1e-12 * Math.max(1, Math.abs(v))) return /^-0(\.0*)?$/.test(fixed) ? fixed.slice(1) : fixed;
  }
  return String(v);
}

/**
 * Parses a number token of a text format (YOLO, VOC): a plain decimal or exponent notation.
 *
 * The message names where the value is but never quotes it: a label file may be a link to a
 * file that is not a label at all (issue 12, item 10), whose content must not reach a log.
 *
 * @param token - the value's text.
 * @param what - where it is, e.g. "line 3, value 2" or "<xmin> in <bndbox> 1".
 * @throws {ExifFixError} code `'corrupt'` "<what> is not a number" when the token is not a finite number.
 */
export function parseNumber(token: string, what: string): number {
  const v = token.trim() === '' ? Number.NaN : Number(token);
  if (!Number.isFinite(v)) throw new ExifFixError(`${what} is not a number`, 'corrupt');
  return v;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
