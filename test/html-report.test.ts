// `--html <file>`: the self-contained HTML report, read back and its thumbnails decoded with sharp.
// (test/system/html-report.test.ts loads the same kind of page in a real headless Chromium.)
import { createWriteStream } from 'node:fs';
import { cp, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { normalize, summarize, Tally } from '../src/index.js';
import type { FileResult } from '../src/index.js';
import { htmlReporter, escapeHtml } from '../src/reporters/html.js';
import { FIXTURES, meanAbsDiff, runCli, tempDir } from './helpers.js';

const JPEG = path.join(FIXTURES, 'orientation', 'jpeg-420');
const WEIRD = 'a<&>"b\'.jpg';

/** One row of the report's file table. */
interface Row {
  readonly action: string;
  readonly input: string;
  readonly html: string;
  /** The `data:` URIs of the "as stored" and "as written"/"would be" cells, when they hold an image. */
  readonly stored?: string;
  readonly now?: string;
}

/** Undoes {@link escapeHtml} (numeric references only, as it writes them). */
const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

/** The rows of a report, in order. */
function rows(html: string): Row[] {
  return [...html.matchAll(/<tr class="file [^"]*" data-action="([^"]*)" data-input="([^"]*)">([\s\S]*?)<\/tr>/g)].map((m) => {
    const cell = (cls: string) => m[3]!.match(new RegExp(`<td class="thumb ${cls}"[^>]*>(?:<img src="(data:[^"]+)")?`))?.[1];
    return { action: m[1]!, input: unescape(m[2]!), html: m[3]!, stored: cell('stored'), now: cell('now') };
  });
}

