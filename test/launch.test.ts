// The launcher (src/launch.ts, bin/exif-fix.js): on Linux with glibc a run that may decode pixels
// starts again with allocator settings, and the launcher and its child behave as one process.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOCATOR_ENV, RELAUNCHED, relaunchEnvironment, versionOnly } from '../src/launch.js';
import { childProcesses, FIXTURES, ROOT, tempDir } from './helpers.js';

const BIN = path.join(ROOT, 'bin', 'exif-fix.js');
const glibc = () => true;

describe('relaunchEnvironment', () => {
  it('relaunches a run on Linux with glibc, adding the allocator settings and keeping the rest of the environment', () => {
    const env = relaunchEnvironment(['photos', '--out', 'fixed'], { PATH: '/bin', MALLOC_ARENA_MAX: '2' }, 'linux', glibc);
    expect(env).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '2', ...ALLOCATOR_ENV, [RELAUNCHED]: '1' });
    expect(ALLOCATOR_ENV).toEqual({ MALLOC_MMAP_THRESHOLD_: '268435456', MALLOC_TRIM_THRESHOLD_: '268435456' });
  });

  it.each([['--check'], ['--version'], ['-V'], ['--help'], ['-h'], ['help']])('runs %s in this process (no pixels)', (flag) => {
    expect(relaunchEnvironment(['photos', flag], {}, 'linux', glibc)).toBeUndefined();
  });

  it('runs under --inspect in the process being debugged', () => {
    expect(relaunchEnvironment(['photos'], {}, 'linux', glibc, ['--inspect-brk'])).toBeUndefined();
    expect(relaunchEnvironment(['photos'], {}, 'linux', glibc, ['--max-old-space-size=4096'])).toBeDefined();
  });

  it('relaunches for a file named like a flag after --', () => {
    expect(relaunchEnvironment(['--out', 'o', '--', '--check'], {}, 'linux', glibc)).toBeDefined();
  });

  it.each([
    ['another system', {}, 'darwin', true],
    ['another C library (musl)', {}, 'linux', false],
    ['a relaunched child', { [RELAUNCHED]: '1' }, 'linux', true],
    ['the user set MALLOC_MMAP_THRESHOLD_', { MALLOC_MMAP_THRESHOLD_: '1' }, 'linux', true],
    ['the user set MALLOC_TRIM_THRESHOLD_', { MALLOC_TRIM_THRESHOLD_: '1' }, 'linux', true],
    ['a glibc.malloc tunable', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux', true],
    ['another allocator preloaded', { LD_PRELOAD: 'libjemalloc.so.2' }, 'linux', true],
  ] as const)('runs in this process for %s', (_, env, platform, isGlibc) => {
    expect(relaunchEnvironment(['photos'], env, platform, () => isGlibc)).toBeUndefined();
  });
});

describe('versionOnly', () => {
  it('answers --version and -V alone with the package version, and leaves anything else to the CLI', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(versionOnly(['--version'])).toBe(`${version}\n`);
    expect(versionOnly(['-V'])).toBe(`${version}\n`);
    expect(versionOnly(['--version', 'photos'])).toBeUndefined();
    expect(versionOnly([])).toBeUndefined();
    expect(versionOnly(['--verbose'])).toBeUndefined();
  });
});

const children = childProcesses;

const settle = () => new Promise((r) => setTimeout(r, 20));

/** 72 real photos (4 copies of fixtures/photos) in a fresh directory, and an output directory. */
async function workload(): Promise<{ input: string; out: string }> {
  const dir = await tempDir();
  const input = path.join(dir, 'in');
  await mkdir(input);
  const photos = (await readdir(path.join(FIXTURES, 'photos'))).filter((n) => n.endsWith('.jpg'));
  for (let k = 0; k < 4; k++) for (const n of photos) await cp(path.join(FIXTURES, 'photos', n), path.join(input, `${k}-${n}`));
  return { input, out: path.join(dir, 'out') };
}

