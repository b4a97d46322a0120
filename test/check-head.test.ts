// `--check` reads a JPEG's head only: up to its first SOS segment, in as few reads as the segment
// lengths allow (src/step.ts readHeadSync, jpeg-structure.ts jpegHeadLength).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jpegHeadLength } from '../src/containers/jpeg-structure.js';
import { check } from '../src/index.js';
import { FIXTURES, tempDir } from './helpers.js';

const SIDEWAYS = path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg');

/** The offset just past the first SOS segment, found by a plain walk over the markers. */
function sosEnd(jpeg: Buffer): number {
  let p = 2;
  while (jpeg[p + 1] !== 0xda) p += 2 + jpeg.readUInt16BE(p + 2);
  return p + 2 + jpeg.readUInt16BE(p + 2);
}

/** A COM segment of `length` bytes of content. */
function comment(length: number): Buffer {
  const head = Buffer.from([0xff, 0xfe, 0, 0]);
  head.writeUInt16BE(length + 2, 2);
  return Buffer.concat([head, Buffer.alloc(length, 0x61)]);
}

/** `jpeg` with `segments` inserted right after its first segment (the EXIF APP1 of the fixtures). */
function withAfterFirst(jpeg: Buffer, segments: Buffer[]): Buffer {
  const end = 4 + jpeg.readUInt16BE(4);
  return Buffer.concat([jpeg.subarray(0, end), ...segments, jpeg.subarray(end)]);
}

describe('jpegHeadLength', () => {
  it('ends just past the first SOS segment, and asks for more bytes while a segment runs past what it was given', async () => {
    const jpeg = await readFile(SIDEWAYS);
    const end = sosEnd(jpeg);
    expect(jpegHeadLength(jpeg)).toEqual({ complete: true, length: end });
    expect(jpegHeadLength(jpeg.subarray(0, end))).toEqual({ complete: true, length: end });
    const short = jpegHeadLength(jpeg.subarray(0, end - 1));
    expect(short).toEqual({ complete: false, length: end });
    const first = 4 + jpeg.readUInt16BE(4);
    expect(jpegHeadLength(jpeg.subarray(0, 10))).toEqual({ complete: false, length: first + 4 });
  });

  it('skips fill bytes before a marker and stops where the markers stop making sense', async () => {
    const jpeg = await readFile(SIDEWAYS);
    const first = 4 + jpeg.readUInt16BE(4);
    const filled = Buffer.concat([jpeg.subarray(0, first), Buffer.from([0xff, 0xff]), jpeg.subarray(first)]);
    expect(jpegHeadLength(filled)).toEqual({ complete: true, length: sosEnd(jpeg) + 2 });
    const broken = Buffer.concat([jpeg.subarray(0, first), Buffer.from('garbage'), jpeg.subarray(first)]);
    expect(jpegHeadLength(broken)).toEqual({ complete: true, length: broken.length });
  });
});

describe('--check on long JPEG headers', () => {
  it.each([
    ['40 kB', 1],
    ['300 kB', 5],
  ])('reads on past the first read when the segments before the scan total %s', async (_, count) => {
    const dir = await tempDir();
    const jpeg = await readFile(SIDEWAYS);
    const long = withAfterFirst(jpeg, Array.from({ length: count }, () => comment(count === 1 ? 40_000 : 60_000)));
    const file = path.join(dir, 'long.jpg');
    await writeFile(file, long);
    const [result] = await check([file]);
    expect(result.action).toBe('needs-fix');
    expect(result.orientation).toBe(6);
    expect(result.error).toBeNull();
  });

  it('judges a file whose head is cut off inside a segment as the whole file shows it', async () => {
    const dir = await tempDir();
    const jpeg = await readFile(SIDEWAYS);
    const file = path.join(dir, 'cut.jpg');
    await writeFile(file, withAfterFirst(jpeg, [comment(60_000)]).subarray(0, 50_000));
    const [result] = await check([file]);
    expect(result.action).toBe('failed');
    expect(result.error).toBe(`\`${file}\`: truncated JPEG: the file ends inside a marker segment`);
  });
});
