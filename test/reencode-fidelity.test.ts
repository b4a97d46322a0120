// Re-encodes keep their source's quantization tables and chroma subsampling, so they keep its
// size and quality (fixtures/reencode, made with cjpeg by scripts/make-reencode-fixtures.js).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpeg } from '../src/containers/jpeg.js';
import { parseJpeg } from '../src/containers/jpeg-structure.js';
import type { Orientation } from '../src/orientation.js';
import { reencode } from '../src/pixels/reencode.js';
import { applyOrientation } from '../src/pixels/sharp-transform.js';
import { FIXTURES } from './helpers.js';

const SOURCES = ['420.jpg', '422.jpg', '440.jpg', '444.jpg', '411.jpg', 'grey.jpg', 'camera-422.jpg'];

/** Decoded 8-bit samples (grey or RGB, no colour management), with `orientation` applied. */
async function decoded(bytes: Uint8Array, grey: boolean, orientation: Orientation = 1): Promise<Buffer> {
  let image = sharp(bytes, { ignoreIcc: true });
  if (grey) image = image.pipelineColourspace('b-w');
  return applyOrientation(image, orientation).toColourspace(grey ? 'b-w' : 'srgb').raw().toBuffer();
}

/** Peak signal-to-noise ratio of `b` against `a`, in dB (8-bit samples). */
function psnr(a: Buffer, b: Buffer): number {
  expect(b.length).toBe(a.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

async function rewritten(name: string, orientation: Orientation, jpegEncoder?: 'sharp') {
  const bytes = new Uint8Array(await readFile(path.join(FIXTURES, 'reencode', name)));
  const info = jpeg.read(bytes);
  const pixels = await reencode(bytes, jpeg, info, orientation, { jpegEncoder });
  const out = await jpeg.write(bytes, info, pixels, { orientation, warnings: [] });
  return { bytes, info, out };
}

describe('re-encoding with the source tables', () => {
  it.each(SOURCES.flatMap((name) => [3, 6].map((o) => [name, o as Orientation] as const)))(
    '%s in orientation %i keeps its quantization tables exactly, its sampling, its size and its quality',
    async (name, o) => {
      const { bytes, info, out } = await rewritten(name, o);
      const source = info.structure;
      const result = parseJpeg(out);
      // The same components; sampling factors swapped with the axes for 5-8.
      expect(result.frame.components).toEqual(source.frame.components.map((c) => (o >= 5 ? { ...c, h: c.v, v: c.h } : c)));
      for (const c of source.frame.components) expect(result.quantTables[c.tq]).toEqual(source.quantTables[c.tq]);
      const ratio = out.length / bytes.length;
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeLessThan(1.03);
      const grey = source.frame.components.length === 1;
      expect(psnr(await decoded(bytes, grey, o), await decoded(out, grey))).toBeGreaterThan(36);
    },
  );

  it.each(['422.jpg', '440.jpg', '411.jpg', 'camera-422.jpg'])('%s comes out smaller than with the sharp path, which has neither its tables nor its sampling', async (name) => {
    const own = await rewritten(name, 6);
    const viaSharp = await rewritten(name, 6, 'sharp');
    expect(own.out.length).toBeLessThan(viaSharp.out.length);
  });

  it('keeps the metadata segments of the source around the new frame', async () => {
    const { info, out } = await rewritten('422.jpg', 6);
    const kinds = (s: ReturnType<typeof parseJpeg>) => s.segments.filter((g) => g.marker >= 0xe0 && g.marker <= 0xef).map((g) => g.marker);
    expect(kinds(parseJpeg(out))).toEqual(kinds(info.structure));
  });
});
