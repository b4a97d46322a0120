/**
 * The progress bar on stderr (cli-progress), shown only on an interactive terminal: done/total,
 * files per second and the estimated time left. Lines printed while it is drawn go through
 * {@link Progress.log}, which prints them above the bar, so the two never collide.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';

/**
 * cli-progress, loaded when a bar is drawn (Node's module cache keeps it): imported up front, it
 * and its dependencies took about 22 ms of every start-up, `--check` and pipes included.
 */
const requireHere = createRequire(import.meta.url);
const loadCliProgress = (): typeof cliProgressModule => requireHere('cli-progress') as typeof cliProgressModule;

/** The streams a terminal run writes to. */
type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * Whether a progress bar may be drawn on `stream`: a TTY, `TERM` not `dumb`, and not under CI
 * (`CI` set, as GitHub Actions, GitLab CI and most runners do).
 *
 * @param stream - stderr.
 * @param env - the environment. @default process.env
 */
export function canDrawProgress(stream: TtyStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb' && !env.CI;
}

/** A progress bar for one run. */
export class Progress {
  private readonly multi: cliProgressModule.MultiBar;
  private bar?: cliProgressModule.SingleBar;
  private readonly started = performance.now();
  private done = 0;

  /** @param stream - where to draw (stderr, a TTY). */
  constructor(stream: TtyStream) {
    const cliProgress = loadCliProgress();
    this.multi = new cliProgress.MultiBar(
      {
        stream: stream as never,
        format: 'exif-fix [{bar}] {value}/{total} | {rate} files/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        stopOnComplete: false,
        etaBuffer: 50,
        linewrap: false,
        barsize: 30,
      },
      cliProgress.Presets.legacy,
    );
  }

  /** Starts the bar once the number of files is known. @param total - files in the plan. */
  start(total: number): void {
    this.bar = this.multi.create(total, 0, { rate: '0' });
  }

  /** Counts one finished file. */
  tick(): void {
    this.done++;
    const seconds = (performance.now() - this.started) / 1000;
    this.bar?.update(this.done, { rate: seconds > 0 ? (this.done / seconds).toFixed(1) : '0' });
  }

  /** Prints one line (without its newline) above the bar. @param line - the text. */
  log(line: string): void {
    this.multi.log(`${line}\n`);
  }

  /** Removes the bar, leaving the lines printed above it (lines still buffered are written first). */
  stop(): void {
    // cli-progress writes logged lines at its next redraw; stop() alone would drop the last ones.
    this.multi.update();
    this.multi.stop();
  }
}
