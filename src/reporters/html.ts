/**
 * The HTML reporter (`--html <file>`): one self-contained page (inline CSS, images as `data:`
 * URIs, no script, nothing fetched) with the run's counts at the top and, for every image that
 * changed (or would), failed or needs a fix, a row with a thumbnail of the image as stored and as
 * now written (or as it would be), its orientation places, action, pixel path and reason.
 *
 * Memory stays modest over huge runs: only those rows are kept (not the upright files), at most
 * `maxRows` of them, and thumbnails are made at the end for the first `maxThumbnails` rows only;
 * the page says when either cap was reached.
 */
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { ORIENTATIONS, type Orientation } from '../orientation.js';
import { applyOrientation } from '../pixels/sharp-transform.js';
import { formatCheckSummary, formatSummary, plural } from '../report.js';
import type { FileResult } from '../report.js';
import type { ReportMode, Reporter, RunEnd } from './types.js';

/** Options of {@link htmlReporter}. */
export interface HtmlOptions {
  /** The run's kind: `dry-run` and `check` show the stored image with its orientation applied, labelled "would be". */
  readonly mode: ReportMode;
  /** The directory results' `input`/`output` paths are relative to. @default process.cwd() */
  readonly cwd?: string;
  /** Rows given thumbnails, in result order. @default 500 */
  readonly maxThumbnails?: number;
  /** Rows listed at all (the counts always cover every file). @default 10000 */
  readonly maxRows?: number;
  /** The longest side of a thumbnail, in pixels. @default 160 */
  readonly thumbnailSize?: number;
  /** Thumbnails made at once. @default os.availableParallelism() */
  readonly concurrency?: number;
}

/** The actions that get a row: what changed (or would), failed or needs a fix. */
const LISTED = new Set(['rotated', 'converted', 'metadata', 'failed', 'needs-fix']);


/**
 * Escapes text for HTML element content and double- or single-quoted attribute values.
 *
 * @param text - any string (file names may hold `<`, `&` and quotes).
 * @returns the text with `&`, `<`, `>`, `"` and `'` as character references.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A thumbnail as a `data:` URI, or why there is none. */
type Thumbnail = { readonly uri: string; readonly width: number; readonly height: number; readonly note?: string } | { readonly missing: string };

/** An image read once and fitted inside the thumbnail box, as lossless PNG bytes, or why it cannot be read. */
type Small = { readonly png: Buffer } | { readonly missing: string };

/**
 * Reads `file` once and fits its stored pixels inside `size` x `size` pixels (sharp does not
 * apply EXIF orientation unless asked, so these are the pixels as stored; the box is square, so
 * any orientation applied afterwards fits it too). Never throws: an image sharp cannot decode
 * (e.g. HEVC-coded HEIC) gives `missing`.
 */
async function small(file: string, size: number): Promise<Small> {
  try {
    return { png: await sharp(file, { failOn: 'none' }).resize(size, size, { fit: 'inside' }).png({ compressionLevel: 1 }).toBuffer() };
  } catch (error) {
    const message = ((error as Error).message.split('\n')[0] ?? '').replaceAll(file, path.basename(file)).replace(/^Input file /, '');
    return { missing: /heif|heic/i.test(message) || /\.(heic|heif|hif)$/i.test(file) ? `the stored image cannot be previewed (sharp cannot decode HEVC-coded HEIF: ${message})` : `the stored image cannot be previewed (${message})` };
  }
}

/** The thumbnail of `image` with `orientation` applied: PNG when it has alpha, else JPEG, as a `data:` URI. */
async function thumbnail(image: Small, orientation: Orientation): Promise<Thumbnail> {
  if ('missing' in image) return image;
  const oriented = applyOrientation(sharp(image.png), orientation);
  const { hasAlpha } = await sharp(image.png).metadata();
  const { data, info } = await (hasAlpha ? oriented.png() : oriented.jpeg({ quality: 80 })).toBuffer({ resolveWithObject: true });
  return { uri: `data:image/${hasAlpha ? 'png' : 'jpeg'};base64,${data.toString('base64')}`, width: info.width, height: info.height };
}

/** The two thumbnails of a row. */
interface Pair {
  readonly stored: Thumbnail;
  readonly now: Thumbnail;
}

/**
 * Makes both thumbnails of one result, reading each file once.
 * - dry run and check: stored = the input, "would be" = the input with its orientation applied;
 * - a run: stored = the input and now = the output; when the input was rewritten in place (or
 *   removed for a converted file), the stored view is rebuilt from the output by undoing the
 *   orientation, and says so;
 * - failed: stored only.
 */
