/**
 * The system suite's prerequisites, checked once before any system test runs (vitest
 * globalSetup, vitest.system.config.ts). Every missing one is named with the package that
 * provides it, in one error, and the run stops: the system suite never skips a test.
 * `.ci/run` installs all of them on Debian/Ubuntu.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One prerequisite: what it is, how to check it, and how to get it. */
interface Prerequisite {
  /** What the tests need, as a reader would name it. */
  readonly what: string;
  /** The Debian package (or the step) that provides it. */
  readonly install: string;
  /** Which tests need it. */
  readonly usedBy: string;
  /** True when it is there. */
  readonly present: () => boolean;
}

/** True when `command args` starts and exits 0. */
function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN): tried for real, then undone. */
function canMountTmpfs(): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exif-fix-prereq-'));
  try {
    if (!runs('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir])) return false;
    return runs('umount', [dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every prerequisite of test/system/, in the order they are reported. */
export const PREREQUISITES: readonly Prerequisite[] = [
  {
    what: 'running as root (uid 0)',
    install: 'run the system suite as root, e.g. in a CI container (sudo -E npm run test:system)',
    usedBy: 'filesystem.test.ts (mount, setpriv)',
    present: () => process.getuid?.() === 0,
  },
  {
    what: 'mount/umount of a tmpfs (CAP_SYS_ADMIN)',
    install: 'util-linux (mount), and a container started with --privileged or --cap-add SYS_ADMIN',
    usedBy: 'filesystem.test.ts (full disk)',
    present: () => process.getuid?.() === 0 && canMountTmpfs(),
  },
  {
    what: '`setpriv` (util-linux)',
    install: 'apt-get install util-linux',
    usedBy: 'filesystem.test.ts (permissions enforced on root)',
    present: () => runs('setpriv', ['--version']),
  },
  {
    what: '`script` (util-linux, runs a command on a pseudo-terminal)',
    install: 'apt-get install bsdutils (util-linux)',
    usedBy: 'terminal.test.ts',
    present: () => runs('script', ['--version']),
  },
  {
    what: '`jpegtran` and `cjpeg` (libjpeg-turbo)',
    install: 'apt-get install libjpeg-turbo-progs',
    usedBy: 'jpegtran.test.ts',
    present: () => runs('jpegtran', ['-version']) && runs('cjpeg', ['-version']),
  },
  {
    what: '`git`',
    install: 'apt-get install git',
    usedBy: 'pre-commit.test.ts, recipes.test.ts',
    present: () => runs('git', ['--version']),
  },
  {
    what: '`pre-commit` (3.0 or later)',
    install: 'apt-get install pre-commit (or pipx install pre-commit)',
    usedBy: 'pre-commit.test.ts',
    present: () => runs('pre-commit', ['--version']),
  },
  {
    what: '`chromium` (headless browser)',
    install: 'apt-get install chromium',
    usedBy: 'html-report.test.ts (the --html report loaded, screenshotted and its images decoded)',
    present: () => runs('chromium', ['--version']),
  },
  {
    what: 'a built dist/ (npm run build)',
    install: 'npm ci (its prepare step builds), or npm run build',
    usedBy: 'every system test that runs the CLI',
    present: () => runs(process.execPath, [path.resolve(import.meta.dirname, '..', '..', 'bin', 'exif-fix.js'), '--version']),
  },
];

/** The missing prerequisites, as report lines. */
export function missingPrerequisites(): string[] {
  return PREREQUISITES.filter((p) => !p.present()).map((p) => `  - ${p.what}: ${p.install} (needed by ${p.usedBy})`);
}

/** vitest globalSetup: throws, naming every missing prerequisite, before any system test runs. */
export default function setup(): void {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new Error(`The system suite cannot run: ${missing.length} prerequisite${missing.length === 1 ? ' is' : 's are'} missing.\n${missing.join('\n')}\n`
      + 'On Debian/Ubuntu, `bash .ci/run` installs them and runs both suites. The main suite (`npm test`) needs none of them.');
  }
}
