// `--html <file>` in a real browser: Debian's headless Chromium loads the report, its thumbnails
// decode there, and a screenshot of it shows them. Needs `chromium` (apt-get install chromium),
// checked up front by test/system/prerequisites.ts.
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers.js';

const CHROMIUM = 'chromium';

/** Runs headless Chromium on `url` with `args`; resolves with its stdout (rejects when it fails). */
async function chromium(url: string, args: string[]): Promise<string> {
  const profile = await tempDir();
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args, url], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(new Error(`chromium failed: ${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** A workspace with a report of JPEGs of every orientation, a transposed PNG with alpha, a file named `a<&>"b'.jpg` and a truncated JPEG. */
async function report(): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420'), path.join(dir, 'in'), { recursive: true });
  await cp(path.join(FIXTURES, 'orientation', 'png-alpha', 'png-alpha_5.png'), path.join(dir, 'in', 'png-alpha_5.png'));
  await cp(path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg'), path.join(dir, 'in', 'a<&>"b\'.jpg'));
  await cp(path.join(FIXTURES, 'bad', 'truncated.jpg'), path.join(dir, 'in', 'truncated.jpg'));
  const { code, stderr } = await runCli(['--out', 'out', '--html', 'report.html', 'in'], dir);
  expect(code, stderr).toBe(1);
  return { dir, file: path.join(dir, 'report.html') };
}

describe('--html in headless Chromium', () => {
  it('every thumbnail decodes in the browser at the size the page gives it', async () => {
    const { dir, file } = await report();
    // A copy of the page with a probe script added: once loaded, each img records what the
    // browser decoded (naturalWidth x naturalHeight, 0x0 for an image that failed to decode).
    const probe = path.join(dir, 'probe.html');
    const script = `<script>addEventListener('load',()=>{for(const i of document.images)i.setAttribute('data-natural',i.naturalWidth+'x'+i.naturalHeight+' '+i.complete);document.body.setAttribute('data-probed',String(document.images.length))})</script>`;
    await writeFile(probe, (await readFile(file, 'utf8')).replace('</body>', `${script}</body>`));
    const dom = await chromium(`file://${probe}`, ['--virtual-time-budget=10000', '--dump-dom']);
    // 7 rotated JPEGs (orientations 2-8), the extra 6 and the PNG: two thumbnails each; the failed file none.
    expect(dom).toMatch(/data-probed="18"/);
    const images = [...dom.matchAll(/<img [^>]*?width="(\d+)" height="(\d+)"[^>]*?data-natural="(\d+)x(\d+) (\w+)"/g)];
    expect(images).toHaveLength(18);
    for (const [, width, height, naturalWidth, naturalHeight, complete] of images) {
      expect(complete).toBe('true');
      expect(Number(naturalWidth)).toBeGreaterThan(0);
      expect([naturalWidth, naturalHeight]).toEqual([width, height]);
    }
    // The odd name arrives as text, not markup.
    expect(dom).toContain('in/a&lt;&amp;&gt;"b\'.jpg');
  });

  it('a screenshot of the report shows the counts and the thumbnails', async () => {
    const { dir, file } = await report();
    const png = path.join(dir, 'screenshot.png');
    await chromium(`file://${file}`, ['--window-size=1200,2000', `--screenshot=${png}`]);
    const shot = sharp(png);
    const meta = await shot.metadata();
    expect([meta.width, meta.height]).toEqual([1200, 2000]);
    const stats = await shot.stats();
    // Not blank: the page has text and pictures, so every channel varies.
    for (const channel of stats.channels.slice(0, 3)) expect(channel.stdev).toBeGreaterThan(20);
    // The fixtures' blue quadrant: the page's own styles have no saturated blue, so these pixels
    // are the thumbnails, drawn.
    const { data, info } = await shot.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let blue = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i + 2]! > 150 && data[i]! < 80 && data[i + 1]! < 80) blue++;
    expect(blue).toBeGreaterThan(18 * 20 * 20);
  });
});
