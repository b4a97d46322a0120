import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orientationFromTransforms, type HeifTransform } from '../src/containers/heif.js';
import { normalizeFile, readOrientation } from '../src/index.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'orientation');
const HEIC_FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'heif');
const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
const SETS = [
  { name: 'avif', ext: 'avif', highBitDepth: 0, subsampled: 0 },
  { name: 'avif-10bit-420', ext: 'AVIF', highBitDepth: 1, subsampled: 1 },
] as const;
type SetSpec = (typeof SETS)[number];
const fixture = (set: SetSpec, o: number) => path.join(FIXTURES, set.name, `${set.name}_${o}.${set.ext}`);

// ---- an independent, minimal box walk (ISO/IEC 14496-12 section 4.2, 23008-12 section 9.3) ----

interface TestBox {
  type: string;
  start: number;
  payload: number;
  end: number;
}

function boxes(buf: Buffer, start: number, end: number): TestBox[] {
  const out: TestBox[] = [];
  for (let p = start; p + 8 <= end; ) {
    const size = buf.readUInt32BE(p);
    if (size < 8) break;
    out.push({ type: buf.toString('latin1', p + 4, p + 8), start: p, payload: p + 8, end: p + size });
    p += size;
  }
  return out;
}

/** The primary item's properties in ipma order, and the meta box's parts. */
function primaryProperties(buf: Buffer) {
  const meta = boxes(buf, 0, buf.length).find((b) => b.type === 'meta') as TestBox;
  const inMeta = boxes(buf, meta.payload + 4, meta.end);
  const find = (t: string) => inMeta.find((b) => b.type === t) as TestBox;
  const primary = buf.readUInt16BE(find('pitm').payload + 4);
  const iprp = find('iprp');
  const [ipco, ipma] = boxes(buf, iprp.payload, iprp.end);
  const props = boxes(buf, ipco.payload, ipco.end);
  const flags = buf.readUIntBE(ipma.payload + 1, 3);
  const wide = buf[ipma.payload] >= 1;
  let p = ipma.payload + 8;
  for (let i = 0, n = buf.readUInt32BE(ipma.payload + 4); i < n; i++) {
    const id = wide ? buf.readUInt32BE(p) : buf.readUInt16BE(p);
    p += wide ? 4 : 2;
    const count = buf[p++];
    const indices: number[] = [];
    for (let k = 0; k < count; k++) {
      indices.push(flags & 1 ? buf.readUInt16BE(p) & 0x7fff : buf[p] & 0x7f);
      p += flags & 1 ? 2 : 1;
    }
    if (id === primary) return { props: indices.map((k) => props[k - 1]), ipmaEntry: { id, indicesAt: p - count }, inMeta };
  }
  return { props: [], ipmaEntry: undefined, inMeta };
}

function transformNames(buf: Buffer): string[] {
  return primaryProperties(buf)
    .props.filter((b) => b.type === 'irot' || b.type === 'imir')
    .map((b) => `${b.type}${buf[b.payload] & (b.type === 'irot' ? 3 : 1)}`);
}

