/**
 * Every option of a run: its type, default and validation, in one place used by both the library
 * (`api.ts`) and the CLI (`cli.ts`), so a value is checked once, with one message. Messages name
 * the option and, in parentheses, its flag: "Expected integer of at least 1 for concurrency
 * (--concurrency) but received 0 of type number".
 */
import os from 'node:os';
import { validateAnnotationOptions, type AnnotationOptions, type AnnotationRecord } from './annotations/index.js';
import type { Shard } from './discover.js';
import { ExifFixError, invalidParameterMessage } from './errors.js';
import type { FileResult } from './report.js';
import type { LosslessMode } from './pixels/index.js';
import type { LosslessPool } from './pixels/lossless-pool.js';
import type { MemoryBudget } from './pool.js';
import { DEFAULT_FAIL_ON, FAIL_ON_LEVELS, type FailOn } from './pixels/reencode.js';
import { CONVERT_EXTENSIONS, type ConvertTarget } from './pixels/heif-convert.js';

/** The default pixel limit: 0x3FFF x 0x3FFF = 268,402,689 pixels (sharp's and libvips' default). */
export const DEFAULT_LIMIT_INPUT_PIXELS = 0x3fff * 0x3fff;

/** Options for one file. */
export interface FileOptions {
  /**
   * Refuse files whose header declares more pixels (width x height) than this, before decoding.
   * `0` removes the limit.
   * @default 268402689
   */
  readonly limitInputPixels?: number;
  /**
   * JPEG lossless transform policy: `auto` (lossless where perfect), `always` (fail otherwise),
   * `never` (always re-encode).
   * @default 'auto'
   */
  readonly lossless?: LosslessMode;
  /**
   * Which damage fails a file that needs new pixels, by sharp's `failOn` levels: `none` (accept
   * best-effort pixels from any damage), `truncated`, `error`, `warning` (fail on any complaint
   * of the decoder). An upright damaged file is copied byte for byte whatever the level.
   * @default 'warning'
   */
  readonly failOn?: FailOn;
  /**
   * Write every HEIF/AVIF input as this format (`--to jpeg|png|webp`): `photo.HEIC` becomes
   * `photo.jpg`, upright, with EXIF, XMP and the colour profile carried (see
   * `pixels/heif-convert.ts`). Other containers keep their own format (a JPEG keeps the lossless
   * path). Without it, a HEIC that needs new pixels fails, naming `--to jpeg`. Default: none.
   */
  readonly to?: ConvertTarget;
}

/** Options shared by {@link NormalizeOptions} and {@link CheckOptions}: what to walk and how. */
export interface WalkOptions {
  /** Working directory for relative paths. @default process.cwd() */
  readonly cwd?: string;
  /** Files processed at once; pixel work is further bounded by `maxMemory`. @default os.availableParallelism() */
  readonly concurrency?: number;
  /**
   * The bytes of decoded pixels in flight at once (`--max-memory`): each file's need is estimated
   * from its header before decoding, and files wait for room; one estimated over the budget runs
   * alone. @default half the machine's memory (`os.totalmem() / 2`)
   */
  readonly maxMemory?: number;
  /** Extra files listed explicitly (`--files-from`); a missing one fails as that file. */
  readonly files?: readonly string[];
  /** Whether a glob pattern matching nothing is a usage error. @default true */
  readonly errorOnUnmatchedPattern?: boolean;
  /** Process only this shard of the sorted plan; see `inShard` in `discover.ts`. */
  readonly shard?: Shard;
  /** Stops scheduling new files when aborted; files already running finish, none is written after. */
  readonly signal?: AbortSignal;
  /** Called with each file's result, in sorted input order, as soon as it and all before it are done. */
  readonly onResult?: (result: FileResult) => void;
  /**
   * With `annotations`: called after the images with one record per image whose labels were
   * looked for (what was written, or why not).
   */
  readonly onLabels?: (record: AnnotationRecord) => void;
  /**
   * Called once the plan is known, with the number of entries in it (for progress bars) and what
   * discovery counted: `skippedSymlinks`, links found by walking and not followed.
   */
  readonly onPlan?: (total: number, info: { readonly skippedSymlinks: number }) => void;
  /**
   * Collect every result for the returned array. A caller that streams results through
   * `onResult` can pass `false` so memory does not grow with the number of files (the returned
   * array is then empty).
   * @default true
   */
  readonly keepResults?: boolean;
  /**
   * Follow symbolic links, the same for walked directories, glob matches and named paths (each
   * real directory walked once, so loops end); in place, the file a link points to is rewritten
   * and the link kept. Default `false`: links found by walking are counted and not processed,
   * and a named link fails.
   * @default false
   */
  readonly followSymlinks?: boolean;
  /**
   * Glob patterns of paths to leave out (`--ignore`, repeatable; `!pattern` among the paths adds
   * one); a pattern without `/` matches a name at any depth, like `.gitignore`. Default: none.
   */
  readonly ignore?: readonly string[];
}

