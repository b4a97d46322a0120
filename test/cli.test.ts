import { chmod, cp, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOrientation } from '../src/index.js';
import { FIXTURES, runCli, tempDir, tree } from './helpers.js';


async function workspace(): Promise<string> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'images', 'a'), { recursive: true });
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-444'), path.join(dir, 'images', 'b', 'deeper'), { recursive: true });
  return dir;
}

describe('exif-fix <paths...> --out <dir>', () => {
  it('mirrors the input tree, rotates what is sideways and prints a summary on stderr', async () => {
    const dir = await workspace();
    await writeFile(path.join(dir, 'images', 'notes.txt'), 'not an image, not an image extension\n');
    const { code, stdout, stderr } = await runCli(['images', '--out', 'fixed'], dir);
    expect(code).toBe(0);
    const expected = (await tree(path.join(dir, 'images'))).filter((f) => f !== 'notes.txt');
    expect(await tree(path.join(dir, 'fixed'))).toEqual(expected);
    expect(stderr).toMatch(/14 rotated, 2 already upright, 1 non-image skipped, 0 failed in \d+\.\d\ds/);
    expect(stdout.split('\n').filter((l) => l.startsWith('rotated '))).toHaveLength(14);
    for (const f of expected) {
      const reading = readOrientation(await readFile(path.join(dir, 'fixed', f)));
      expect(reading?.orientation, f).toBe(1);
    }
    // The upright input is copied byte for byte.
    expect(await readFile(path.join(dir, 'fixed', 'a', 'jpeg-420_1.jpg'))).toEqual(await readFile(path.join(dir, 'images', 'a', 'jpeg-420_1.jpg')));
  });

  it('takes a glob pattern, matches extensions in any case and mirrors below the static part', async () => {
    const dir = await workspace();
    const { code } = await runCli(['images/**/*.jpg', '--out', 'fixed'], dir);
    expect(code).toBe(0);
    const all = await tree(path.join(dir, 'images'));
    expect(await tree(path.join(dir, 'fixed'))).toEqual(all);
    expect(all.some((f) => f.endsWith('.JPG'))).toBe(true);
  });

  it('recognises images by their bytes, whatever the extension says', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'in'));
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'in', 'photo.Png'));
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_8.jpg'), path.join(dir, 'in', 'no-extension'));
    const { code, stderr } = await runCli(['in', '--out', 'out'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/2 rotated/);
    expect(readOrientation(await readFile(path.join(dir, 'out', 'photo.Png')))?.format).toBe('jpeg');
  });

  it('reports each bad input with its name and reason, processes the rest and exits 1', async () => {
    const dir = await tempDir();
    const reasons: Record<string, RegExp> = {
      'empty.jpg': /empty/,
      'not-an-image.png': /not an image/,
      'truncated.jpg': /truncated/i,
      'bad-crc.png': /CRC/,
      'huge-declared.png': /more than the limit/,
      'huge-declared.jpg': /more than the limit/,
      'bomb-ztxt-exif.png': /inflates to more than/,
    };
    const badFiles = Object.keys(reasons).sort();
    await mkdir(path.join(dir, 'in'));
    for (const f of badFiles) await cp(path.join(FIXTURES, 'bad', f), path.join(dir, 'in', f));
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'in', 'good.jpg'));
    const { code, stderr } = await runCli(['in', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(await tree(path.join(dir, 'out'))).toEqual(['good.jpg']);
    const failures = stderr.split('\n').filter((l) => l.startsWith('  failed: '));
    expect(failures).toHaveLength(badFiles.length);
    for (const f of badFiles) {
      const line = failures.find((l) => l.includes(`\`in/${f}\``));
      expect(line, f).toBeDefined();
      expect(line, f).toMatch(reasons[f]);
    }
  });

  it('honours --limit-input-pixels', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'a.jpg'));
    const small = await runCli(['a.jpg', '--out', 'out', '--limit-input-pixels', '1000'], dir);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/`a.jpg`: the header declares 29x45 = 1305 pixels, more than the limit of 1000/);
    const enough = await runCli(['a.jpg', '--out', 'out', '--limit-input-pixels', '1305'], dir);
    expect(enough.code).toBe(0);
  });
});

describe('refusals before any work (exit 2, nothing written)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['two inputs mapping to one output', ['images/a', 'other', '--out', 'fixed'], /Both .* would be written to/],
    ['an output that is its input', ['images/a/jpeg-420_6.jpg', '--out', 'images/a'], /would be the input itself/],
    ['--out inside an input tree', ['images', '--out', 'images/fixed'], /inside the input/],
    ['neither --out nor --in-place', ['images'], /expected --out <dir> or --in-place/],
    ['both --out and --in-place', ['images', '--out', 'x', '--in-place'], /either --out or --in-place/],
    ['a path that does not exist', ['nope', '--out', 'fixed'], /Cannot find `nope`/],
    ['a pattern that matches nothing', ['images/**/*.gif', '--out', 'fixed'], /No files match/],
    ['--concurrency 0', ['images', '--out', 'fixed', '--concurrency', '0'], /Expected integer of at least 1 for --concurrency/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const dir = await workspace();
    await cp(path.join(dir, 'images', 'a'), path.join(dir, 'other'), { recursive: true });
    const before = await tree(dir);
    const { code, stderr } = await runCli(args, dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(await tree(dir)).toEqual(before);
  });
});

describe('--in-place', () => {
  it('rewrites sideways files atomically, keeps mode and mtime, and leaves upright files untouched', async () => {
    const dir = await workspace();
    const files = (await tree(path.join(dir, 'images'))).map((f) => path.join(dir, 'images', f));
    const old = new Date('2020-01-02T03:04:05Z');
    for (const f of files) {
      await chmod(f, 0o640);
      await utimes(f, old, old);
    }
    const upright = path.join(dir, 'images', 'a', 'jpeg-420_1.jpg');
    const uprightBefore = await stat(upright);
    const sideways = path.join(dir, 'images', 'a', 'jpeg-420_6.jpg');
    const sidewaysBytes = await readFile(sideways);
    const { code, stderr } = await runCli(['images', '--in-place'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/14 rotated, 2 already upright/);
    for (const f of files) {
      const s = await stat(f);
      expect(s.mode & 0o777, f).toBe(0o640);
      expect(s.mtimeMs, f).toBe(old.getTime());
      expect(readOrientation(await readFile(f))?.orientation).toBe(1);
    }
    const uprightAfter = await stat(upright);
    expect(uprightAfter.ino).toBe(uprightBefore.ino);
    expect(uprightAfter.ctimeMs).toBe(uprightBefore.ctimeMs);
    expect(await readFile(sideways)).not.toEqual(sidewaysBytes);
    // No temporary files are left behind.
    expect(await tree(path.join(dir, 'images'))).toEqual(files.map((f) => path.relative(path.join(dir, 'images'), f)).sort());
    // A second run changes nothing.
    const again = await runCli(['images', '--in-place'], dir);
    expect(again.stderr).toMatch(/0 rotated, 16 already upright/);
  });
});

describe('exit codes and help', () => {
  it('prints the version and help with exit 0', async () => {
    const dir = await tempDir();
    const version = await runCli(['--version'], dir);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(['--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--in-place/);
    expect(help.stdout).toMatch(/Exit codes: 0 all fine, 1 a file failed \(or --check found files to fix\), 2 usage error/);
  });

  it('rejects an unknown option with exit 2', async () => {
    const { code, stderr } = await runCli(['x', '--bogus'], await tempDir());
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown option/);
  });
});
