/**
 * Annotations follow the pixels: transforms YOLO, COCO, Pascal VOC and labelme labels with the
 * images exif-fix normalized (issue 7).
 *
 * Baking the orientation into the pixels moves every pixel; labels drawn on the stored pixel
 * grid (by tools and pipelines that ignore EXIF) must move the same way, while labels drawn on
 * the upright view (by tools that honour the tag, e.g. browsers and labelme) already match the
 * new pixels and only need their recorded image size updated. The caller says which with
 * {@link AnnotationOptions.space}; COCO, VOC and labelme files that record the image size are
 * checked against it.
 *
 * @packageDocumentation
 */
import { constants } from 'node:fs';
import { lstat, open, readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { ExifFixError, invalidParameterMessage } from '../errors.js';
import type { FileResult } from '../report.js';
import { writeAtomic, type FileIdentity } from '../write.js';
import { messageOf, type FileOutcome, type ImageContext } from './common.js';
import { cocoOutputPath, transformCocoDocument } from './coco.js';
import { parseJson, stringifyJson } from './json-text.js';
import { transformLabelme } from './labelme.js';
import { applyRule, LABEL_EXTENSION, LAYOUTS, outputLabelPath, type LayoutRule, type PerImageFormat } from './locate.js';

export { inputRoot } from './locate.js';
import { transformVoc } from './voc.js';
import { transformYolo } from './yolo.js';

export * as geometry from './geometry.js';

/**
 * A label format:
 * - `yolo`: one `.txt` per image, `class cx cy w h` normalized 0-1 (Ultralytics docs), or
 *   `class x1 y1 ... xn yn` polygons, or pose lines with {@link AnnotationOptions.yoloKptShape};
 * - `coco`: one JSON for the dataset, `[x, y, w, h]` 0-based continuous pixels (COCO format docs);
 * - `voc`: one `.xml` per image, 1-based inclusive pixel corners (PASCAL VOC devkit);
 * - `labelme`: one `.json` beside each image, continuous pixel points (labelme `label_file.py`).
 */
export type AnnotationFormat = 'yolo' | 'coco' | 'voc' | 'labelme';

/**
 * Which pixel grid the labels were drawn on:
 * - `stored`: the pixels as stored in the file, ignoring the EXIF tag (OpenCV, PIL without
 *   `exif_transpose`, most training pipelines, labelImg). Geometry is transformed exactly like
 *   the pixels.
 * - `displayed`: the upright view a viewer shows (browsers, labelme, CVAT after upload). Only the
 *   recorded image size changes.
 */
export type AnnotationSpace = 'stored' | 'displayed';

/** Options of {@link transformAnnotations}. */
export interface AnnotationOptions {
  /** The label format. */
  readonly format: AnnotationFormat;
  /** The grid the labels were drawn on; see {@link AnnotationSpace}. Required. */
  readonly space: AnnotationSpace;
  /** The COCO JSON file (relative to `cwd`). Required for `coco`, refused otherwise. */
  readonly coco?: string;
  /**
   * Where to write the COCO output.
   * @default `<out>/<basename of coco>` with `out`, else `coco` itself (rewritten atomically)
   */
  readonly cocoOut?: string;
  /**
   * The image run's output directory; label outputs go to the matching place below it (the
   * label's layout rule applied to the image's output path, else beside the output image).
   * `undefined` means in place: label files are rewritten atomically, only when they change.
   */
  readonly out?: string;
  /** Working directory for relative paths. @default process.cwd() */
  readonly cwd?: string;
  /**
   * YOLO pose keypoint shape `[keypoints, 2 | 3]` (Ultralytics `kpt_shape`). Without it, YOLO
   * lines are boxes or polygons.
   */
  readonly yoloKptShape?: readonly [number, 2 | 3];
  /**
   * Label files processed at once.
   * @default os.availableParallelism()
   */
  readonly concurrency?: number;
  /**
   * The input root of each image, by `FileResult.input`: the directory given, or the static part
   * of the glob (`inputRoot(PlannedFile.source, PlannedFile.relative)`), relative to `cwd` or
   * absolute. Labels are looked for only beside the image or below its root, never above it.
   * @default for each image, `cwd` when the image is inside it, else the image's directory
   */
  readonly roots?: ReadonlyMap<string, string>;
  /**
   * Whether a label file that is a symbolic link, or is reached through a linked directory below
   * the image's root, is followed (as `--follow-symlinks` does for images). Without it such a
   * label is not read and the image's record carries an error.
   * @default false
   */
  readonly followSymlinks?: boolean;
  /**
   * In place: whether a label file with other hard links may be parted from them by its atomic
   * rewrite (see `writeAtomic`). Without it such a label is refused.
   * @default false
   */
  readonly breakHardLinks?: boolean;
  /**
   * Locate, read and transform every label in memory, and write nothing: the check a run makes
   * before writing any image, so that an image whose labels cannot be transformed is not written
   * either (`api.ts`). The records say what would happen.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** One label file of an image. */
export interface AnnotationFile {
  /** The label file read (a path in the form of the image's input path). */
  readonly input: string;
  /** Where it was written (equal to `input` in place). */
  readonly output: string;
  /** How many shapes it holds for this image: YOLO lines, VOC objects, labelme shapes, COCO annotations. */
  readonly shapes: number;
  /** Whether its contents changed (false for byte-identical copies and untouched files). */
  readonly changed: boolean;
}

/** Per image: what happened to its labels. */
export interface AnnotationRecord {
  /** The image's input path (`FileResult.input`). */
  readonly image: string;
  /** Its label files; empty when none was found (an unlabelled image) or on error. */
  readonly files: readonly AnnotationFile[];
  /** Whether geometry was transformed (stored space, image rotated), not only metadata. */
  readonly transformed: boolean;
  /**
   * Why its labels were left untouched, or `null`: an unreadable or malformed label file, a COCO
   * entry (or VOC `<size>`, labelme imageWidth/imageHeight) contradicting the space, a label file
   * shared by two images, a write failure.
   */
  readonly error: string | null;
  /** Warnings, without the image name. */
  readonly warnings: readonly string[];
}

const FORMATS: readonly AnnotationFormat[] = ['yolo', 'coco', 'voc', 'labelme'];
const SPACES: readonly AnnotationSpace[] = ['stored', 'displayed'];
/** Label files larger than this are refused (a label file is text; this guards memory). */
const MAX_LABEL_BYTES = 256 * 1024 * 1024;

/**
 * Checks annotation options before any work, so the CLI can refuse them with exit 2.
 *
 * @param options - see {@link AnnotationOptions}.
 * @throws {ExifFixError} code `'usage'` naming the bad option.
 */
export function validateAnnotationOptions(options: AnnotationOptions): void {
  const usage = (m: string) => new ExifFixError(m, 'usage');
  if (!FORMATS.includes(options.format)) throw usage(invalidParameterMessage('one of yolo, coco, voc, labelme', 'annotations', options.format));
  if (!SPACES.includes(options.space)) throw usage(invalidParameterMessage('one of stored, displayed', 'annotations-space', options.space));
  if (options.format === 'coco' && (typeof options.coco !== 'string' || options.coco === '')) throw usage('Expected --coco <file> with --annotations coco');
  if (options.format !== 'coco' && options.coco !== undefined) throw usage('--coco is only used with --annotations coco');
  if (options.cocoOut !== undefined && options.format !== 'coco') throw usage('--coco-out is only used with --annotations coco');
  if (options.yoloKptShape !== undefined) {
    const [k, d] = options.yoloKptShape;
    if (options.format !== 'yolo') throw usage('a keypoint shape is only used with --annotations yolo');
    if (!Number.isInteger(k) || k < 1 || (d !== 2 && d !== 3)) throw usage(invalidParameterMessage('[keypoints >= 1, 2 or 3]', 'kpt-shape', `[${String(k)}, ${String(d)}]`));
  }
  const c = options.concurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 1)) throw usage(invalidParameterMessage('integer of at least 1', 'concurrency', c));
}