/** Options of `normalize()`. */
export interface NormalizeOptions extends FileOptions, WalkOptions {
  /** Output directory; each output goes to `<out>/<path relative to its input's base>`. */
  readonly out?: string;
  /** Rewrite inputs atomically in place, keeping mode and mtime. Exactly one of `out` and `inPlace`. */
  readonly inPlace?: boolean;
  /**
   * Do everything the run does in memory (read, decide, transform) but write nothing, and report
   * what would be written and how. @default false
   */
  readonly dryRun?: boolean;
  /** Skip files whose output exists and is not older than the input (resuming a run). @default false */
  readonly skipExisting?: boolean;
  /**
   * With `out`: copy the files found by walking that are not images (labels, YAML, CSV) byte for
   * byte to their mirrored place, so the output is a complete dataset (`--copy-other-files`). With
   * `annotations`, that format's label files are written by the label step instead, transformed,
   * with their images. @default false
   */
  readonly copyOtherFiles?: boolean;
  /**
   * In place, rewrite a file that has other hard links (`st_nlink > 1`), parting it from them (the
   * other names keep the old bytes). Default `false`: such a file fails with code `linked`.
   * @default false
   */
  readonly breakHardLinks?: boolean;
  /** Transform each image's label files with it, as one unit (`--annotations`). */
  readonly annotations?: Omit<AnnotationOptions, 'out' | 'cwd' | 'concurrency'>;
}

/** Options of `check()`. */
export interface CheckOptions extends WalkOptions {
  /** See {@link FileOptions.limitInputPixels}. @default 268402689 */
  readonly limitInputPixels?: number;
}

/** The flag of each option, for messages the CLI user reads. */
const FLAGS: Readonly<Record<string, string>> = {
  concurrency: '--concurrency',
  maxMemory: '--max-memory',
  limitInputPixels: '--limit-input-pixels',
  lossless: '--lossless',
  failOn: '--fail-on',
  to: '--to',
  shard: '--shard',
  out: '--out',
  inPlace: '--in-place',
  dryRun: '--dry-run',
  check: '--check',
  files: '--files-from',
  annotations: '--annotations',
};

/** `name (--flag)`, as messages name an option. */
function named(name: string): string {
  return FLAGS[name] ? `${name} (${FLAGS[name]})` : name;
}

function usage(message: string): ExifFixError {
  return new ExifFixError(message, 'usage');
}

/** The validated per-file options. */
export interface ResolvedFileOptions {
  /** Pixel limit; 0 = none. */
  readonly limitInputPixels: number;
  readonly lossless: LosslessMode;
  readonly failOn: FailOn;
  readonly to?: ConvertTarget;
}

/**
 * Validates and fills in the per-file options.
 *
 * @param options - see {@link FileOptions}.
 * @returns every value set.
 * @throws {ExifFixError} code `'usage'` naming the option and the value received.
 */
