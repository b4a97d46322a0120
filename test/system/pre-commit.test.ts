// The pre-commit hooks with the real pre-commit, against a scratch dataset repository: the
// README's .pre-commit-config.yaml as written (its `repo:` pointed at this checkout), pinned the
// way the README says (`pre-commit autoupdate --bleeding-edge --freeze`), then run on staged
// images of every supported format, in odd letter cases, beside an SVG. pre-commit installs the
// hooks with npm from the committed HEAD of this repository (needs the network for the
// dependencies). Uncommitted changes to the hooks are not seen.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readOrientation } from '../../src/index.js';
import { FIXTURES, ROOT } from '../helpers.js';

const run = promisify(execFile);

/** Runs a command; resolves with its exit code and output, never rejecting on a non-zero exit. */
async function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The README's pre-commit configuration block, parsed. */
async function readmeConfig(): Promise<any> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const block = /```yaml\n(# \.pre-commit-config\.yaml[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README: no .pre-commit-config.yaml block');
  return parse(block[1]);
}

/** Staged files: [name in the repository, fixture it copies]. */
const STAGED: Array<[string, string]> = [
  ['photos/a.JPG', 'jpeg-444/jpeg-444_6.JPG'],
  ['photos/b.jpeg', 'jpeg-420/jpeg-420_3.jpg'],
  ['photos/c.Png', 'png-exif/png-exif_8.png'],
  ['photos/d.webp', 'webp-lossy/webp-lossy_6.webp'],
  ['photos/e.TIF', 'tiff-lzw/tiff-lzw_6.tif'],
  ['photos/f.tiff', 'tiff-lzw/tiff-lzw_5.tif'],
  ['photos/g.avif', 'avif/avif_6.avif'],
  ['photos/h.HEIF', 'avif/avif_3.avif'],
  ['photos/i.heic', 'avif/avif_8.avif'],
  ['photos/upright.jpg', 'jpeg-420/jpeg-420_1.jpg'],
  ['-dash.jpg', 'jpeg-420/jpeg-420_6.jpg'], // passed as a file after `--`, not as a flag
];
const SIDEWAYS = STAGED.map(([name]) => name).filter((n) => !n.includes('upright'));

describe('pre-commit hooks against a scratch repository', () => {
  let home: string;
  let repo: string;
  const env = () => ({ PRE_COMMIT_HOME: home, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' });

  // These live for the whole describe block (tempDir's directories are removed after each test).
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  });
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-pre-commit-home-'));
    repo = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-pre-commit-repo-'));
    await sh('git', ['init', '-q', '-b', 'main'], repo);
    for (const [name, fixture] of STAGED) {
      await mkdir(path.dirname(path.join(repo, name)), { recursive: true });
      await copyFile(path.join(FIXTURES, 'orientation', fixture), path.join(repo, name));
    }
    await writeFile(path.join(repo, 'photos', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n');
    await writeFile(path.join(repo, 'photos', 'notes.txt'), 'not an image\n');
  });

  it('pins the README configuration to a commit with pre-commit autoupdate --bleeding-edge --freeze', async () => {
    const config = await readmeConfig();
    expect(config.repos[0].rev).toBe('main');
    config.repos[0].repo = ROOT;
    await writeFile(path.join(repo, '.pre-commit-config.yaml'), stringify(config));
    const up = await sh('pre-commit', ['autoupdate', '--bleeding-edge', '--freeze'], repo, env());
    expect(up.code, up.out).toBe(0);
    const head = (await sh('git', ['rev-parse', 'HEAD'], ROOT)).out.trim();
    const pinned = parse(await readFile(path.join(repo, '.pre-commit-config.yaml'), 'utf8'));
    expect(pinned.repos[0].rev).toBe(head);
  });

  it('the check hook fails on every sideways image of every supported format, lists each, and passes no SVG', async () => {
    await sh('git', ['add', '-A'], repo);
    const r = await sh('pre-commit', ['run', '--all-files', '--verbose'], repo, env());
    expect(r.code, r.out).toBe(1);
    for (const name of SIDEWAYS) expect(r.out, name).toContain(`${name}: orientation`);
    expect(r.out).not.toMatch(/upright\.jpg: orientation/);
    expect(r.out).not.toMatch(/logo\.svg|notes\.txt/);
  });

  it('the check hook is skipped when only an SVG and a text file are staged', async () => {
    const r = await sh('pre-commit', ['run', 'exif-fix-check', '--files', 'photos/logo.svg', 'photos/notes.txt'], repo, env());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\(no files to check\)Skipped/);
  });

  it('the fix hook rewrites the sideways images upright, and pre-commit reports the files it modified', async () => {
    const config = parse(await readFile(path.join(repo, '.pre-commit-config.yaml'), 'utf8'));
    config.repos[0].hooks = [{ id: 'exif-fix' }];
    await writeFile(path.join(repo, '.pre-commit-config.yaml'), stringify(config));
    await sh('git', ['add', '-A'], repo);
    const fixed = await sh('pre-commit', ['run', '--all-files'], repo, env());
    expect(fixed.code, fixed.out).toBe(1);
    expect(fixed.out).toMatch(/files were modified by this hook/);
    for (const name of SIDEWAYS) {
      expect(readOrientation(await readFile(path.join(repo, name)))?.places.every((p) => p.value === 1), name).toBe(true);
    }
    await sh('git', ['add', '-A'], repo);
    const again = await sh('pre-commit', ['run', '--all-files'], repo, env());
    expect(again.code, again.out).toBe(0);
  });
});