/** Starts the command in a process group of its own; resolves once its child has written a first output. */
async function startRun(detached = false) {
  const { input, out } = await workload();
  const launcher = spawn(process.execPath, [BIN, input, '--out', out, '--concurrency', '1', '--quiet'], { detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  launcher.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  launcher.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => launcher.on('close', (code, signal) => resolve({ code, signal })));
  const gone = () => launcher.exitCode !== null || launcher.signalCode !== null;
  let child: { pid: number; env: string[] } | undefined;
  while (!child && !gone()) {
    await settle();
    child = children(launcher.pid!)[0];
  }
  while (!gone() && (!existsSync(out) || (await readdir(out)).filter((n) => n.endsWith('.jpg')).length === 0)) await settle();
  if (!child || gone()) throw new Error(`the run ended before it could be observed: ${stderr}`);
  // Read again now that the child has written: right after fork, before it execs Node, a child's
  // /proc environ is still its parent's.
  child = children(launcher.pid!).find((c) => c.pid === child!.pid) ?? child;
  return { launcher, child, exited, out, stderr: () => stderr };
}

const relaunches = relaunchEnvironment(['photos']) !== undefined;

/** Whether the process `pid` has ended (gone, or a zombie waiting to be reaped). */
function ended(pid: number): boolean {
  try {
    return /\nState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return true;
  }
}

describe.runIf(relaunches)('the launcher and its child', () => {
  it('takes the child down when the launcher is killed with SIGKILL while the child is still starting', async () => {
    const { input, out } = await workload();
    const launcher = spawn(process.execPath, [BIN, input, '--out', out, '--concurrency', '1', '--quiet'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => launcher.on('close', resolve));
    let child: { pid: number } | undefined;
    while (!child && launcher.exitCode === null) {
      await new Promise((r) => setImmediate(r));
      child = children(launcher.pid!)[0];
    }
    if (!child) throw new Error('the launcher ended without starting a child');
    launcher.kill('SIGKILL');
    await exited;
    // A child that ran on as an orphan would end too, after writing all 72.
    while (!ended(child.pid)) await settle();
    const written = existsSync(out) ? (await readdir(out)).filter((n) => n.endsWith('.jpg')).length : 0;
    expect(written).toBeLessThan(72);
  });

  it('runs the work in a child started with the allocator settings', async () => {
    const run = await startRun();
    expect(run.child.env).toContain('MALLOC_MMAP_THRESHOLD_=268435456');
    expect(run.child.env).toContain('MALLOC_TRIM_THRESHOLD_=268435456');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toMatch(/^exif-fix: 56 rotated, 8 already upright, 8 metadata fixed, 0 failed in /m);
  });

  it('passes SIGTERM sent to the launcher alone on to the child: exit 143 with the summary', async () => {
    const run = await startRun();
    run.launcher.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 143, signal: null });
    expect(run.stderr()).toMatch(/interrupted before writing; nothing written/);
    expect(run.stderr().match(/^exif-fix: interrupted by SIGTERM; stopped scheduling new files$/gm)?.length).toBe(1);
    expect(run.stderr().match(/^exif-fix: .* failed in [\d.]+s/gm)?.length).toBe(1);
  });

  it('takes a SIGINT that a terminal sends to the whole group as one interrupt: exit 130, not killed', async () => {
    const run = await startRun(true);
    process.kill(-run.launcher.pid!, 'SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.stderr().match(/^exif-fix: interrupted by SIGINT; stopped scheduling new files$/gm)?.length).toBe(1);
    expect(run.stderr().match(/^exif-fix: .* failed in [\d.]+s/gm)?.length).toBe(1);
  });

  it('takes the child down with the launcher when the launcher is killed with SIGKILL', async () => {
    const run = await startRun();
    run.launcher.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The child notices the lost channel and kills itself; an orphan would end too, after all 72.
    while (!ended(run.child.pid)) await settle();
    expect((await readdir(run.out)).filter((n) => n.endsWith('.jpg')).length).toBeLessThan(72);
  });
});
