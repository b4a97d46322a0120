// Fuzzing every reader and writer (issue 6, item 1): a seeded, bounded run of the properties in
// scripts/fuzz-long.js against the sources, hand-built hostile structures that the fuzzer
// should reach but that are checked here by name, regressions the fuzzer found, and a run of
// the real CLI over a directory of damaged files.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as containers from '../src/containers/index.js';
import * as index from '../src/index.js';
import * as tiff from '../src/metadata/tiff.js';
import * as xmp from '../src/metadata/xmp.js';
import * as lossless from '../src/pixels/jpeg-lossless/index.js';
import {
  bounded,
  checkExifBlob,
  checkNormalize,
  checkReaders,
  checkXmp,
  loadSeeds,
  pngChunk,
  properties,
  withExif,
  withXmp,
} from '../scripts/fuzz-long.js';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers.js';

const lib = { index, containers, tiff, xmp, lossless };
const { ExifFixError, normalizeBuffer, readOrientation } = index;

let seeds: Array<{ name: string; bytes: Uint8Array }>;
let props: ReturnType<typeof properties>;
beforeAll(async () => {
  seeds = await loadSeeds(ROOT);
  props = properties(lib, seeds);
});

/** A fixture by set and orientation, as bytes. */
async function fixture(set: string, orientation: number): Promise<Uint8Array> {
  const dir = path.join(FIXTURES, 'orientation', set);
  const name = (await readdir(dir)).find((f) => f.startsWith(`${set}_${orientation}.`));
  return new Uint8Array(await readFile(path.join(dir, name as string)));
}

/** A TIFF/EXIF structure, little-endian: header, IFD0 offset, then `body` placed from byte 8. */
function tiffBlob(ifd0: number, body: number[]): Uint8Array {
  const out = Buffer.alloc(8 + body.length);
  out.write('II*\0', 0, 'latin1');
  out.writeUInt32LE(ifd0, 4);
  Buffer.from(body).copy(out, 8);
  return new Uint8Array(out);
}

/** One IFD: entries `[tag, type, count, value]`, then the next-IFD pointer; little-endian bytes. */
function ifd(entries: Array<[number, number, number, number]>, next: number, declared = entries.length): number[] {
  const b = Buffer.alloc(2 + 12 * entries.length + 4);
  b.writeUInt16LE(declared, 0);
  entries.forEach(([tag, type, count, value], i) => {
    b.writeUInt16LE(tag, 2 + 12 * i);
    b.writeUInt16LE(type, 4 + 12 * i);
    b.writeUInt32LE(count, 6 + 12 * i);
    b.writeUInt32LE(value, 10 + 12 * i);
  });
  b.writeUInt32LE(next, 2 + 12 * entries.length);
  return [...b];
}

/** An ISOBMFF box: 32-bit size (or `size` as given) and type. */
function box(type: string, payload: Uint8Array, size = payload.length + 8): Uint8Array {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size >>> 0, 0);
  head.write(type, 4, 'latin1');
  return new Uint8Array(Buffer.concat([head, payload]));
}

/** A box with a 64-bit size: size field 1, then `largesize`. */
function box64(type: string, payload: Uint8Array, largesize = BigInt(payload.length + 16)): Uint8Array {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(1, 0);
  head.write(type, 4, 'latin1');
  head.writeBigUInt64BE(largesize, 8);
  return new Uint8Array(Buffer.concat([head, payload]));
}

const FTYP = box('ftyp', new Uint8Array(Buffer.from('heic\0\0\0\0mif1heic', 'latin1')));

