/**
 * The command line's first step, before anything heavy loads: on Linux with glibc, a run that may
 * decode pixels is started again as a child process with glibc's allocator told to keep image
 * buffers (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`, read by glibc only at process
 * start; mallopt(3)). Without them glibc maps every buffer over 32 MiB afresh (a 12 MP image is
 * 36 MB) and returns it on free, so each photo page-faults its buffers in again: on 40 12 MP
 * photos, `--lossless never` took 0.61x the wall time and 0.65x the CPU with them, the default
 * run 0.95x (docs/ARCHITECTURE.md, "Start-up"; issue 15).
 *
 * The launcher and the child behave as one process:
 * - the child inherits stdin, stdout and stderr, and its exit code or signal is the launcher's;
 * - SIGINT and SIGTERM reach the child once, whether a terminal sent them to both or someone sent
 *   them to the launcher alone; a second one within a second of the first is the same event;
 * - when the launcher dies (SIGKILL, a crash), the child kills itself with SIGKILL as soon as it
 *   notices the lost channel: what a killed single process would have left, writes being atomic.
 *
 * Not relaunched: `--check`, `--help` and `--version` (no pixels), other systems, and a user who
 * chose the allocator's settings or another allocator (either variable, a `glibc.malloc.`
 * tunable in `GLIBC_TUNABLES`, or any `LD_PRELOAD`). Other `MALLOC_` settings, such as
 * `MALLOC_ARENA_MAX`, are kept and passed on.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The allocator settings the child starts with: 256 MiB each (bytes, as decimal strings). */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(256 * 2 ** 20),
  MALLOC_TRIM_THRESHOLD_: String(256 * 2 ** 20),
};

/** Set in the child's environment: the process was started by the launcher. */
export const RELAUNCHED = 'EXIF_FIX_RELAUNCHED';

/**
 * The version to print when the arguments are only `--version` or `-V`, answered before the
 * option parser loads (commander took about 30 ms of the 140 ms `--version` took); any other
 * arguments go to the CLI, which prints the same version for `--version` among other flags.
 *
 * @param args - the arguments after the script.
 * @returns the package's version followed by a newline, or `undefined`.
 */
export function versionOnly(args: readonly string[]): string | undefined {
  if (args.length !== 1 || (args[0] !== '--version' && args[0] !== '-V')) return undefined;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `${pkg.version}\n`;
}

/** Arguments after which no pixel is decoded (commander's spellings of the flags, and `help`). */
const NO_PIXELS = new Set(['--check', '--help', '-h', '--version', '-V', 'help']);

/** Signals the launcher passes on; a terminal sends SIGINT to the whole foreground group. */
const PASSED_ON = ['SIGINT', 'SIGTERM'] as const;

/** Within this many milliseconds, a second SIGINT or SIGTERM is the same event as the first. */
const SAME_SIGNAL_MS = 1000;

/**
 * Whether the command line would run better relaunched with {@link ALLOCATOR_ENV}.
 *
 * @param args - the arguments after the script (`process.argv.slice(2)`).
 * @param env - the environment (default `process.env`).
 * @param platform - `process.platform` by default.
 * @param glibc - whether the C library is glibc; default: Node's own report
 *   (`process.report.getReport().header.glibcVersionRuntime`, about 6 ms), asked only when the
 *   rest says yes.
 * @param execArgv - Node's own options (default `process.execArgv`): under `--inspect` or
 *   `--inspect-brk` the run stays in the process being debugged.
 * @returns the child's environment, or `undefined` to run in this process.
 */
export function relaunchEnvironment(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  glibc: () => boolean = runsOnGlibc,
  execArgv: readonly string[] = process.execArgv,
): NodeJS.ProcessEnv | undefined {
  if (platform !== 'linux' || env[RELAUNCHED] !== undefined) return undefined;
  if (execArgv.some((a) => a.startsWith('--inspect'))) return undefined;
  if (env.LD_PRELOAD || env.GLIBC_TUNABLES?.includes('glibc.malloc.') || Object.keys(ALLOCATOR_ENV).some((k) => env[k] !== undefined)) return undefined;
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((a) => NO_PIXELS.has(a))) return undefined;
  if (!glibc()) return undefined;
  return { ...env, ...ALLOCATOR_ENV, [RELAUNCHED]: '1' };
}

function runsOnGlibc(): boolean {
  const report = process.report as { excludeNetwork?: boolean; getReport(): unknown } | undefined;
  if (!report) return false;
  report.excludeNetwork = true;
  const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/**
 * Runs `script` again in a child process with `env`, and waits for it. SIGINT and SIGTERM sent
 * to this process are passed on; if the child ends by a signal, this process ends by the same
 * one.
 *
 * @param script - the path of the command's entry script.
 * @param args - its arguments.
 * @param env - the child's environment ({@link relaunchEnvironment}).
 * @returns the child's exit code, or `undefined` when it could not be started (the caller then
 *   runs in this process).
 */
export function relaunch(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env });
    const pass = (signal: NodeJS.Signals) => {
      if (child.connected) child.send({ signal }, () => {});
    };
    let started = false;
    child.once('spawn', () => {
      started = true;
      for (const s of PASSED_ON) process.on(s, pass);
    });
    child.once('error', () => {
      if (!started) resolve(undefined);
    });
    child.once('exit', (code, signal) => {
      for (const s of PASSED_ON) process.off(s, pass);
      if (signal) {
        process.kill(process.pid, signal);
        // A signal this process ignores or handles elsewhere: end the way a shell reports it.
        resolve(128 + signalNumber(signal));
        return;
      }
      resolve(code ?? 1);
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}

/**
 * In a relaunched child: takes SIGINT and SIGTERM from the launcher's channel and from the
 * system alike, delivering each event once to the listeners the CLI installs (`process.on`), or
 * ending the process by it when none is left; and kills this process when the launcher is gone.
 * Does nothing in a process the launcher did not start; kills this process at once when the
 * launcher is already gone.
 */
export function followLauncher(): void {
  // `process.send` exists only in a process started with an IPC channel, even once it is closed.
  if (process.env[RELAUNCHED] === undefined || typeof process.send !== 'function') return;
  // A launcher killed while this process was starting closed the channel before anyone listened:
  // the 'disconnect' event is gone, so look.
  if (!process.connected || !process.channel) {
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  const last = new Map<NodeJS.Signals, number>();
  const deliver = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (now - (last.get(signal) ?? -Infinity) < SAME_SIGNAL_MS) return;
    last.set(signal, now);
    if (process.listenerCount(signal) > 1) {
      process.emit(signal, signal);
      return;
    }
    process.off(signal, deliver);
    process.kill(process.pid, signal);
  };
  for (const s of PASSED_ON) process.on(s, deliver);
  process.on('message', (message: unknown) => {
    const signal = (message as { signal?: unknown } | null)?.signal;
    if (signal === 'SIGINT' || signal === 'SIGTERM') deliver(signal);
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel.unref();
}
