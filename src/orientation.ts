/**
 * The eight EXIF orientations as data (EXIF 2.32, tag 0x0112 in IFD0; DESIGN.md section 1).
 *
 * Each value says how a viewer must transform the *stored* pixels to show the picture upright.
 * Normalizing applies that transform to the pixels and writes 1.
 */

import type { OrientationPlace, OrientationSource } from './containers/types.js';

/** An EXIF orientation value, 1 (upright) to 8. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The geometric operation that makes the stored pixels upright. */
export type Transform =
  | 'none'
  | 'flip-horizontal'
  | 'rotate-180'
  | 'flip-vertical'
  | 'transpose'
  | 'rotate-90'
  | 'transverse'
  | 'rotate-270';

/** One row of the table in DESIGN.md section 1. */
export interface OrientationInfo {
  /** The EXIF value. */
  readonly orientation: Orientation;
  /** What a viewer applies to the stored pixels. Rotations are clockwise. */
  readonly transform: Transform;
  /** Whether width and height swap (values 5-8). */
  readonly swapsDimensions: boolean;
  /** Whether the transform mirrors (values 2, 4, 5, 7). */
  readonly mirrors: boolean;
  /** The value whose transform undoes this one. */
  readonly inverse: Orientation;
}

/** The table of DESIGN.md section 1, indexed by orientation value. */
export const ORIENTATIONS: Readonly<Record<Orientation, OrientationInfo>> = {
  1: { orientation: 1, transform: 'none', swapsDimensions: false, mirrors: false, inverse: 1 },
  2: { orientation: 2, transform: 'flip-horizontal', swapsDimensions: false, mirrors: true, inverse: 2 },
  3: { orientation: 3, transform: 'rotate-180', swapsDimensions: false, mirrors: false, inverse: 3 },
  4: { orientation: 4, transform: 'flip-vertical', swapsDimensions: false, mirrors: true, inverse: 4 },
  5: { orientation: 5, transform: 'transpose', swapsDimensions: true, mirrors: true, inverse: 5 },
  6: { orientation: 6, transform: 'rotate-90', swapsDimensions: true, mirrors: false, inverse: 8 },
  7: { orientation: 7, transform: 'transverse', swapsDimensions: true, mirrors: true, inverse: 7 },
  8: { orientation: 8, transform: 'rotate-270', swapsDimensions: true, mirrors: false, inverse: 6 },
};

/**
 * Whether `value` is a valid EXIF orientation (an integer 1-8).
 *
 * @param value - any value read from a file.
 */
export function isOrientation(value: unknown): value is Orientation {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8;
}

/**
 * The pixel size after normalizing.
 *
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the value being applied.
 * @returns the upright `{ width, height }` in pixels (swapped for 5-8).
 */
export function uprightSize(
  width: number,
  height: number,
  orientation: Orientation,
): { width: number; height: number } {
  return ORIENTATIONS[orientation].swapsDimensions ? { width: height, height: width } : { width, height };
}

/**
 * Maps a point in continuous pixel coordinates (`[0, W] x [0, H]`, pixel `i` covering
 * `[i, i + 1)`) to the upright picture.
 *
 * @param x - horizontal position in the stored picture, pixels (may be fractional).
 * @param y - vertical position in the stored picture, pixels.
 * @param width - stored width in pixels (the extent of `x`).
 * @param height - stored height in pixels (the extent of `y`).
 * @param orientation - the EXIF value being applied (1-8).
 * @returns `[x, y]` in the upright picture, continuous pixels.
 * @example
 * mapContinuous(0, 0, 45, 29, 6); // [29, 0]: the stored top-left corner becomes the top-right one
 */
export function mapContinuous(x: number, y: number, width: number, height: number, orientation: Orientation): [number, number] {
  switch (orientation) {
    case 1:
      return [x, y];
    case 2:
      return [width - x, y];
    case 3:
      return [width - x, height - y];
    case 4:
      return [x, height - y];
    case 5:
      return [y, x];
    case 6:
      return [height - y, x];
    case 7:
      return [height - y, width - x];
    case 8:
      return [y, width - x];
  }
}

/**
 * Maps a stored pixel position to its position in the upright picture: a pixel index lies in
 * `[0, W - 1]`, so this is {@link mapContinuous} over that extent.
 * Used to build reference images in tests and to transform thumbnails and labels.
 *
 * @param x - column in the stored image, 0-based pixels.
 * @param y - row in the stored image, 0-based pixels.
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param orientation - the value being applied.
 * @returns `[x, y]` in the upright image.
 */
export function mapPoint(
  x: number,
  y: number,
  width: number,
  height: number,
  orientation: Orientation,
): [number, number] {
  return mapContinuous(x, y, width - 1, height - 1, orientation);
}

/** Where each kind of place ranks when places disagree: the authoritative one first. */
const PRIORITY: readonly OrientationSource[] = ['irot-imir', 'tiff', 'exif', 'exif-raw-profile', 'xmp'];

const SOURCE_NAMES: Readonly<Record<OrientationSource, string>> = {
  'irot-imir': 'irot/imir',
  tiff: 'the TIFF Orientation tag',
  exif: 'EXIF IFD0',
  'exif-raw-profile': 'the PNG raw EXIF profile',
  xmp: 'XMP tiff:Orientation',
};

/** The orientation a file asks for, decided from every place that holds one. */
export interface OrientationDecision {
  /** The value to apply (1 when no place holds a valid value). */
  readonly orientation: Orientation;
  /** The place the value came from, or `null` when no place holds one. */
  readonly source: OrientationSource | null;
  /** Whether any place says something other than 1, so the file must be rewritten. */
  readonly needsRewrite: boolean;
  /** Disagreements and invalid values, without the file name. */
  readonly warnings: readonly string[];
}

/**
 * Decides which orientation a file asks for. The authoritative place wins: irot/imir for HEIF,
 * the tag itself for TIFF, EXIF IFD0 over XMP elsewhere (as browsers and Pillow do; DESIGN.md
 * section 2), with a warning when places disagree. XMP alone counts. A value outside 1-8 means
 * upright, with a warning, and is still rewritten as 1 (DESIGN.md section 1).
 *
 * @param places - every place found in the file.
 */
export function decideOrientation(places: readonly OrientationPlace[]): OrientationDecision {
  const warnings: string[] = [];
  const winner = PRIORITY.map((s) => places.find((p) => p.source === s)).find((p) => p !== undefined);
  if (!winner) return { orientation: 1, source: null, needsRewrite: false, warnings };
  let orientation: Orientation = 1;
  if (isOrientation(winner.value)) orientation = winner.value;
  else warnings.push(`orientation ${String(winner.value)} in ${SOURCE_NAMES[winner.source]} is outside 1-8; treated as 1 (upright)`);
  for (const p of places) {
    if (p !== winner && p.value !== winner.value) {
      warnings.push(`${SOURCE_NAMES[p.source]} says ${String(p.value)} but ${SOURCE_NAMES[winner.source]} says ${String(winner.value)}; ${SOURCE_NAMES[winner.source]} wins`);
    }
  }
  return { orientation, source: winner.source, needsRewrite: places.some((p) => p.value !== 1), warnings };
}
