// Crash safety of --in-place, interrupts, concurrent runs and filesystem faults: whatever
// happens, every input is byte-identical to its original or to its normalized form, and no
// temporary file is left behind once a run completes. The faults that need root or util-linux
// (permissions without CAP_DAC_OVERRIDE, a full tmpfs) are in test/system/filesystem.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { cp, lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../src/index.js';
import { TEMP_MARKER, temporaryName, temporaryScope, writeAtomic } from '../src/write.js';
import { relaunchEnvironment } from '../src/launch.js';
import { childProcesses, CORPUS, FIXTURES, ROOT, runCli, tempDir } from './helpers.js';

const relaunches = relaunchEnvironment([]) !== undefined;

const BIN = path.join(ROOT, 'bin', 'exif-fix.js');

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/** A tree of sideways real photos (and their normalized forms, made by a separate run). */
async function photoTree(copies: number): Promise<{ dir: string; originals: Map<string, Buffer>; normalized: Map<string, Buffer> }> {
  const dir = await tempDir();
  const tree = path.join(dir, 'tree');
  for (let c = 0; c < copies; c++) {
    await mkdir(path.join(tree, `set${c}`), { recursive: true });
    for (const f of await readdir(CORPUS)) if (f.endsWith('.jpg')) await cp(path.join(CORPUS, f), path.join(tree, `set${c}`, f));
  }
  await normalize([tree], { out: path.join(dir, 'expected') });
  const originals = new Map<string, Buffer>();
  const normalized = new Map<string, Buffer>();
  for (const f of await files(tree)) {
    originals.set(f, await readFile(f));
    normalized.set(f, await readFile(path.join(dir, 'expected', path.relative(tree, f))));
  }
  return { dir: tree, originals, normalized };
}

async function expectOriginalOrNormalized(t: { dir: string; originals: Map<string, Buffer>; normalized: Map<string, Buffer> }) {
  const present = (await files(t.dir)).filter((f) => !path.basename(f).includes(TEMP_MARKER));
  expect(present).toEqual([...t.originals.keys()]);
  let done = 0;
  for (const f of present) {
    const bytes = await readFile(f);
    const isOriginal = bytes.equals(t.originals.get(f) as Buffer);
    const isNormalized = bytes.equals(t.normalized.get(f) as Buffer);
    expect(isOriginal || isNormalized, f).toBe(true);
    if (isNormalized) done++;
  }
  return done;
}

/** How many files of the tree already hold their normalized bytes. */
async function normalizedCount(t: { originals: Map<string, Buffer>; normalized: Map<string, Buffer> }): Promise<number> {
  let n = 0;
  for (const [f, bytes] of t.normalized) {
    const now = await readFile(f).catch(() => null);
    if (now !== null && now.equals(bytes) && !now.equals(t.originals.get(f) as Buffer)) n++;
  }
  return n;
}

async function temporaries(dir: string): Promise<string[]> {
  return (await files(dir)).filter((f) => path.basename(f).includes(TEMP_MARKER));
}

