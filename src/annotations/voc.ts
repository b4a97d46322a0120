/**
 * Pascal VOC annotation files (PASCAL VOC devkit, `devkit_doc.pdf` and `VOCreadrecxml.m`; the
 * layout labelImg and CVAT write): one XML `<annotation>` per image with
 * `<size><width/><height/><depth/></size>` and `<object>`s whose `<bndbox>` holds
 * `<xmin/><ymin/><xmax/><ymax/>` as 1-based inclusive pixel corners. Person-layout `<part>`s carry
 * their own `<bndbox>`, and action annotations a `<point><x/><y/></point>` (1-based pixels); both
 * are transformed too.
 *
 * The file is parsed once with saxes (linear time, so no input can make it slow: a value padded
 * with 400 kB of whitespace, or 10^5 unclosed tags, take one pass) and edited as text, value by
 * value at the offsets found, so everything else (attributes, comments, indentation, element
 * order, unknown elements) stays byte for byte. It must therefore be well-formed XML 1.0, as
 * Python's `xml.etree.ElementTree` (which torchvision's `VOCDetection` and mmdetection read VOC
 * with) also requires; a file that is not fails cleanly, its image and labels left untouched.
 */
import { createRequire } from 'node:module';
import type { SaxesParser as SaxesParserType } from 'saxes';
import { ExifFixError } from '../errors.js';
import { checkDeclaredSize, renamed, formatLike, movesGeometry, parseNumber, uprightOf, type FileOutcome, type ImageContext } from './common.js';
import { transformVocBox, mapPixel } from './geometry.js';

/**
 * saxes, loaded with the first VOC file (Node's module cache keeps it): imported up front, it
 * took about 22 ms of every start-up, labels or not.
 */
const requireHere = createRequire(import.meta.url);
const loadSaxes = (): typeof SaxesParserType => (requireHere('saxes') as { SaxesParser: typeof SaxesParserType }).SaxesParser;

/** One element of a VOC file, located in the text (UTF-16 code-unit offsets). */
export interface VocElement {
  /** The tag name as written (VOC names carry no namespace prefix). */
  readonly name: string;
  /** Index of the parent element in the list, or -1 for the root. */
  readonly parent: number;
  /** Offset just after the start tag's `>`. */
  readonly contentStart: number;
  /** Offset of the end tag's `<` (equal to `contentStart` for `<x/>`). */
  contentEnd: number;
  /** Whether the content holds markup (child elements, comments, CDATA, processing instructions). */
  markup: boolean;
  /** The first child element of each name, as an index into the list. */
  readonly children: Map<string, number>;
}

/**
 * Locates every element of an XML document in one pass with saxes (a conforming, non-validating
 * XML 1.0 parser whose `position` is a plain index into the JavaScript string), so values can be
 * replaced in place and every other byte kept. Time and memory are linear in the text's length
 * (saxes is a single-pass state machine; each element is pushed and popped once).
 *
 * @param text - the XML text (a leading BOM is allowed).
 * @returns the elements in document order of their start tags.
 * @throws {ExifFixError} code `'corrupt'` when the text is not well-formed XML, naming the line and
 *   column but never quoting the file's content (a label file may be a link to a secret).
 */
export function locateElements(text: string): VocElement[] {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const SaxesParser = loadSaxes();
  const parser = new SaxesParser({ position: true });
  const elements: VocElement[] = [];
  const stack: number[] = [];
  const top = () => (stack.length > 0 ? elements[stack[stack.length - 1]] : undefined);
  const markup = () => {
    const t = top();
    if (t) t.markup = true;
  };
  parser.on('error', () => {
    throw new ExifFixError(`not well-formed XML (line ${parser.line}, column ${parser.column + 1})`, 'corrupt');
  });
  parser.on('opentag', (tag) => {
    markup();
    const parent = stack.length > 0 ? stack[stack.length - 1] : -1;
    const at = parser.position + bom;
    elements.push({ name: tag.name, parent, contentStart: at, contentEnd: at, markup: false, children: new Map() });
    stack.push(elements.length - 1);
  });
  parser.on('closetag', (tag) => {
    const index = stack.pop() as number;
    const el = elements[index];
    // The end tag is `</name S? >`: its `<` is the last one before the parser's position.
    if (!tag.isSelfClosing) el.contentEnd = text.lastIndexOf('<', parser.position + bom - 1);
    if (el.parent >= 0 && !elements[el.parent].children.has(el.name)) elements[el.parent].children.set(el.name, index);
  });
  parser.on('comment', markup);
  parser.on('cdata', markup);
  parser.on('processinginstruction', markup);
  parser.write(bom ? text.slice(1) : text).close();
  return elements;
}

