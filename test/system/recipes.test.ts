// The README's recipes run as written, on real files: the composite action's script, the plain
// GitHub Actions step (in a scratch git repository with a pull request branch), the shell
// pre-upload script (with a stand-in `aws` that copies), the CI matrix step for every shard and
// the Kubernetes Job's command for every index. `exif-fix` on PATH is this checkout's CLI; each
// recipe's install line is proven by scripts/check-installs.sh, which runs the same commands.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readOrientation } from '../../src/index.js';
import { FIXTURES, ROOT, tempDir, tree } from '../helpers.js';

const README = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const YAML_BLOCKS = [...README.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => parseAllDocuments(m[1]).map((d) => d.toJS()));
const SH_BLOCKS = [...README.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]);
const STEPS = YAML_BLOCKS.flat().filter((d) => d?.jobs).flatMap((wf) => Object.values<any>(wf.jobs).flatMap((j) => j.steps));

// Lives for the whole file (tempDir's directories are removed after each test).
let bin: string;
afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});
beforeAll(async () => {
  bin = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-recipes-bin-'));
  await writeFile(path.join(bin, 'exif-fix'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'exif-fix.js')}" "$@"\n`);
  // A stand-in for `aws s3 sync SRC DEST`: copies SRC into the directory DEST names.
  await writeFile(path.join(bin, 'aws'), '#!/bin/sh\n[ "$1 $2" = "s3 sync" ] || exit 64\nmkdir -p "$UPLOADED" && cp -a "$3/." "$UPLOADED/"\necho "$4" > "$UPLOADED.url"\n');
  await chmod(path.join(bin, 'exif-fix'), 0o755);
  await chmod(path.join(bin, 'aws'), 0o755);
});

/** Runs a shell script; resolves with its exit code and output. */
function shell(shellName: 'bash' | 'sh', args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(shellName, args, { cwd, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', ...env }, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr });
    });
  });
}

const git = (cwd: string, ...args: string[]) => shell('bash', ['-c', 'git "$@"', 'git', ...args], cwd, {
  GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com',
});

