#!/usr/bin/env node
// Makes the HEIC fixtures in fixtures/heif/ with a real HEVC encoder: Debian's heif-enc
// (package libheif-examples, libheif 1.15.1, x265), plus exiftool for the metadata and this
// project's own ISOBMFF helpers (dist/containers/isobmff.js) to add irot/imir, which heif-enc
// does not write. Run once, after `npm run build`:
//
//   node scripts/make-heif-fixtures.mjs
//
// The tests read the committed files and never run this script (they need no heif-enc).
// See fixtures/heif/README.md for what each file is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { box, fullBoxBytes, parseMeta, readBoxes, Reader, uints } from '../dist/containers/isobmff.js';
import { heif, orientationFromTransforms } from '../dist/containers/heif.js';
import { ORIENTATIONS } from '../dist/orientation.js';
import { applyOrientation } from '../dist/pixels/sharp-transform.js';

const OUT = path.resolve(import.meta.dirname, '..', 'fixtures', 'heif');
const WIDTH = 64;
const HEIGHT = 48;
/** The upright picture: four quadrants of distinct colours, so each of the 8 orientations looks different. */
export const QUADRANTS = { topLeft: [220, 40, 40], topRight: [40, 180, 60], bottomLeft: [40, 60, 200], bottomRight: [230, 210, 40] };

/** irot/imir (in ipma order) whose effect is each EXIF value; checked against orientationFromTransforms. */
const TRANSFORMS = {
  1: [],
  2: [['imir', 1]],
  3: [['irot', 2]],
  4: [['imir', 0]],
  5: [['irot', 3], ['imir', 1]],
  6: [['irot', 3]],
  7: [['irot', 3], ['imir', 0]],
  8: [['irot', 1]],
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'heif-fixtures-'));
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });

function upright() {
  const samples = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const q = y < HEIGHT / 2 ? (x < WIDTH / 2 ? QUADRANTS.topLeft : QUADRANTS.topRight) : x < WIDTH / 2 ? QUADRANTS.bottomLeft : QUADRANTS.bottomRight;
      for (let c = 0; c < 3; c++) samples[(y * WIDTH + x) * 3 + c] = q[c];
    }
  }
  return sharp(Buffer.from(samples.buffer), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } });
}

/** The picture stored so that a viewer applying `o` shows it upright. */
function stored(o) {
  return applyOrientation(upright(), ORIENTATIONS[o].inverse);
}

const exifArgs = (o) => [
  '-q', '-overwrite_original', '-n',
  `-EXIF:Orientation=${o}`, '-EXIF:Make=exif-fix fixtures', '-EXIF:Model=HEIC Generator',
  '-EXIF:DateTimeOriginal=2026:11:30 12:00:00', '-EXIF:UserComment=heif fixture',
];

/**
 * Adds properties (irot/imir, colr) to the primary item, properties to other items and item
 * references, rebuilding `meta` and moving every file offset after it.
 */
function addProperties(bytes, transforms, extra = [], { itemProps = [], refs = [] } = {}) {
  if (transforms.length === 0 && extra.length === 0 && itemProps.length === 0 && refs.length === 0) return bytes;
  const r = new Reader(bytes);
  const top = readBoxes(r, 0, bytes.length);
  const metaBox = top.find((b) => b.type === 'meta');
  const m = parseMeta(r, metaBox);
  const props = m.properties.map((p) => bytes.subarray(p.offset, p.end));
  const added = [...extra, ...transforms.map(([kind, v]) => (kind === 'irot' ? box('irot', Uint8Array.of(v & 3)) : box('imir', Uint8Array.of(v & 1))))];
  const associations = new Map([...m.associations].map(([id, list]) => [id, list.map((a) => ({ ...a }))]));
  const list = associations.get(m.primary);
  added.forEach((p) => {
    props.push(p);
    list.push({ index: props.length, essential: true });
  });
  for (const [id, p] of itemProps) {
    props.push(p);
    associations.get(id).push({ index: props.length, essential: false });
  }
  const ipma = fullBoxBytes('ipma', 0, 0, uints(4, associations.size),
    ...[...associations].sort(([a], [b]) => a - b).map(([id, l]) => Uint8Array.from([...uints(2, id), l.length, ...l.map((a) => (a.essential ? 0x80 : 0) | a.index)])));
  const iprp = box('iprp', box('ipco', ...props), ipma);
  const iloc = (delta) => fullBoxBytes('iloc', 1, 0, uints(1, 0x44, 0x00), uints(2, m.locations.size),
    ...[...m.locations.values()].flatMap((loc) => [
      uints(2, loc.id), uints(2, loc.constructionMethod, loc.dataReferenceIndex), uints(2, loc.extents.length),
      ...loc.extents.map((e) => uints(4, loc.constructionMethod === 0 && e.offset >= metaBox.end ? e.offset + delta : e.offset, e.length)),
    ]));
  const references = [...m.references, ...refs];
  const iref = fullBoxBytes('iref', 0, 0, ...references.map((ref) => box(ref.type, uints(2, ref.from), uints(2, ref.to.length), uints(2, ...ref.to))));
  const metaWith = (ilocBytes) => fullBoxBytes('meta', 0, 0, ...m.children.map((c) => (c.type === 'iprp' ? iprp : c.type === 'iloc' ? ilocBytes : c.type === 'iref' ? iref : bytes.subarray(c.offset, c.end))));
  const delta = metaWith(iloc(0)).length - (metaBox.end - metaBox.offset);
  const meta = metaWith(iloc(delta));
  return Buffer.concat(top.map((b) => (b === metaBox ? meta : bytes.subarray(b.offset, b.end))));
}

