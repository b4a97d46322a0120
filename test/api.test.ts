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
