// The one plan: --check, --dry-run and the run carry out the same decision, file by file.
import { execFileSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { check, fixCommand, normalize, type FileResult, type LosslessMode } from '../src/index.js';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers.js';

/** A 2-page TIFF whose first page says orientation 6. */
async function twoPageTiff(file: string): Promise<void> {
  const page = (background: string) => sharp({ create: { width: 32, height: 16, channels: 3, background } }).png().toBuffer();
  const bytes = await sharp([await page('red'), await page('blue')], { join: { animated: true } }).withMetadata({ orientation: 6 }).tiff({ compression: 'lzw' }).toBuffer();
  await writeFile(file, bytes);
}

/** An animated WebP whose EXIF says 6: the plan must refuse it (each frame would need new pixels). */
async function animatedWebp(file: string): Promise<void> {
  const frame = (background: string) => sharp({ create: { width: 32, height: 16, channels: 3, background } }).png().toBuffer();
  const bytes = await sharp([await frame('red'), await frame('blue')], { join: { animated: true } }).withMetadata({ orientation: 6 }).webp().toBuffer();
  await writeFile(file, bytes);
}

/** Every fixture, good and bad, plus the files the plan must refuse, in one tree. */
async function everyFixture(): Promise<string> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation'), path.join(dir, 'in', 'orientation'), { recursive: true });
  await cp(path.join(FIXTURES, 'bad'), path.join(dir, 'in', 'bad'), { recursive: true });
  await twoPageTiff(path.join(dir, 'in', 'two-pages.tif'));
  await animatedWebp(path.join(dir, 'in', 'animated.webp'));
  return dir;
}

const verdict = (r: FileResult) => ({ input: r.input, action: r.action, method: r.method, code: r.code, orientation: r.orientation, width: r.after?.width ?? null, height: r.after?.height ?? null });

describe('one plan for check, dry run and run', () => {
  it.each<LosslessMode>(['auto', 'always', 'never'])('the dry run says exactly what the run does, file by file, with --lossless %s', async (lossless) => {
    const dir = await everyFixture();
    const common = { cwd: dir, lossless, concurrency: 2 };
    const dry = await normalize(['in'], { ...common, out: 'dry', dryRun: true });
    const real = await normalize(['in'], { ...common, out: 'real' });
    expect(dry.length).toBeGreaterThan(150);
    expect(dry.map(verdict)).toEqual(real.map(verdict));
    // Both paths are taken, and refusals are among the verdicts, so the comparison means something.
    const methods = new Set(real.map((r) => r.method));
    if (lossless === 'auto') expect([...methods].sort()).toEqual(['lossless', 'reencode', null].sort());
    expect(real.some((r) => r.code === 'unsupported')).toBe(true);
    if (lossless === 'always') expect(real.some((r) => r.code === 'lossless')).toBe(true);
  }, 300_000);

  it('--check lists a file exactly when the run changes it, and fails what the run fails from the header', async () => {
    const dir = await everyFixture();
    const checked = await check(['in'], { cwd: dir });
    const real = await normalize(['in'], { cwd: dir, out: 'real' });
    const byInput = new Map(real.map((r) => [r.input, r]));
    for (const c of checked) {
      const r = byInput.get(c.input) as FileResult;
      if (c.action === 'needs-fix') expect(['rotated', 'metadata', 'failed']).toContain(r.action);
      // Damage past the header (a PNG's IDAT CRC) shows only when the whole file is read, and the
      // pixel limit guards decoding, which --check never does.
      if (c.action === 'unchanged') expect(r.action === 'failed' ? r.code : r.action).toMatch(/^(copied|metadata|corrupt|limit)$/);
      if (c.action === 'failed') expect(r.action).toBe('failed');
    }
  }, 300_000);

  it('a 2-page TIFF with orientation 6: the dry run says what the run does (it said "would rotate" while the run failed)', async () => {
    const dir = await tempDir();
    await twoPageTiff(path.join(dir, 'two.tif'));
    const dry = await runCli(['two.tif', '--dry-run', '--out', 'fixed'], dir);
    const real = await runCli(['two.tif', '--out', 'fixed'], dir);
    expect(dry.code).toBe(real.code);
    // Multi-page TIFFs have their first page normalized and the others kept byte for byte.
    expect(real.code).toBe(0);
    expect(dry.stdout).toBe(real.stdout.replace(/^rotated /m, 'would rotate '));
    expect(real.stdout).toMatch(/^rotated two\.tif -> fixed\/two\.tif: orientation 6 \(tiff\), rotate-90, re-encoded$/m);
  }, 60_000);

  it('--dry-run --lossless always fails a JPEG whose size is not iMCU-perfect, as the run does (it said "would rotate")', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'a.jpg'));
    const dry = await runCli(['a.jpg', '--dry-run', '--lossless', 'always', '--out', 'fixed'], dir);
    const real = await runCli(['a.jpg', '--lossless', 'always', '--out', 'fixed'], dir);
    expect([dry.code, real.code]).toEqual([1, 1]);
    expect(dry.stderr).toMatch(/failed: `a\.jpg`: cannot transform losslessly \(imperfect: height \d+ is not a multiple of the iMCU height 16/);
    expect(dry.stderr.split('\n').find((l) => l.includes('failed: `a.jpg`'))).toBe(real.stderr.split('\n').find((l) => l.includes('failed: `a.jpg`')));
  }, 60_000);

  it('the dry run names the pixel path of every file it would rotate', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_5.jpg'), path.join(dir, 'perfect.jpg'));
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'imperfect.jpg'));
    const { code, stdout, stderr } = await runCli(['.', '--dry-run', '--out', '../fixed'], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^would rotate perfect\.jpg -> .*: orientation 5 \(exif\), transpose, lossless$/m);
    expect(stdout).toMatch(/^would rotate imperfect\.jpg -> .*: orientation 6 \(exif\), rotate-90, re-encoded$/m);
    expect(stderr).toMatch(/dry run, nothing written: would rotate 2,.* \(2 images; pixels: 1 lossless, 1 re-encoded\)/);
  }, 60_000);
});

