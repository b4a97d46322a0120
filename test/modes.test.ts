// The modes for dataset CI and shell scripts: --check, --dry-run, --json/--report, --reporter
// github, --files-from, stdin/stdout, --shard, --skip-existing, patterns and flag conflicts,
// and the progress bar.
import { cp, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inShard, readOrientation, type JsonFileRecord } from '../src/index.js';
import { FIXTURES, runCli, runCliRaw, tempDir, tree } from './helpers.js';

/** images/a: jpeg-420 1-8, images/b: jpeg-444 1-8, and an upright-only folder. */
async function workspace(): Promise<string> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'images', 'a'), { recursive: true });
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-444'), path.join(dir, 'images', 'b'), { recursive: true });
  await mkdir(path.join(dir, 'upright'));
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_1.jpg'), path.join(dir, 'upright', 'one.jpg'));
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-444', 'jpeg-444_1.JPG'), path.join(dir, 'upright', 'two.jpg'));
  return dir;
}

async function snapshot(dir: string): Promise<string[]> {
  const files = await tree(dir);
  return Promise.all(files.map(async (f) => `${f} ${(await stat(path.join(dir, f))).mtimeMs} ${(await readFile(path.join(dir, f))).length}`));
}

describe('--check', () => {
  it('lists exactly the files that are not upright, with value and place, exits 1 and writes nothing', async () => {
    const dir = await workspace();
    const before = await snapshot(dir);
    const { code, stdout, stderr } = await runCli(['--check', 'images', 'upright'], dir);
    expect(code).toBe(1);
    const listed = stdout.trim().split('\n');
    const expected = ['a/jpeg-420', 'b/jpeg-444'].flatMap((s) => [2, 3, 4, 5, 6, 7, 8].map((o) => `images/${s}_${o}.${s.startsWith('a') ? 'jpg' : 'JPG'}: orientation ${o} (exif), ${o} (xmp)`));
    expect(listed).toEqual(expected.sort());
    expect(stderr).toMatch(/14 of 18 images are not upright/);
    expect(stderr).toContain('exif-fix images upright --in-place');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('exits 0 when every image is upright', async () => {
    const dir = await workspace();
    const { code, stdout, stderr } = await runCli(['--check', 'upright'], dir);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/all 2 images are upright/);
  });

  it('prints GitHub Actions annotations with --reporter github', async () => {
    const dir = await workspace();
    const { code, stdout } = await runCli(['--check', '--reporter', 'github', 'images/a'], dir);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^::error file=images\/a\/jpeg-420_2\.jpg,title=exif-fix%3A not upright::orientation 2 in exif, 2 in xmp; fix with: exif-fix images\/a --in-place$/);
  });
});