async function rgb(bytes: Uint8Array | Buffer) {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function meanAbsoluteDifference(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Rewrites an AVIF as if it were HEVC-coded HEIC: ftyp brands, item type av01 -> hvc1, av1C -> hvcC. */
function asHeic(avif: Buffer): Buffer {
  const out = Buffer.from(avif);
  const ftyp = boxes(out, 0, out.length)[0];
  out.write('heic', ftyp.payload, 'latin1');
  for (let p = ftyp.payload + 8; p + 4 <= ftyp.end; p += 4) if (out.toString('latin1', p, p + 4) === 'avif') out.write('heic', p, 'latin1');
  let at = out.indexOf('av01', 0, 'latin1');
  while (at >= 0) {
    out.write('hvc1', at, 'latin1');
    at = out.indexOf('av01', at + 4, 'latin1');
  }
  const av1C = out.indexOf('av1C', 0, 'latin1');
  out.write('hvcC', av1C, 'latin1');
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-heif-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('irot/imir to EXIF orientation', () => {
  const irot = (angle: number): HeifTransform => ({ kind: 'irot', angle });
  const imir = (axis: number): HeifTransform => ({ kind: 'imir', axis });

  it('maps what sharp writes for each value back to that value', () => {
    expect(orientationFromTransforms([])).toBe(1);
    expect(orientationFromTransforms([imir(1)])).toBe(2);
    expect(orientationFromTransforms([irot(2)])).toBe(3);
    expect(orientationFromTransforms([imir(0)])).toBe(4);
    expect(orientationFromTransforms([irot(3), imir(1)])).toBe(5);
    expect(orientationFromTransforms([irot(3)])).toBe(6);
    expect(orientationFromTransforms([irot(3), imir(0)])).toBe(7);
    expect(orientationFromTransforms([irot(1)])).toBe(8);
  });

  it('applies the properties in ipma order', () => {
    expect(orientationFromTransforms([imir(1), irot(3)])).toBe(7);
    expect(orientationFromTransforms([imir(0), irot(3)])).toBe(5);
    expect(orientationFromTransforms([imir(1), irot(1)])).toBe(5);
    expect(orientationFromTransforms([irot(1), irot(1), irot(2)])).toBe(1);
    expect(orientationFromTransforms([imir(0), imir(1)])).toBe(3);
  });
});

describe.each(SETS)('AVIF set $name', (set) => {
  it.each(ORIENTATIONS)('normalizes orientation %i: upright pixels, no irot/imir, metadata kept', async (o) => {
    const input = fixture(set, o);
    const inBytes = await readFile(input);
    expect(transformNames(inBytes).length > 0).toBe(o !== 1);
    const output = path.join(dir, `out.${set.ext}`);
    const result = await normalizeFile(input, output);
    expect(result.error).toBeNull();
    expect(result.format).toBe('avif');
    expect(result.action).toBe(o === 1 ? 'copied' : 'rotated');
    expect(result.orientation).toBe(o);
    // The EXIF item is a place too (docs/HEIF-ORIENTATION.md); irot/imir outrank it.
    expect(result.source).toBe(o === 1 ? 'exif' : 'irot-imir');
    expect(result.warnings).toEqual([]);

    const out = await readFile(output);
    // no irot/imir left, and the coding kept (bit depth, chroma subsampling)
    expect(transformNames(out)).toEqual([]);
    const av1C = primaryProperties(out).props.find((b) => b.type === 'av1C') as TestBox;
    expect((out[av1C.payload + 2] >> 6) & 1).toBe(set.highBitDepth);
    expect((out[av1C.payload + 2] >> 2) & 1).toBe(set.subsampled);

    // pixels: close to the upright reference, while the mirrored reference is far
    const got = await rgb(out);
    const want = await rgb(await readFile(fixture(set, 1)));
    expect([got.width, got.height]).toEqual([45, 29]);
    const mirrored = await rgb(await sharp(await readFile(fixture(set, 1))).flop().png().toBuffer());
    const threshold = meanAbsoluteDifference(mirrored.data, want.data) / 4;
    expect(threshold).toBeGreaterThan(5);
    expect(meanAbsoluteDifference(got.data, want.data)).toBeLessThan(threshold);

    // orientation 1 everywhere: this library, exifr (EXIF item), the XMP item
    const reading = readOrientation(out);
    expect(reading?.orientation).toBe(1);
    expect(reading?.needsRewrite).toBe(false);
    expect(reading?.warnings).toEqual([]);
    // The EXIF item as libheif (inside sharp) extracts it, parsed by exifr; exifr reads the file
    // itself only when iloc uses no base_offset (libheif's own files, like the _1 fixture, do).
    const meta = await sharp(out).metadata();
    const blob = meta.exif ?? Buffer.alloc(0);
    const tiff = blob.subarray(blob.toString('latin1', 0, 6) === 'Exif\0\0' ? 6 : 0);
    const exif = await exifr.parse(tiff, { ifd0: true, exif: true, translateValues: false, silentErrors: false } as any);
    expect(exif.Orientation ?? 1).toBe(1);
    expect(exif).toMatchObject({ Make: 'exif-fix fixtures', Model: 'Generator 1', Software: 'make-fixtures.js' });
    if (o === 1) expect(out.equals(inBytes)).toBe(true);
    else expect(await exifr.orientation(out)).toBe(1);
    const xmp = meta.xmp?.toString('utf8') ?? '';
    expect(xmp).toMatch(/tiff:Orientation="1"/);
    expect(xmp).toMatch(/exif:PixelXDimension="45"/);
    expect(xmp).toContain('exif-fix fixture');
    const inIcc = (await sharp(inBytes).metadata()).icc;
    expect(inIcc?.length).toBeGreaterThan(100);
    expect(Buffer.from(meta.icc ?? []).equals(Buffer.from(inIcc ?? []))).toBe(true);

    // a second run finds nothing to do
    const again = path.join(dir, `again.${set.ext}`);
    const second = await normalizeFile(output, again);
    expect(second.action).toBe('copied');
    expect((await readFile(again)).equals(out)).toBe(true);
  });
});

describe('HEIF edge cases', () => {
  it('follows the ipma order of irot and imir, as the decoder does', async () => {
    // avif_5 is irot 3 then imir 1 (transpose); swapped, imir 1 then irot 3 is 7 (transverse),
    // which applied to pixels stored for 5 shows the upright picture rotated 180 degrees.
    const bytes = Buffer.from(await readFile(fixture(SETS[0], 5)));
    const { ipmaEntry, props } = primaryProperties(bytes);
    const at = ipmaEntry?.indicesAt ?? 0;
    const n = props.length;
    const order = [...bytes.subarray(at, at + n)];
    const i = props.findIndex((b) => b.type === 'irot');
    const j = props.findIndex((b) => b.type === 'imir');
    [order[i], order[j]] = [order[j], order[i]];
    bytes.set(order, at);
    expect(transformNames(bytes)).toEqual(['imir1', 'irot3']);
    const file = path.join(dir, 'swapped.avif');
    await writeFile(file, bytes);
    expect(readOrientation(bytes)?.orientation).toBe(7);
    const result = await normalizeFile(file, path.join(dir, 'out.avif'));
    expect(result.action).toBe('rotated');
    const got = await rgb(await readFile(path.join(dir, 'out.avif')));
    const want = await rgb(await sharp(await readFile(fixture(SETS[0], 1))).rotate(180).png().toBuffer());
    expect(meanAbsoluteDifference(got.data, want.data)).toBeLessThan(3);
  });

  it('copies an upright HEIC and, without a conversion, refuses to rotate one with a message naming --to jpeg', async () => {
    const upright = asHeic(await readFile(fixture(SETS[0], 1)));
    const sideways = asHeic(await readFile(fixture(SETS[0], 6)));
    await expect(sharp(sideways).raw().toBuffer()).rejects.toThrow();
    await writeFile(path.join(dir, 'upright.heic'), upright);
    await writeFile(path.join(dir, 'sideways.heic'), sideways);
    const a = await normalizeFile(path.join(dir, 'upright.heic'), path.join(dir, 'a.heic'));
    expect(a.error).toBeNull();
    expect(a.format).toBe('heif');
    expect(a.action).toBe('copied');
    const b = await normalizeFile(path.join(dir, 'sideways.heic'), path.join(dir, 'b.heic'));
    expect(b.format).toBe('heif');
    expect(b.action).toBe('failed');
    expect(b.error).toMatch(/^`[^`]*sideways\.heic`: HEIC \(HEVC-coded\) image needs new pixels \(orientation 6\), and this tool cannot re-encode HEVC: convert it with --to jpeg/);
  });

  it('fails with one clean error on a hostile ipma count and a box past the end', async () => {
    const bytes = Buffer.from(await readFile(fixture(SETS[0], 6)));
    const meta = boxes(bytes, 0, bytes.length).find((b) => b.type === 'meta') as TestBox;
    const iprp = boxes(bytes, meta.payload + 4, meta.end).find((b) => b.type === 'iprp') as TestBox;
    const ipma = boxes(bytes, iprp.payload, iprp.end)[1];
    const hostile = Buffer.from(bytes);
    hostile.writeUInt32BE(0xffffffff, ipma.payload + 4);
    await writeFile(path.join(dir, 'count.avif'), hostile);
    const a = await normalizeFile(path.join(dir, 'count.avif'), path.join(dir, 'a.avif'));
    expect(a.action).toBe('failed');
    expect(a.error).toMatch(/`: HEIF ipma declares 4294967295 entries$/);

    const truncated = Buffer.from(bytes);
    truncated.writeUInt32BE(0x7ffffff0, meta.start);
    await writeFile(path.join(dir, 'size.avif'), truncated);
    const b = await normalizeFile(path.join(dir, 'size.avif'), path.join(dir, 'b.avif'));
    expect(b.action).toBe('failed');
    expect(b.error).toMatch(/HEIF box 'meta' at byte \d+ has a bad size/);
  });

  it('warns when the EXIF item disagrees with irot/imir, follows irot/imir, and writes EXIF 1', async () => {
    const bytes = Buffer.from(await readFile(fixture(SETS[0], 6)));
    // IFD0 entry 0x0112 SHORT count 1 value 6 (little-endian) -> value 3
    const entry = Buffer.from('1201030001000000060000000', 'hex').subarray(0, 10);
    const at = bytes.indexOf(entry);
    expect(at).toBeGreaterThan(0);
    bytes[at + 8] = 3;
    const file = path.join(dir, 'disagree.avif');
    await writeFile(file, bytes);
    expect(readOrientation(bytes)?.warnings).toEqual(['EXIF IFD0 says 3 but irot/imir says 6; irot/imir wins']);
    const result = await normalizeFile(file, path.join(dir, 'out.avif'));
    expect(result.action).toBe('rotated');
    expect(result.orientation).toBe(6);
    const out = await readFile(path.join(dir, 'out.avif'));
    expect(await exifr.orientation(out)).toBe(1);
    const got = await rgb(out);
    const want = await rgb(await readFile(fixture(SETS[0], 1)));
    expect(meanAbsoluteDifference(got.data, want.data)).toBeLessThan(3);
  });

  it('flags a HEIC with EXIF 6 and no irot (as a Samsung phone writes it) and refuses it without --to', async () => {
    const file = path.join(HEIC_FIXTURES, 'exif-only_6.heic');
    const bytes = await readFile(file);
    const reading = readOrientation(bytes);
    expect(reading?.orientation).toBe(6);
    expect(reading?.source).toBe('exif');
    expect(reading?.needsRewrite).toBe(true);
    expect(reading?.warnings).toEqual([
      "no irot/imir: the EXIF orientation 6 is applied, as the file's writer meant (readers that follow only irot/imir, libheif among them, show this file sideways; docs/HEIF-ORIENTATION.md)",
    ]);
    const result = await normalizeFile(file, path.join(dir, 'out.heic'));
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/needs new pixels \(orientation 6\).*--to jpeg/);
  });

  it('rewrites a disagreeing XMP orientation in place when EXIF says 1, so no place says 6 afterwards', async () => {
    const bytes = Buffer.from(await readFile(path.join(HEIC_FIXTURES, 'exif-only_1.heic')));
    const at = bytes.indexOf('<tiff:Orientation>1</tiff:Orientation>', 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    bytes.write('6', at + '<tiff:Orientation>'.length, 'latin1');
    const file = path.join(dir, 'xmp6.heic');
    await writeFile(file, bytes);
    expect(readOrientation(bytes)?.orientation).toBe(1);
    expect(readOrientation(bytes)?.needsRewrite).toBe(true);
    const result = await normalizeFile(file, path.join(dir, 'out.heic'));
    expect(result.error).toBeNull();
    expect(result.action).toBe('metadata');
    const out = await readFile(path.join(dir, 'out.heic'));
    expect(out.length).toBe(bytes.length);
    expect(out.toString('latin1')).toContain('<tiff:Orientation>1</tiff:Orientation>');
    expect(readOrientation(out)?.places.every((p) => p.value === 1)).toBe(true);
    // Only the XMP value changed.
    const differing = [...out].flatMap((b, i) => (b === bytes[i] ? [] : [i]));
    expect(differing).toEqual([at + '<tiff:Orientation>'.length]);
  });

  it('applies the EXIF orientation of an AVIF without irot/imir, and writes 1 everywhere', async () => {
    // avif_6 with its irot property renamed to 'free': pixels stored for 6, EXIF and XMP saying 6.
    const bytes = Buffer.from(await readFile(fixture(SETS[0], 6)));
    const at = bytes.indexOf('irot', 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    bytes.write('free', at, 'latin1');
    expect(transformNames(bytes)).toEqual([]);
    const file = path.join(dir, 'exif-only.avif');
    await writeFile(file, bytes);
    expect(readOrientation(bytes)?.orientation).toBe(6);
    const result = await normalizeFile(file, path.join(dir, 'out.avif'));
    expect(result.error).toBeNull();
    expect(result.action).toBe('rotated');
    const out = await readFile(path.join(dir, 'out.avif'));
    expect(readOrientation(out)?.places.every((p) => p.value === 1)).toBe(true);
    const got = await rgb(out);
    const want = await rgb(await readFile(fixture(SETS[0], 1)));
    expect([got.width, got.height]).toEqual([45, 29]);
    expect(meanAbsoluteDifference(got.data, want.data)).toBeLessThan(3);
  });
});