describe('fuzzing, seeded and memory-bounded (the long run, with a time bound too: node scripts/fuzz-long.js)', () => {
  // numRuns are chosen so that this describe block takes about 20 s on a 2-core machine.
  it('mutated fixtures read, and rewrite their metadata, to a result or an ExifFixError', async () => {
    await fc.assert(props['mutated fixtures: readers and writers'], { seed: 20240601, numRuns: 15000 });
  });

  it('generated EXIF structures (IFD loops, huge counts, stray offsets) never escape the walker and patcher', async () => {
    await fc.assert(props['generated EXIF/TIFF structures: walker, patcher and containers'], { seed: 7, numRuns: 5000 });
  });

  it('generated XMP packets are read and patched within the memory bound, alone and inside each container', async () => {
    await fc.assert(props['generated XMP packets: reader, patcher and containers'], { seed: 11, numRuns: 1500 });
  });

  it('generated JPEG, PNG, RIFF and ISOBMFF structures read to a result or an ExifFixError', async () => {
    await fc.assert(props['generated containers: JPEG, PNG, RIFF, ISOBMFF and magic-prefixed bytes'], { seed: 13, numRuns: 10000 });
  });

  it('normalizeBuffer turns every mutated fixture into output bytes or one clean error line naming stdin', async () => {
    await fc.assert(props['mutated fixtures: normalizeBuffer through sharp'], { seed: 17, numRuns: 2500 });
  });
});

describe('hostile EXIF structures, by name', () => {
  // IFD0 at 8 (1 entry: 26 bytes, to 26), IFD1 at 26, Exif IFD at 44.
  const cases: Array<[string, Uint8Array]> = [
    ['IFD0 -> IFD1 -> IFD0 loop', tiffBlob(8, [...ifd([[0x0112, 3, 1, 6]], 26), ...ifd([[0x0112, 3, 1, 6]], 8)])],
    ['IFD0 whose next pointer is itself', tiffBlob(8, ifd([[0x0112, 3, 1, 6]], 8))],
    ['Exif IFD pointing to itself', tiffBlob(8, [...ifd([[0x8769, 4, 1, 26]], 0), ...ifd([[0x8769, 4, 1, 26]], 26)])],
    ['Exif IFD pointing back to IFD0', tiffBlob(8, ifd([[0x0112, 3, 1, 6], [0x8769, 4, 1, 8]], 0))],
    ['IFD0 offset past the end', tiffBlob(0xfffffff0, ifd([[0x0112, 3, 1, 6]], 0))],
    ['IFD0 offset into the header', tiffBlob(2, ifd([[0x0112, 3, 1, 6]], 0))],
    ['an entry claiming 0xFFFFFFFF values', tiffBlob(8, ifd([[0x0112, 3, 0xffffffff, 40]], 0))],
    ['an entry claiming 0x40000000 LONGs (4 GiB, 0 modulo 2^32)', tiffBlob(8, ifd([[0x0112, 4, 0x40000000, 8]], 0))],
    ['an IFD declaring 65535 entries', tiffBlob(8, ifd([[0x0112, 3, 1, 6]], 0, 0xffff))],
    ['a value offset past the end', tiffBlob(8, ifd([[0x0112, 3, 4, 0xfffffff0]], 0))],
    ['a thumbnail offset and length past the end', tiffBlob(8, [...ifd([[0x0112, 3, 1, 6]], 26), ...ifd([[0x0201, 4, 1, 0xfffffff0], [0x0202, 4, 1, 0xffffffff]], 0)])],
    ['a thumbnail overlapping the IFDs', tiffBlob(8, [...ifd([[0x0112, 3, 1, 6]], 26), ...ifd([[0x0201, 4, 1, 8], [0x0202, 4, 1, 40]], 0)])],
    ['an unknown field type with a huge count', tiffBlob(8, ifd([[0x0112, 99, 0xffffffff, 0]], 0))],
    ['a blob cut inside the IFD', tiffBlob(8, ifd([[0x0112, 3, 1, 6]], 0)).subarray(0, 15)],
  ];

  it.each(cases)('%s: walker, patcher and every container wrapping it end in a value or an ExifFixError', async (_name, blob) => {
    await checkExifBlob(lib, blob);
    for (const set of ['jpeg-420', 'png-exif', 'webp-lossy']) await checkReaders(lib, withExif(await fixture(set, 1), blob));
    await checkReaders(lib, blob);
  });

  it('reads an IFD0 -> IFD1 -> IFD0 loop once and still finds the orientation', async () => {
    const blob = tiffBlob(8, [...ifd([[0x0112, 3, 1, 6]], 26), ...ifd([[0x0112, 3, 1, 6]], 8)]);
    const reading = readOrientation(withExif(await fixture('jpeg-420', 1), blob));
    expect(reading?.orientation).toBe(6);
  });
});