describe('--dry-run', () => {
  it('prints what would be written and how, and writes nothing', async () => {
    const dir = await workspace();
    const before = await snapshot(dir);
    const { code, stdout } = await runCli(['--dry-run', 'images/a', '--out', 'fixed'], dir);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('would rotate images/a/'))).toHaveLength(7);
    expect(lines).toContain('would copy images/a/jpeg-420_1.jpg -> fixed/jpeg-420_1.jpg');
    expect(lines).toContain('would rotate images/a/jpeg-420_6.jpg -> fixed/jpeg-420_6.jpg: orientation 6 (exif), rotate-90, re-encoded');
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('--json and --report', () => {
  it('prints one parsable record per file in sorted order, then a summary', async () => {
    const dir = await workspace();
    const { code, stdout } = await runCli(['images', '--out', 'fixed', '--json'], dir);
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const files = records.filter((r) => r.type === 'file') as JsonFileRecord[];
    expect(files.map((r) => r.input)).toEqual([...files.map((r) => r.input)].sort());
    expect(files).toHaveLength(16);
    const six = files.find((r) => r.input === 'images/a/jpeg-420_6.jpg') as JsonFileRecord;
    expect(six).toMatchObject({
      output: 'fixed/a/jpeg-420_6.jpg',
      format: 'jpeg',
      orientation: 6,
      orientationSource: 'exif',
      action: 'rotated',
      transform: 'rotate-90',
      widthBefore: 29,
      heightBefore: 45,
      widthAfter: 45,
      heightAfter: 29,
      dryRun: false,
      error: null,
    });
    expect(six.bytesAfter).toBe((await stat(path.join(dir, 'fixed/a/jpeg-420_6.jpg'))).size);
    expect(['lossless', 'reencode']).toContain(six.pixels);
    const summary = records[records.length - 1];
    expect(summary).toMatchObject({ type: 'summary', total: 16, rotated: 14, upright: 2, failed: 0, exitCode: 0 });
  });

  it('writes the same records to --report while the human output goes on', async () => {
    const dir = await workspace();
    const { code, stdout } = await runCli(['images/a', '--out', 'fixed', '--report', 'report.ndjson'], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^rotated images\/a\/jpeg-420_2\.jpg/m);
    const records = (await readFile(path.join(dir, 'report.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(9);
    expect(records[8]).toMatchObject({ type: 'summary', rotated: 7 });
  });
});

describe('--files-from', () => {
  it('reads newline-separated paths from a file and NUL-separated paths from stdin', async () => {
    const dir = await workspace();
    await writeFile(path.join(dir, 'list.txt'), 'images/a/jpeg-420_6.jpg\nupright/one.jpg\n');
    const fromFile = await runCli(['--check', '--files-from', 'list.txt'], dir);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stdout.trim().split('\n')).toEqual(['images/a/jpeg-420_6.jpg: orientation 6 (exif), 6 (xmp)']);
    const fromStdin = await runCli(['--check', '--files-from', '-', '-0'], dir, 'upright/one.jpg\0upright/two.jpg\0');
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stderr).toMatch(/all 2 images are upright/);
  });

  it('fails a listed file that does not exist, naming it, and goes on', async () => {
    const dir = await workspace();
    const { code, stderr } = await runCli(['--files-from', '-', '--out', 'fixed'], dir, 'gone.jpg\nimages/a/jpeg-420_3.jpg\n');
    expect(code).toBe(1);
    expect(stderr).toMatch(/failed: `gone.jpg`: cannot read: no such file/);
    expect(await tree(path.join(dir, 'fixed'))).toEqual(['images/a/jpeg-420_3.jpg']);
  });
});

describe('stdin to stdout', () => {
  it('normalizes one image piped through `exif-fix -`', async () => {
    const dir = await tempDir();
    const input = await readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_8.jpg'));
    const { code, stdout } = await runCliRaw(['-'], dir, input);
    expect(code).toBe(0);
    expect(readOrientation(stdout)?.places.map((p) => p.value)).toEqual([1, 1]);
    const meta = await sharp(stdout).metadata();
    expect([meta.width, meta.height]).toEqual([45, 29]);
  });

  it('copies an upright image through unchanged and fails non-images with exit 1', async () => {
    const dir = await tempDir();
    const upright = await readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_1.jpg'));
    const ok = await runCliRaw(['-'], dir, upright);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toEqual(upright);
    const bad = await runCliRaw(['-'], dir, 'hello');
    expect(bad.code).toBe(1);
    expect(bad.stdout.length).toBe(0);
    expect(bad.stderr).toMatch(/stdin.*not an image/);
  });
});

describe('--shard', () => {
  it('splits the set into disjoint shards whose union is the whole set', () => {
    const paths = Array.from({ length: 500 }, (_, i) => `data/dir${i % 7}/img_${i}.jpg`);
    const shards = [1, 2, 3, 4].map((k) => paths.filter((p) => inShard(p, { index: k, count: 4 })));
    expect(shards.flat().sort()).toEqual([...paths].sort());
    expect(new Set(shards.flat()).size).toBe(paths.length);
    for (const s of shards) expect(s.length).toBeGreaterThan(60);
  });

  it('four shards run side by side produce exactly what one run produces', async () => {
    const dir = await workspace();
    const one = await runCli(['images', '--out', 'single'], dir);
    expect(one.code).toBe(0);
    const runs = await Promise.all([1, 2, 3, 4].map((k) => runCli(['images', '--out', 'sharded', '--shard', `${k}/4`, '--json'], dir)));
    const counts = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop() as string).total as number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16);
    const single = await tree(path.join(dir, 'single'));
    expect(await tree(path.join(dir, 'sharded'))).toEqual(single);
    for (const f of single) expect(await readFile(path.join(dir, 'sharded', f)), f).toEqual(await readFile(path.join(dir, 'single', f)));
  });
});

describe('--skip-existing', () => {
  it('skips outputs that exist and are newer than their input, so an interrupted run resumes', async () => {
    const dir = await workspace();
    await runCli(['images/a', '--out', 'fixed'], dir);
    const again = await runCli(['images/a', '--out', 'fixed', '--skip-existing', '--json'], dir);
    const summary = JSON.parse(again.stdout.trim().split('\n').pop() as string);
    expect(summary).toMatchObject({ existing: 8, rotated: 0 });
    const future = new Date(Date.now() + 60_000);
    await utimes(path.join(dir, 'images/a/jpeg-420_6.jpg'), future, future);
    const third = await runCli(['images/a', '--out', 'fixed', '--skip-existing', '--json'], dir);
    expect(JSON.parse(third.stdout.trim().split('\n').pop() as string)).toMatchObject({ existing: 7, rotated: 1 });
  });
});

describe('patterns and conflicting flags', () => {
  it('allows an unmatched pattern with --no-error-on-unmatched-pattern', async () => {
    const dir = await workspace();
    const refused = await runCli(['--check', 'images/**/*.webp'], dir);
    expect(refused.code).toBe(2);
    const allowed = await runCli(['--check', 'images/**/*.webp', 'upright', '--no-error-on-unmatched-pattern'], dir);
    expect(allowed.code).toBe(0);
  });

  it.each([
    [['--check', '--in-place', 'images'], /--check cannot be combined with --in-place/],
    [['--check', '--dry-run', 'images'], /--dry-run cannot be combined with --check/],
    [['-', 'images'], /- \(stdin\) cannot be combined with other inputs/],
    [['images', '--out', 'x', '--shard', '5/4'], /Expected K\/N/],
  ])('rejects %j before any work with exit 2', async (args, message) => {
    const dir = await workspace();
    const before = await snapshot(dir);
    const { code, stderr } = await runCli(args, dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(await snapshot(dir)).toEqual(before);
  });
});
