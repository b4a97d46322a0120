/**
 * exif-fix: bake the EXIF orientation into the pixels and write orientation 1, losing nothing else.
 *
 * Re-exports only. Data flows one way: paths -> `discover` -> `plan.decide` per file -> the job
 * (`job.ts`, bytes in, bytes out) -> `step.ts` (read, write) -> `FileResult` -> `report.ts`.
 * docs/ARCHITECTURE.md has the map. The CLI uses only this module.
 *
 * @packageDocumentation
 */
export { ExifFixError, ERROR_CODES } from './errors.js';
export type { ExifFixErrorCode, Refusal } from './errors.js';
export type { ImageFormat } from './containers/types.js';
export { ORIENTATIONS, ORIENTATION_VALUES, decideOrientation, mapPoint, uprightSize } from './orientation.js';
export type { Orientation, OrientationDecision, OrientationInfo, OrientationPlace, OrientationSource, Transform } from './orientation.js';
export type { Action, FileResult, FixScope, JsonFileRecord, JsonSummaryRecord, LabelCounts, Summary } from './report.js';
export { EXIT, Tally, exitCode, fixCommand, formatCheckSummary, formatSummary, plural, shellQuote, summarize, toJsonRecord } from './report.js';
export { assertInside, discover, inShard } from './discover.js';
export type { DiscoverOptions, Discovery, PlannedFile, Shard } from './discover.js';
export { DEFAULT_LIMIT_INPUT_PIXELS } from './options.js';
export type { CheckOptions, FileOptions, NormalizeOptions, WalkOptions } from './options.js';
export { check, countLabels, normalize, normalizeBuffer, normalizeFile, readOrientation } from './api.js';
export type { OrientationReading } from './api.js';
export { decide } from './plan.js';
export type { Decision, PlanOptions, Verdict } from './plan.js';
export type { LosslessMode, PixelMethod } from './pixels/index.js';
export { transformAnnotations, validateAnnotationOptions } from './annotations/index.js';
export type { AnnotationFile, AnnotationFormat, AnnotationOptions, AnnotationRecord, AnnotationSpace } from './annotations/index.js';
