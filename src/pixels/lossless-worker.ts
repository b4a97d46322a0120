/**
 * Worker thread body of {@link LosslessPool}: runs the lossless JPEG transform (its WebAssembly
 * kernel, one per thread) off the main thread, so that several files use several cores.
 *
 * Protocol: posts `{ ready: true }` once its modules are loaded; then for each message
 * `{ id, jpeg, orientation }` posts `{ id, result }`, the output JPEG's buffer transferred, not
 * copied.
 */
import { parentPort } from 'node:worker_threads';
import { LosslessKernel, transformJpegLossless, type LosslessResult, type Orientation } from './jpeg-lossless/index.js';

const port = parentPort;
if (port) {
  const kernel = new LosslessKernel();
  port.on('message', (message: { id: number; jpeg: Uint8Array; orientation: Orientation }) => {
    let result: LosslessResult;
    try {
      result = transformJpegLossless(message.jpeg, message.orientation, { kernel });
    } catch (error) {
      result = { ok: false, refusal: 'corrupt', reason: `internal error: ${(error as Error).message}` };
    }
    const transfer = result.ok ? [result.jpeg.buffer as ArrayBuffer] : [];
    port.postMessage({ id: message.id, result }, transfer);
  });
  port.postMessage({ ready: true });
}
