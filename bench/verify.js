// Correctness under speed: every output must be stored upright (orientation 1 or none, upright
// width and height) and show the same picture as its input viewed with its orientation applied.
// The reference is computed from the input's stored pixels (a thumbnail, turned in plain
// JavaScript by the orientation read from the input), not from any tool's output, so that it
// holds for any directory of JPEGs given to the benchmark.

/** Thumbnail size (long side x short side) compared between input and output. */
const LONG = 32;
const SHORT = 24;
/** Mean absolute difference (0-255 per channel) above which an output is wrong. */
export const MAX_DIFFERENCE = 10;

/**
 * Turns a raw RGB thumbnail stored with EXIF `orientation` into the upright picture (docs/DESIGN.md
 * section 1: what a viewer applies to the stored pixels).
 *
 * @param {Buffer} data - width * height * 3 bytes, row-major.
 * @param {number} width
 * @param {number} height
 * @param {number} orientation - 1-8.
 * @returns {{ data: Uint8Array, width: number, height: number }}
 */
export function orientRaw(data, width, height, orientation) {
  const swap = orientation >= 5;
  const w = swap ? height : width;
  const h = swap ? width : height;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // (sx, sy): the stored pixel shown at upright (x, y).
      let sx;
      let sy;
      switch (orientation) {
        case 2: sx = width - 1 - x; sy = y; break;
        case 3: sx = width - 1 - x; sy = height - 1 - y; break;
        case 4: sx = x; sy = height - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = height - 1 - x; break;
        case 7: sx = width - 1 - y; sy = height - 1 - x; break;
        case 8: sx = width - 1 - y; sy = x; break;
        default: sx = x; sy = y;
      }
      const i = (sy * width + sx) * 3;
      const o = (y * w + x) * 3;
      out[o] = data[i];
      out[o + 1] = data[i + 1];
      out[o + 2] = data[i + 2];
    }
  }
  return { data: out, width: w, height: h };
}

async function thumbnail(sharp, file, width, height) {
  // No autoOrient: the stored pixels, as a viewer that ignores the tag would show them.
  return sharp(file, { failOn: 'none' }).resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
}

/**
 * The upright reference of one input: its size once upright and a small upright thumbnail.
 *
 * @param {import('sharp')} sharp
 * @param {string} file
 * @returns {Promise<{ orientation: number, width: number, height: number, thumb: Uint8Array }>}
 */
export async function reference(sharp, file) {
  const meta = await sharp(file).metadata();
  const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  const landscape = meta.width >= meta.height;
  const tw = landscape ? LONG : SHORT;
  const th = landscape ? SHORT : LONG;
  const upright = orientRaw(await thumbnail(sharp, file, tw, th), tw, th, orientation);
  const swap = orientation >= 5;
  return { orientation, width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, thumb: upright.data };
}

/**
 * Checks one output against its input's reference.
 *
 * @param {import('sharp')} sharp
 * @param {string} file - the output.
 * @param {Awaited<ReturnType<typeof reference>>} ref
 * @returns {Promise<string | null>} null when right, else what is wrong.
 */
export async function checkOutput(sharp, file, ref) {
  let meta;
  try {
    meta = await sharp(file).metadata();
  } catch (error) {
    return `unreadable output (${error.message})`;
  }
  if (meta.orientation !== undefined && meta.orientation !== 1) return `orientation ${meta.orientation} left in the output`;
  if (meta.width !== ref.width || meta.height !== ref.height) return `size ${meta.width}x${meta.height}, expected ${ref.width}x${ref.height}`;
  const tw = ref.width >= ref.height ? LONG : SHORT;
  const th = ref.width >= ref.height ? SHORT : LONG;
  const thumb = await thumbnail(sharp, file, tw, th);
  let sum = 0;
  for (let i = 0; i < thumb.length; i++) sum += Math.abs(thumb[i] - ref.thumb[i]);
  const difference = sum / thumb.length;
  return difference > MAX_DIFFERENCE ? `pixels differ from the upright picture (mean difference ${difference.toFixed(1)})` : null;
}
