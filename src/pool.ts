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
