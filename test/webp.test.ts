import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp, { type Create } from 'sharp';
import { describe, expect, it } from 'vitest';
import { webp } from '../src/containers/webp.js';
import { estimateVp8Quality, parseVp8Header } from '../src/containers/webp-vp8.js';
import { normalizeFile, readOrientation } from '../src/index.js';
import { EXIFR_OPTIONS, expectDamagedFilesHandled, expectExifFactsKept, FIXTURES, copyToTemp, meanAbsDiff, pixels, tempDir, normalizeFixtureCopy } from './helpers.js';

interface WebpSet {
  readonly name: string;
  readonly ext: string;
  readonly lossless: boolean;
  readonly alpha: boolean;
  readonly sources: ReadonlyArray<'exif' | 'xmp'>;
}

const SETS: WebpSet[] = [
  { name: 'webp-lossy', ext: 'webp', lossless: false, alpha: false, sources: ['exif', 'xmp'] },
  { name: 'webp-lossy-alpha', ext: 'webp', lossless: false, alpha: true, sources: ['exif'] },
  { name: 'webp-lossless', ext: 'WEBP', lossless: true, alpha: true, sources: ['exif'] },
];
const fixture = (set: WebpSet, o: number) => path.join(FIXTURES, 'orientation', set.name, `${set.name}_${o}.${set.ext}`);

/** A RIFF chunk as this test's own walker sees it (WebP Container Specification), independent of src/. */
interface Chunk {
  fourcc: string;
  data: Buffer;
}

function chunksOf(webp: Buffer): Chunk[] {
  expect(webp.toString('latin1', 0, 4)).toBe('RIFF');
  expect(webp.toString('latin1', 8, 12)).toBe('WEBP');
  expect(webp.readUInt32LE(4)).toBe(webp.length - 8);
  const out: Chunk[] = [];
  let p = 12;
  while (p < webp.length) {
    const size = webp.readUInt32LE(p + 4);
    expect(p + 8 + size + (size & 1)).toBeLessThanOrEqual(webp.length);
    out.push({ fourcc: webp.toString('latin1', p, p + 4), data: webp.subarray(p + 8, p + 8 + size) });
    p += 8 + size + (size & 1);
  }
  expect(p).toBe(webp.length);
  return out;
}

function riff(chunks: Chunk[]): Buffer {
  const body = Buffer.concat(
    chunks.map((c) => {
      const head = Buffer.alloc(8);
      head.write(c.fourcc, 0, 'latin1');
      head.writeUInt32LE(c.data.length, 4);
      return Buffer.concat([head, c.data, Buffer.alloc(c.data.length & 1)]);
    }),
  );
  const head = Buffer.alloc(12);
  head.write('RIFFxxxxWEBP', 0, 'latin1');
  head.writeUInt32LE(body.length + 4, 4);
  return Buffer.concat([head, body]);
}


/** The largest mean absolute difference (per 8-bit sample) a lossy round trip may add. */
const LOSSY_TOLERANCE = 4;