async function thumbnails(r: FileResult, mode: ReportMode, cwd: string, size: number): Promise<Pair> {
  const input = path.resolve(cwd, r.input);
  if (r.action === 'failed') return { stored: await thumbnail(await small(input, size), 1), now: { missing: mode === 'run' ? 'nothing written' : 'nothing would be written' } };
  if (mode !== 'run' || r.output === null) {
    const stored = await small(input, size);
    return { stored: await thumbnail(stored, 1), now: await thumbnail(stored, r.orientation) };
  }
  const output = path.resolve(cwd, r.output);
  const written = await small(output, size);
  const now = await thumbnail(written, 1);
  // In place, the input is now the output (or, converted, it was removed): rebuild its view.
  const replaced = output === input || !(await access(input).then(() => true, () => false));
  if (!replaced) return { stored: await thumbnail(await small(input, size), 1), now };
  const rebuilt = await thumbnail(written, ORIENTATIONS[r.orientation].inverse);
  return { stored: 'uri' in rebuilt ? { ...rebuilt, note: 'rebuilt from the output: the input was replaced in place' } : rebuilt, now };
}

/** The HTML of one thumbnail cell. */
function figure(t: Thumbnail | undefined, alt: string): string {
  if (t === undefined) return '<div class="none">not previewed (thumbnail limit reached)</div>';
  if ('missing' in t) return `<div class="none">${escapeHtml(t.missing)}</div>`;
  const note = t.note ? `<div class="note">${escapeHtml(t.note)}</div>` : '';
  return `<img src="${t.uri}" width="${t.width}" height="${t.height}" alt="${escapeHtml(alt)}">${note}`;
}

