// The README's recipes and the repository's CI integrations, as data: every YAML block of the
// README, action.yml and .pre-commit-hooks.yaml parse (with the `yaml` library) and say what the
// README promises; the package metadata and the README's links hold. The shell steps themselves
// run in the system suite (test/system/recipes.test.ts, test/system/pre-commit.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from './helpers.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The fenced code blocks of the README in a language, in order. */
function blocks(lang: string): string[] {
  return [...README.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]);
}

/** The README's YAML blocks, each as its parsed documents (errors are checked below). */
const YAML_DOCUMENTS = blocks('yaml').map((text) => ({ text, documents: parseAllDocuments(text) }));
const YAML_BLOCKS = YAML_DOCUMENTS.map((b) => b.documents.map((d) => d.toJS()));
const workflows = YAML_BLOCKS.flat().filter((d) => d && typeof d === 'object' && 'jobs' in d);
const action = parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));
const hooks = parse(readFileSync(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Array<Record<string, any>>;

/** Every extension exif-fix reads, in lower case. */
const SUPPORTED = ['jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff', 'heic', 'heif', 'avif'];
/** Image extensions it does not rotate (no orientation to bake in), and other files. */
const NOT_SUPPORTED = ['svg', 'gif', 'bmp', 'txt', 'json', 'jpg.txt', 'pngx'];
/** The same name in three letter cases. */
const spellings = (ext: string) => [ext, ext.toUpperCase(), ext[0].toUpperCase() + ext.slice(1)];

describe('the README YAML', () => {
  it('parses, every block, without errors or warnings', () => {
    // The GitHub Actions, pre-commit, CI matrix and Kubernetes recipes.
    expect(YAML_DOCUMENTS.length).toBeGreaterThanOrEqual(5);
    for (const { text, documents } of YAML_DOCUMENTS) {
      for (const d of documents) expect([...d.errors, ...d.warnings].map((e) => e.message), text).toEqual([]);
    }
  });

  it('holds GitHub workflows whose jobs have a runner and steps that each either use an action or run a command', () => {
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    for (const wf of workflows) {
      expect(wf.on, 'an event').toBeTruthy();
      for (const [name, job] of Object.entries<any>(wf.jobs)) {
        expect(job['runs-on'], name).toBe('ubuntu-latest');
        expect(Array.isArray(job.steps) && job.steps.length > 0, name).toBe(true);
        for (const step of job.steps) {
          expect(('uses' in step) !== ('run' in step), JSON.stringify(step)).toBe(true);
          if ('uses' in step) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[\w.-]+$/);
        }
      }
    }
  });

  it('uses the composite action with exactly the inputs action.yml declares', () => {
    const uses = workflows.flatMap((wf) => Object.values<any>(wf.jobs).flatMap((j) => j.steps)).filter((s) => String(s.uses).startsWith('exif-fix/exif-fix@'));
    expect(uses).toHaveLength(1);
    for (const key of Object.keys(uses[0].with)) expect(Object.keys(action.inputs), key).toContain(key);
  });

  it('checks changed images of every supported extension, in any letter case, and passes when there is none', () => {
    const step = workflows.flatMap((wf) => Object.values<any>(wf.jobs).flatMap((j) => j.steps)).find((s) => s.name === 'Images must be stored upright');
    for (const ext of SUPPORTED) expect(step.run).toContain(`':(icase)*.${ext}'`);
    expect(step.run).toMatch(/if \[ -s "\$RUNNER_TEMP\/images" \]; then/);
  });

  it('keeps each shard\'s upright files and report as an artifact, even when the shard failed', () => {
    const matrix = workflows.find((wf) => Object.values<any>(wf.jobs).some((j) => j.strategy?.matrix?.shard));
    const job = Object.values<any>(matrix.jobs)[0];
    expect(job.strategy['fail-fast']).toBe(false);
    const upload = job.steps.find((s: any) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.if).toBe('always()');
    expect(upload.with.path).toContain('fixed');
    expect(upload.with.path).toContain('shard-${{ matrix.shard }}.ndjson');
    expect(job.steps.find((s: any) => String(s.run).includes('--report')).run).toContain('--report "shard-$SHARD.ndjson"');
  });

  it('gives the Kubernetes Job a ReadWriteMany volume, keeps reports on it, and does not retry a shard for a corrupt file', () => {
    const docs = YAML_BLOCKS.flat();
    const claim = docs.find((d) => d?.kind === 'PersistentVolumeClaim');
    const job = docs.find((d) => d?.kind === 'Job');
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const script = job.spec.template.spec.containers[0].command[2] as string;
    expect(script).toContain('--report "/data/reports/shard-');
    expect(script).toContain('[ "$code" -le 1 ] || exit "$code"');
    expect(README).toMatch(/access mode \*\*ReadWriteMany\*\*/);
  });

  it('pins the pre-commit hooks to something that exists and names hooks the repository defines', () => {
    const config = YAML_BLOCKS.flat().find((d) => d?.repos);
    const repo = config.repos[0];
    expect(`git+${repo.repo}.git`).toBe(PACKAGE.repository.url);
    // `main` is the default branch; a sha comes from `pre-commit autoupdate --freeze`. No tag exists yet.
    expect(repo.rev === 'main' || /^[0-9a-f]{40}$/.test(repo.rev), repo.rev).toBe(true);
    expect(README).toContain('pre-commit autoupdate --bleeding-edge --freeze');
    for (const hook of repo.hooks) expect(hooks.map((h) => h.id)).toContain(hook.id);
  });
});

describe('the composite action (action.yml)', () => {
  it('is a composite action with inputs for paths, mode, changed-files-only and reporter', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['paths', 'mode', 'changed-files-only', 'reporter', 'base-ref']));
    expect(action.inputs.mode.default).toBe('check');
    expect(action.inputs['changed-files-only'].default).toBe('false');
  });

  it('runs every command step in bash and passes each input to scripts/action-run.sh', () => {
    const runSteps = action.runs.steps.filter((s: any) => 'run' in s);
    for (const step of runSteps) expect(step.shell).toBe('bash');
    const run = runSteps.find((s: any) => String(s.run).includes('action-run.sh'));
    for (const input of ['paths', 'mode', 'changed-files-only', 'base-ref', 'reporter']) {
      expect(run.env[`INPUT_${input.toUpperCase().replace(/-/g, '_')}`]).toBe(`\${{ inputs.${input} }}`);
    }
    expect(existsSync(path.join(ROOT, 'scripts', 'action-run.sh'))).toBe(true);
  });

  it('selects the same extensions as the hooks', () => {
    const script = readFileSync(path.join(ROOT, 'scripts', 'action-run.sh'), 'utf8');
    const pattern = new RegExp(/grep -ziE '([^']+)'/.exec(script)![1], 'i');
    for (const ext of SUPPORTED) for (const e of spellings(ext)) expect(pattern.test(`dir/a.${e}`), e).toBe(true);
    for (const ext of NOT_SUPPORTED) expect(pattern.test(`dir/a.${ext}`), ext).toBe(false);
  });
});

