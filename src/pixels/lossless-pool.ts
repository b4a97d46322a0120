/**
 * A pool of worker threads for the lossless JPEG transform, owned by one run: the run makes it,
 * hands it to every file's pixel step and closes it at its end. One transform uses one core, so
 * files run side by side in the workers (bench/results.md). Workers start on first use, are
 * replaced when they die, and do not keep the process alive while idle.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { transformJpegLossless, type LosslessResult, type Orientation } from './jpeg-lossless/index.js';

interface Job {
  readonly id: number;
  readonly jpeg: Uint8Array;
  readonly orientation: Orientation;
  readonly transfer: boolean;
  readonly resolve: (result: LosslessResult) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** True once the worker has loaded its modules (its `ready` message). */
  ready: boolean;
  job: Job | undefined;
  error: Error | undefined;
}

/** Options of {@link LosslessPool}. */
export interface LosslessPoolOptions {
  /**
   * The worker module to run; default: `lossless-worker.js` next to this module (or
   * `lossless-worker.ts` when this module runs from source under a TypeScript-aware test
   * runner). Tests use it to run a worker that exits on demand.
   */
  readonly workerUrl?: URL;
  /** V8 heap limits of each worker (Node's `Worker` `resourceLimits`); default: Node's. */
  readonly resourceLimits?: ResourceLimits;
}

/** Per-call options of {@link LosslessPool.transform}. */
export interface LosslessTransformOptions {
  /**
   * Transfer the input's ArrayBuffer to the worker instead of copying it (about a millisecond
   * per 4 MB). Only when the view spans its whole buffer; the caller's `jpeg` is then detached
   * (length 0) once the call returns. Default: false, the input is copied.
   */
  readonly transfer?: boolean;
}

const OWN_URL = import.meta.url;

/**
 * The default worker: next to this module, with this module's extension. Under a test runner
 * that loads `src/**.ts` directly, a worker thread (plain Node) cannot load TypeScript, so the
 * `.ts` worker starts through a small bootstrap that registers module hooks (Node's
 * `module.register`) which compile TypeScript with the `typescript` package (a devDependency)
 * and resolve the `.js` import specifiers of the sources to their `.ts` files.
 */
