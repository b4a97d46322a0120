/**
 * Worker thread body for {@link encodeLikeSourceInWorker}: runs the JavaScript JPEG encoder off
 * the main thread, so that several files use several cores.
 *
 * Messages in: `{ id, pixels, layout }`; out: `{ id, jpeg }` or `{ id, error }` (the output's
 * buffer is transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { encodeLikeSource, type RawPixels, type SourceLayout } from './index.js';

parentPort?.on('message', (message: { id: number; pixels: RawPixels; layout: SourceLayout }) => {
  try {
    const jpeg = encodeLikeSource(message.pixels, message.layout);
    parentPort?.postMessage({ id: message.id, jpeg }, [jpeg.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: (error as Error).message });
  }
});
