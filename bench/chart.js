// A hand-written SVG bar chart (no dependency): one panel per group, one horizontal bar per tool.

function escapeXml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function format(v) {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2);
}

/**
 * Renders horizontal bar charts of files per second.
 *
 * @param {Array<{ title: string, bars: Array<{ label: string, value: number, highlight?: boolean, note?: string }> }>} panels
 * @param {{ caption?: string }} [options]
 * @returns {string} an SVG document.
 */
export function barChart(panels, options = {}) {
  const width = 760;
  const labelWidth = 250;
  const barArea = width - labelWidth - 110;
  const barHeight = 22;
  const gap = 8;
  let y = 16;
  const parts = [];
  for (const panel of panels) {
    parts.push(`<text x="16" y="${y + 14}" class="title">${escapeXml(panel.title)}</text>`);
    y += 28;
    const max = Math.max(...panel.bars.map((b) => b.value), 1e-9);
    for (const bar of panel.bars) {
      const w = Math.max(1, (bar.value / max) * barArea);
      const fill = bar.highlight ? '#1f6feb' : '#8c959f';
      parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" fill="${fill}"/>`);
      parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 15}" class="value">${escapeXml(format(bar.value))}${bar.note ? ` ${escapeXml(bar.note)}` : ''}</text>`);
      y += barHeight + gap;
    }
    y += 14;
  }
  if (options.caption) {
    parts.push(`<text x="16" y="${y + 4}" class="caption">${escapeXml(options.caption)}</text>`);
    y += 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" role="img" aria-label="files per second, higher is better">`,
    '<style>text{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;fill:#24292f}.title{font-size:15px;font-weight:600}.label{font-size:13px}.value{font-size:12px}.caption{font-size:11px;fill:#57606a}</style>',
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