/** A repository with a `main` branch on an `origin` remote and a `pr` branch checked out that adds `files`. */
async function pullRequest(files: Array<[string, string | null]>): Promise<string> {
  const dir = await tempDir();
  const origin = path.join(dir, 'origin.git');
  const work = path.join(dir, 'work');
  await git(dir, 'init', '-q', '--bare', '-b', 'main', origin);
  await git(dir, 'clone', '-q', origin, work);
  await git(work, 'checkout', '-q', '-b', 'main');
  await copyFile(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(work, 'old-sideways.jpg'));
  await writeFile(path.join(work, 'README'), 'dataset\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', 'base');
  await git(work, 'push', '-q', 'origin', 'main');
  await git(work, 'checkout', '-q', '-b', 'pr');
  for (const [name, fixture] of files) {
    await mkdir(path.dirname(path.join(work, name)), { recursive: true });
    if (fixture === null) await writeFile(path.join(work, name), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
    else await copyFile(path.join(FIXTURES, 'orientation', fixture), path.join(work, name));
  }
  await writeFile(path.join(work, 'notes.txt'), 'changed\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', 'pr');
  return work;
}

const SIDEWAYS_PR: Array<[string, string | null]> = [['img/c.JPEG', 'jpeg-444/jpeg-444_6.JPG'], ['img/e.PNG', 'png-exif/png-exif_3.png'], ['img/f.Tif', 'tiff-lzw/tiff-lzw_8.tif'], ['img/logo.svg', null]];

describe('the composite action (scripts/action-run.sh, as action.yml runs it)', () => {
  const action = (cwd: string, inputs: Record<string, string>) => shell('bash', [path.join(ROOT, 'scripts', 'action-run.sh')], cwd,
    Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase().replace(/-/g, '_')}`, v])));

  it('passes a pull request that changes no image, with changed-files-only', async () => {
    const work = await pullRequest([]);
    const r = await action(work, { 'changed-files-only': 'true', 'base-ref': 'origin/main' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('no image added or changed since origin/main');
  });

  it('fails on the sideways images a pull request adds, whatever their letter case, and not on old ones or SVG', async () => {
    const work = await pullRequest(SIDEWAYS_PR);
    const r = await shell('bash', [path.join(ROOT, 'scripts', 'action-run.sh')], work, { INPUT_CHANGED_FILES_ONLY: 'true', GITHUB_BASE_REF: 'main' });
    expect(r.code, r.out).toBe(1);
    for (const f of ['img/c.JPEG', 'img/e.PNG', 'img/f.Tif']) expect(r.out).toMatch(new RegExp(`::error file=${f.replace('.', '\\.')}`));
    expect(r.out).not.toMatch(/old-sideways|logo\.svg/);
  });

  it('fixes them in place with mode fix, and checks a whole tree without changed-files-only', async () => {
    const work = await pullRequest(SIDEWAYS_PR);
    expect((await action(work, { paths: 'img\n', mode: 'check', reporter: 'default' })).code).toBe(1);
    const fixed = await action(work, { paths: 'img', mode: 'fix' });
    expect(fixed.code, fixed.out).toBe(0);
    expect(readOrientation(await readFile(path.join(work, 'img', 'c.JPEG')))?.orientation).toBe(1);
    expect((await action(work, { paths: 'img' })).code).toBe(0);
    expect((await action(work, { mode: 'sideways' })).code).toBe(2);
  });
});

describe('the plain GitHub Actions step', () => {
  const step = () => STEPS.find((s) => s.name === 'Images must be stored upright');
  // GitHub runs `run:` with `bash -e {0}`.
  const runStep = async (work: string) => shell('bash', ['-e', '-c', step().run], work, { GITHUB_BASE_REF: 'main', RUNNER_TEMP: await tempDir() });

  it('passes a pull request that changes no image', async () => {
    const r = await runStep(await pullRequest([]));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('no image added or changed');
  });

  it('fails on the sideways images a pull request adds, in any letter case, with one annotation each', async () => {
    const r = await runStep(await pullRequest(SIDEWAYS_PR));
    expect(r.code, r.out).toBe(1);
    expect(r.out.match(/::error file=/g)).toHaveLength(3);
    expect(r.out).not.toMatch(/old-sideways|logo\.svg/);
  });
});

describe('the shell pre-upload script', () => {
  const script = () => {
    const s = SH_BLOCKS.find((b) => b.includes('upload-dataset.sh'));
    if (!s) throw new Error('README: no upload-dataset.sh block');
    return s;
  };

  async function dataset(): Promise<string> {
    const dir = await tempDir();
    const ds = path.join(dir, 'photos');
    await mkdir(path.join(ds, 'images', 'train'), { recursive: true });
    await mkdir(path.join(ds, 'labels', 'train'), { recursive: true });
    for (const o of [1, 3, 6, 8]) await copyFile(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`), path.join(ds, 'images', 'train', `${o}.jpg`));
    for (const o of [1, 3, 6, 8]) await writeFile(path.join(ds, 'labels', 'train', `${o}.txt`), '0 0.5 0.5 0.2 0.2\n');
    await writeFile(path.join(ds, 'data.yaml'), 'train: images/train\nnames: [thing]\n');
    return dir;
  }

  it('uploads the whole dataset (labels, data.yaml) with every image upright, from a tab-completed path', async () => {
    const dir = await dataset();
    await writeFile(path.join(dir, 'upload-dataset.sh'), script());
    const uploaded = path.join(dir, 'bucket');
    const r = await shell('bash', ['upload-dataset.sh', 'photos/', 's3://my-bucket/datasets/photos'], dir, { UPLOADED: uploaded });
    expect(r.code, r.out).toBe(0);
    expect(await tree(uploaded)).toEqual(await tree(path.join(dir, 'photos')));
    for (const o of [1, 3, 6, 8]) expect(readOrientation(await readFile(path.join(uploaded, 'images', 'train', `${o}.jpg`)))?.orientation).toBe(1);
    expect(await readFile(`${uploaded}.url`, 'utf8')).toBe('s3://my-bucket/datasets/photos\n');
    expect((await readFile(path.join(dir, 'exif-fix.ndjson'), 'utf8')).trim().split('\n').length).toBeGreaterThanOrEqual(5);
    // The original dataset is untouched.
    expect(readOrientation(await readFile(path.join(dir, 'photos', 'images', 'train', '6.jpg')))?.orientation).toBe(6);
  });

  it('uploads nothing when an image fails, and exits 1', async () => {
    const dir = await dataset();
    await copyFile(path.join(FIXTURES, 'bad', 'truncated.jpg'), path.join(dir, 'photos', 'images', 'train', 'broken.jpg'));
    await writeFile(path.join(dir, 'upload-dataset.sh'), script());
    const r = await shell('bash', ['upload-dataset.sh', 'photos', 's3://my-bucket/datasets/photos'], dir, { UPLOADED: path.join(dir, 'bucket') });
    expect(r.code, r.out).toBe(1);
    expect(await readdir(dir)).not.toContain('bucket');
  });
});

