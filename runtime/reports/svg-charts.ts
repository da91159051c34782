// Small static SVG charts for self-contained HTML reports (no script, no CDN: they render offline and in
// any browser): a bar chart for histograms and top values.

export interface Bar {
  label: string;
  value: number;
  /** Tooltip text (SVG <title>). */
  title?: string;
}

export interface BarChartOptions {
  width?: number;
  height?: number;
  /** Accessible name of the chart. */
  caption: string;
  /** Bars of a second series drawn as outlines on top (e.g. the baseline span), same labels in the same order. */
  compare?: Bar[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Vertical bars scaled to the largest value of both series; labels under the first and last bar. */
export function barChart(bars: Bar[], opts: BarChartOptions): string {
  const width = opts.width ?? 320;
  const height = opts.height ?? 120;
  const axis = 16;
  const plotH = height - axis;
  const max = Math.max(1e-12, ...bars.map((b) => b.value), ...(opts.compare ?? []).map((b) => b.value));
  const step = bars.length ? width / bars.length : width;
  const barW = Math.max(1, step * 0.85);
  const rects = bars.map((b, i) => {
    const h = (b.value / max) * plotH;
    const title = escapeHtml(b.title ?? `${b.label}: ${b.value}`);
    return `<rect class="bar" x="${(i * step).toFixed(1)}" y="${(plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"><title>${title}</title></rect>`;
  });
  const outlines = (opts.compare ?? []).map((b, i) => {
    const h = (b.value / max) * plotH;
    return `<rect class="baseline" x="${(i * step).toFixed(1)}" y="${(plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"><title>${escapeHtml(b.title ?? `baseline ${b.label}: ${b.value}`)}</title></rect>`;
  });
  const first = bars[0] ? `<text x="0" y="${height - 3}" class="tick">${escapeHtml(bars[0].label)}</text>` : '';
  const last = bars.length > 1 ? `<text x="${width}" y="${height - 3}" class="tick" text-anchor="end">${escapeHtml(bars[bars.length - 1].label)}</text>` : '';
  return `<svg class="chart" role="img" aria-label="${escapeHtml(opts.caption)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rects.join('')}${outlines.join('')}${first}${last}</svg>`;
}