/** The HTML of one row. */
function row(r: FileResult, pair: Pair | undefined, mode: ReportMode): string {
  const would = mode !== 'run';
  const e = escapeHtml;
  const output = r.output !== null && r.output !== r.input ? `<div class="out">${would ? 'would write' : 'written to'} ${e(r.output)}</div>` : '';
  const places = r.places.length ? r.places.map((p) => `${p.value} (${p.source})`).join(', ') : 'none found';
  const orientation = `<div>${r.orientation}${r.source ? ` from ${e(r.source)}` : ''}</div><div class="small">places: ${e(places)}</div>${r.transform === 'none' ? '' : `<div class="small">${e(r.transform)}</div>`}`;
  const sizes = r.before && r.before.width ? `<div class="small">${r.before.width}×${r.before.height}${r.after ? ` → ${r.after.width}×${r.after.height}` : ''} px</div>` : '';
  const pixels = r.method ? `<div>${e(r.method === 'lossless' ? 'lossless' : 're-encoded')}</div>` : '';
  const reason = r.methodReason ? `<div class="small">${e(r.methodReason)}</div>` : '';
  const problem = r.code ? `<div class="code">${e(r.code)}</div><div>${e(r.error ?? '')}</div>` : '';
  const warnings = r.warnings.length ? `<ul class="warnings">${r.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>` : '';
  const nowLabel = would ? 'would be' : 'as written';
  return `<tr class="file ${e(r.action)}" data-action="${e(r.action)}" data-input="${e(r.input)}">`
    + `<td class="name">${e(r.input)}${output}${sizes}</td>`
    + `<td class="thumb stored">${figure(pair?.stored, `${r.input} as stored`)}</td>`
    + `<td class="thumb now" title="${nowLabel}">${figure(pair?.now, `${r.input} ${nowLabel}`)}</td>`
    + `<td>${orientation}</td><td class="action">${e(r.action)}</td><td class="pixels">${pixels}${reason}</td><td class="problem">${problem}${warnings}</td></tr>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}
.meta,.small,.note{color:#666;font-size:.85em}
pre.summary{background:#f4f4f4;padding:.6em .8em;white-space:pre-wrap;margin:.8em 0}
table{border-collapse:collapse}
table.counts td,table.counts th{padding:.2em .8em;border:1px solid #ddd;text-align:right}
table.files{width:100%;margin-top:1em}
table.files th{background:#f0f0f0;text-align:left;position:sticky;top:0}
table.files td,table.files th{border-bottom:1px solid #ddd;padding:.4em .5em;vertical-align:top}
td.name{min-width:14em;max-width:24em;overflow-wrap:anywhere}
td.pixels{min-width:10em;max-width:20em}
td.problem{min-width:14em}
td.thumb{width:170px;text-align:center}
td.thumb img{display:block;margin:0 auto;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px}
.none{width:160px;min-height:3em;border:1px dashed #bbb;color:#777;font-size:.85em;padding:.4em;box-sizing:border-box}
tr.failed td.action,.code{color:#b00020;font-weight:600}
tr.rotated td.action,tr.converted td.action{color:#0a6b2c;font-weight:600}
ul.warnings{margin:.3em 0;padding-left:1.2em;color:#8a5a00}
.capped{background:#fff4d6;border:1px solid #e0c060;padding:.4em .8em}
`;

/**
 * A reporter writing one self-contained HTML page to `stream` at the end of the run, then ending
 * the stream. Rows follow result order (sorted by path); each changed (`rotated`, `converted`,
 * `metadata`), `failed` or `needs-fix` result gets one. Thumbnails are made with sharp at the end,
 * `concurrency` at a time; an image sharp cannot read gets a placeholder saying so.
 *
 * @param stream - the `--html` file, opened before the run.
 * @param options - see {@link HtmlOptions}.
 * @returns a reporter whose `end` resolves once the page is written (or the stream failed;
 *   the caller watches the stream's `error` event).
 */
export function htmlReporter(stream: NodeJS.WritableStream, options: HtmlOptions): Reporter {
  const { mode, cwd = process.cwd(), maxThumbnails = 500, maxRows = 10_000, thumbnailSize = 160 } = options;
  const rows: FileResult[] = [];
  let unlisted = 0;
  return {
    file(r: FileResult) {
      if (!LISTED.has(r.action)) return;
      if (rows.length < maxRows) rows.push(r);
      else unlisted++;
    },
    async end(end: RunEnd) {
      const limit = pLimit(options.concurrency ?? os.availableParallelism());
      const pairs = await Promise.all(rows.map((r, i) => (i < maxThumbnails ? limit(() => thumbnails(r, mode, cwd, thumbnailSize)) : Promise.resolve(undefined))));
      const s = end.summary;
      const failures = end.tally.failures;
      const lines = mode === 'check' ? formatCheckSummary(s, failures, end.fix) : formatSummary(s, failures, mode === 'dry-run');
      const counts: [string, number][] = mode === 'check'
        ? [['files', s.total], ['not upright', s.needsFix], ['failed', s.failed], ['skipped', s.skipped]]
        : [['files', s.total], [mode === 'dry-run' ? 'would rotate' : 'rotated', s.rotated], ['lossless', s.lossless], ['re-encoded', s.reencoded], [mode === 'dry-run' ? 'would convert' : 'converted', s.converted], ['metadata fixed', s.metadata], ['already upright', s.upright], ['skipped', s.skipped + s.existing], ['failed', s.failed]];
      const title = mode === 'check' ? 'check' : mode === 'dry-run' ? 'dry run (nothing written)' : 'run';
      const capped: string[] = [];
      if (rows.length > maxThumbnails) capped.push(`Thumbnails are shown for the first ${maxThumbnails} of ${plural(rows.length, 'listed file')}.`);
      if (unlisted) capped.push(`${plural(unlisted, 'more file')} not listed (at most ${maxRows} rows); the NDJSON report (--report) has every file.`);
      const nowHead = mode === 'run' ? 'As written' : 'Would be';
      const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>exif-fix report: ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>exif-fix report</h1>
<div class="meta">${escapeHtml(title)}${end.signal ? `, interrupted by ${escapeHtml(end.signal)}` : ''}; exit code ${end.exitCode}; ${escapeHtml(new Date().toISOString())}</div>
<pre class="summary">${escapeHtml(lines.join('\n'))}</pre>
<table class="counts"><tr>${counts.map(([k]) => `<th>${escapeHtml(k)}</th>`).join('')}</tr><tr>${counts.map(([k, v]) => `<td data-count="${escapeHtml(k)}">${v}</td>`).join('')}</tr></table>
${capped.map((c) => `<p class="capped">${escapeHtml(c)}</p>`).join('\n')}
${rows.length === 0 ? '<p>No image changed, failed or needs a fix.</p>' : `<table class="files"><thead><tr><th>File</th><th>As stored</th><th>${nowHead}</th><th>Orientation</th><th>Action</th><th>Pixels</th><th>Problem and warnings</th></tr></thead>
<tbody>
${rows.map((r, i) => row(r, pairs[i], mode)).join('\n')}
</tbody></table>`}
</body></html>
`;
      stream.end(html);
      await finished(stream as NodeJS.WritableStream & NodeJS.ReadableStream, { readable: false }).catch(() => undefined);
    },
  };
}
