// Decompression and allocation bombs (issue 6, item 2): the fixtures of scripts/fixtures/bombs.js,
// each run through the built library in its own process, so that its peak RSS (getrusage
// maxrss) is its own. Metadata bombs must be rejected (or their bad EXIF set aside) in bounded
// memory; the pixel bomb, under the pixel limit, must be refused by a lower limit and otherwise
// cost no more than its declared pixels. No clock: a wall-clock limit fails under load, not on a bug.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers.js';

const run = promisify(execFile);
const MB = 2 ** 20;

interface Measure {
  /** Peak RSS before and after the call, in bytes. */
  readonly baseRss: number;
  readonly peakRss: number;
  readonly action: string;
  readonly error: string | null;
  readonly warnings: string[];
}

/** Runs `normalizeBuffer` on a fixtures/bad file in a fresh node process and measures it. */
async function measure(file: string, limitInputPixels?: number): Promise<Measure> {
  const script = `
    import { readFile } from 'node:fs/promises';
    const { normalizeBuffer } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
    const bytes = new Uint8Array(await readFile(${JSON.stringify(path.join(FIXTURES, 'bad', file))}));
    const baseRss = process.resourceUsage().maxRSS * 1024;
    const { result } = await normalizeBuffer(bytes, ${limitInputPixels === undefined ? '{}' : `{ limitInputPixels: ${limitInputPixels} }`});
    const peakRss = process.resourceUsage().maxRSS * 1024;
    console.log(JSON.stringify({ baseRss, peakRss, action: result.action, error: result.error, warnings: result.warnings }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 64 * MB });
  return JSON.parse(stdout) as Measure;
}

describe('decompression bombs', () => {
  it('rejects a zTXt raw EXIF profile inflating to 4 GiB at the 16 MiB text limit, in bounded memory', async () => {
    const m = await measure('bomb-ztxt-exif.png');
    expect(m.action).toBe('failed');
    expect(m.error).toBe('`-` (stdin): PNG zTXt chunk "Raw profile type exif" inflates to more than 16777216 bytes');
    expect(m.peakRss - m.baseRss).toBeLessThan(128 * MB);
  });

  it('rejects a compressed iTXt XMP inflating to 1 GiB at the 16 MiB text limit, in bounded memory', async () => {
    const m = await measure('bomb-itxt-xmp.png');
    expect(m.action).toBe('failed');
    expect(m.error).toMatch(/PNG iTXt chunk "XML:com.adobe.xmp" inflates to more than 16777216 bytes$/);
    expect(m.peakRss - m.baseRss).toBeLessThan(128 * MB);
  });

  it('rejects 64 text chunks each just under the per-chunk limit at the per-file total (was 15 s and 3.9 GB)', async () => {
    const m = await measure('bomb-many-ztxt.png');
    expect(m.action).toBe('failed');
    expect(m.error).toMatch(/PNG text chunks inflate to more than 33554432 bytes in all$/);
    expect(m.peakRss - m.baseRss).toBeLessThan(256 * MB);
  });

  it('sets aside an EXIF entry claiming 0x40000000 values without allocating it, and keeps the file as it is', async () => {
    const m = await measure('bomb-exif-count.jpg');
    // The IFD is unreadable, so its orientation is not trusted: the file is copied unchanged,
    // with a warning naming the entry.
    expect(m.action).toBe('copied');
    expect(m.warnings).toEqual(['EXIF is unreadable (tag 0x8298 points outside the TIFF structure); it is kept as it is']);
    expect(m.peakRss - m.baseRss).toBeLessThan(32 * MB);
  });

  it('sets aside an IFD declaring 65535 entries past the end of the EXIF, in bounded memory', async () => {
    const m = await measure('bomb-ifd-entries.jpg');
    expect(m.action).toBe('copied');
    expect(m.warnings).toEqual(['EXIF is unreadable (IFD at byte 8 declares 65535 entries); it is kept as it is']);
    expect(m.peakRss - m.baseRss).toBeLessThan(32 * MB);
  });

  it('refuses the 256 MP IDAT pixel bomb from its header alone when the pixel limit is lower', async () => {
    const m = await measure('bomb-idat-pixels.png', 100_000_000);
    expect(m.action).toBe('failed');
    expect(m.error).toMatch(/header declares 16000x16000 = 256000000 pixels, more than the limit of 100000000/);
    expect(m.peakRss - m.baseRss).toBeLessThan(32 * MB);
  });

  it('processes the 256 MP IDAT pixel bomb under the default limit in memory bounded by its declared pixels', async () => {
    // 16000 x 16000 RGB is 768 MB of pixels: the header, checked against the 268 MP default
    // limit before decoding, is what bounds this. libvips holds the image once to rotate it.
    const m = await measure('bomb-idat-pixels.png');
    expect(m.action).toBe('rotated');
    expect(m.peakRss - m.baseRss).toBeLessThan(16000 * 16000 * 3 + 512 * MB);
  });
});
