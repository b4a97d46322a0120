/**
 * Where an image's label file lives, and where its output goes.
 *
 * Layouts (the first rule whose file exists wins):
 * - YOLO `.txt`: the last `images` directory of the path replaced by `labels` (Ultralytics
 *   `img2label_paths`: `/images/` -> `/labels/`), then `JPEGImages` -> `labels` (darknet's
 *   `replace_image_to_label` for VOC-converted sets), then beside the image;
 * - Pascal VOC `.xml`: `JPEGImages` -> `Annotations` (the VOCdevkit layout), then `images` ->
 *   `Annotations`, then beside the image;
 * - labelme `.json`: beside the image (labelme's default).
 *
 * The label's name is the image's name with its last extension replaced.
 */
import path from 'node:path';

/** A way of finding a label from an image path. */
export interface LayoutRule {
  /** The directory name to replace (its last occurrence), or `null` for "beside the image". */
  readonly from: string | null;
  /** The replacement directory name. */
  readonly to: string | null;
}

/** Label formats that keep one file per image. */
export type PerImageFormat = 'yolo' | 'voc' | 'labelme';

/** The label extension of each per-image format. */
export const LABEL_EXTENSION: Readonly<Record<PerImageFormat, string>> = { yolo: '.txt', voc: '.xml', labelme: '.json' };

/** The rules of each per-image format, in the order they are tried. */
export const LAYOUTS: Readonly<Record<PerImageFormat, readonly LayoutRule[]>> = {
  yolo: [
    { from: 'images', to: 'labels' },
    { from: 'JPEGImages', to: 'labels' },
    { from: null, to: null },
  ],
  voc: [
    { from: 'JPEGImages', to: 'Annotations' },
    { from: 'images', to: 'Annotations' },
    { from: null, to: null },
  ],
  labelme: [{ from: null, to: null }],
};

/**
 * Applies a rule to an image path.
 *
 * @param image - the image path (relative or absolute; the result keeps that form).
 * @param rule - the rule.
 * @param ext - the label extension with its dot.
 * @returns the label path, or `null` when the rule does not apply (no such directory).
 */
export function applyRule(image: string, rule: LayoutRule, ext: string): string | null {
  const dir = path.dirname(image);
  const name = path.basename(image, path.extname(image)) + ext;
  if (rule.from === null || rule.to === null) return path.join(dir, name);
  const segments = dir.split(path.sep);
  const i = segments.lastIndexOf(rule.from);
  if (i < 0) return null;
  segments[i] = rule.to;
  return path.join(segments.join(path.sep) || path.sep, name);
}

/**
 * Where a label found with `rule` goes for the image's output: the same rule applied to the
 * output's path below the output directory (so `<out>/images/a.jpg` gets `<out>/labels/a.txt`),
 * or beside the output image when the rule does not apply there. Never outside `out`.
 *
 * @param output - the image's output path.
 * @param out - the output directory.
 * @param rule - the rule that found the input label.
 * @param ext - the label extension.
 */
export function outputLabelPath(output: string, out: string, rule: LayoutRule, ext: string): string {
  const rel = path.relative(out, output);
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  if (inside) {
    const mapped = applyRule(rel, rule, ext);
    if (mapped !== null) return path.join(out, mapped);
  }
  return applyRule(output, { from: null, to: null }, ext) as string;
}