function workerScript(url: URL | undefined): URL {
  const target = url ?? new URL(OWN_URL.endsWith('.ts') ? './lossless-worker.ts' : './lossless-worker.js', OWN_URL);
  if (!target.pathname.endsWith('.ts')) return target;
  const typescript = pathToFileURL(createRequire(OWN_URL).resolve('typescript')).href;
  const hooks = `
import { readFileSync } from 'node:fs';
import ts from ${JSON.stringify(typescript)};
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) return next(specifier.slice(0, -3) + '.ts', context);
    throw error;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const source = ts.transpileModule(readFileSync(new URL(url), 'utf8'), {
    fileName: url, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return { format: 'module', source, shortCircuit: true };
}`;
  const boot = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
await import(${JSON.stringify(target.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

/**
 * Worker threads running {@link transformJpegLossless}, for one run.
 *
 * - Jobs queue in call order and go to the first idle worker; at most `size` workers run.
 * - The output JPEG comes back transferred, not copied; the input is copied unless the caller
 *   allows a transfer ({@link LosslessTransformOptions}).
 * - A worker that dies while it holds a file (it exits, with or without an `error` event, e.g.
 *   out of memory) fails that file's promise with an Error naming the exit, and is replaced for
 *   the next file.
 * - When a worker cannot start at all (e.g. the worker module is missing), this and every later
 *   transform of the pool runs on the calling thread instead (same result, one core).
 *
 * @example
 * const pool = new LosslessPool(2);
 * try { const r = await pool.transform(bytes, 6); } finally { await pool.close(); }
 */
export class LosslessPool {
  /** Largest number of worker threads. */
  readonly size: number;
  readonly #options: LosslessPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #broken = false;
  #closed = false;
  #drained: (() => void) | undefined;

  /**
   * @param size - worker threads at most, an integer >= 1; default `os.availableParallelism()`
   * @param options - see {@link LosslessPoolOptions}
   * @throws TypeError when `size` is not an integer >= 1
   */
  constructor(size: number = os.availableParallelism(), options: LosslessPoolOptions = {}) {
    if (!Number.isInteger(size) || size < 1) {
      throw new TypeError(`Expected integer of at least 1 for size but received ${String(size)} of type ${typeof size}`);
    }
    this.size = size;
    this.#options = options;
  }

  /**
   * {@link transformJpegLossless} of `jpeg` in a worker thread: same result.
   *
   * @param jpeg - the whole JPEG file
   * @param orientation - EXIF orientation value 1-8 of the input
   * @param options - see {@link LosslessTransformOptions}
   * @returns the transform's result (refusals are results, never rejections)
   * @throws Error (rejection) when the pool is closed, or when the worker died while
   *   transforming this file: "the lossless worker thread exited with code 1 ..."
   */
  transform(jpeg: Uint8Array, orientation: Orientation, options: LosslessTransformOptions = {}): Promise<LosslessResult> {
    if (this.#closed) return Promise.reject(new Error('the lossless worker pool is closed'));
    if (this.#broken) return Promise.resolve(transformJpegLossless(jpeg, orientation));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, jpeg, orientation, transfer: options.transfer === true, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Finishes the files already handed to the pool, then ends its workers. Later `transform`
   * calls reject. Calling it again is harmless.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length > 0 || this.#slots.some((s) => s.job)) {
      await new Promise<void>((resolve) => { this.#drained = resolve; });
    }
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  /** For diagnostics and tests: live workers, files waiting, and whether workers could not start. */
  get state(): { readonly workers: number; readonly queued: number; readonly broken: boolean } {
    return { workers: this.#slots.length, queued: this.#queue.length, broken: this.#broken };
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      if (this.#broken) {
        for (const job of this.#queue.splice(0)) job.resolve(transformJpegLossless(job.jpeg, job.orientation));
        break;
      }
      const slot = this.#slots.find((s) => !s.job) ?? (this.#slots.length < this.size ? this.#spawn() : undefined);
      if (!slot) break;
      slot.job = this.#queue.shift()!;
      slot.worker.ref();
      if (slot.ready) this.#post(slot);
    }
    if (this.#drained && this.#queue.length === 0 && !this.#slots.some((s) => s.job)) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  #post(slot: Slot): void {
    const job = slot.job!;
    const whole = job.jpeg.byteOffset === 0 && job.jpeg.byteLength === job.jpeg.buffer.byteLength && job.jpeg.buffer instanceof ArrayBuffer;
    slot.worker.postMessage({ id: job.id, jpeg: job.jpeg, orientation: job.orientation },
      job.transfer && whole ? [job.jpeg.buffer as ArrayBuffer] : []);
  }

  #spawn(): Slot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(workerScript(this.#options.workerUrl), { resourceLimits: this.#options.resourceLimits });
    } catch {
      this.#broken = true;
      return undefined;
    }
    const slot: Slot = { worker, ready: false, job: undefined, error: undefined };
    worker.on('message', (message: { ready?: true; id?: number; result?: LosslessResult }) => {
      if (message.ready) {
        slot.ready = true;
        if (slot.job) this.#post(slot);
        return;
      }
      const job = slot.job;
      slot.job = undefined;
      if (job && job.id === message.id) job.resolve(message.result!);
      this.#pump();
      if (!slot.job) worker.unref();
    });
    worker.on('error', (error: Error) => { slot.error = error; });
    worker.on('exit', (code: number) => {
      const at = this.#slots.indexOf(slot);
      if (at >= 0) this.#slots.splice(at, 1);
      const job = slot.job;
      slot.job = undefined;
      if (!slot.ready) {
        // It never started: no worker will. The file it was given still has its bytes (nothing
        // is posted before `ready`), so it and every later one run on this thread.
        this.#broken = true;
        if (job) this.#queue.unshift(job);
      } else if (job) {
        const how = slot.error ? `crashed (${slot.error.message})` : `exited with code ${code} without an error`;
        job.reject(new Error(`the lossless worker thread ${how} while transforming this file; a new worker takes the next file`));
      }
      this.#pump();
    });
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }
}
