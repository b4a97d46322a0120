// The lossless JPEG comparisons of the main suite, run again with the live libjpeg-turbo tools:
// inputs made now by cjpeg and sharp, references made now by jpegtran. Also checks that the
// committed golden files (fixtures/golden, scripts/make-golden.js) are still what jpegtran makes
// from the committed inputs, so that the main suite compares with jpegtran and not with a stale
// copy.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeFile } from '../../src/index.js';
import { readCoefficients, transformJpegLossless, type Orientation } from '../../src/pixels/jpeg-lossless/index.js';
import { losslessPathJpeg } from '../../scripts/fixtures/common.js';
import {
  ALIGNED, GOLDEN, H, JPEGTRAN_ARGS, JPEGTRAN_KERNEL, UNALIGNED, UNALIGNED_SIZES, W, makeSample, perfect, sharpJpeg,
} from '../../scripts/golden/jpeg-lossless.js';
import { pixels, tempDir } from '../helpers.js';
import { decode, headerSegments, scanBytes } from '../helpers/jpeg-lossless-images.js';

const ORIENTATIONS: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

/** Live `jpegtran -perfect -optimize -copy all <transform>` of a file; null when it refuses. */
function jpegtran(file: string, o: Orientation): Buffer | null {
  const r = spawnSync('jpegtran', [...JPEGTRAN_KERNEL, ...JPEGTRAN_ARGS[o], file], { maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout : null;
}

/** The iMCU of a JPEG, in pixels. */
function iMcu(jpeg: Uint8Array): { w: number; h: number } {
  const c = readCoefficients(jpeg);
  if (c.components.length === 1) return { w: 8, h: 8 };
  return { w: 8 * Math.max(...c.components.map((x) => x.h)), h: 8 * Math.max(...c.components.map((x) => x.v)) };
}

/** Asserts that our transform of `input` matches live jpegtran for every orientation jpegtran -perfect accepts, and refuses the others. */
async function expectMatchesLiveJpegtran(input: Buffer, dir: string, label: string): Promise<void> {
  const file = path.join(dir, `${label.replace(/\W+/g, '-')}.jpg`);
  await writeFile(file, input);
  const m = iMcu(input);
  const width = readCoefficients(input).width;
  const height = readCoefficients(input).height;
  for (const o of ORIENTATIONS) {
    const reference = jpegtran(file, o);
    const ours = transformJpegLossless(input, o);
    expect(ours.ok, `${label} orientation ${o}: our verdict equals jpegtran -perfect's`).toBe(reference !== null);
    expect(ours.ok, `${label} orientation ${o}: the iMCU rule`).toBe(perfect(width, height, m.w, m.h, o));
    if (!ours.ok || reference === null) continue;
    const a = await decode(ours.jpeg);
    const b = await decode(reference);
    expect(a.data.equals(b.data), `${label} orientation ${o}: pixels differ from jpegtran`).toBe(true);
    expect(scanBytes(ours.jpeg).equals(scanBytes(reference)), `${label} orientation ${o}: scan differs from jpegtran -optimize`).toBe(true);
  }
}

describe('the lossless kernel against the live jpegtran', () => {
  it.each(ALIGNED)('$name, made now: every orientation matches jpegtran -perfect -optimize', async (sample) => {
    const dir = await tempDir();
    await expectMatchesLiveJpegtran(await makeSample(sample, W, H, dir, sample.id), dir, sample.id);
  });

  it.each(UNALIGNED)('$name at sizes that are not iMCU multiples, made now: the same orientations are refused, the rest match', async (sample) => {
    const dir = await tempDir();
    for (const [w, h] of UNALIGNED_SIZES) {
      await expectMatchesLiveJpegtran(await makeSample(sample, w, h, dir, `${sample.id}-${w}x${h}`), dir, `${sample.id} ${w}x${h}`);
    }
  });

  it('refuses arithmetic coding made now by jpegtran -arithmetic', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'baseline.jpg');
    await writeFile(file, await sharpJpeg(64, 48, { chromaSubsampling: '4:2:0' }));
    const arith = execFileSync('jpegtran', ['-arithmetic', file]);
    expect(headerSegments(arith).some((s) => s.marker === 0xc9)).toBe(true);
    expect(transformJpegLossless(arith, 6)).toMatchObject({ ok: false, refusal: 'arithmetic' });
  });
});

describe('the golden files', () => {
  const manifest = JSON.parse(readFileSync(path.join(GOLDEN, 'manifest.json'), 'utf8')) as { files: Array<{ file: string; command: string }> };
  const kernel = manifest.files.filter((f) => f.command.startsWith('jpegtran -perfect -optimize'));

  it('hold a jpegtran output for every orientation of every aligned sample', () => {
    expect(kernel.length).toBeGreaterThanOrEqual(ALIGNED.length * 8);
    for (const s of ALIGNED) for (const o of ORIENTATIONS) expect(kernel.some((f) => f.file === `jpeg-lossless/${s.id}/jpegtran-${o}.jpg`), `${s.id} ${o}`).toBe(true);
  });

  it('are byte for byte what the live jpegtran makes from the committed inputs (else: npm run golden)', async () => {
    for (const f of kernel) {
      const o = Number(/jpegtran-(\d)\.jpg$/.exec(f.file)?.[1]) as Orientation;
      const live = jpegtran(path.join(GOLDEN, path.dirname(f.file), 'input.jpg'), o);
      expect(live, f.file).not.toBeNull();
      expect(live!.equals(await readFile(path.join(GOLDEN, f.file))), `${f.file} is stale: run npm run golden and commit`).toBe(true);
    }
    const dir = await tempDir();
    for (let o = 2; o <= 8; o++) {
      const out = path.join(dir, `jpegtran_${o}.jpg`);
      execFileSync('jpegtran', ['-perfect', ...JPEGTRAN_ARGS[o as Orientation], '-outfile', out, path.join(GOLDEN, 'lossless-path', `in_${o}.jpg`)]);
      const golden = await readFile(path.join(GOLDEN, 'lossless-path', `jpegtran_${o}.jpg`));
      expect((await readFile(out)).equals(golden), `lossless-path/jpegtran_${o}.jpg is stale: run npm run golden and commit`).toBe(true);
    }
  });
});

describe('the lossless path end to end against the live jpegtran', () => {

  it.each([2, 3, 4, 5, 6, 7, 8] as const)('orientation %i of an iMCU-aligned JPEG decodes to exactly what jpegtran -perfect makes now', async (o) => {
    const dir = await tempDir();
    const input = path.join(dir, `in_${o}.jpg`);
    await writeFile(input, await losslessPathJpeg(o));
    const output = path.join(dir, `out_${o}.jpg`);
    const result = await normalizeFile(input, output);
    expect(result.method).toBe('lossless');
    const reference = path.join(dir, `jpegtran_${o}.jpg`);
    execFileSync('jpegtran', ['-perfect', ...JPEGTRAN_ARGS[o], '-outfile', reference, input]);
    const ours = await pixels(output);
    const theirs = await pixels(reference);
    expect([ours.width, ours.height]).toEqual([64, 48]);
    expect(ours.data.equals(theirs.data)).toBe(true);
  });
});