/** An edit of one value: the content range of a leaf element and its new value. */
interface Edit {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

function readField(text: string, elements: readonly VocElement[], parent: VocElement, name: string, where: string): { value: number; token: string; el: VocElement } {
  const index = parent.children.get(name);
  if (index === undefined) throw new ExifFixError(`${where} has no <${name}>`, 'corrupt');
  const el = elements[index];
  if (el.markup) throw new ExifFixError(`<${name}> in ${where} holds markup, not a number`, 'corrupt');
  const token = text.slice(el.contentStart, el.contentEnd).trim();
  return { value: parseNumber(token, `<${name}> in ${where}`), token, el };
}

/** The edit that puts `value` in `el`, keeping the whitespace around the old value. */
function edit(text: string, el: VocElement, value: string): Edit {
  const raw = text.slice(el.contentStart, el.contentEnd);
  const lead = raw.length - raw.trimStart().length;
  const trail = raw.length - raw.trimEnd().length;
  return { start: el.contentStart + lead, end: el.contentEnd - trail, value };
}

/** Applies non-overlapping edits in one pass. */
function applyEdits(text: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start);
  const parts: string[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(text.slice(at, e.start), e.value);
    at = e.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
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
 * @throws {ExifFixError} code `'corrupt'` when the text is not well-formed XML, there is no
 *   `<annotation>`, a box lacks a corner (a direct child `<xmin>`...) or a value is not a number, or the file holds rotated boxes (`<robndbox>`) or polygons, which
 *   cannot be transformed as boxes; code `'usage'` when `<size>` contradicts the space.
 */
export function transformVoc(text: string, ctx: ImageContext): FileOutcome {
  const elements = locateElements(text);
  if (!elements.some((e) => e.name === 'annotation')) throw new ExifFixError('not a Pascal VOC file: no <annotation> element', 'corrupt');
  const shapes = elements.filter((e) => e.name === 'object').length;
  const warnings: string[] = [];
  const size = elements.find((e) => e.name === 'size');
  let declared: { width: number; height: number } | null = null;
  if (size) declared = { width: readField(text, elements, size, 'width', '<size>').value, height: readField(text, elements, size, 'height', '<size>').value };
  warnings.push(...checkDeclaredSize(declared, ctx, '<size>'));
  // A converted image's new name (`--to`) in <filename> and <path>.
  const edits: Edit[] = [];
  for (const el of elements) {
    if ((el.name !== 'filename' && el.name !== 'path') || el.markup) continue;
    const name = renamed(text.slice(el.contentStart, el.contentEnd).trim(), ctx.rename);
    if (name !== undefined) edits.push(edit(text, el, name));
  }
  if (ctx.orientation === 1) return { text: applyEdits(text, edits), shapes, transformed: false, warnings };

  const move = movesGeometry(ctx);
  if (move) {
    if (elements.some((e) => e.name === 'robndbox')) throw new ExifFixError('holds rotated boxes (<robndbox>), which exif-fix cannot transform', 'corrupt');
    if (elements.some((e) => e.name === 'polygon')) throw new ExifFixError('holds <polygon> elements, which are not Pascal VOC and exif-fix cannot transform', 'corrupt');
    const { orientation: o, width: W, height: H } = ctx;
    const swap = o >= 5;
    let n = 0;
    let p = 0;
    for (const el of elements) {
      if (el.name === 'bndbox') {
        const where = `<bndbox> ${++n}`;
        const xmin = readField(text, elements, el, 'xmin', where);
        const ymin = readField(text, elements, el, 'ymin', where);
        const xmax = readField(text, elements, el, 'xmax', where);
        const ymax = readField(text, elements, el, 'ymax', where);
        const [a, b, c, d] = transformVocBox([xmin.value, ymin.value, xmax.value, ymax.value], W, H, o);
        const tx = swap ? ymin.token : xmin.token;
        const ty = swap ? xmin.token : ymin.token;
        edits.push(edit(text, xmin.el, formatLike(a, tx)), edit(text, ymin.el, formatLike(b, ty)), edit(text, xmax.el, formatLike(c, tx)), edit(text, ymax.el, formatLike(d, ty)));
      } else if (el.name === 'point') {
        const where = `<point> ${++p}`;
        const x = readField(text, elements, el, 'x', where);
        const y = readField(text, elements, el, 'y', where);
        const [nx, ny] = mapPixel(x.value - 1, y.value - 1, W, H, o);
        edits.push(edit(text, x.el, formatLike(nx + 1, swap ? y.token : x.token)), edit(text, y.el, formatLike(ny + 1, swap ? x.token : y.token)));
      }
    }
    const sideways = elements.some((e) => e.name === 'pose' && !e.markup && /^(Left|Right)$/i.test(text.slice(e.contentStart, e.contentEnd).trim()));
    if (sideways) warnings.push('<pose> Left/Right describes the objects as drawn on the stored pixels and was not changed');
  }
  if (size && declared) {
    const up = uprightOf(ctx);
    const w = readField(text, elements, size, 'width', '<size>');
    const h = readField(text, elements, size, 'height', '<size>');
    edits.push(edit(text, w.el, formatLike(up.width, w.token)), edit(text, h.el, formatLike(up.height, h.token)));
  }
  return { text: applyEdits(text, edits), shapes, transformed: move, warnings };
}