describe('the pre-commit hooks (.pre-commit-hooks.yaml)', () => {
  it('pass exactly the supported formats, in any letter case, and never .svg, .gif or .bmp', () => {
    expect(hooks.map((h) => h.id)).toEqual(['exif-fix-check', 'exif-fix']);
    for (const hook of hooks) {
      // pre-commit matches `files` with Python's re.search; (?i) at the start is the only flag used.
      expect(hook.files.startsWith('(?i)')).toBe(true);
      const files = new RegExp(hook.files.slice(4), 'i');
      for (const ext of SUPPORTED) for (const e of spellings(ext)) expect(files.test(`photos/IMG_1.${e}`), `${hook.id} ${e}`).toBe(true);
      for (const ext of NOT_SUPPORTED) for (const e of spellings(ext)) expect(files.test(`photos/IMG_1.${e}`), `${hook.id} ${e}`).toBe(false);
      expect(hook.types).toEqual(['file']);
      expect(hook.language).toBe('node');
      // File names come after `--`, so a name that starts with `-` is a file, not a flag.
      expect(hook.entry).toMatch(/ --$/);
    }
  });
});

describe('the package', () => {
  it('carries an MIT LICENSE file, matching package.json, and a CHANGELOG', () => {
    expect(PACKAGE.license).toBe('MIT');
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^## \\[?${PACKAGE.version.replace(/\./g, '\\.')}`, 'm'));
  });

  it('names its repository, homepage and issue tracker', () => {
    expect(PACKAGE.repository).toEqual({ type: 'git', url: 'git+https://github.com/exif-fix/exif-fix.git' });
    expect(PACKAGE.homepage).toBe('https://github.com/exif-fix/exif-fix#readme');
    expect(PACKAGE.bugs.url).toBe('https://github.com/exif-fix/exif-fix/issues');
  });

  it('ships no source maps (their sources are not in the package)', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions.sourceMap ?? false).toBe(false);
    expect(tsconfig.compilerOptions.declarationMap ?? false).toBe(false);
    expect(tsconfig.compilerOptions.inlineSourceMap ?? false).toBe(false);
  });

  it('has no script that npm runs when the package is installed from a tarball or the registry', () => {
    for (const name of ['preinstall', 'install', 'postinstall']) expect(PACKAGE.scripts[name], name).toBeUndefined();
    // prepare runs in clones and git installs only; the packed package.json drops it.
    expect(PACKAGE.scripts.prepack).toContain('pack-manifest.js strip');
    expect(PACKAGE.scripts.postpack).toContain('pack-manifest.js restore');
  });

  it('includes every file the README links to, so the links work inside the package too', () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(0);
    const inPackage = (file: string) => PACKAGE.files.some((entry: string) => file === entry || file.startsWith(`${entry}/`));
    for (const link of links) {
      expect(existsSync(path.join(ROOT, link)), `${link} exists`).toBe(true);
      expect(inPackage(link), `${link} is in package.json "files"`).toBe(true);
    }
    for (const code of [...README.matchAll(/`((?:src|docs)\/[\w/.-]+\.md)`/g)].map((m) => m[1])) {
      expect(inPackage(code), `${code} (named in the README) is in package.json "files"`).toBe(true);
    }
  });
});
