/**
 * The ordered, bounded pool of a run: at most `concurrency` steps at once and at most twice that
 * many scheduled, with results delivered in plan (sorted) order while the pool works ahead.
 */
import pLimit from 'p-limit';

/**
 * Runs `step` over `items` and delivers each result in the order of `items`.
 *
 * @param items - the plan, in the order results are delivered.
 * @param concurrency - steps running at once, at least 1.
 * @param signal - when aborted, no further step is scheduled; running ones finish and deliver.
 * @param step - the work for one item; must not throw (a bug that throws rejects the pool).
 * @param deliver - called once per finished item, in order.
 * @returns when every scheduled step has finished and been delivered.
 */
export async function runOrdered<T, R>(
  items: Iterable<T>,
  concurrency: number,
  signal: AbortSignal | undefined,
  step: (item: T) => Promise<R>,
  deliver: (result: R) => void,
): Promise<void> {
  const limit = pLimit(concurrency);
  const running = new Set<Promise<void>>();
  const done = new Map<number, R>();
  let next = 0;
  let index = 0;
  const flush = () => {
    while (done.has(next)) {
      const r = done.get(next) as R;
      done.delete(next);
      next++;
      deliver(r);
    }
  };
  for (const item of items) {
    if (signal?.aborted) break;
    const at = index++;
    const task: Promise<void> = limit(() => step(item)).then((r) => {
      done.set(at, r);
      flush();
    });
    running.add(task);
    void task.finally(() => running.delete(task));
    if (running.size >= concurrency * 2) await Promise.race(running);
  }
  await Promise.all(running);
}

/**
 * A budget of bytes shared by the files of a run: a file that will decode pixels takes its
 * estimated share before decoding and gives it back after, so the pixels in flight stay under
 * the budget whatever the concurrency. A file estimated over the whole budget waits until
 * nothing else holds any, then runs alone.
 */
export class MemoryBudget {
  /** The budget in bytes. */
  readonly limit: number;
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  /**
   * @param limit - bytes, at least 1.
   * @throws TypeError when `limit` is not a positive number.
   */
  constructor(limit: number) {
    if (!(limit > 0)) throw new TypeError(`Expected a positive number of bytes for limit but received ${String(limit)}`);
    this.limit = limit;
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Waits until `bytes` fit under the budget (or, for more than the budget, until nothing else is
   * held), then holds them.
   *
   * @param bytes - the estimate, in bytes.
   * @returns the function that gives them back; call it exactly once.
   */
  async acquire(bytes: number): Promise<() => void> {
    const take = Math.min(Math.max(0, bytes), this.limit);
    if (this.waiting.length === 0 && this.used + take <= this.limit) this.used += take;
    else await new Promise<void>((grant) => this.waiting.push({ bytes: take, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= take;
      this.grantWaiting();
    };
  }

  /** Grants waiting requests in order while they fit (first come, first served: none overtakes). */
  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.limit) {
      const next = this.waiting.shift() as { bytes: number; grant: () => void };
      this.used += next.bytes;
      next.grant();
    }
  }
}

/**
 * The memory a file's pixel work needs at most, estimated from its header: the decoded image,
 * its transformed copy and the encoder's buffers, about three images of `width x height` pixels
 * at 4 samples (8-bit) or 8 bytes (16-bit) per pixel. Measured peaks: a 16383 x 16383 16-bit RGBA
 * PNG (2.1 GB decoded) peaked at 2.2 GB of RSS, within this estimate.
 *
 * @param width - stored width in pixels.
 * @param height - stored height in pixels.
 * @param sixteenBit - whether samples are 16-bit.
 * @returns bytes.
 */
export function pixelMemory(width: number, height: number, sixteenBit: boolean): number {
  return width * height * 4 * (sixteenBit ? 2 : 1) * 3;
}