describe('hostile container structures, by name', () => {
  it('PNG: zero-length and 2^31-1-length chunks (CRCs fixed) fail cleanly or read', async () => {
    const png = await fixture('png-exif', 6);
    const ihdrEnd = 8 + 25;
    for (const chunk of [pngChunk('tEXt', new Uint8Array(0)), pngChunk('zTXt', new Uint8Array(0)), pngChunk('iTXt', new Uint8Array(0)), pngChunk('eXIf', new Uint8Array(0))]) {
      await checkReaders(lib, Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]));
    }
    const huge = Buffer.from(png);
    huge.writeUInt32BE(0x7fffffff, ihdrEnd);
    const outcome = await bounded('png huge chunk', () => readOrientation(huge));
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toBeInstanceOf(ExifFixError);
  });

  it('WebP: RIFF and chunk sizes of 0, 1 and 0xFFFFFFFF fail cleanly or read', async () => {
    const webp = Buffer.from(await fixture('webp-lossy', 6));
    for (const [at, value] of [[4, 0], [4, 1], [4, 0xffffffff], [16, 0], [16, 1], [16, 0xffffffff]]) {
      const b = Buffer.from(webp);
      b.writeUInt32LE(value, at);
      await checkReaders(lib, b);
    }
  });

  it('ISOBMFF: size-0 ("to the end"), size-1 (64-bit), huge 64-bit, size-8 and size-3 boxes fail cleanly or read', async () => {
    const empty = new Uint8Array(0);
    const inputs = [
      Buffer.concat([FTYP, box('meta', new Uint8Array(4), 0)]),
      Buffer.concat([FTYP, box64('meta', new Uint8Array(4))]),
      Buffer.concat([FTYP, box64('meta', new Uint8Array(4), 2n ** 64n - 1n)]),
      Buffer.concat([FTYP, box64('meta', new Uint8Array(4), 2n ** 53n + 1n)]),
      Buffer.concat([FTYP, box64('meta', new Uint8Array(4), 3n)]),
      Buffer.concat([FTYP, box('meta', empty)]),
      Buffer.concat([FTYP, box('meta', empty, 3)]),
      Buffer.concat([FTYP, box('meta', box('iprp', box('ipco', box('irot', Uint8Array.of(1)), 0)))]),
      Buffer.concat([FTYP, box('meta', Buffer.concat([new Uint8Array(4), box('iinf', Uint8Array.of(0, 0, 0, 0, 0xff, 0xff))]))]),
      Buffer.concat([FTYP, box('mdat', empty, 0)]),
      FTYP,
    ];
    for (const input of inputs) await checkReaders(lib, input);
    // And the real AVIF fixtures with their meta box rewritten as a 64-bit box.
    const avif = Buffer.from(await fixture('avif', 6));
    const ftypSize = avif.readUInt32BE(0);
    const metaSize = avif.readUInt32BE(ftypSize);
    const as64 = Buffer.concat([avif.subarray(0, ftypSize), box64('meta', avif.subarray(ftypSize + 8, ftypSize + metaSize)), avif.subarray(ftypSize + metaSize)]);
    await checkReaders(lib, as64);
  });

  it('JPEG: segment lengths of 0, 1 and 0xFFFF, and an APP1 Exif of one byte, fail cleanly or read', async () => {
    const jpeg = Buffer.from(await fixture('jpeg-420', 6));
    for (const value of [0, 1, 2, 0xffff]) {
      const b = Buffer.from(jpeg);
      b.writeUInt16BE(value, 4);
      await checkReaders(lib, b);
    }
    await checkReaders(lib, withExif(jpeg, Uint8Array.of(0x49)));
  });
});

