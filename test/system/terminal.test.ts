// The progress bar on a real pseudo-terminal (util-linux `script`, checked up front by
// test/system/prerequisites.ts).
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli, tempDir } from '../helpers.js';

/** Two fixture sets (16 JPEGs, 2 of them upright) under `images/` in a new temporary directory. */
async function workspace(): Promise<string> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'images', 'a'), { recursive: true });
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-444'), path.join(dir, 'images', 'b'), { recursive: true });
  return dir;
}

describe('progress bar', () => {
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), returning what the terminal showed. */
  function runOnTty(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
    const command = [process.execPath, path.join(ROOT, 'bin', 'exif-fix.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return new Promise((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, ...env } }, (_error, stdout) => resolve(stdout));
    });
  }

  it('is drawn on stderr only when it is a terminal, and never with --quiet', async () => {
    const dir = await workspace();
    const tty = await runOnTty(['images', '--out', 'fixed'], dir);
    expect(tty).toMatch(/exif-fix \[[^\]]*\] \d+\/16 \| [\d.]+ files\/s \| ETA/);
    expect(tty).toMatch(/14 rotated, 2 already upright/);
    const quiet = await runOnTty(['images', '--out', 'fixed2', '--quiet'], dir);
    expect(quiet).not.toMatch(/files\/s/);
    const piped = await runCli(['images', '--out', 'fixed3'], dir);
    expect(piped.stderr).not.toMatch(/files\/s/);
  });
});