/** The image context of a result, or an error message. */
function contextOf(result: FileResult, space: AnnotationSpace): ImageContext | string {
  // A conversion (`--to`) gives the image a new name, which label files naming it follow.
  const from = path.basename(result.input);
  const to = result.output ? path.basename(result.output) : from;
  const rename = result.action === 'converted' && to !== from ? { from, to } : undefined;
  if (result.orientation === 1) return { orientation: 1, width: result.before?.width ?? 0, height: result.before?.height ?? 0, space, rename };
  const b = result.before;
  if (!b || !(b.width > 0) || !(b.height > 0)) return 'the image run did not record the stored size';
  return { orientation: result.orientation, width: b.width, height: b.height, space, rename };
}

/**
 * Transforms the labels of every image of an image run.
 *
 * For each result that did not fail (and is an image): finds its label file (YOLO, VOC,
 * labelme; see `./locate.ts`) or its entry in the COCO file; transforms the geometry when
 * `space` is `stored` and the image was rotated; updates the recorded image size; writes the
 * label at the matching place below `out`, or rewrites it atomically in place (mode kept, only
 * when it changed). Images with orientation 1 get their labels copied unchanged to `out`, or left
 * untouched in place. The COCO file is read, transformed for all images, and written once.
 *
 * Never throws for a bad label file: that image's record carries the error and its labels are
 * left as they were (and not written to `out`).
 *
 * @param results - the image run's results (`normalize`); `failed` and `skipped` ones are ignored.
 * @param options - see {@link AnnotationOptions}.
 * @returns one record per image processed, in the order of `results`.
 * @throws {ExifFixError} code `'usage'` for invalid options, before any work.
 * @example
 * const results = await normalize(['dataset'], { out: 'fixed' });
 * const records = await transformAnnotations(results, { format: 'yolo', space: 'stored', out: 'fixed' });
 * for (const r of records) if (r.error) console.error(`${r.image}: ${r.error}`);
 */
