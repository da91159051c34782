// Small static SVG charts for self-contained HTML reports (no script, no CDN: they render offline and in
// any browser): a bar chart for histograms and top values, with a y-axis and a label under every bar.

export interface Bar {
  label: string;
  value: number;
  /** Tooltip text (SVG <title>). */
  title?: string;
}

export interface BarChartOptions {
  /** Width of the whole chart; the plot is what is left after the y-axis. */
  width?: number;
  /** Height of the plot area (labels and axis titles come on top of it). */
  height?: number;
  /** Accessible name of the chart. */
  caption: string;
  /** Titles of the axes: what the bars are (e.g. "value") and what their height counts (e.g. "examples"). */
  xTitle?: string;
  yTitle?: string;
  /** Bars of a second series drawn as outlines on top (e.g. the baseline span), same labels in the same order. */
  compare?: Bar[];
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) at or above `x`: a y-axis top read at a glance that leaves the bars most of the plot. */
function niceCeiling(x: number): number {
  const power = 10 ** Math.floor(Math.log10(x));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((v) => v >= x * (1 - 1e-9))!;
}

/** A tick value: integers as they are, others to 3 significant digits, thousands as "12k". */
function tickText(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

const clip = (label: string, n: number) => (label.length > n ? `${label.slice(0, n - 1)}…` : label);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Vertical bars with a y-axis (0, half and top of a rounded scale) and every bar labelled under it, the
 * labels slanted so 20 categories fit; a long label is clipped and given whole in the bar's tooltip.
 */
export function barChart(bars: Bar[], opts: BarChartOptions): string {
  const width = opts.width ?? 330;
  const plotH = opts.height ?? 120;
  const left = 44;
  const top = 8;
  const labelSpace = 62;
  const xTitleSpace = opts.xTitle ? 14 : 0;
  const height = top + plotH + labelSpace + xTitleSpace;
  const plotW = width - left - 6;
  const max = niceCeiling(Math.max(1e-12, ...bars.map((b) => b.value), ...(opts.compare ?? []).map((b) => b.value)));
  const step = bars.length ? plotW / bars.length : plotW;
  const barW = Math.max(1, step * 0.85);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const rect = (cls: string, b: Bar, i: number, title: string) =>
    `<rect class="${cls}" x="${(left + i * step).toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.value)).toFixed(1)}"><title>${escapeHtml(title)}</title></rect>`;
  const rects = bars.map((b, i) => rect('bar', b, i, b.title ?? `${b.label}: ${b.value}`));
  const outlines = (opts.compare ?? []).map((b, i) => rect('baseline', b, i, b.title ?? `baseline ${b.label}: ${b.value}`));
  const ticks = [0, max / 2, max].map(
    (v) => `<line class="grid" x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="tick y-tick" x="${left - 4}" y="${(y(v) + 3).toFixed(1)}" text-anchor="end">${tickText(v)}</text>`,
  );
  const labels = bars.map((b, i) => {
    const x = left + i * step + barW / 2;
    return `<text class="tick x-label" transform="translate(${x.toFixed(1)},${top + plotH + 10}) rotate(-40)" text-anchor="end">${escapeHtml(clip(b.label, 14))}</text>`;
  });
  const yTitle = opts.yTitle ? `<text class="axis-title" transform="translate(10,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(opts.yTitle)}</text>` : '';
  const xTitle = opts.xTitle ? `<text class="axis-title" x="${left + plotW / 2}" y="${height - 3}" text-anchor="middle">${escapeHtml(opts.xTitle)}</text>` : '';
  const axes = `<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"/><line class="axis" x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}"/>`;
  return `<svg class="chart" role="img" aria-label="${escapeHtml(opts.caption)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${ticks.join('')}${rects.join('')}${outlines.join('')}${axes}${labels.join('')}${yTitle}${xTitle}</svg>`;
}
