// Filesystem faults that need root and util-linux: permissions enforced on root by dropping
// CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (setpriv), and a full disk (a 64 KiB tmpfs, mount).
// The prerequisites are checked up front by test/system/prerequisites.ts.
import { execFileSync, spawn } from 'node:child_process';
import { chmod, cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, FIXTURES, ROOT, runCli, tempDir } from '../helpers.js';

const BIN = path.join(ROOT, 'bin', 'exif-fix.js');

/**
 * Runs the CLI without the capabilities that let root ignore file permissions
 * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH; util-linux setpriv), so mode bits apply as they would
 * to any user, wherever the checkout lives.
 */
function runWithoutOverride(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

describe('filesystem faults', () => {
  it('fails every file with a clear message when the output directory is read-only', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'in'), { recursive: true });
    await mkdir(path.join(dir, 'out'));
    await chmod(path.join(dir, 'out'), 0o555);
    const { code, stderr } = await runWithoutOverride(['in', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/failed: `in\/jpeg-420_6\.jpg`: cannot write `out\/jpeg-420_6\.jpg`: permission denied \(EACCES\)/);
    expect(await readdir(path.join(dir, 'out'))).toEqual([]);
  });

  it('fails only the input it may not read, and processes the rest', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'in'), { recursive: true });
    await chmod(path.join(dir, 'in', 'jpeg-420_3.jpg'), 0o000);
    const { code, stderr } = await runWithoutOverride(['in', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/6 rotated, 1 already upright, 1 failed/);
    expect(stderr).toMatch(/failed: `in\/jpeg-420_3\.jpg`: cannot read: permission denied \(EACCES\)/);
    expect((await readdir(path.join(dir, 'out'))).length).toBe(7);
  });

  it('fails files cleanly on a full disk (a 64 KiB tmpfs), leaving no partial or temporary file', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'full');
    await mkdir(out);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', out]);
    try {
      const input = path.join(dir, 'in');
      await mkdir(input);
      for (const f of ['Landscape_6.jpg', 'Portrait_8.jpg']) await cp(path.join(CORPUS, f), path.join(input, f));
      const { code, stderr } = await runCli(['in', '--out', 'full'], dir);
      expect(code).toBe(1);
      expect(stderr).toMatch(/failed: `in\/Landscape_6\.jpg`: cannot write `full\/Landscape_6\.jpg`: ENOSPC/);
      expect(await readdir(out)).toEqual([]);
    } finally {
      execFileSync('umount', [out]);
    }
  });
});