export async function transformAnnotations(results: readonly FileResult[], options: AnnotationOptions): Promise<AnnotationRecord[]> {
  validateAnnotationOptions(options);
  const images = results.filter((r) => r.action !== 'failed' && r.action !== 'skipped');
  if (options.format === 'coco') return transformCoco(images, options);
  return transformPerImage(images, options, options.format);
}

// ---------------------------------------------------------------------------------------------
// YOLO, VOC, labelme: one file per image

interface Located {
  readonly result: FileResult;
  readonly ctx: ImageContext | string;
  readonly label: string | null;
  readonly rule: LayoutRule | null;
  readonly warnings: string[];
  output: string | null;
  error: string | null;
}

/** What is at a candidate label path: a file, nothing, or a link not to follow. */
type Found = 'file' | 'none' | 'link';

async function transformPerImage(images: readonly FileResult[], options: AnnotationOptions, format: PerImageFormat): Promise<AnnotationRecord[]> {
  const cwd = options.cwd ?? process.cwd();
  const abs = (p: string) => path.resolve(cwd, p);
  const limit = pLimit(options.concurrency ?? os.availableParallelism());
  const ext = LABEL_EXTENSION[format];
  const follow = options.followSymlinks === true;
  const realRoots = new Map<string, Promise<string | null>>();
  const realOf = (dir: string) => {
    let r = realRoots.get(dir);
    if (r === undefined) {
      r = realpath(dir).catch(() => null);
      realRoots.set(dir, r);
    }
    return r;
  };
  /** The root of an image, in the form of its input path. */
  const rootOf = (input: string): string => {
    const given = options.roots?.get(input);
    const root = given !== undefined ? abs(given) : isInside(abs(input), cwd) ? cwd : path.dirname(abs(input));
    return path.isAbsolute(input) ? root : path.relative(cwd, root) || '.';
  };
  /** A regular file reached without links, or through links only when following them. */
  const find = async (file: string, root: string): Promise<Found> => {
    const a = abs(file);
    const l = await lstat(a).catch(() => undefined);
    if (!l) return 'none';
    if (l.isSymbolicLink()) {
      if (!follow) return 'link';
      return stat(a).then((s) => (s.isFile() ? 'file' : 'none'), () => 'none');
    }
    if (!l.isFile()) return 'none';
    if (follow) return 'file';
    // No linked directory between the root (or the label's own directory) and the label.
    const top = isInside(a, abs(root)) ? abs(root) : path.dirname(a);
    const [realTop, realDir] = await Promise.all([realOf(top), realpath(path.dirname(a)).catch(() => null)]);
    if (realTop === null || realDir === null) return 'none';
    return realDir === path.join(realTop, path.relative(top, path.dirname(a))) ? 'file' : 'link';
  };

  // 1. Locate every label file.
  const located: Located[] = await Promise.all(
    images.map((result) =>
      limit(async (): Promise<Located> => {
        const root = rootOf(result.input);
        const existing: Array<{ rule: LayoutRule; file: string; found: Found }> = [];
        const warnings: string[] = [];
        const seen = new Set<string>();
        for (const rule of LAYOUTS[format]) {
          const file = applyRule(result.input, rule, ext, root);
          if (file === null) {
            // Where the rule would look without the root's bound: say so if a file is there.
            const image = abs(result.input);
            const outside = applyRule(image, rule, ext, path.parse(image).root);
            if (outside !== null && !seen.has(outside) && (await find(outside, path.parse(image).root)) !== 'none') {
              seen.add(outside);
              warnings.push(`\`${outside}\` looks like its label file but is outside the input root \`${root}\`; not used (run on the directory that holds both the images and the labels)`);
            }
            continue;
          }
          if (seen.has(abs(file))) continue;
          seen.add(abs(file));
          const found = await find(file, root);
          if (found !== 'none') existing.push({ rule, file, found });
        }
        const first = existing[0];
        warnings.push(...existing.slice(1).map((c) => `\`${c.file}\` also looks like its label file and was left untouched (\`${first.file}\` was used)`));
        const error = first?.found === 'link' ? `its label file \`${first.file}\` is a symbolic link or is reached through one; not followed (use --follow-symlinks)` : null;
        return { result, ctx: contextOf(result, options.space), label: first?.file ?? null, rule: first?.rule ?? null, warnings, output: null, error };
      }),
    ),
  );

  // 2. A label file shared by two images, or two outputs on one path, is an error for each.
  const byLabel = new Map<string, Located[]>();
  for (const l of located) {
    if (l.label === null) continue;
    const key = abs(l.label);
    byLabel.set(key, [...(byLabel.get(key) ?? []), l]);
    l.output = options.out === undefined ? l.label : outputLabelPath(l.result.output ?? l.result.input, options.out, l.rule as LayoutRule, ext);
    if (options.out !== undefined && abs(l.output) === key) l.error = `its label output \`${l.output}\` would overwrite the label file itself`;
  }
  const byOutput = new Map<string, Located[]>();
  for (const l of located) if (l.output !== null) byOutput.set(abs(l.output), [...(byOutput.get(abs(l.output)) ?? []), l]);
  for (const group of byLabel.values()) {
    if (group.length > 1) for (const l of group) l.error = `its label file \`${l.label}\` is also the label file of ${group.filter((o) => o !== l).map((o) => `\`${o.result.input}\``).join(', ')}; left untouched`;
  }
  for (const group of byOutput.values()) {
    if (group.length > 1) for (const l of group) l.error ??= `its label output \`${l.output}\` is also the output of ${group.filter((o) => o !== l).map((o) => `\`${o.result.input}\``).join(', ')}`;
  }

  // 3. Transform and write.
  return Promise.all(located.map((l) => limit(() => processOne(l, options, format, abs))));
}

async function processOne(l: Located, options: AnnotationOptions, format: PerImageFormat, abs: (p: string) => string): Promise<AnnotationRecord> {
  const record = { image: l.result.input, files: [] as AnnotationFile[], transformed: false, error: null as string | null, warnings: l.warnings };
  if (l.label === null || l.output === null) return record;
  if (l.error !== null) return { ...record, error: l.error };
  if (typeof l.ctx === 'string') return { ...record, error: l.ctx };
  const ctx = l.ctx;
  const fail = (reason: string) => ({ ...record, error: `\`${l.label}\`: ${reason}` });
  let read: LabelRead;
  try {
    read = await readLabel(abs(l.label), options.followSymlinks === true);
  } catch (error) {
    return fail(messageOf(error));
  }
  const { bytes, stats, isLink } = read;
  const identity: FileIdentity = { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
  let outcome: FileOutcome;
  try {
    const text = bytes.toString('utf8');
    if (format === 'yolo') outcome = transformYolo(text, ctx, { kptShape: options.yoloKptShape });
    else if (format === 'voc') outcome = transformVoc(text, ctx);
    else outcome = await transformLabelme(text, ctx, () => readFile(abs(options.dryRun ? l.result.input : (l.result.output ?? l.result.input))));
  } catch (error) {
    return fail(messageOf(error));
  }
  const changed = outcome.text !== bytes.toString('utf8');
  const inPlace = options.out === undefined;
  if (inPlace && changed && isLink) return fail('is a symbolic link; not rewritten in place (use an output directory)');
  const kept: string[] = [];
  try {
    if (options.dryRun) {
      // Nothing is written in a dry run.
    } else if (!inPlace) await writeAtomic(abs(l.output), changed ? Buffer.from(outcome.text, 'utf8') : bytes);
    else if (changed) kept.push(...(await writeAtomic(abs(l.output), Buffer.from(outcome.text, 'utf8'), inPlaceOptions(abs(l.label), stats, identity, options))).warnings);
  } catch (error) {
    return fail(messageOf(error));
  }
  return {
    ...record,
    files: [{ input: l.label, output: l.output, shapes: outcome.shapes, changed }],
    transformed: outcome.transformed,
    warnings: [...record.warnings, ...outcome.warnings, ...kept.map((w) => `\`${l.label}\`: ${w}`)],
  };
}