export function resolveFileOptions(options: FileOptions): ResolvedFileOptions {
  const limitInputPixels = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  if (!Number.isInteger(limitInputPixels) || limitInputPixels < 0) {
    throw usage(invalidParameterMessage('integer of at least 0', named('limitInputPixels'), limitInputPixels));
  }
  const lossless = options.lossless ?? 'auto';
  if (!['auto', 'always', 'never'].includes(lossless)) throw usage(invalidParameterMessage('one of auto, always, never', named('lossless'), lossless));
  const failOn = options.failOn ?? DEFAULT_FAIL_ON;
  if (!FAIL_ON_LEVELS.includes(failOn)) throw usage(invalidParameterMessage(`one of ${FAIL_ON_LEVELS.join(', ')}`, named('failOn'), failOn));
  const to = options.to;
  if (to !== undefined && !(to in CONVERT_EXTENSIONS)) throw usage(invalidParameterMessage('one of jpeg, png, webp', named('to'), to));
  return { limitInputPixels, lossless, failOn, to };
}

/** What a whole run does. */
export type RunMode = 'run' | 'dry-run' | 'check';

/** The validated options of a run over paths. */
export interface Settings extends ResolvedFileOptions {
  readonly mode: RunMode;
  readonly cwd: string;
  readonly concurrency: number;
  /** The memory budget of pixel work, in bytes. */
  readonly maxMemory?: number;
  /** Output directory, or `undefined` in place (and for `check`). */
  readonly out?: string;
  readonly skipExisting: boolean;
  readonly copyOtherFiles?: boolean;
  readonly breakHardLinks?: boolean;
  readonly followSymlinks: boolean;
  readonly signal?: AbortSignal;
  /** Label options, complete, or `undefined`. */
  readonly annotations?: AnnotationOptions;
  /** The run's lossless worker pool (`api.ts` opens it for a run and closes it at the end). */
  readonly pool?: LosslessPool;
  /** The run's memory budget for pixel work. */
  readonly memory?: MemoryBudget;
  /** The real path of the output directory, which every write is proven to stay inside; `undefined` in place. */
  readonly outRoot?: string;
  /** Images not to write because their labels cannot be transformed: the reason, by plan source. */
  readonly labelRefusals?: ReadonlyMap<string, string>;
}

/**
 * Validates the options of a run over paths, before any work.
 *
 * @param paths - the inputs given.
 * @param options - see {@link NormalizeOptions}; `check` runs take only {@link CheckOptions}.
 * @param mode - `run`, `dry-run` (from `options.dryRun`) or `check`.
 * @returns the settings of the run.
 * @throws {ExifFixError} code `'usage'` for no inputs, `out` with `inPlace` or neither, an
 *   invalid number, shard or annotation option.
 */
export function resolveSettings(paths: readonly string[], options: NormalizeOptions, mode: RunMode): Settings {
  // An empty list (--files-from with nothing in it: a pull request that changes no image) is fine.
  if (paths.length === 0 && options.files === undefined) throw usage('Expected at least one path');
  if (mode !== 'check') {
    if (options.inPlace && options.out !== undefined) throw usage(`Use either ${named('out')} or ${named('inPlace')}, not both`);
    if (!options.inPlace && options.out === undefined) throw usage(`Expected ${named('out')} <dir> or ${named('inPlace')}`);
  }
  const concurrency = options.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usage(invalidParameterMessage('integer of at least 1', named('concurrency'), concurrency));
  const maxMemory = options.maxMemory ?? Math.floor(os.totalmem() / 2);
  if (!Number.isInteger(maxMemory) || maxMemory < 1) throw usage(invalidParameterMessage('integer of at least 1 (bytes)', named('maxMemory'), maxMemory));
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count)) {
    throw usage(invalidParameterMessage('K/N with 1 <= K <= N', named('shard'), `${shard.index}/${shard.count}`));
  }
  const cwd = options.cwd ?? process.cwd();
  let annotations: AnnotationOptions | undefined;
  if (options.annotations) {
    if (mode === 'check') throw usage(`${named('annotations')} goes with a run, not with ${named('check')}`);
    annotations = { ...options.annotations, out: options.out, cwd, concurrency };
    validateAnnotationOptions(annotations);
  }
  return {
    ...resolveFileOptions(options),
    mode,
    cwd,
    concurrency,
    maxMemory,
    out: mode === 'check' ? undefined : options.out,
    skipExisting: options.skipExisting ?? false,
    copyOtherFiles: options.copyOtherFiles ?? false,
    breakHardLinks: options.breakHardLinks ?? false,
    followSymlinks: options.followSymlinks ?? false,
    signal: options.signal,
    annotations,
  };
}

