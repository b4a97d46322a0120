/**
 * Pascal VOC annotation files (PASCAL VOC devkit, `devkit_doc.pdf` and `VOCreadrecxml.m`; the
 * layout labelImg and CVAT write): one XML `<annotation>` per image with
 * `<size><width/><height/><depth/></size>` and `<object>`s whose `<bndbox>` holds
 * `<xmin/><ymin/><xmax/><ymax/>` as 1-based inclusive pixel corners. Person-layout `<part>`s carry
 * their own `<bndbox>`, and action annotations a `<point><x/><y/></point>` (1-based pixels); both
 * are transformed too.
 *
 * The file is edited as text, value by value, so everything else (attributes, comments,
 * indentation, element order, unknown elements) stays byte for byte.
 */
import { ExifFixError } from '../errors.js';
import { checkDeclaredSize, formatLike, movesGeometry, parseNumber, uprightOf, type FileOutcome, type ImageContext } from './common.js';
import { transformVocBox, mapPixel } from './geometry.js';

const BNDBOX = /(<bndbox(?:\s[^>]*)?>)([\s\S]*?)(<\/bndbox\s*>)/g;
const POINT = /(<point(?:\s[^>]*)?>)([\s\S]*?)(<\/point\s*>)/g;
const SIZE = /(<size(?:\s[^>]*)?>)([\s\S]*?)(<\/size\s*>)/;

function field(block: string, name: string): RegExpExecArray | null {
  return new RegExp(`(<${name}(?:\\s[^>]*)?>)([^<]*)(</${name}\\s*>)`).exec(block);
}

function setFields(block: string, values: Record<string, string>): string {
  let out = block;
  for (const [name, value] of Object.entries(values)) {
    out = out.replace(new RegExp(`(<${name}(?:\\s[^>]*)?>)([^<]*)(</${name}\\s*>)`), (_m, open: string, old: string, close: string) => {
      const lead = /^\s*/.exec(old)?.[0] ?? '';
      const trail = /\s*$/.exec(old)?.[0] ?? '';
      return `${open}${lead}${value}${trail}${close}`;
    });
  }
  return out;
}

function readField(block: string, name: string, where: string): { value: number; token: string } {
  const m = field(block, name);
  if (!m) throw new ExifFixError(`${where} has no <${name}>`, 'corrupt');
  const token = m[2].trim();
  return { value: parseNumber(token, `<${name}> in ${where}`), token };
}

/**
 * Transforms a Pascal VOC XML file for one image: in stored space every `<bndbox>` and `<point>`
 * moves with the pixels; in both spaces `<size>` gets the upright width and height.
 *
 * `<pose>` (Left, Right, Frontal, Rear) describes the object as seen in the picture the labels
 * were drawn on and is kept, with a warning when a mirror or rotation may have changed it.
 *
 * @param text - the XML text.
 * @param ctx - the image (orientation, stored size, space).
 * @returns the new text, the number of `<object>`s, warnings.
 * @throws {ExifFixError} code `'corrupt'` when there is no `<annotation>`, a box lacks a corner or
 *   a value is not a number, or the file holds rotated boxes (`<robndbox>`) or polygons, which
 *   cannot be transformed as boxes; code `'usage'` when `<size>` contradicts the space.
 */
export function transformVoc(text: string, ctx: ImageContext): FileOutcome {
  if (!/<annotation[\s>]/.test(text)) throw new ExifFixError('not a Pascal VOC file: no <annotation> element', 'corrupt');
  const shapes = (text.match(/<object[\s>]/g) ?? []).length;
  const warnings: string[] = [];
  const sizeMatch = SIZE.exec(text);
  let declared: { width: number; height: number } | null = null;
  if (sizeMatch) {
    declared = { width: readField(sizeMatch[2], 'width', '<size>').value, height: readField(sizeMatch[2], 'height', '<size>').value };
  }
  warnings.push(...checkDeclaredSize(declared, ctx, '<size>'));
  if (ctx.orientation === 1) return { text, shapes, transformed: false, warnings };

  let out = text;
  const move = movesGeometry(ctx);
  if (move) {
    if (/<robndbox[\s>]/.test(text)) throw new ExifFixError('holds rotated boxes (<robndbox>), which exif-fix cannot transform', 'corrupt');
    if (/<polygon[\s>]/.test(text)) throw new ExifFixError('holds <polygon> elements, which are not Pascal VOC and exif-fix cannot transform', 'corrupt');
    const { orientation: o, width: W, height: H } = ctx;
    let n = 0;
    out = out.replace(BNDBOX, (_whole, open: string, inner: string, close: string) => {
      n++;
      const where = `<bndbox> ${n}`;
      const xmin = readField(inner, 'xmin', where);
      const ymin = readField(inner, 'ymin', where);
      const xmax = readField(inner, 'xmax', where);
      const ymax = readField(inner, 'ymax', where);
      const [a, b, c, d] = transformVocBox([xmin.value, ymin.value, xmax.value, ymax.value], W, H, o);
      const swap = o >= 5;
      const tx = swap ? ymin.token : xmin.token;
      const ty = swap ? xmin.token : ymin.token;
      return open + setFields(inner, { xmin: formatLike(a, tx), ymin: formatLike(b, ty), xmax: formatLike(c, tx), ymax: formatLike(d, ty) }) + close;
    });
    let p = 0;
    out = out.replace(POINT, (_whole, open: string, inner: string, close: string) => {
      p++;
      const where = `<point> ${p}`;
      const x = readField(inner, 'x', where);
      const y = readField(inner, 'y', where);
      const [nx, ny] = mapPixel(x.value - 1, y.value - 1, W, H, o);
      const swap = o >= 5;
      return open + setFields(inner, { x: formatLike(nx + 1, swap ? y.token : x.token), y: formatLike(ny + 1, swap ? x.token : y.token) }) + close;
    });
    if (/<pose>\s*(Left|Right)\s*<\/pose>/i.test(text)) {
      warnings.push('<pose> Left/Right describes the objects as drawn on the stored pixels and was not changed');
    }
  }
  if (sizeMatch && declared) {
    const up = uprightOf(ctx);
    const wTok = readField(sizeMatch[2], 'width', '<size>').token;
    const hTok = readField(sizeMatch[2], 'height', '<size>').token;
    const inner = setFields(sizeMatch[2], { width: formatLike(up.width, wTok), height: formatLike(up.height, hTok) });
    out = out.replace(SIZE, (_whole, open: string, _old: string, close: string) => open + inner + close);
  }
  return { text: out, shapes, transformed: move, warnings };
}
