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

  // An interactive terminal, whatever the CI running this test sets.
  const TERMINAL = { CI: '', TERM: 'xterm-256color' };

  it('is drawn on stderr only when it is a terminal, and never with --quiet', async () => {
    const dir = await workspace();
    const tty = await runOnTty(['images', '--out', 'fixed'], dir, TERMINAL);
    expect(tty).toMatch(/exif-fix \[[^\]]*\] \d+\/16 \| [\d.]+ files\/s \| ETA/);
    expect(tty).toMatch(/14 rotated, 2 already upright/);
    const quiet = await runOnTty(['images', '--out', 'fixed2', '--quiet'], dir, TERMINAL);
    expect(quiet).not.toMatch(/files\/s/);
    const piped = await runCli(['images', '--out', 'fixed3'], dir);
    expect(piped.stderr).not.toMatch(/files\/s/);
  });

  it('is not drawn, and no escape code is written, with TERM=dumb or under CI', async () => {
    const dir = await workspace();
    const dumb = await runOnTty(['images', '--out', 'fixed'], dir, { CI: '', TERM: 'dumb' });
    expect(dumb).not.toMatch(/files\/s/);
    expect(dumb).not.toMatch(/\x1b\[/);
    expect(dumb).toMatch(/14 rotated, 2 already upright/);
    const ci = await runOnTty(['images', '--out', 'fixed2'], dir, { CI: 'true', TERM: 'xterm-256color' });
    expect(ci).not.toMatch(/files\/s/);
  });

  /**
   * What a terminal shows for `raw`, line by line: carriage returns and cursor-to-column-1 start
   * writing over the line again, erase-line clears it, other escape codes show nothing.
   */
  function screen(raw: string): string[] {
    return raw.split('\n').map((line) => {
      let shown = '';
      for (const token of line.split(/(\r|\x1b\[1G|\x1b\[2K)/)) {
        if (token === '\x1b[2K') shown = '';
        else if (token === '\r' || token === '\x1b[1G') shown = `\0${shown}`;
        else {
          const text = token.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
          const at = shown.lastIndexOf('\0');
          const from = at < 0 ? shown.length : at;
          const rest = shown.slice(from + (at < 0 ? 0 : 1));
          shown = shown.slice(0, from) + text + rest.slice(text.length);
        }
      }
      return shown.replace(/\0/g, '').trimEnd();
    });
  }

  it('keeps the summary and every --verbose line on lines of their own, never glued to the bar', async () => {
    const dir = await workspace();
    const tty = await runOnTty(['images', '--out', 'fixed', '--verbose', '-c', '1'], dir, TERMINAL);
    const lines = screen(tty);
    expect(lines.filter((l) => /^rotated images\/[ab]\/jpeg-4(20|44)_\d\.(jpg|JPG) -> /.test(l))).toHaveLength(14);
    expect(lines.filter((l) => /^exif-fix: 14 rotated, 2 already upright/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /files\/s/.test(l) && /rotated images/.test(l))).toBe(false);
  });
});