async function heicFrom(image, name, { o, transforms, encArgs = [], png = false, bits = 8, icc, properties = [], second, edit }) {
  let src = path.join(tmp, `${name}.${png ? 'png' : 'jpg'}`);
  if (png) await image.png().toFile(src);
  else await image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toFile(src);
  if (bits === 16) {
    // 8-bit samples v become v * 257 (ImageMagick), so the 10-bit encoding holds the same picture.
    const wide = path.join(tmp, `${name}-16.png`);
    run('convert', [src, '-depth', '16', `PNG48:${wide}`]);
    src = wide;
  }
  if (icc) run('exiftool', ['-q', '-overwrite_original', `-ICC_Profile<=${icc}`, src]);
  // PixelXDimension/PixelYDimension give the stored size, and the IFD1 thumbnail is stored like
  // the main image (as phones write them); a conversion must make both upright.
  const { width, height } = await sharp(src).metadata();
  const thumb = path.join(tmp, `${name}-thumb.jpg`);
  await image.clone().resize(Math.round(width / 4), Math.round(height / 4)).jpeg({ quality: 90 }).toFile(thumb);
  run('exiftool', [...exifArgs(o), `-ExifIFD:ExifImageWidth=${width}`, `-ExifIFD:ExifImageHeight=${height}`, `-ThumbnailImage<=${thumb}`, src]);
  if (!png) run('exiftool', ['-q', '-overwrite_original', '-n', `-XMP-tiff:Orientation=${o}`, '-XMP-dc:Description=exif-fix HEIC fixture', src]);
  const heic = path.join(tmp, `${name}.heic`);
  const more = [];
  if (second) {
    more.push(path.join(tmp, `${name}-second.jpg`));
    await second.jpeg({ quality: 95 }).toFile(more[0]);
  }
  run('heif-enc', ['-q', '90', ...encArgs, '-o', heic, src, ...more]);
  let bytes = readFileSync(heic);
  bytes = addProperties(bytes, transforms, properties, edit ? edit(bytes) : {});
  const info = heif.read(bytes);
  const expected = transforms.length ? o : 1;
  if (orientationFromTransforms(info.transforms) !== expected) throw new Error(`${name}: irot/imir say ${orientationFromTransforms(info.transforms)}, expected ${expected}`);
  writeFileSync(path.join(OUT, `${name}.heic`), bytes);
  console.log(`${name}.heic ${bytes.length} bytes`);
}

for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
  // iPhone-like: irot/imir and EXIF (and XMP) orientation, both saying o.
  const transforms = TRANSFORMS[o].map(([kind, v]) => ({ kind, [kind === 'irot' ? 'angle' : 'axis']: v }));
  if (orientationFromTransforms(transforms) !== o) throw new Error(`TRANSFORMS[${o}] is wrong`);
  await heicFrom(stored(o), `irot-imir_${o}`, { o, transforms: TRANSFORMS[o] });
  // Samsung-like: EXIF (and XMP) orientation o, no irot/imir (heif-enc copies a JPEG's EXIF as it is).
  await heicFrom(stored(o), `exif-only_${o}`, { o, transforms: [] });
}
// Display P3 ICC profile (libvips' built-in "p3", embedded unchanged by exiftool, so the samples
// are the pattern's own values tagged P3; heif-enc stores it as colr prof) and irot for 6.
const p3 = path.join(tmp, 'p3.icc');
writeFileSync(p3, (await sharp(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).withIccProfile('p3').png().toBuffer()).metadata()).icc);
await heicFrom(stored(6), 'icc-p3_6', { o: 6, transforms: TRANSFORMS[6], png: true, icc: p3 });
// nclx colr (ISO/IEC 23008-12 6.5.5) with Display P3 primaries (12), the sRGB transfer (13), the
// BT.601 matrix (6) and full range heif-enc encodes with by default; heif-enc 1.15 writes no colr
// for HEVC, so it is added here. irot for 6.
const nclx = box('colr', Uint8Array.from([...'nclx'].map((c) => c.charCodeAt(0))), uints(2, 12, 13, 6), Uint8Array.of(0x80));
await heicFrom(stored(6), 'nclx-p3_6', { o: 6, transforms: TRANSFORMS[6], png: true, properties: [nclx] });
// 10 bits per sample (from a 16-bit PNG), irot for 6.
await heicFrom(stored(6), '10bit_6', { o: 6, transforms: TRANSFORMS[6], png: true, bits: 16, encArgs: ['-b', '10'] });

// A collection: a second image, and a 16-pixel thumbnail of each (heif-enc -t 16); irot for 6.
const second = upright().negate();
await heicFrom(stored(6), 'collection_6', { o: 6, transforms: TRANSFORMS[6], encArgs: ['-t', '16'], second });
// A depth map: the second image made an auxiliary image of the primary (iref auxl and an auxC
// property with the HEVC depth URN, ISO/IEC 23008-12 section 6.5.8), as phones store portrait depth.
const auxC = fullBoxBytes('auxC', 0, 0, Uint8Array.from([...'urn:mpeg:hevc:2015:auxid:2'].map((c) => c.charCodeAt(0))), Uint8Array.of(0));
await heicFrom(stored(6), 'depth_6', {
  o: 6, transforms: TRANSFORMS[6], second,
  edit: (bytes) => {
    const r = new Reader(bytes);
    const m = parseMeta(r, readBoxes(r, 0, bytes.length).find((b) => b.type === 'meta'));
    const other = m.items.find((i) => (i.type === 'grid' || i.type === 'hvc1') && i.id !== m.primary && !m.references.some((ref) => ref.type === 'dimg' && ref.to.includes(i.id)));
    return { itemProps: [[other.id, auxC]], refs: [{ type: 'auxl', from: other.id, to: [m.primary] }] };
  },
});

rmSync(tmp, { recursive: true, force: true });
