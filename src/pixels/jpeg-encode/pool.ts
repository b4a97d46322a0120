/**
 * A small pool of worker threads for the source-tables JPEG encoder (index.ts), as
 * pixels/lossless-pool.ts is for the lossless transform: the encoder is JavaScript, so on the
 * main thread it would use one core however many files run at once. Workers start on first use
 * and do not keep the process alive while idle; if they cannot start (e.g. the package was not
 * built), encoding runs on the main thread.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { encodeLikeSource, type RawPixels, type SourceLayout } from './index.js';

interface Job {
  readonly id: number;
  readonly pixels: RawPixels;
  readonly layout: SourceLayout;
  readonly resolve: (jpeg: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

/** The compiled worker: `src/pixels/jpeg-encode/` and `dist/pixels/jpeg-encode/` both sit three levels below the package root. */
const WORKER_URL = new URL('../../../dist/pixels/jpeg-encode/worker.js', import.meta.url);

const slots: Slot[] = [];
const queue: Job[] = [];
let nextId = 0;
let broken = false;

function runHere(job: Job): void {
  try {
    job.resolve(encodeLikeSource(job.pixels, job.layout));
  } catch (error) {
    job.reject(error as Error);
  }
}

function start(slot: Slot, job: Job): void {
  slot.job = job;
  slot.worker.ref();
  // The pixels are copied (structured clone): the caller's buffer may be shared with sharp's pool.
  slot.worker.postMessage({ id: job.id, pixels: job.pixels, layout: job.layout });
}

function spawn(): Slot | undefined {
  try {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (message: { id: number; jpeg?: Uint8Array; error?: string }) => {
      const job = slot.job;
      slot.job = undefined;
      if (message.jpeg) job?.resolve(message.jpeg);
      else job?.reject(new RangeError(message.error ?? 'the JPEG encoder failed'));
      const next = queue.shift();
      if (next) start(slot, next);
      else worker.unref();
    });
    worker.on('error', () => {
      broken = true;
      slots.splice(slots.indexOf(slot), 1);
      for (const job of [slot.job, ...queue.splice(0)]) if (job) runHere(job);
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
 * {@link encodeLikeSource} in a worker thread; same arguments and result.
 *
 * @param pixels - upright decoded pixels (copied to the worker).
 * @param layout - the source's layout.
 * @param size - pool size in threads. Default: `os.availableParallelism()`.
 * @returns the whole JPEG file.
 * @throws {RangeError} as {@link encodeLikeSource} does.
 */
export function encodeLikeSourceInWorker(pixels: RawPixels, layout: SourceLayout, size = os.availableParallelism()): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const job: Job = { id: nextId++, pixels, layout, resolve, reject };
    if (broken) return runHere(job);
    const idle = slots.find((s) => s.job === undefined) ?? (slots.length < size ? spawn() : undefined);
    if (idle) start(idle, job);
    else if (broken) runHere(job);
    else queue.push(job);
  });
}
