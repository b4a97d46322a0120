/**
 * Worker thread body for {@link transformJpegLosslessInWorker}: runs the DCT-domain JPEG
 * transform off the main thread, so that several files use several cores.
 *
 * Messages in: `{ id, jpeg, orientation }`; out: `{ id, result }` (the output JPEG's buffer is
 * transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { transformJpegLossless, type Orientation } from './jpeg-lossless/index.js';

parentPort?.on('message', (message: { id: number; jpeg: Uint8Array; orientation: Orientation }) => {
  let result;
  try {
    result = transformJpegLossless(message.jpeg, message.orientation);
  } catch (error) {
    result = { ok: false as const, refusal: 'corrupt' as const, reason: `internal error: ${(error as Error).message}` };
  }
  const transfer = result.ok ? [result.jpeg.buffer as ArrayBuffer] : [];
  parentPort?.postMessage({ id: message.id, result }, transfer);
});