describe.each(SETS)('$name', (set) => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i comes out upright with its metadata kept', async (o) => {
    const { dir, input, output, result } = await normalizeFixtureCopy(fixture(set, o), o);
    expect(result.places.map((p) => p.source)).toEqual(set.sources);

    const inBytes = await readFile(input);
    const out = await readFile(output);
    const reference = await pixels(fixture(set, 1));
    const actual = await pixels(out);
    expect([actual.width, actual.height]).toEqual([reference.width, reference.height]);
    expect(actual.channels).toBe(set.alpha ? 4 : 3);
    if (set.lossless) expect(actual.data.equals(reference.data)).toBe(true);
    else expect(meanAbsDiff(actual, reference)).toBeLessThan(LOSSY_TOLERANCE);
    if (o === 2 || o === 3 || o === 4) expect(meanAbsDiff(await pixels(inBytes), reference)).toBeGreaterThan(5 * LOSSY_TOLERANCE);

    // Container: VP8X first with the right flags and canvas; image data of the right kind.
    const inChunks = chunksOf(inBytes);
    const outChunks = chunksOf(out);
    const fourccs = outChunks.map((c) => c.fourcc);
    expect(fourccs[0]).toBe('VP8X');
    const flags = outChunks[0].data[0];
    expect(Boolean(flags & 0x20)).toBe(fourccs.includes('ICCP'));
    expect(Boolean(flags & 0x10)).toBe(set.alpha);
    expect(Boolean(flags & 0x08)).toBe(true);
    expect(Boolean(flags & 0x04)).toBe(fourccs.includes('XMP '));
    expect(flags & 0x02).toBe(0);
    expect(outChunks[0].data.readUIntLE(4, 3) + 1).toBe(reference.width);
    expect(outChunks[0].data.readUIntLE(7, 3) + 1).toBe(reference.height);
    expect(fourccs.includes('VP8L')).toBe(set.lossless);
    expect(fourccs.includes('VP8 ')).toBe(!set.lossless);
    expect(fourccs.includes('ALPH')).toBe(set.alpha && !set.lossless);
    const image = fourccs.findIndex((f) => f === 'VP8 ' || f === 'VP8L' || f === 'ALPH');
    if (fourccs.includes('ICCP')) expect(fourccs.indexOf('ICCP')).toBeLessThan(image);
    expect(fourccs.indexOf('EXIF')).toBeGreaterThan(image);
    // Every chunk that is not image data, VP8X, EXIF or XMP is kept byte for byte.
    for (const c of inChunks.filter((k) => !['VP8X', 'VP8 ', 'VP8L', 'ALPH', 'EXIF', 'XMP '].includes(k.fourcc))) {
      expect(outChunks.some((k) => k.fourcc === c.fourcc && k.data.equals(c.data)), `${c.fourcc} kept`).toBe(true);
    }
    if (!set.lossless && o !== 1) {
      const vp8 = (chunks: Chunk[]) => parseVp8Header(chunks.find((c) => c.fourcc === 'VP8 ')!.data);
      expect(Math.abs(estimateVp8Quality(vp8(outChunks)) - estimateVp8Quality(vp8(inChunks)))).toBeLessThanOrEqual(2);
    }

    // Every place says 1, by exif-fix's reader and by exifr on the EXIF chunk.
    expect(readOrientation(out)?.places).toEqual(set.sources.map((source) => ({ source, value: 1 })));
    const exifIn = inChunks.find((c) => c.fourcc === 'EXIF')!.data;
    const exifOut = outChunks.find((c) => c.fourcc === 'EXIF')!.data;
    const prefixed = exifIn.toString('latin1', 0, 6) === 'Exif\0\0';
    expect(exifOut.toString('latin1', 0, 6) === 'Exif\0\0').toBe(prefixed);
    const tags = await exifr.parse(prefixed ? exifOut.subarray(6) : exifOut, EXIFR_OPTIONS);
    expect(tags.ifd0.Orientation).toBe(1);
    expectExifFactsKept(tags, reference);
    const xmp = outChunks.find((c) => c.fourcc === 'XMP ')?.data.toString('utf8');
    expect(xmp !== undefined).toBe(set.sources.includes('xmp'));
    if (xmp !== undefined) {
      expect(xmp).toContain('tiff:Orientation="1"');
      expect(xmp).toContain(`exif:PixelXDimension="${reference.width}"`);
      expect(xmp).toContain(`exif:PixelYDimension="${reference.height}"`);
      expect(xmp).toContain('exif-fix fixture');
      expect(xmp).toContain('<rdf:li>train</rdf:li>');
    }
    if (set.name === 'webp-lossy') {
      const meta = await sharp(out).metadata();
      expect(meta.icc?.equals(inChunks.find((c) => c.fourcc === 'ICCP')!.data)).toBe(true);
    }

    // Running again on the output changes nothing.
    const again = path.join(dir, 'again', path.basename(input));
    const second = await normalizeFile(output, again);
    expect(second.action).toBe('copied');
    expect((await readFile(again)).equals(out)).toBe(true);
  });
});