/** A tree of 24 sideways or upright JPEGs and one corrupt file, under `<dir>/<sub>`. */
async function shardData(dir: string, sub: string): Promise<void> {
  for (let i = 0; i < 24; i++) {
    const o = (i % 8) + 1;
    await mkdir(path.join(dir, sub, `d${i % 3}`), { recursive: true });
    await copyFile(path.join(FIXTURES, 'orientation', 'jpeg-420', `jpeg-420_${o}.jpg`), path.join(dir, sub, `d${i % 3}`, `img${i}.jpg`));
  }
  await copyFile(path.join(FIXTURES, 'bad', 'truncated.jpg'), path.join(dir, sub, 'd0', 'corrupt.jpg'));
}

describe('the CI matrix step', () => {
  it('over shards 1-4 writes every good image once and keeps one report per shard, the corrupt file failing in one', async () => {
    const step = STEPS.find((s) => String(s.run).includes('--shard "$SHARD/4"'));
    const dir = await tempDir();
    await shardData(dir, 'data');
    const codes: number[] = [];
    for (const shard of [1, 2, 3, 4]) codes.push((await shell('bash', ['-e', '-c', step.run], dir, { SHARD: String(shard) })).code);
    expect(codes.filter((c) => c === 1)).toHaveLength(1); // the shard with the corrupt file
    expect(codes.filter((c) => c === 0)).toHaveLength(3);
    expect((await tree(path.join(dir, 'fixed'))).length).toBe(24);
    const records = [];
    for (const shard of [1, 2, 3, 4]) {
      records.push(...(await readFile(path.join(dir, `shard-${shard}.ndjson`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'file'));
    }
    expect(records).toHaveLength(25);
    expect(records.filter((r) => r.action === 'failed').map((r) => r.input)).toEqual(['data/d0/corrupt.jpg']);
  });
});

describe('the Kubernetes Indexed Job', () => {
  it('completes every index, a corrupt file included, and keeps the upright files and one report per shard on the volume', async () => {
    const job = YAML_BLOCKS.flat().find((d) => d?.kind === 'Job');
    const script = job.spec.template.spec.containers[0].command[2] as string;
    const [install, ...rest] = script.split('\n');
    expect(install).toMatch(/^cd \/tmp && npm install -g "\$\(npm pack --silent git\+https:\/\/github\.com\/exif-fix\/exif-fix\.git\)" \|\| exit 2$/);
    const volume = await tempDir();
    await shardData(volume, 'raw');
    const body = rest.join('\n').replaceAll('/data/', `${volume}/`);
    for (let index = 0; index < job.spec.completions; index++) {
      const r = await shell('sh', ['-c', body], volume, { JOB_COMPLETION_INDEX: String(index) });
      expect(r.code, `index ${index}: ${r.out}`).toBe(0);
    }
    expect((await tree(path.join(volume, 'upright'))).length).toBe(24);
    const reports = await readdir(path.join(volume, 'reports'));
    expect(reports.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `shard-${i + 1}.ndjson`).sort());
    const failed = [];
    for (const r of reports) failed.push(...(await readFile(path.join(volume, 'reports', r), 'utf8')).split('\n').filter((l) => l.includes('"action":"failed"')));
    expect(failed).toHaveLength(1);
    // A usage error is not swallowed: it exits non-zero, so Kubernetes retries the index.
    const usage = await shell('sh', ['-c', body.replace('--skip-existing', '--shard 9/8')], volume, { JOB_COMPLETION_INDEX: '0' });
    expect(usage.code).toBe(2);
  });

  it('mounts a claim whose access mode lets every pod write at once', () => {
    const claim = YAML_BLOCKS.flat().find((d) => d?.kind === 'PersistentVolumeClaim');
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
  });
});
