// The run's memory budget: pixel work waits for room, so the pixels in flight stay under it.
import { describe, expect, it } from 'vitest';
import { MemoryBudget, pixelMemory } from '../src/pool.js';

describe('MemoryBudget', () => {
  it('lets files in while they fit and makes the next one wait for room', async () => {
    const budget = new MemoryBudget(100);
    const a = await budget.acquire(40);
    const b = await budget.acquire(40);
    let cIn = false;
    const c = budget.acquire(40).then((release) => ((cIn = true), release));
    await new Promise((r) => setTimeout(r, 10));
    expect(cIn).toBe(false);
    expect(budget.inUse).toBe(80);
    a();
    const releaseC = await c;
    expect(cIn).toBe(true);
    expect(budget.inUse).toBe(80);
    b();
    releaseC();
    expect(budget.inUse).toBe(0);
  });

  it('runs a file estimated over the whole budget alone, and lets none overtake it', async () => {
    const budget = new MemoryBudget(100);
    const small = await budget.acquire(10);
    const order: string[] = [];
    const big = budget.acquire(1000).then((release) => (order.push('big'), release));
    const after = budget.acquire(10).then((release) => (order.push('after'), release));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    small();
    const releaseBig = await big;
    expect(budget.inUse).toBe(100);
    expect(order).toEqual(['big']);
    releaseBig();
    (await after)();
    expect(order).toEqual(['big', 'after']);
    expect(budget.inUse).toBe(0);
  });

  it('gives bytes back once, however often the release is called', async () => {
    const budget = new MemoryBudget(100);
    const release = await budget.acquire(60);
    release();
    release();
    expect(budget.inUse).toBe(0);
  });

  it('estimates a 16383 x 16383 16-bit RGBA image above the 2.2 GB it was measured to peak at', () => {
    expect(pixelMemory(16383, 16383, true)).toBeGreaterThan(2.2e9);
    expect(pixelMemory(4032, 3024, false)).toBeLessThan(200e6);
  });
});