describe('WebP edge cases', () => {
  it('reads and rewrites damaged files only ever to a result or an ExifFixError', async () => {
    const files = await Promise.all(SETS.map((set) => readFile(fixture(set, 6))));
    await expectDamagedFilesHandled(webp, files);
  });

  it.each([15, 35, 50, 65, 80, 90, 97])('estimates the quality of a libwebp file written at quality %i', async (quality) => {
    const photo = sharp({ create: { width: 320, height: 240, channels: 3, noise: { type: 'gaussian', mean: 120, sigma: 50 } } as Create }).blur(2);
    const webp = await sharp(await photo.png().toBuffer()).webp({ quality }).toBuffer();
    const vp8 = chunksOf(webp).find((c) => c.fourcc === 'VP8 ')!;
    expect(Math.abs(estimateVp8Quality(parseVp8Header(vp8.data)) - quality)).toBeLessThanOrEqual(2);
  });

  it('fixes an XMP orientation that disagrees with EXIF without touching the image data', async () => {
    const dir = await tempDir();
    const upright = chunksOf(await readFile(fixture(SETS[0], 1)));
    const sideways = chunksOf(await readFile(fixture(SETS[0], 6)));
    const input = path.join(dir, 'disagree.webp');
    await writeFile(input, riff(upright.map((c) => (c.fourcc === 'XMP ' ? sideways.find((k) => k.fourcc === 'XMP ')! : c))));
    const output = path.join(dir, 'out.webp');
    const result = await normalizeFile(input, output);
    expect(result.error).toBeNull();
    expect(result.action).toBe('metadata');
    expect(result.warnings.join('\n')).toMatch(/XMP tiff:Orientation says 6/);
    const outChunks = chunksOf(await readFile(output));
    expect(outChunks.map((c) => c.fourcc)).toEqual(upright.map((c) => c.fourcc));
    for (const [i, c] of upright.entries()) if (c.fourcc !== 'XMP ') expect(outChunks[i].data.equals(c.data)).toBe(true);
    expect(readOrientation(await readFile(output))?.places).toEqual([{ source: 'exif', value: 1 }, { source: 'xmp', value: 1 }]);
  });

  it('refuses an animated WebP whose orientation is not 1', async () => {
    const dir = await tempDir();
    const chunks = chunksOf(await readFile(fixture(SETS[0], 6)));
    const vp8x = Buffer.from(chunks[0].data);
    vp8x[0] |= 0x02;
    const input = path.join(dir, 'animated.webp');
    await writeFile(input, riff([{ fourcc: 'VP8X', data: vp8x }, { fourcc: 'ANIM', data: Buffer.alloc(6) }, ...chunks.slice(1)]));
    const result = await normalizeFile(input, path.join(dir, 'out.webp'));
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/animated\.webp.*animated WebP is not supported when the pixels must change/);
  });

  it('fails a truncated WebP, naming the file', async () => {
    const dir = await tempDir();
    const whole = await readFile(fixture(SETS[2], 6));
    const input = path.join(dir, 'cut.webp');
    await writeFile(input, whole.subarray(0, Math.floor(whole.length / 2)));
    const result = await normalizeFile(input, path.join(dir, 'out.webp'));
    expect(result.action).toBe('failed');
    expect(result.error).toMatch(/cut\.webp.*truncated WebP/);
  });

  it('copies a simple-format WebP (VP8L chunk only) that has no orientation as it is', async () => {
    const dir = await tempDir();
    const simple = await sharp({ create: { width: 7, height: 5, channels: 3, background: '#336699' } }).webp({ lossless: true }).toBuffer();
    expect(chunksOf(simple).map((c) => c.fourcc)).toEqual(['VP8L']);
    const input = path.join(dir, 'simple.webp');
    await writeFile(input, simple);
    const result = await normalizeFile(input, path.join(dir, 'out.webp'));
    expect(result.action).toBe('copied');
    expect(readOrientation(simple)?.places).toEqual([]);
  });
});
