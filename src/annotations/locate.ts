/**
 * Where an image's label file lives, and where its output goes.
 *
 * Layouts (the first rule whose file exists wins):
 * - YOLO `.txt`: the last `images` directory below the input root replaced by `labels` (Ultralytics
 *   `img2label_paths`: `/images/` -> `/labels/`), then `JPEGImages` -> `labels` (darknet's
 *   `replace_image_to_label` for VOC-converted sets), then beside the image;
 * - Pascal VOC `.xml`: `JPEGImages` -> `Annotations` (the VOCdevkit layout), then `images` ->
 *   `Annotations`, then beside the image;
 * - labelme `.json`: beside the image (labelme's default).
 *
 * The label's name is the image's name with its last extension replaced. Only directories strictly
 * below the image's input root are replaced (see {@link applyRule}), so labels are never looked
 * for above the tree the user gave.
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
 * Applies a rule to an image path, within the image's input root: only a directory named
 * `rule.from` strictly below `root` is replaced, never `root` itself nor a directory above it,
 * so a label is never looked for (nor rewritten) outside the tree the user gave (issue 12,
 * item 10: the last `images` of the whole absolute path could be a directory far above the
 * dataset). Run on the dataset root (the directory holding `images/` and `labels/`) to use the
 * Ultralytics and VOCdevkit layouts.
 *
 * @param image - the image path (relative or absolute; the result keeps that form).
 * @param rule - the rule.
 * @param ext - the label extension with its dot.
 * @param root - the image's input root, in the same form as `image` (both absolute, or both
 *   relative to the same directory): the directory given, or the static part of the glob, or
 *   for a file named on its own the working directory (see {@link inputRoot}).
 * @returns the label path, or `null` when the rule does not apply (no such directory below
 *   `root`, or the image is not below `root`). The "beside the image" rule always applies.
 */
export function applyRule(image: string, rule: LayoutRule, ext: string, root: string): string | null {
  const dir = path.dirname(image);
  const name = path.basename(image, path.extname(image)) + ext;
  if (rule.from === null || rule.to === null) return path.join(dir, name);
  const rel = path.relative(root, dir);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
  const segments = rel.split(path.sep);
  const i = segments.lastIndexOf(rule.from);
  if (i < 0) return null;
  segments[i] = rule.to;
  return path.join(root, ...segments, name);
}

/**
 * The input root of a discovered file: its source path less its path relative to that root
 * (`PlannedFile.source` and `PlannedFile.relative` of `discover`), i.e. the directory given, the
 * static part of the glob, or the working directory (`.`) for a file named relative to it.
 *
 * @param source - the file's path as discovered.
 * @param relative - its path relative to its root.
 * @returns the root in the form of `source` (relative or absolute); the file's own directory
 *   when `relative` is not a suffix of `source`.
 */
export function inputRoot(source: string, relative: string): string {
  const s = path.normalize(source);
  const r = path.normalize(relative);
  if (s === r) return '.';
  if (r !== '' && s.endsWith(path.sep + r)) return s.slice(0, s.length - r.length - 1) || path.sep;
  return path.dirname(s);
}

/**
 * Where a label found with `rule` goes for the image's output: the same rule applied to the
 * output's path strictly below the output directory (so `<out>/images/a.jpg` gets
 * `<out>/labels/a.txt`), or beside the output image when the rule does not apply there. Never
 * outside `out`.
 *
 * @param output - the image's output path.
 * @param out - the output directory, in the same form as `output`.
 * @param rule - the rule that found the input label.
 * @param ext - the label extension.
 */
export function outputLabelPath(output: string, out: string, rule: LayoutRule, ext: string): string {
  return applyRule(output, rule, ext, out) ?? (applyRule(output, { from: null, to: null }, ext, out) as string);
}