/** The choices of a command line that decide what kind of run it is, for {@link resolveMode}. */
export interface ModeChoice {
  readonly check?: boolean;
  readonly dryRun?: boolean;
  readonly inPlace?: boolean;
  readonly out?: string;
  /** `-` (stdin to stdout) is among the paths. */
  readonly pipe?: boolean;
  /** Other paths besides `-`. */
  readonly otherPaths?: boolean;
  readonly filesFrom?: string;
  /** `-0` (NUL-separated list). */
  readonly nul?: boolean;
  readonly shard?: boolean;
  readonly annotations?: boolean;
  /** Options that only go with `annotations` were given (`--annotations-space` among them). */
  readonly annotationDetails?: boolean;
  /** `--annotations-space` was given. */
  readonly annotationsSpace?: string;
  /** `--copy-other-files` was given. */
  readonly copyOtherFiles?: boolean;
}

/**
 * Decides the kind of run from a command line's choices, refusing combinations that contradict
 * each other before any work (prettier's rule: conflicting options are rejected up front).
 *
 * @param c - see {@link ModeChoice}.
 * @returns `pipe` (stdin to stdout), `check`, `dry-run` or `run`.
 * @throws {ExifFixError} code `'usage'` naming the conflicting options.
 */
export function resolveMode(c: ModeChoice): 'pipe' | RunMode {
  if (c.pipe) {
    if (c.otherPaths) throw usage('- (stdin) cannot be combined with other inputs');
    if (c.check || c.inPlace || c.out !== undefined || c.dryRun || c.filesFrom !== undefined || c.shard || c.annotations) {
      throw usage('- (stdin to stdout) takes no check, inPlace, out, dryRun, files, shard or annotations (--check, --in-place, --out, --dry-run, --files-from, --shard, --annotations)');
    }
    return 'pipe';
  }
  // These messages speak of flags: they judge a command line, not library options.
  if (c.nul && c.filesFrom === undefined) throw usage('-0 goes with --files-from');
  if (c.check && c.inPlace) throw usage('--check cannot be combined with --in-place');
  if (c.check && c.dryRun) throw usage('--dry-run cannot be combined with --check');
  if (c.check && c.out !== undefined) throw usage('--check writes nothing; drop --out');
  if (c.out !== undefined && c.inPlace) throw usage('use either --out or --in-place, not both');
  if (!c.check && c.out === undefined && !c.inPlace) throw usage('expected --out <dir> or --in-place');
  if (c.copyOtherFiles && c.out === undefined) throw usage('--copy-other-files goes with --out');
  if (c.annotations && (c.check || c.dryRun)) throw usage('--annotations goes with --out or --in-place, not with -, --check or --dry-run');
  if (c.annotations && !c.annotationsSpace) throw usage('--annotations needs --annotations-space stored|displayed');
  if (!c.annotations && c.annotationDetails) throw usage('--annotations-space, --coco, --coco-out and --yolo-kpt-shape go with --annotations');
  return c.check ? 'check' : c.dryRun ? 'dry-run' : 'run';
}