describe('--check applies no pixel limit', () => {
  it('lists sideways files whatever --limit-input-pixels says, since it decodes no pixels', async () => {
    const dir = await tempDir();
    for (const o of [1, 6, 8]) await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`), path.join(dir, `${o}.jpg`));
    const { code, stdout, stderr } = await runCli(['--check', '--limit-input-pixels', '100', '.'], dir);
    expect(code).toBe(1);
    expect(stdout.trim().split('\n').sort()).toEqual(['6.jpg: orientation 6 (exif), 6 (xmp)', '8.jpg: orientation 8 (exif), 8 (xmp)']);
    expect(stderr).toMatch(/2 of 3 images are not upright/);
  }, 60_000);
});

describe('the fix command --check suggests', () => {
  it('keeps every flag that scopes the run, quotes paths and puts -- before a name starting with -', () => {
    expect(fixCommand({ paths: ['data'], followSymlinks: true })).toBe('exif-fix --follow-symlinks data --in-place');
    expect(fixCommand({ paths: ["it's here", 'b c'], shard: { index: 2, count: 4 }, ignore: ['**/tmp/**'] })).toBe(
      `exif-fix --shard 2/4 --ignore '**/tmp/**' 'it'\\''s here' 'b c' --in-place`,
    );
    expect(fixCommand({ paths: ['-rot.jpg', 'a.jpg'] })).toBe('exif-fix --in-place -- -rot.jpg a.jpg');
    expect(fixCommand({ paths: [], filesFrom: '-', nul: true })).toBe('the same pipe into: exif-fix --files-from - -0 --in-place');
  });

  it('fixes what it listed when run as printed, for a linked tree and a name that starts with -', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, '-rot.jpg'));
    const listed = await runCli(['--', '-rot.jpg'], dir).then(() => runCli(['--check', '--', '-rot.jpg'], dir));
    expect(listed.code).toBe(1);
    const command = /Fix it with:\n {2}(.*)/.exec(listed.stderr)?.[1] as string;
    expect(command).toBe('exif-fix --in-place -- -rot.jpg');
    const bin = path.join(ROOT, 'bin', 'exif-fix.js');
    execFileSync('sh', ['-c', command.replace(/^exif-fix/, `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)}`)], { cwd: dir });
    expect((await exifr.parse(await readFile(path.join(dir, '-rot.jpg')), { translateValues: false }))?.Orientation).toBe(1);
    expect((await runCli(['--check', '--', '-rot.jpg'], dir)).code).toBe(0);
  }, 60_000);

  it('with --files-from - says to run the same pipe with --in-place', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'a.jpg'));
    const { code, stderr } = await runCli(['--check', '--files-from', '-'], dir, 'a.jpg\n');
    expect(code).toBe(1);
    expect(stderr).toContain('the same pipe into: exif-fix --files-from - --in-place');
  }, 60_000);
});
