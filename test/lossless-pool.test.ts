import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformJpegLossless, type LosslessResult } from '../src/pixels/jpeg-lossless/index.js';
import { LosslessPool } from '../src/pixels/lossless-pool.js';
import { texture } from './helpers/jpeg-lossless-images.js';

const EXITING_WORKER = new URL('./helpers/exiting-lossless-worker.ts', import.meta.url);

let jpeg: Buffer;
let dir: string;
beforeAll(async () => {
  jpeg = await sharp(texture(64, 48, 3, 9), { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-lossless-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytesOf(result: LosslessResult): Buffer {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return Buffer.from(result.jpeg);
}

describe('LosslessPool', () => {
  it('runs transforms in worker threads started from next to its module, side by side, with the same bytes as on this thread', async () => {
    const pool = new LosslessPool(2);
    try {
      const orientations = [6, 8, 3] as const;
      const results = await Promise.all(orientations.map((o) => pool.transform(jpeg, o)));
      expect(pool.state).toEqual({ workers: 2, queued: 0, broken: false });
      results.forEach((r, i) => expect(bytesOf(r).equals(bytesOf(transformJpegLossless(jpeg, orientations[i])))).toBe(true));
    } finally {
      await pool.close();
    }
  });

  it('fails the file of a worker that exits without an error event, with a clear message, and replaces the worker', async () => {
    const pool = new LosslessPool(1, { workerUrl: EXITING_WORKER });
    try {
      const dies = pool.transform(Buffer.from('EXIT', 'latin1'), 6);
      const next = pool.transform(jpeg, 6);
      await expect(dies).rejects.toThrow(/^the lossless worker thread exited with code 7 without an error while transforming this file/);
      expect(bytesOf(await next).equals(bytesOf(transformJpegLossless(jpeg, 6)))).toBe(true);
      expect(pool.state).toEqual({ workers: 1, queued: 0, broken: false });
    } finally {
      await pool.close();
    }
  });

  it('fails the file of a worker that crashes with the crash message, and replaces the worker', async () => {
    const pool = new LosslessPool(1, { workerUrl: EXITING_WORKER });
    try {
      const dies = pool.transform(Buffer.from('THROW', 'latin1'), 3);
      const next = pool.transform(jpeg, 3);
      await expect(dies).rejects.toThrow(/the lossless worker thread crashed \(test crash in the worker\) while transforming this file/);
      expect(bytesOf(await next).equals(bytesOf(transformJpegLossless(jpeg, 3)))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('transforms on the calling thread when its worker cannot start', async () => {
    const pool = new LosslessPool(2, { workerUrl: new URL(`file://${path.join(dir, 'no-such-worker.js')}`) });
    try {
      const result = await pool.transform(jpeg, 8);
      expect(bytesOf(result).equals(bytesOf(transformJpegLossless(jpeg, 8)))).toBe(true);
      expect(pool.state.broken).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('transfers the input buffer to the worker when allowed, and copies it otherwise', async () => {
    const pool = new LosslessPool(1);
    try {
      const copied = Uint8Array.from(jpeg);
      const moved = Uint8Array.from(jpeg);
      const [a, b] = await Promise.all([pool.transform(copied, 6), pool.transform(moved, 6, { transfer: true })]);
      expect(copied.byteLength).toBe(jpeg.length);
      expect(moved.byteLength).toBe(0);
      expect(bytesOf(a).equals(bytesOf(b))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('finishes the files it was given when closed, then refuses new ones', async () => {
    const pool = new LosslessPool(1);
    const pending = [pool.transform(jpeg, 2), pool.transform(jpeg, 4)];
    await pool.close();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(pool.state.workers).toBe(0);
    await expect(pool.transform(jpeg, 6)).rejects.toThrow('the lossless worker pool is closed');
  });

  it('rejects a size that is not an integer of at least 1', () => {
    expect(() => new LosslessPool(0)).toThrow('Expected integer of at least 1 for size but received 0 of type number');
  });
});
