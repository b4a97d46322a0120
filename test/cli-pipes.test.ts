// The command line at its edges: a reader that stops reading, a report that cannot be written.
import { spawn } from 'node:child_process';
import { cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers.js';

/** Runs the CLI with its stdout piped into a reader that takes one line and closes the pipe. */
function firstLine(args: string[], cwd: string): Promise<{ code: number | null; line: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'exif-fix.js'), ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('\n')) child.stdout.destroy();
    });
    child.on('close', (code) => resolve({ code, line: stdout.split('\n')[0], stderr }));
  });
}

async function sideways(count: number): Promise<string> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation'), path.join(dir, 'images'), { recursive: true });
  expect((await readdir(path.join(dir, 'images'))).length).toBeGreaterThan(count);
  return dir;
}

describe('a closed stdout', () => {
  it('ends --check quietly, as head expects: no stack trace, the exit code of what was found', async () => {
    const dir = await sideways(3);
    const { code, line, stderr } = await firstLine(['--check', 'images'], dir);
    expect(line).toMatch(/: orientation \d/);
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+|unexpected error/);
    expect(code).toBe(1);
  });

  it('stops a run with --out from starting new files, without a stack trace', async () => {
    const dir = await sideways(3);
    const { code, stderr } = await firstLine(['images', '--out', 'fixed', '-c', '1'], dir);
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+|unexpected error/);
    expect([0, 1]).toContain(code);
    expect(stderr).toMatch(/exif-fix: \d+ rotated/);
  });
});

describe('--report', () => {
  it('in a folder that does not exist is a usage error before any work (exit 2, nothing written)', async () => {
    const dir = await sideways(1);
    const { code, stderr } = await runCli(['images', '--out', 'fixed', '--report', 'nodir/r.ndjson'], dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot write the report `nodir\/r\.ndjson`: ENOENT/);
    expect(stderr).not.toMatch(/unexpected error/);
    expect(await readdir(dir)).toEqual(['images']);
  });
});

describe('an empty --files-from list', () => {
  it('is a run over nothing, exit 0 (a pull request that changes no image passes)', async () => {
    const dir = await tempDir();
    const checked = await runCli(['--check', '--files-from', '-'], dir, '');
    expect(checked.code).toBe(0);
    expect(checked.stderr).toMatch(/no images found/);
    const run = await runCli(['--out', 'fixed', '--files-from', '-', '-0'], dir, '');
    expect(run.code).toBe(0);
  }, 60_000);

  it('without any path or list is still a usage error', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runCli(['--check'], dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Expected at least one path/);
  }, 60_000);
});
