/**
 * The eight EXIF orientations as data (EXIF 2.32, tag 0x0112 in IFD0; docs/DESIGN.md section 1).
 *
 * Each value says how a viewer must transform the *stored* pixels to show the picture upright.
 * Normalizing applies that transform to the pixels and writes 1. One table, {@link GEOMETRY},
 * says what each value does to a point; everything else (width/height swaps, mirroring,
 * inverses, point mapping) is derived from it.
 */

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

/**
 * Where an orientation value was found (docs/DESIGN.md section 2):
 * - `exif`: EXIF IFD0 tag 0x0112 (JPEG APP1, PNG `eXIf`, WebP `EXIF`, the HEIF EXIF item);
 * - `exif-ifd1`: EXIF IFD1 tag 0x0112, the orientation of the thumbnail's own pixels;
 * - `exif-raw-profile`: EXIF in ImageMagick's PNG text chunk "Raw profile type exif";
 * - `xmp`: XMP `tiff:Orientation`;
 * - `tiff`: tag 0x0112 of a TIFF file's first IFD;
 * - `irot-imir`: the HEIF/AVIF item properties `irot` and `imir` (ISO/IEC 23008-12 section 6.5.10/6.5.12).
 */
export type OrientationSource = 'exif' | 'exif-ifd1' | 'exif-raw-profile' | 'xmp' | 'tiff' | 'irot-imir';

/** One place in a file that holds an orientation value. */
export interface OrientationPlace {
  readonly source: OrientationSource;
  /** The raw value found; may be outside 1-8 (such values mean upright). */
  readonly value: number;
}

/**
 * What one orientation does to a stored point `(x, y)` in a `W x H` picture: first the axes are
 * swapped when `swap` (giving a `H x W` picture), then the new x is mirrored when `flipX`
 * (`x -> W' - x`) and the new y when `flipY`.
 */
interface Geometry {
  readonly transform: Transform;
  readonly swap: boolean;
  readonly flipX: boolean;
  readonly flipY: boolean;
}

/** The one source table: docs/DESIGN.md section 1, as geometry. Rotations are clockwise. */
const GEOMETRY: Readonly<Record<Orientation, Geometry>> = {
  1: { transform: 'none', swap: false, flipX: false, flipY: false },
  2: { transform: 'flip-horizontal', swap: false, flipX: true, flipY: false },
  3: { transform: 'rotate-180', swap: false, flipX: true, flipY: true },
  4: { transform: 'flip-vertical', swap: false, flipX: false, flipY: true },
  5: { transform: 'transpose', swap: true, flipX: false, flipY: false },
  6: { transform: 'rotate-90', swap: true, flipX: true, flipY: false },
  7: { transform: 'transverse', swap: true, flipX: true, flipY: true },
  8: { transform: 'rotate-270', swap: true, flipX: false, flipY: true },
};

/** The orientation values, 1 to 8. */
export const ORIENTATION_VALUES: readonly Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

/** One row of the table in docs/DESIGN.md section 1, derived from the geometry. */
export interface OrientationInfo {
  /** The EXIF value. */
  readonly orientation: Orientation;
  /** What a viewer applies to the stored pixels. Rotations are clockwise. */
  readonly transform: Transform;
  /** Whether width and height swap (values 5-8). */
  readonly swapsDimensions: boolean;
  /** Whether the transform mirrors (values 2, 4, 5, 7): an odd number of reflections. */
  readonly mirrors: boolean;
  /** The value whose transform undoes this one. */
  readonly inverse: Orientation;
}

function valueOf(g: Pick<Geometry, 'swap' | 'flipX' | 'flipY'>): Orientation {
  return ORIENTATION_VALUES.find((o) => GEOMETRY[o].swap === g.swap && GEOMETRY[o].flipX === g.flipX && GEOMETRY[o].flipY === g.flipY) as Orientation;
}

function deriveInfo(orientation: Orientation): OrientationInfo {
  const g = GEOMETRY[orientation];
  // Without a swap every flip is its own inverse; with one, undoing it swaps back, so the flip of
  // the new x becomes the flip of the old y and the other way round.
  const inverse = g.swap ? valueOf({ swap: true, flipX: g.flipY, flipY: g.flipX }) : orientation;
  return { orientation, transform: g.transform, swapsDimensions: g.swap, mirrors: (Number(g.swap) + Number(g.flipX) + Number(g.flipY)) % 2 === 1, inverse };
}

/** The table of docs/DESIGN.md section 1, indexed by orientation value, derived from {@link GEOMETRY}. */
export const ORIENTATIONS: Readonly<Record<Orientation, OrientationInfo>> = Object.fromEntries(
  ORIENTATION_VALUES.map((o) => [o, deriveInfo(o)]),
) as unknown as Record<Orientation, OrientationInfo>;

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
  const g = GEOMETRY[orientation];
  const [u, v, w, h] = g.swap ? [y, x, height, width] : [x, y, width, height];
  return [g.flipX ? w - u : u, g.flipY ? h - v : v];
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
/** IFD1's value describes the thumbnail only, so it never decides the image's orientation. */
const PRIORITY: readonly OrientationSource[] = ['irot-imir', 'tiff', 'exif', 'exif-raw-profile', 'xmp'];

const SOURCE_NAMES: Readonly<Record<OrientationSource, string>> = {
  'irot-imir': 'irot/imir',
  'exif-ifd1': 'EXIF IFD1 (the thumbnail)',
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
  /**
   * Whether some place holds a valid value other than 1, so some reader shows the picture (or its
   * thumbnail) transformed: what `--check` lists. A value outside 1-8 alone means upright to every
   * reader; the run still writes 1 there, but the file is not listed.
   */
  readonly needsFix: boolean;
  /** Disagreements and invalid values, without the file name. */
  readonly warnings: readonly string[];
}

/**
 * Decides which orientation a file asks for. The authoritative place wins: irot/imir for HEIF,
 * the tag itself for TIFF, EXIF IFD0 over XMP elsewhere (as browsers and Pillow do;
 * docs/DESIGN.md section 2), with a warning when places disagree. XMP alone counts. A value outside 1-8 means
 * upright, with a warning, and is still rewritten as 1 (docs/DESIGN.md section 1).
 *
 * @param places - every place found in the file.
 */
export function decideOrientation(places: readonly OrientationPlace[]): OrientationDecision {
  const warnings: string[] = [];
  const needsRewrite = places.some((p) => p.value !== 1);
  const needsFix = places.some((p) => p.value !== 1 && isOrientation(p.value));
  const winner = PRIORITY.map((s) => places.find((p) => p.source === s)).find((p) => p !== undefined);
  if (!winner) return { orientation: 1, source: null, needsRewrite, needsFix, warnings };
  let orientation: Orientation = 1;
  if (isOrientation(winner.value)) orientation = winner.value;
  else warnings.push(`orientation ${String(winner.value)} in ${SOURCE_NAMES[winner.source]} is outside 1-8; treated as 1 (upright)`);
  for (const p of places) {
    if (p !== winner && p.source !== 'exif-ifd1' && p.value !== winner.value) {
      warnings.push(`${SOURCE_NAMES[p.source]} says ${String(p.value)} but ${SOURCE_NAMES[winner.source]} says ${String(winner.value)}; ${SOURCE_NAMES[winner.source]} wins`);
    }
  }
  return { orientation, source: winner.source, needsRewrite, needsFix, warnings };
}