/** The counts table as a map. */
function counts(html: string): Record<string, number> {
  return Object.fromEntries([...html.matchAll(/<td data-count="([^"]+)">(\d+)<\/td>/g)].map((m) => [unescape(m[1]!), Number(m[2])]));
}

/** Decodes a `data:` URI with sharp. */
async function decode(uri: string) {
  const [, type, base64] = uri.match(/^data:(image\/(?:jpeg|png));base64,([A-Za-z0-9+/=]+)$/) ?? [];
  expect(type).toBeDefined();
  const { data, info } = await sharp(Buffer.from(base64!, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** How far a thumbnail is from the upright fixture (orientation 1) scaled to the same size, and from it turned 180 degrees. */
async function distanceFromUpright(uri: string): Promise<{ upright: number; turned: number }> {
  const thumb = await decode(uri);
  const reference = (turn: number) => sharp(path.join(JPEG, 'jpeg-420_1.jpg')).rotate(turn).resize(thumb.width, thumb.height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { upright: meanAbsDiff(thumb, await reference(0)), turned: meanAbsDiff(thumb, await reference(180)) };
}

/** A workspace with `in/`: JPEGs of orientations 1, 3, 6, 8, one named {@link WEIRD} (a 6), and a truncated JPEG. */
async function workspace(): Promise<string> {
  const dir = await tempDir();
  const input = path.join(dir, 'in');
  for (const o of [1, 3, 6, 8]) await cp(path.join(JPEG, `jpeg-420_${o}.jpg`), path.join(input, `jpeg-420_${o}.jpg`));
  await cp(path.join(JPEG, 'jpeg-420_6.jpg'), path.join(input, WEIRD));
  await cp(path.join(FIXTURES, 'bad', 'truncated.jpg'), path.join(input, 'truncated.jpg'));
  return dir;
}

describe('--html report', () => {
  it('lists every changed or failed image once, with counts, thumbnails as stored and as written, and escaped names', async () => {
    const dir = await workspace();
    const { code, stderr } = await runCli(['--out', 'out', '--html', 'report.html', 'in'], dir);
    expect(code, stderr).toBe(1);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(counts(html)).toMatchObject({ files: 6, rotated: 4, 'already upright': 1, failed: 1 });
    expect(html).toContain('4 rotated, 1 already upright, 1 failed');
    const list = rows(html);
    expect(list.map((r) => [r.action, r.input])).toEqual([
      ['rotated', `in/${WEIRD}`],
      ['rotated', 'in/jpeg-420_3.jpg'],
      ['rotated', 'in/jpeg-420_6.jpg'],
      ['rotated', 'in/jpeg-420_8.jpg'],
      ['failed', 'in/truncated.jpg'],
    ]);
    // The name is escaped everywhere: no raw `<&>` of it survives in the page.
    expect(html).not.toContain('a<&>');
    expect(html).toContain(escapeHtml(`in/${WEIRD}`));
    // No external resource: every src is a data: URI, and nothing links out.
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].every((m) => m[1]!.startsWith('data:'))).toBe(true);
    expect(html).not.toMatch(/<(?:link|script)\b/);
    for (const r of list.filter((x) => x.action === 'rotated')) {
      expect(r.stored, r.input).toBeDefined();
      expect(r.now, r.input).toBeDefined();
      const stored = await decode(r.stored!);
      const now = await decode(r.now!);
      const fixture = await sharp(path.join(dir, r.input)).metadata();
      // As stored: the stored pixels' shape (a 6 or 8 is stored portrait, shown upright landscape).
      expect(Math.sign(stored.width - stored.height)).toBe(Math.sign(fixture.width - fixture.height));
      expect(Math.max(now.width, now.height)).toBe(160);
      // As written: the upright picture, far closer to the upright fixture than to it turned over.
      const d = await distanceFromUpright(r.now!);
      expect(d.upright * 3, r.input).toBeLessThan(d.turned);
      expect(r.html).toContain('re-encoded');
      expect(r.html).toMatch(/places: \d \(exif\)/);
    }
    // A 6 as stored is portrait, its written thumbnail landscape.
    const six = list.find((r) => r.input === 'in/jpeg-420_6.jpg')!;
    expect((await decode(six.stored!)).height).toBeGreaterThan((await decode(six.stored!)).width);
    expect((await decode(six.now!)).width).toBeGreaterThan((await decode(six.now!)).height);
    const failed = list.find((r) => r.action === 'failed')!;
    expect(failed.html).toContain('corrupt');
    expect(failed.html).toContain('truncated JPEG');
    expect(failed.now).toBeUndefined();
    expect(failed.html).toContain('nothing written');
  });

  it('in a dry run shows each image as it would be written, and writes nothing but the report', async () => {
    const dir = await workspace();
    const { code, stderr } = await runCli(['--dry-run', '--out', 'out', '--html', 'report.html', 'in'], dir);
    expect(code, stderr).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['in', 'report.html']);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<th>Would be</th>');
    expect(counts(html)).toMatchObject({ files: 6, 'would rotate': 4, failed: 1 });
    const rotated = rows(html).filter((r) => r.action === 'rotated');
    expect(rotated).toHaveLength(4);
    expect(rows(html).find((r) => r.action === 'failed')!.html).toContain('nothing would be written');
    for (const r of rotated) {
      const d = await distanceFromUpright(r.now!);
      expect(d.upright * 3, r.input).toBeLessThan(d.turned);
    }
  });

  it('with --check lists the files not upright with how they would look', async () => {
    const dir = await workspace();
    const { code } = await runCli(['--check', '--html', 'report.html', 'in'], dir);
    expect(code).toBe(1);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(counts(html)).toMatchObject({ 'not upright': 4, failed: 1 });
    expect(html).toContain('--in-place');
    const list = rows(html);
    expect(list.filter((r) => r.action === 'needs-fix')).toHaveLength(4);
    for (const r of list.filter((x) => x.action === 'needs-fix')) {
      const d = await distanceFromUpright(r.now!);
      expect(d.upright * 3, r.input).toBeLessThan(d.turned);
    }
  });

  it('in place rebuilds the stored view from the output and says so', async () => {
    const dir = await workspace();
    const { code } = await runCli(['--in-place', '--html', 'report.html', 'in'], dir);
    expect(code).toBe(1);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    const six = rows(html).find((r) => r.input === 'in/jpeg-420_6.jpg')!;
    expect(six.html).toContain('rebuilt from the output');
    const stored = await decode(six.stored!);
    expect(stored.height).toBeGreaterThan(stored.width);
    // Rebuilt as stored = the upright fixture turned back a quarter (orientation 6 stores it turned left).
    const reference = await sharp(path.join(JPEG, 'jpeg-420_1.jpg')).rotate(270).resize(stored.width, stored.height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const opposite = await sharp(path.join(JPEG, 'jpeg-420_1.jpg')).rotate(90).resize(stored.width, stored.height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(meanAbsDiff(stored, reference) * 3).toBeLessThan(meanAbsDiff(stored, opposite));
  });

  it('shows a placeholder for a HEIC sharp cannot decode, and the converted output as written', async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, 'heif', 'exif-only_6.heic'), path.join(dir, 'in', 'photo_6.heic'));
    const { code, stderr } = await runCli(['--out', 'out', '--to', 'jpeg', '--html', 'report.html', 'in'], dir);
    expect(code, stderr).toBe(0);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    const [row] = rows(html);
    expect(row!.action).toBe('converted');
    expect(row!.stored).toBeUndefined();
    expect(row!.html).toContain('cannot be previewed');
    const now = await decode(row!.now!);
    const written = await sharp(path.join(dir, 'out', 'photo_6.jpg')).metadata();
    expect(Math.sign(now.width - now.height)).toBe(Math.sign(written.width - written.height));
  });

  it('a report path that cannot be opened is a usage error before any work', async () => {
    const dir = await workspace();
    const { code, stderr } = await runCli(['--out', 'out', '--html', 'missing/report.html', 'in'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot write the HTML report `missing/report.html`: ENOENT');
    await expect(stat(path.join(dir, 'out'))).rejects.toThrow();
  });

  it('caps thumbnails and rows, keeps no upright result, and says so in the page', async () => {
    const dir = await workspace();
    const input = path.join(dir, 'in');
    const file = path.join(dir, 'capped.html');
    const stream = createWriteStream(file);
    const reporter = htmlReporter(stream, { mode: 'dry-run', cwd: dir, maxThumbnails: 2, maxRows: 3 });
    const tally = new Tally();
    const results: FileResult[] = await normalize([input], { dryRun: true, out: path.join(dir, 'out'), onResult: (r) => (tally.add(r), reporter.file(r)) });
    const summary = summarize(results, 0);
    await reporter.end({ summary, tally, exitCode: 1, fix: '' });
    const html = await readFile(file, 'utf8');
    const list = rows(html);
    expect(list).toHaveLength(3);
    expect(list.filter((r) => r.now !== undefined)).toHaveLength(2);
    expect(list[2]!.html).toContain('not previewed (thumbnail limit reached)');
    expect(html).toContain('Thumbnails are shown for the first 2 of 3 listed files.');
    expect(html).toContain('2 more files not listed (at most 3 rows)');
    expect(html).not.toContain('jpeg-420_1.jpg');
  });
});
