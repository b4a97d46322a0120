// Real photos (fixtures/photos: exif-orientation-examples, MIT, see its SOURCE.md): every file,
// in every orientation 0-8, must come out upright, close to Landscape_1/Portrait_1.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize, readOrientation } from '../src/index.js';
import { CORPUS, copyToTemp, meanAbsDiff, pixels, tempDir } from './helpers.js';

describe('the real photos of fixtures/photos', () => {
  it('comes out upright in every orientation, with orientation 1 everywhere', async () => {
    const input = await copyToTemp(CORPUS, 'corpus');
    const out = path.join(await tempDir(), 'fixed');
    const results = await normalize([input], { out, concurrency: 2 });
    const images = results.filter((r) => r.format === 'jpeg');
    expect(images).toHaveLength(18);
    expect(results.filter((r) => r.action === 'failed')).toEqual([]);
    for (const kind of ['Landscape', 'Portrait']) {
      const reference = await pixels(path.join(CORPUS, `${kind}_1.jpg`));
      // A sideways picture is far from the reference: the threshold below tells them apart.
      expect(meanAbsDiff(await pixels(path.join(CORPUS, `${kind}_3.jpg`)), reference)).toBeGreaterThan(15);
      for (let o = 0; o <= 8; o++) {
        const file = path.join(out, `${kind}_${o}.jpg`);
        const actual = await pixels(file);
        expect([actual.width, actual.height], file).toEqual([reference.width, reference.height]);
        expect(meanAbsDiff(actual, reference), file).toBeLessThan(5);
        const reading = readOrientation(await readFile(file));
        expect(reading?.places.every((p) => p.value === 1), file).toBe(true);
      }
    }
    expect((await readdir(out)).sort()).toEqual((await readdir(CORPUS)).filter((f) => f.endsWith('.jpg')).sort());
  });
});
