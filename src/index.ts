/**
 * exif-fix: bake the EXIF orientation into the pixels and write orientation 1, losing nothing else.
 *
 * Data flows one way: paths -> {@link discover} (plan) -> per-file job (`job.ts`) ->
 * {@link FileResult} -> summary (`report.ts`). The CLI uses only this module.
 *
 * @packageDocumentation
 */
import { recognise } from './containers/index.js';
import type { ImageFormat, OrientationPlace, OrientationSource } from './containers/types.js';
import { decideOrientation, type Orientation } from './orientation.js';

export { ExifFixError } from './errors.js';
export type { ExifFixErrorCode } from './errors.js';
export type { ImageFormat, OrientationPlace, OrientationSource } from './containers/types.js';
export { ORIENTATIONS, decideOrientation, mapPoint, uprightSize } from './orientation.js';
export type { Orientation, OrientationDecision, OrientationInfo, Transform } from './orientation.js';
export type { Action, FileResult, JsonFileRecord, JsonSummaryRecord, PixelMethod, Summary } from './report.js';
export { EXIT, exitCode, formatSummary, summarize, toJsonRecord } from './report.js';
export { assertInside, discover, inShard } from './discover.js';
export type { DiscoverOptions, Discovery, PlannedFile, Shard } from './discover.js';
export { DEFAULT_LIMIT_INPUT_PIXELS, check, normalize, normalizeBuffer, normalizeFile } from './run.js';
export type { CheckOptions, FileOptions, NormalizeOptions, WalkOptions } from './run.js';
export type { LosslessMode } from './pixels/index.js';
export { transformAnnotations, validateAnnotationOptions } from './annotations/index.js';
export type { AnnotationFile, AnnotationFormat, AnnotationOptions, AnnotationRecord, AnnotationSpace } from './annotations/index.js';

/** What {@link readOrientation} finds in a file. */
export interface OrientationReading {
  readonly format: ImageFormat;
  /** Stored size in pixels (0 for formats without orientation, GIF and BMP). */
  readonly width: number;
  readonly height: number;
  /** The orientation a viewer would apply. */
  readonly orientation: Orientation;
  readonly source: OrientationSource | null;
  readonly places: readonly OrientationPlace[];
  /** Whether some place says something other than 1. */
  readonly needsRewrite: boolean;
  readonly warnings: readonly string[];
}

/**
 * Reads where a file's orientation lives and what it says, from the headers only (no pixel
 * decoding).
 *
 * @param bytes - the whole file.
 * @returns the reading, or `null` when the bytes are not a recognised image.
 * @throws {ExifFixError} code `'corrupt'` or `'unsupported'` (reason without a file name).
 * @example
 * const reading = readOrientation(await fs.readFile('IMG_0001.jpg'));
 * // { format: 'jpeg', orientation: 6, source: 'exif', places: [{ source: 'exif', value: 6 }], ... }
 */
export function readOrientation(bytes: Uint8Array): OrientationReading | null {
  const found = recognise(bytes);
  if (found.kind === 'unknown') return null;
  if (found.kind === 'upright') {
    return { format: found.format, width: 0, height: 0, orientation: 1, source: null, places: [], needsRewrite: false, warnings: [] };
  }
  const info = found.container.read(bytes);
  const decision = decideOrientation(info.places);
  return {
    format: info.format,
    width: info.width,
    height: info.height,
    orientation: decision.orientation,
    source: decision.source,
    places: info.places,
    needsRewrite: decision.needsRewrite,
    warnings: [...info.warnings, ...decision.warnings],
  };
}