/** A seeded PRNG (mulberry32), so the kill moments are the same on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

describe('crash safety of --in-place', () => {
  it('leaves every file original or normalized when killed with SIGKILL at random moments, and the next run cleans up', async () => {
    const t = await photoTree(2);
    const random = prng(20261121);
    let sawProgress = false;
    for (let round = 0; round < 12; round++) {
      const { child, exited } = startCli([t.dir, '--in-place', '--concurrency', '2'], t.dir);
      // Where the command runs in a child process (src/launch.ts), the random moment counts from
      // that child's start, as it counts from the command's start where it runs in one.
      if (relaunches) while (childProcesses(child.pid!).length === 0 && child.exitCode === null) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 40 + random() * 400));
      child.kill('SIGKILL');
      const end = await exited;
      expect(end.signal === 'SIGKILL' || end.code === 0).toBe(true);
      const done = await expectOriginalOrNormalized(t);
      if (done > 0 && done < t.originals.size) sawProgress = true;
    }
    expect(sawProgress).toBe(true);
    const final = await runCli([t.dir, '--in-place'], t.dir);
    expect(final.code, final.stderr).toBe(0);
    expect(await expectOriginalOrNormalized(t)).toBe(t.originals.size);
    expect(await temporaries(t.dir)).toEqual([]);
  });

  it('removes temporary files a killed run left behind, but not those of a live process nor a user file that looks alike', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'a.jpg'));
    const dead = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
    const stale = path.join(dir, temporaryName({ scope: temporaryScope(), pid: dead }));
    const live = path.join(dir, temporaryName());
    const user = path.join(dir, `.a.jpg.exif-fix-tmp-${dead}-0123456789ab`);
    await writeFile(stale, 'partial');
    await writeFile(live, 'in progress');
    await writeFile(user, 'a user file named like the temporary files of exif-fix 0.1');
    const { code } = await runCli(['a.jpg', '--in-place'], dir);
    expect(code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([path.basename(live), path.basename(user), 'a.jpg'].sort());
  });

  it('does not overwrite a file that changed between read and write', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, 'version 1');
    const s = await stat(file);
    await writeFile(file, 'version 2, edited meanwhile');
    await expect(writeAtomic(file, Buffer.from('normalized'), { expect: { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs } })).rejects.toThrow(/changed while it was being processed/);
    expect(await readFile(file, 'utf8')).toBe('version 2, edited meanwhile');
    expect(await readdir(dir)).toEqual(['a.jpg']);
  });
});

describe('interrupts', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s stops scheduling, prints the summary so far and exits %i', async (signal, expected) => {
    const t = await photoTree(3);
    const { child, exited } = startCli([t.dir, '--in-place', '--concurrency', '1'], t.dir);
    // Signal once the run is under way (a file is rewritten), not after a fixed delay: under
    // load, Node may not have started, and installed its handlers, within any chosen time.
    while ((await normalizedCount(t)) === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill(signal);
    const end = await exited;
    expect(end.code).toBe(expected);
    expect(end.stderr).toMatch(new RegExp(`interrupted by ${signal}`));
    expect(end.stderr).toMatch(/exif-fix: \d+ rotated, \d+ already upright/);
    const done = await expectOriginalOrNormalized(t);
    expect(done).toBeLessThan(t.originals.size);
    expect(await temporaries(t.dir)).toEqual([]);
  });
});

describe('concurrent runs', () => {
  it('two processes rewriting the same tree in place never leave a torn or doubly rotated file', async () => {
    const t = await photoTree(2);
    const a = startCli([t.dir, '--in-place'], t.dir);
    const b = startCli([t.dir, '--in-place'], t.dir);
    const [ra, rb] = await Promise.all([a.exited, b.exited]);
    expect([0, 1]).toContain(ra.code);
    expect([0, 1]).toContain(rb.code);
    for (const r of [ra, rb]) {
      for (const line of r.stderr.split('\n').filter((l) => l.startsWith('  failed:'))) expect(line).toMatch(/changed while it was being processed/);
    }
    expect(await expectOriginalOrNormalized(t)).toBe(t.originals.size);
    expect(await temporaries(t.dir)).toEqual([]);
  });
});

describe('filesystem faults', () => {
  it('injects a writer fault: the temporary file is removed and the target untouched', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'a.jpg');
    await writeFile(target, 'original');
    const enospc = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const writer = async (file: string, data: Uint8Array) => {
      await writeFile(file, data.subarray(0, 3));
      throw enospc;
    };
    await expect(writeAtomic(target, Buffer.from('normalized bytes'), { writer })).rejects.toThrow(/Cannot write `.*a\.jpg`: ENOSPC/);
    expect(await readdir(dir)).toEqual(['a.jpg']);
    expect(await readFile(target, 'utf8')).toBe('original');
  });
});

describe('symbolic links and unusual names', () => {
  it('does not follow links by default; --follow-symlinks follows them once, through loops, keeping the link', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'data', 'real'), { recursive: true });
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'data', 'real', 'a.jpg'));
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_8.jpg'), path.join(dir, 'elsewhere.jpg'));
    await symlink('../elsewhere.jpg', path.join(dir, 'data', 'link.jpg'));
    await symlink('..', path.join(dir, 'data', 'real', 'loop'));
    const plain = await runCli(['--check', 'data'], dir);
    expect(plain.stdout.trim().split('\n')).toEqual(['data/real/a.jpg: orientation 6 (exif), 6 (xmp)']);
    const named = await runCli(['data/link.jpg', '--in-place'], dir);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/`data\/link\.jpg`: is a symbolic link; not followed \(use --follow-symlinks\)/);
    const followed = await runCli(['data', '--in-place', '--follow-symlinks'], dir);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stderr).toMatch(/2 rotated/);
    expect((await lstat(path.join(dir, 'data', 'link.jpg'))).isSymbolicLink()).toBe(true);
    const again = await runCli(['--check', 'data', '--follow-symlinks'], dir);
    expect(again.code).toBe(0);
  });

  it('handles spaces and newlines in names, and fails a non-UTF-8 name with a clear message', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'in'));
    const source = await readFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'));
    await writeFile(path.join(dir, 'in', 'with space.jpg'), source);
    await writeFile(path.join(dir, 'in', 'new\nline.jpg'), source);
    writeFileSync(Buffer.concat([Buffer.from(path.join(dir, 'in') + '/'), Buffer.from([0x62, 0xff, 0xfe, 0x2e, 0x6a, 0x70, 0x67])]), source);
    const { code, stderr } = await runCli(['in', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/2 rotated, 0 already upright, 1 failed/);
    expect(stderr).toMatch(/failed: `in\/b\uFFFD\uFFFD\.jpg`: cannot read: no such file/);
    expect((await readdir(path.join(dir, 'out'))).sort()).toEqual(['new\nline.jpg', 'with space.jpg']);
  });
});