/** Whether `child` is `parent` or below it (both absolute). */
function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

interface LabelRead {
  readonly bytes: Buffer;
  readonly stats: import('node:fs').Stats;
  readonly isLink: boolean;
}

/**
 * Reads a label file: without `follow`, through `O_NOFOLLOW`, so a link put in its place after
 * it was located is not read either. Messages carry the system error, never the content.
 */
async function readLabel(file: string, follow: boolean): Promise<LabelRead> {
  const isLink = follow ? (await lstat(file).catch(() => undefined))?.isSymbolicLink() === true : false;
  let handle;
  try {
    handle = await open(file, follow ? constants.O_RDONLY : constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new Error('is a symbolic link; not followed (use --follow-symlinks)');
    throw new Error(`cannot read: ${code ?? messageOf(error)}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error('not a regular file');
    if (stats.size > MAX_LABEL_BYTES) throw new Error(`larger than ${MAX_LABEL_BYTES} bytes; not a label file`);
    const bytes = await handle.readFile().catch((error: unknown) => {
      throw new Error(`cannot read: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
    });
    return { bytes, stats, isLink };
  } finally {
    await handle.close();
  }
}

/** `writeAtomic` options of an in-place label rewrite: mode, owner, extended attributes kept; mtime new. */
function inPlaceOptions(file: string, stats: import('node:fs').Stats, identity: FileIdentity, options: AnnotationOptions) {
  return {
    mode: stats.mode,
    owner: { uid: stats.uid, gid: stats.gid },
    copyXattrsFrom: file,
    expect: identity,
    breakHardLinks: options.breakHardLinks === true,
  };
}