describe('regressions found by fuzzing', () => {
  it('reads and patches an XMP packet with an unterminated value and a long run of spaces in linear time', async () => {
    // tiff:Orientation=" followed by 20000 spaces and no closing quote: the old patterns
    // (\s*([^"'<]*?)\s*["']) backtracked cubically, 35 s for 4000 spaces.
    const prefix = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/"';
    for (const packet of [
      `${prefix} tiff:Orientation="${' '.repeat(20000)}`,
      `${prefix}><tiff:Orientation>${' \n\t'.repeat(7000)}`,
      `${prefix}><exif:PixelXDimension>${' '.repeat(20000)}</exif:PixelX`,
    ]) {
      // No clock here: at these lengths a backtracking pattern would not finish at all.
      expect(xmp.readXmpOrientation(packet)).toBeUndefined();
      expect(xmp.patchXmp(packet, 4, 3)).toBe(packet);
    }
  });

  it('still reads and patches padded XMP values in both forms', () => {
    const packet = `<x:xmpmeta xmlns:t='http://ns.adobe.com/tiff/1.0/' xmlns:exif="http://ns.adobe.com/exif/1.0/"><rdf:Description t:Orientation = " 6 " exif:PixelXDimension="4032"><t:ImageWidth>\n 4032 \n</t:ImageWidth></rdf:Description></x:xmpmeta>`;
    expect(xmp.readXmpOrientation(packet)).toBe(6);
    expect(xmp.patchXmp(packet, 3024, 4032)).toBe(
      `<x:xmpmeta xmlns:t='http://ns.adobe.com/tiff/1.0/' xmlns:exif="http://ns.adobe.com/exif/1.0/"><rdf:Description t:Orientation = "1" exif:PixelXDimension="3024"><t:ImageWidth>3024</t:ImageWidth></rdf:Description></x:xmpmeta>`,
    );
  });

  it('keeps an error message on one line when a PNG text keyword or a WebP FourCC holds a newline', async () => {
    const png = await fixture('png-exif', 6);
    const ihdrEnd = 8 + 25;
    const keyword = Buffer.from('evil\n  failed: `other.png`: forged\x1b[2J\0\x07', 'latin1');
    const bad = Buffer.concat([png.subarray(0, ihdrEnd), pngChunk('zTXt', keyword), png.subarray(ihdrEnd)]);
    const pngResult = await normalizeBuffer(bad);
    // An unreadable carrier is kept with a warning, or the file fails: either way, one line each.
    for (const line of [pngResult.result.error ?? '', ...pngResult.result.warnings]) {
      expect(line).not.toMatch(/[\n\r\x1b]/);
    }
    expect([pngResult.result.error, ...pngResult.result.warnings].join(' ')).toContain('evil\\x0a');

    const webp = Buffer.from(await fixture('webp-lossy', 6));
    const riff = Buffer.concat([webp.subarray(0, 12), Buffer.from('a\nb\x1b', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0x7f]), webp.subarray(12)]);
    riff.writeUInt32LE(riff.length - 8, 4);
    const webpResult = await normalizeBuffer(riff);
    expect(webpResult.data).toBeNull();
    expect(webpResult.result.error).toMatch(/^`-` \(stdin\): WebP .*a\\x0ab\\x1b/);
    expect(webpResult.result.error).not.toMatch(/[\n\r\x1b]/);
  });
});

