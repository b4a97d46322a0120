/**
 * A lossless worker for the pool tests that dies on demand: a file whose bytes are the text
 * `EXIT` makes the thread exit with code 7 (no error event), one that reads `THROW` makes it
 * throw an uncaught error; every other file goes to the real worker (src/pixels/lossless-worker.ts),
 * whose handler is registered after this one and is not called for those two.
 */
import { parentPort } from 'node:worker_threads';

parentPort?.addEventListener('message', (event) => {
  const text = Buffer.from(((event as unknown as { data: { jpeg: Uint8Array } }).data.jpeg)).toString('latin1');
  if (text === 'EXIT') process.exit(7);
  if (text === 'THROW') {
    event.stopImmediatePropagation();
    throw new Error('test crash in the worker');
  }
});
await import('../../src/pixels/lossless-worker.js');