// ---------------------------------------------------------------------------------------------
// COCO: one file for every image

async function transformCoco(images: readonly FileResult[], options: AnnotationOptions): Promise<AnnotationRecord[]> {
  const cwd = options.cwd ?? process.cwd();
  const coco = options.coco as string;
  const cocoOut = cocoOutputPath(coco, options.out, options.cocoOut);
  const everyone = (error: string): AnnotationRecord[] =>
    images.map((r) => ({ image: r.input, files: [], transformed: false, error, warnings: [] }));

  let read: LabelRead;
  try {
    // The COCO file is named by the user, so a link to it is followed (the in-place rewrite of a
    // link is refused below).
    read = await readLabel(path.resolve(cwd, coco), true);
  } catch (error) {
    const m = messageOf(error);
    return everyone(m.startsWith('cannot read: ') ? `cannot read the COCO file \`${coco}\`: ${m.slice(13)}` : `the COCO file \`${coco}\`: ${m}`);
  }
  const { bytes, stats, isLink } = read;
  const identity: FileIdentity = { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
  let file;
  const prepared = images.map((r) => ({ result: r, ctx: contextOf(r, options.space) }));
  const valid = prepared.filter((p): p is { result: FileResult; ctx: ImageContext } => typeof p.ctx !== 'string');
  let outcomes;
  try {
    file = parseJson(bytes.toString('utf8'));
    outcomes = transformCocoDocument(
      file.value,
      valid.map((p) => ({ absolutePath: path.resolve(cwd, p.result.input), ctx: p.ctx })),
    );
  } catch (error) {
    return everyone(`the COCO file \`${coco}\`: ${messageOf(error)}`);
  }
  const changed = outcomes.some((o) => o.changed && o.error === null);
  const inPlace = path.resolve(cwd, cocoOut) === path.resolve(cwd, coco);
  if (inPlace && changed && isLink) return everyone(`the COCO file \`${coco}\` is a symbolic link; not rewritten in place (give an output path)`);
  const kept: string[] = [];
  try {
    if (options.dryRun) {
      // Nothing is written in a dry run.
    } else if (!inPlace) await writeAtomic(path.resolve(cwd, cocoOut), changed ? Buffer.from(stringifyJson(file.value, file), 'utf8') : bytes);
    else if (changed) {
      const w = await writeAtomic(path.resolve(cwd, cocoOut), Buffer.from(stringifyJson(file.value, file), 'utf8'), inPlaceOptions(path.resolve(cwd, coco), stats, identity, options));
      kept.push(...w.warnings.map((m) => `the COCO file \`${coco}\`: ${m}`));
    }
  } catch (error) {
    return everyone(messageOf(error));
  }
  const byResult = new Map(valid.map((p, i) => [p.result, outcomes[i]]));
  return prepared.map(({ result, ctx }): AnnotationRecord => {
    if (typeof ctx === 'string') return { image: result.input, files: [], transformed: false, error: ctx, warnings: [] };
    const o = byResult.get(result);
    if (!o) return { image: result.input, files: [], transformed: false, error: 'internal: no COCO outcome', warnings: [] };
    if (o.error !== null) return { image: result.input, files: [], transformed: false, error: `the COCO file \`${coco}\`: ${o.error}`, warnings: o.warnings };
    return {
      image: result.input,
      files: o.matched ? [{ input: coco, output: cocoOut, shapes: o.shapes, changed: o.changed }] : [],
      transformed: o.transformed,
      error: null,
      warnings: [...o.warnings, ...kept],
    };
  });
}
