#!/usr/bin/env node
// The command: on Linux with glibc, a run that may decode pixels starts itself again with
// allocator settings that keep image buffers (src/launch.ts); otherwise it runs here.
import { fileURLToPath } from 'node:url';
import { followLauncher, relaunch, relaunchEnvironment, versionOnly } from '../dist/launch.js';

const args = process.argv.slice(2);
const version = versionOnly(args);
const env = version === undefined ? relaunchEnvironment(args) : undefined;
const code = env ? await relaunch(fileURLToPath(import.meta.url), args, env) : undefined;
if (version !== undefined) {
  process.stdout.write(version);
} else if (code === undefined) {
  followLauncher();
  const { run } = await import('../dist/cli.js');
  process.exitCode = await run(process.argv);
} else {
  process.exitCode = code;
}
