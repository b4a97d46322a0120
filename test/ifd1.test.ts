// IFD1 (the thumbnail's) orientation is a place of its own: written as 1 whenever it says otherwise.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseJpeg } from '../src/containers/jpeg-structure.js';
import { parseTiff, TAG } from '../src/metadata/tiff.js';
import { check, normalizeFile } from '../src/index.js';
import { FIXTURES, tempDir } from './helpers.js';

/** The upright jpeg-420 fixture with IFD1 saying 6, as a Panasonic FZ30 writes it. */
async function ifd1Says6(dir: string): Promise<string> {
  const bytes = Buffer.from(await readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_1.jpg')));
  const app1 = parseJpeg(bytes).segments.find((g) => g.marker === 0xe1)!;
  const tiffStart = app1.dataOffset + 6;
  const ifd1 = parseTiff(bytes.subarray(tiffStart, app1.dataOffset + app1.dataLength)).ifd1!;
  bytes.writeUInt16LE(6, tiffStart + ifd1.entries.get(TAG.Orientation)!.valueOffset);
  const file = path.join(dir, 'fz30.jpg');
  await writeFile(file, bytes);
  return file;
}

describe('IFD1 orientation', () => {
  it('is listed by --check when it differs from IFD0, and the run writes 1 there without touching the pixels', async () => {
    const dir = await tempDir();
    const input = await ifd1Says6(dir);
    const [checked] = await check([input]);
    expect(checked.action).toBe('needs-fix');
    expect(checked.places).toContainEqual({ source: 'exif-ifd1', value: 6 });
    const output = path.join(dir, 'out.jpg');
    const result = await normalizeFile(input, output);
    expect(result.action).toBe('metadata');
    const ifd1 = await exifr.parse(output, { tiff: false, ifd1: true, exif: false, gps: false, translateValues: false, mergeOutput: false });
    expect(ifd1.ifd1.Orientation).toBe(1);
    // The thumbnail was stored upright (its shape matches the upright image), so it is kept as it was.
    const before = await sharp(Buffer.from((await exifr.thumbnail(input)) as Uint8Array)).metadata();
    const after = await sharp(Buffer.from((await exifr.thumbnail(output)) as Uint8Array)).metadata();
    expect([after.width, after.height]).toEqual([before.width, before.height]);
    const [again] = await check([output]);
    expect(again.action).toBe('unchanged');
  });

  it('is not listed as a place of its own when it says what IFD0 says', async () => {
    const [checked] = await check([path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg')]);
    expect(checked.places.map((p) => p.source)).toEqual(['exif', 'xmp']);
  });
});
