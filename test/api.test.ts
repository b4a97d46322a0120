// The library API's promises about the caller's data.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBuffer } from '../src/index.js';
import { FIXTURES } from './helpers.js';

describe('normalizeBuffer', () => {
  it("never changes the caller's bytes, in any container or orientation", async () => {
    const sets = await readdir(path.join(FIXTURES, 'orientation'));
    let checked = 0;
    for (const set of sets) {
      for (const name of await readdir(path.join(FIXTURES, 'orientation', set))) {
        // A Buffer, as fs.readFile gives: its slice() shares memory, the trap this guards against.
        const input = await readFile(path.join(FIXTURES, 'orientation', set, name));
        const before = Buffer.from(input);
        const { result } = await normalizeBuffer(input);
        expect(result.error, name).toBeNull();
        expect(input.equals(before), name).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(sets.length * 8);
  });
});

describe('verifyUpright (the second opinion on every output)', () => {
  it('flags a file exifr reads as sideways, passes upright ones, and does not judge what exifr cannot read', async () => {
    const { verifyUpright } = await import('../src/verify.js');
    const file = (set: string, ext: string, o: number) => readFile(path.join(FIXTURES, 'orientation', set, `${set}_${o}.${ext}`));
    expect(await verifyUpright(await file('jpeg-420', 'jpg', 6), 'jpeg')).toBe('exifr (an independent reader) still reads orientation 6 in the output');
    expect(await verifyUpright(await file('png-exif', 'png', 8), 'png')).toMatch(/reads orientation 8/);
    expect(await verifyUpright(await file('tiff-lzw', 'tif', 3), 'tiff')).toMatch(/reads orientation 3/);
    expect(await verifyUpright(await file('jpeg-420', 'jpg', 1), 'jpeg')).toBeNull();
    expect(await verifyUpright(await file('webp-lossy', 'webp', 6), 'webp')).toBeNull();
  });
});
