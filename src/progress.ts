/**
 * The progress bar on stderr (cli-progress), shown only when stderr is a TTY and not `--quiet`:
 * done/total, files per second and the estimated time left.
 */
import cliProgress from 'cli-progress';

/** A progress bar for one run. */
export class Progress {
  private readonly bar: cliProgress.SingleBar;
  private readonly started = performance.now();
  private done = 0;

  /** @param stream - where to draw (stderr). */
  constructor(stream: NodeJS.WritableStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream & { isTTY: boolean; columns: number; cursorTo: never; clearLine: never; moveCursor: never },
        format: 'exif-fix [{bar}] {value}/{total} | {rate} files/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.legacy,
    );
  }

  /** Starts the bar once the number of files is known. */
  start(total: number): void {
    this.bar.start(total, 0, { rate: '0' });
  }

  /** Counts one finished file. */
  tick(): void {
    this.done++;
    const seconds = (performance.now() - this.started) / 1000;
    this.bar.update(this.done, { rate: seconds > 0 ? (this.done / seconds).toFixed(1) : '0' });
  }

  /** Removes the bar. */
  stop(): void {
    this.bar.stop();
  }
}
