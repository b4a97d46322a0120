#!/usr/bin/env node
// Keeps the build step out of the packed package.json, so that installing the tarball (or, once
// published, the registry package) runs no script and prints no warning. npm 11.16+ lists every
// `prepare` script of a non-registry package (a local tarball included) as an install script
// "not yet covered by allowScripts", although npm never runs it for a tarball. The build is
// needed only in a clone and in a git install, which read package.json from the repository.
//
//   node scripts/pack-manifest.js strip     # npm `prepack`: back up package.json, drop the
//                                           # prepare/prepack/postpack scripts
//   node scripts/pack-manifest.js restore   # npm `postpack`: put the backup back
//
// `strip` first restores a backup left by an interrupted pack, so package.json never stays
// stripped by accident.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(root, 'package.json');
const backup = path.join(root, '.package.json.before-pack');
/** The scripts that exist only to build from a checkout. */
const BUILD_ONLY = ['prepare', 'prepack', 'postpack'];

const mode = process.argv[2];
if (mode === 'strip') {
  if (existsSync(backup)) renameSync(backup, manifest);
  const text = readFileSync(manifest, 'utf8');
  writeFileSync(backup, text);
  const json = JSON.parse(text);
  for (const name of BUILD_ONLY) delete json.scripts?.[name];
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (mode === 'restore') {
  if (existsSync(backup)) renameSync(backup, manifest);
} else {
  console.error('usage: node scripts/pack-manifest.js strip|restore');
  process.exit(2);
}
