// What the walk does, seen through the real CLI (node bin/exif-fix.js, built by `npm test`):
// links in patterns, unreadable and too-deep directories (issue 12, item 9), exclusions and a
// tab-completed trailing slash (issue 13, item 5).
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli, tempDir, tree } from './helpers.js';
import { makeDeepTree, removeDeepTree } from './helpers/deep-tree.js';

const SIDEWAYS = path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg');
const BIN = path.join(ROOT, 'bin', 'exif-fix.js');

/** The uid and gid of `nobody`, which a root process can switch to. */
const NOBODY = 65534;

/**
 * The CLI to run as a user that permissions apply to: as itself when not root, and as `nobody`
 * when root (root reads a mode-000 directory anyway, so the condition would not be real). When
 * `nobody` cannot reach this checkout (a clone below a private directory), the built CLI and its
 * modules are copied to a world-readable temporary directory first.
 */
async function unprivilegedCli(): Promise<{ bin: string; uid?: number }> {
  if (process.getuid?.() !== 0) return { bin: BIN };
  const probe = path.join(ROOT, 'node_modules', 'commander', 'package.json');
  const reachable = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(probe)}); require('node:fs').accessSync(${JSON.stringify(BIN)})`], { uid: NOBODY, gid: NOBODY });
  if (reachable.status === 0) return { bin: BIN, uid: NOBODY };
  const copy = await tempDir();
  await chmod(copy, 0o755);
  for (const part of ['bin', 'dist', 'package.json', 'node_modules']) await cp(path.join(ROOT, part), path.join(copy, part), { recursive: true, verbatimSymlinks: true });
  return { bin: path.join(copy, 'bin', 'exif-fix.js'), uid: NOBODY };
}

/** Runs `cli` (see {@link unprivilegedCli}) in `cwd`; resolves with its exit code and output. */
function runAs(cli: { bin: string; uid?: number }, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const ids = cli.uid === undefined ? {} : { uid: cli.uid, gid: cli.uid };
    const child = spawn(process.execPath, [cli.bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, ...ids });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end();
  });
}

describe('the walk through the CLI', () => {
  it('finds files below a linked directory with a pattern and --follow-symlinks, as with a directory', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'data'));
    await mkdir(path.join(dir, 'real'));
    await cp(SIDEWAYS, path.join(dir, 'real', 'a.jpg'));
    await symlink('../real', path.join(dir, 'data', 'link'));
    for (const given of ['data', 'data/**/*.jpg']) {
      const { code, stdout, stderr } = await runCli(['--check', given, '--follow-symlinks'], dir);
      expect(code, stderr).toBe(1);
      expect(stdout.trim().split('\n'), given).toEqual(['data/link/a.jpg: orientation 6 (exif), 6 (xmp)']);
    }
    const fixed = await runCli(['data/**/*.jpg', '--out', 'fixed', '--follow-symlinks'], dir);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(await tree(path.join(dir, 'fixed'))).toEqual([path.join('link', 'a.jpg')]);
  });

  it('reports an unreadable directory as one failure and checks the rest, following links or not', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    await mkdir(path.join(dir, 'data', 'locked'), { recursive: true });
    await cp(SIDEWAYS, path.join(dir, 'data', 'b.jpg'));
    await cp(SIDEWAYS, path.join(dir, 'data', 'locked', 'c.jpg'));
    await chmod(path.join(dir, 'data', 'locked'), 0);
    const cli = await unprivilegedCli();
    try {
      for (const extra of [[], ['--follow-symlinks']]) {
        const { code, stdout, stderr } = await runAs(cli, ['--check', 'data', ...extra], dir);
        expect(code, stderr).toBe(1);
        expect(stdout.trim().split('\n')).toEqual(['data/b.jpg: orientation 6 (exif), 6 (xmp)']);
        expect(stderr).not.toMatch(/unexpected error/);
        expect(stderr.split('\n').filter((l) => l.startsWith('  failed: '))).toEqual(['  failed: `data/locked`: cannot read directory: permission denied (EACCES)']);
      }
    } finally {
      await chmod(path.join(dir, 'data', 'locked'), 0o755);
    }
  });

  it('reports a directory deeper than PATH_MAX as one failure and fixes the rest', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'data'));
    await cp(SIDEWAYS, path.join(dir, 'data', 'b.jpg'));
    await makeDeepTree(path.join(dir, 'data'), 'c.jpg', await readFile(SIDEWAYS));
    try {
      for (const extra of [[], ['--follow-symlinks']]) {
        const { code, stderr } = await runCli(['data', '--out', `fixed${extra.length}`, ...extra], dir);
        expect(code, stderr).toBe(1);
        expect(stderr).not.toMatch(/unexpected error/);
        expect(stderr).toMatch(/1 rotated, 0 already upright, 1 failed/);
        const failures = stderr.split('\n').filter((l) => l.startsWith('  failed: '));
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatch(/^ {2}failed: `data\/deep\/d{250}\/.*`: cannot read directory: path too long for the system \(ENAMETOOLONG, over PATH_MAX\)$/);
        expect(await tree(path.join(dir, `fixed${extra.length}`))).toEqual(['b.jpg']);
      }
    } finally {
      await removeDeepTree(path.join(dir, 'data'));
    }
  });

  it('leaves out paths given as !pattern', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'tree', 'sub'), { recursive: true });
    await cp(SIDEWAYS, path.join(dir, 'tree', 'a.jpg'));
    await cp(SIDEWAYS, path.join(dir, 'tree', 'sub', 'b.jpg'));
    const { code, stdout, stderr } = await runCli(['--check', 'tree', '!tree/sub/**'], dir);
    expect(code, stderr).toBe(1);
    expect(stdout.trim().split('\n')).toEqual(['tree/a.jpg: orientation 6 (exif), 6 (xmp)']);
  });

  it('runs the README shell pre-upload step with a tab-completed photos/, twice', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'photos', 'sub'), { recursive: true });
    await cp(SIDEWAYS, path.join(dir, 'photos', 'a.jpg'));
    await cp(SIDEWAYS, path.join(dir, 'photos', 'sub', 'b.jpg'));
    // exif-fix "$1" --out "$1.upright" --quiet --report exif-fix.ndjson, with $1 = photos/
    for (const run of [1, 2]) {
      const { code, stderr } = await runCli(['photos/', '--out', 'photos/.upright', '--quiet', '--report', 'exif-fix.ndjson'], dir);
      expect(code, `run ${run}: ${stderr}`).toBe(0);
      expect(stderr).toMatch(/2 rotated, 0 already upright, 0 failed/);
    }
    expect(await tree(path.join(dir, 'photos', '.upright'))).toEqual(['a.jpg', path.join('sub', 'b.jpg')]);
  });
});
