#!/usr/bin/env node
// Builds dist/ afresh with the TypeScript compiler (`tsc -p tsconfig.json`). npm runs it as `prepare`
// after `npm ci`/`npm install` in a clone, and when it installs exif-fix from a git repository
// (npm clones, installs the clone's dependencies, runs prepare, then packs `bin/` and `dist/`).
//
// A global install from git (`npm install -g git+https://…`) fails here with `tsc: not found`:
// npm prepares the clone with an `npm install` that inherits `--global`, so the clone's
// devDependencies (typescript) land nowhere it can run them (npm/cli#8440, npm/cli#6435; fixed
// upstream by pacote#494, passing --global=false). So when typescript cannot be resolved from
// this package, this script first installs the locked dependencies into the package itself
// (`npm ci --global=false --include=dev --ignore-scripts`, with the inherited global/prefix
// settings removed), then builds. That install still ends as a link into a deleted temporary
// clone (npm/cli#4148, the same inherited --global), so the README installs globally from git
// through `npm pack <git url>`; scripts/check-installs.sh proves each README install.
//
// Usage: node scripts/prepare.js   (npm run build is the plain build)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

/** The path of typescript's tsc entry point resolvable from this package, or null. */
function findTsc() {
  try {
    return require.resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

/** Runs a command in the package root, inheriting stdio; exits with its status on failure. */
function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`exif-fix prepare: \`${[command, ...args].join(' ')}\` exited ${r.status ?? r.signal}`);
    process.exit(r.status ?? 1);
  }
}

let tsc = findTsc();
if (tsc === null) {
  if (!existsSync(path.join(root, 'package-lock.json'))) {
    console.error('exif-fix prepare: typescript is not installed and there is no package-lock.json to install it from; run `npm install` first');
    process.exit(1);
  }
  // A local install into this directory, whatever the outer command was (-g, --prefix, --omit).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_(global|location|prefix|omit|include|production|only|dev)$/i.test(key)));
  const npmCli = process.env.npm_execpath;
  const [command, prefixArgs] = npmCli && /\.c?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
  console.error('exif-fix prepare: typescript is missing (a global install from git, npm/cli#8440); installing the locked devDependencies into the package to build it');
  run(command, [...prefixArgs, 'ci', '--global=false', `--prefix=${root}`, '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], env);
  tsc = findTsc();
  if (tsc === null) {
    console.error('exif-fix prepare: typescript is still missing after `npm ci`');
    process.exit(1);
  }
}
// A clean build: files of modules that were moved or removed must not be packed.
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')]);

// Inside npm's preparation of a git dependency (pacote sets _PACOTE_NO_PREPARE_ for the `npm
// install` it runs in its temporary clone): the build is done, so the clone's package.json
// drops its build-only scripts, as a packed tarball's does (scripts/pack-manifest.js). npm then
// packs the clone without building a second time, and the installed package carries no script.
if (process.env._PACOTE_NO_PREPARE_) {
  const manifest = path.join(root, 'package.json');
  const json = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const name of ['prepare', 'prepack', 'postpack']) delete json.scripts?.[name];
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
}