describe('normalizeBuffer and the CLI on damaged files', () => {
  /** Damaged files that must each fail as a whole, with one reason. */
  async function damaged(): Promise<Array<[string, Uint8Array]>> {
    const jpeg = await fixture('jpeg-420', 6);
    const png = Buffer.from(await fixture('png-exif', 6));
    const hugeChunk = Buffer.from(png);
    hugeChunk.writeUInt32BE(0x7ffffff0, 8 + 25); // the chunk after IHDR runs far past the end
    const webp = Buffer.from(await fixture('webp-lossless', 8));
    webp.writeUInt32LE(0xfffffff0, 4);
    const avif = Buffer.from(await fixture('avif', 3));
    avif.writeUInt32BE(0xfffffff0, avif.readUInt32BE(0)); // the box after ftyp
    const tif = Buffer.from(await fixture('tiff-lzw', 6));
    tif.writeUInt32LE(0xfffffff0, 4); // IFD0 offset past the end
    const zbomb = Buffer.concat([png.subarray(0, 33), pngChunk('zTXt', Buffer.concat([Buffer.from('Raw profile type exif\0\0', 'latin1'), zlib.deflateSync(Buffer.alloc(64 * 2 ** 20))])), png.subarray(33)]);
    return [
      ['cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 3))],
      ['chunk.png', hugeChunk],
      ['riff.webp', webp],
      ['box.avif', avif],
      ['ifd.tif', tif],
      ['zbomb.png', zbomb],
      ['empty.jpg', new Uint8Array(0)],
    ];
  }

  it('fails each damaged file with data null and one error line naming stdin', async () => {
    for (const [name, bytes] of await damaged()) {
      await checkNormalize(lib, bytes);
      const { data, result } = await normalizeBuffer(bytes);
      expect(result.action, name).toBe('failed');
      expect(data, name).toBeNull();
      expect(result.error, name).toMatch(/^`-` \(stdin\): [^\n]+$/);
    }
  });

  it('CLI --out: exit 1, one error line per damaged file, the good file written, nothing else', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'in');
    const bad = await damaged();
    await mkdir(input);
    for (const [name, bytes] of bad) await writeFile(path.join(input, name), bytes);
    await writeFile(path.join(input, 'good.jpg'), await fixture('jpeg-444', 6));

    const run = await runCli(['--out', 'out', 'in'], dir);
    expect(run.code).toBe(1);
    const failures = run.stderr.split('\n').filter((line) => /^\s*failed: /.test(line));
    expect(failures).toHaveLength(bad.length);
    for (const [name] of bad) expect(failures.filter((line) => line.includes(`\`in/${name}\``))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/at .*\.js:\d+|TypeError|RangeError/);
    // Only the good file was written; no temporary file anywhere.
    expect(await readdir(path.join(dir, 'out'))).toEqual(['good.jpg']);
    expect(readOrientation(await readFile(path.join(dir, 'out', 'good.jpg')))?.orientation).toBe(1);
    expect((await readdir(input)).filter((f) => f.includes('.exif-fix-tmp-'))).toEqual([]);
  });

  it('CLI --in-place: damaged files stay byte for byte, the good one is rewritten, no temporary file is left', async () => {
    const dir = await tempDir();
    const bad = await damaged();
    for (const [name, bytes] of bad) await writeFile(path.join(dir, name), bytes);
    await writeFile(path.join(dir, 'good.png'), await fixture('png-alpha', 5));

    const run = await runCli(['--in-place', '.'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter((line) => /^\s*failed: /.test(line))).toHaveLength(bad.length);
    for (const [name, bytes] of bad) expect(Buffer.compare(await readFile(path.join(dir, name)), bytes), name).toBe(0);
    expect(readOrientation(await readFile(path.join(dir, 'good.png')))?.orientation).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([...bad.map(([name]) => name), 'good.png'].sort());
  });
});

describe('the fuzz helpers themselves', () => {
  it('flag a call that is slow (given a time bound, as the long run sets) or allocates too much, so the bounds can fail', async () => {
    await expect(bounded('slow', () => new Promise((resolve) => setTimeout(resolve, 2100)), { timeLimitMs: 2000 })).rejects.toThrow(/took \d+ ms \(limit 2000 ms\)/);
    await expect(bounded('big', () => new Uint8Array(300 * 2 ** 20).fill(1))).rejects.toThrow(/grew .* MB/);
  });

  it('flag a reader that throws something other than an ExifFixError', async () => {
    const broken = { ...lib, index: { ...index, readOrientation: () => { throw new RangeError('Offset is outside the bounds of the DataView'); } } };
    await expect(checkReaders(broken, new Uint8Array(4))).rejects.toThrow(/threw RangeError/);
  });

  it('withExif and withXmp put a generated structure where each reader finds it', async () => {
    const blob = tiffBlob(8, ifd([[0x0112, 3, 1, 8]], 0));
    for (const set of ['jpeg-420', 'png-exif', 'webp-lossy']) {
      expect(readOrientation(withExif(await fixture(set, 1), blob))?.orientation, set).toBe(8);
    }
    const packet = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="3"/></x:xmpmeta>';
    for (const set of ['jpeg-444', 'png-grey', 'webp-lossless']) {
      expect(readOrientation(withXmp(await fixture(set, 1), packet))?.places.some((p) => p.source === 'xmp' && p.value === 3), set).toBe(true);
    }
    await checkXmp(lib, packet);
  });
});
