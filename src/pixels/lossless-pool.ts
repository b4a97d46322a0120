/**
 * A small pool of worker threads for the lossless JPEG transform. The transform is JavaScript,
 * so on the main thread it would use one core however many files run at once; in workers, the
 * pool's files run side by side (bench/results.md: about 1.6x on 2 cores). Workers start on first
 * use and do not keep the process alive while idle.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { transformJpegLossless, type LosslessResult, type Orientation } from './jpeg-lossless/index.js';

interface Job {
  readonly id: number;
  readonly jpeg: Uint8Array;
  readonly orientation: Orientation;
  readonly resolve: (result: LosslessResult) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

/**
 * The compiled worker. Both `src/pixels/` (under the test runner) and `dist/pixels/` sit two
 * levels below the package root, so the same relative URL finds the built file from either.
 */
const WORKER_URL = new URL('../../dist/pixels/lossless-worker.js', import.meta.url);

const slots: Slot[] = [];
const queue: Job[] = [];
let nextId = 0;
let broken = false;

function start(slot: Slot, job: Job): void {
  slot.job = job;
  slot.worker.ref();
  slot.worker.postMessage({ id: job.id, jpeg: job.jpeg, orientation: job.orientation });
}

function spawn(): Slot | undefined {
  try {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (message: { id: number; result: LosslessResult }) => {
      const job = slot.job;
      slot.job = undefined;
      job?.resolve(message.result);
      const next = queue.shift();
      if (next) start(slot, next);
      else worker.unref();
    });
    worker.on('error', () => {
      // A worker that cannot start or dies (it should not): this and every waiting file take the
      // in-process path, and no more workers are started.
      broken = true;
      slots.splice(slots.indexOf(slot), 1);
      for (const job of [slot.job, ...queue.splice(0)]) if (job) job.resolve(transformJpegLossless(job.jpeg, job.orientation));
      slot.job = undefined;
    });
    worker.unref();
    slots.push(slot);
    return slot;
  } catch {
    broken = true;
    return undefined;
  }
}

/**
 * {@link transformJpegLossless} in a worker thread; same arguments and result. Falls back to the
 * main thread when workers cannot start (e.g. the package was not built).
 *
 * @param jpeg - the whole JPEG file (copied to the worker; the caller keeps its bytes).
 * @param orientation - EXIF value 2-8.
 * @param size - pool size in threads. Default: `os.availableParallelism()`.
 */
export function transformJpegLosslessInWorker(jpeg: Uint8Array, orientation: Orientation, size = os.availableParallelism()): Promise<LosslessResult> {
  if (broken) return Promise.resolve(transformJpegLossless(jpeg, orientation));
  return new Promise((resolve) => {
    const job: Job = { id: nextId++, jpeg, orientation, resolve };
    const idle = slots.find((s) => s.job === undefined) ?? (slots.length < size ? spawn() : undefined);
    if (idle) start(idle, job);
    else if (broken) resolve(transformJpegLossless(jpeg, orientation));
    else queue.push(job);
  });
}

/**
 * The pool's state, for diagnostics and tests: how many worker threads run, and whether workers
 * failed to start (every transform then runs on the main thread).
 */
export function losslessPoolState(): { readonly workers: number; readonly broken: boolean } {
  return { workers: slots.length, broken };
}
