// The data report a person reads: one self-contained HTML file (inline CSS and SVG, no script, no network)
// with per-split statistics and a chart per feature, the anomalies found, and drift/skew distances against
// their thresholds. Built from the TFDV-shaped statistics and anomalies the data components write.

import type { Anomalies } from '../tfdv/anomalies-proto';
import {
  commonStatsOf,
  protoDouble,
  type DatasetFeatureStatistics,
  type DatasetFeatureStatisticsList,
  type FeatureNameStatistics,
} from '../tfdv/statistics-proto';
import { barChart, escapeHtml, type Bar } from './svg-charts';

export interface DataReportInput {
  title: string;
  statistics: DatasetFeatureStatisticsList;
  /** Statistics to compare with (e.g. the previous span); drawn as outlines on each chart. */
  baseline?: DatasetFeatureStatisticsList;
  /** Anomalies per split, as ExampleValidator writes them. */
  anomalies?: { split: string; anomalies: Anomalies }[];
  generatedAt?: Date;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:24px;color:#1f2933;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d9e2ec;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f0f4f8}.num{text-align:right;font-variant-numeric:tabular-nums}
tr.anomaly td{background:#ffe3e3}tr.flagged td{background:#fff3c4}.ok{color:#2f8132}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
.feature{border:1px solid #d9e2ec;border-radius:6px;padding:8px}.feature h3{font-size:14px;margin:0 0 4px}
.feature.has-anomaly{border-color:#e12d39}.meta{font-size:12px;color:#52606d}
.chart .bar{fill:#2680c2}.chart .baseline{fill:none;stroke:#e12d39;stroke-width:1}.tick{font-size:10px;fill:#52606d}
.chart .axis{stroke:#52606d}.chart .grid{stroke:#e4e7eb}.axis-title{font-size:10px;fill:#1f2933}`;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1e5 || (Math.abs(n) < 1e-3 && n !== 0) ? n.toExponential(3) : String(Number(n.toFixed(4)));
}

/**
 * A share as a percentage: `part` of `whole` times 100, to one decimal from 1% up and two significant digits
 * below (1 missing of 269 is "0.37%"), "<0.01%" rather than a rounded-away 0 for a share that is not 0.
 */
export function percentOf(part: number, whole: number): string {
  if (!(whole > 0)) return 'n/a';
  const pct = (100 * part) / whole;
  if (pct === 0) return '0%';
  if (pct < 0.01) return '<0.01%';
  return `${pct >= 1 ? Number(pct.toFixed(1)) : Number(pct.toPrecision(2))}%`;
}

function featureBars(f: FeatureNameStatistics): Bar[] {
  if (f.numStats) {
    const h = f.numStats.histograms.find((x) => x.type === 'STANDARD');
    return (h?.buckets ?? []).map((b) => ({
      label: `${fmt(protoDouble(b.lowValue))}–${fmt(protoDouble(b.highValue))}`,
      value: b.sampleCount,
      title: `[${fmt(protoDouble(b.lowValue))}, ${fmt(protoDouble(b.highValue))}]: ${fmt(b.sampleCount)}`,
    }));
  }
  return (f.stringStats?.topValues ?? []).slice(0, 20).map((v) => ({ label: v.value, value: v.frequency, title: `${v.value}: ${fmt(v.frequency)}` }));
}

/**
 * The baseline's bars lined up with the current ones and scaled to the current example count, so the
 * outlines show a change in distribution rather than in size. Categorical bars are matched by value;
 * numeric buckets only when both histograms share the same boundaries (else undefined: no honest overlay).
 */
function baselineBars(current: Bar[], baseline: Bar[], scale: number, categorical: boolean): Bar[] | undefined {
  if (categorical) {
    const byLabel = new Map(baseline.map((x) => [x.label, x.value]));
    return current.map((c) => ({ label: c.label, value: (byLabel.get(c.label) ?? 0) * scale, title: `baseline ${c.label}: ${fmt(byLabel.get(c.label) ?? 0)}` }));
  }
  const aligned = baseline.length === current.length && baseline.every((x, i) => x.label === current[i].label);
  return aligned ? baseline.map((x) => ({ ...x, value: x.value * scale, title: `baseline ${x.title ?? x.label}` })) : undefined;
}

function featureSummary(f: FeatureNameStatistics, numExamples: number): string {
  const common = commonStatsOf(f);
  const missing = Number(common?.numMissing ?? 0);
  const parts = [`${f.type}`, `missing ${percentOf(missing, numExamples)}`];
  if (f.numStats) {
    const s = f.numStats;
    parts.push(`mean ${fmt(s.mean)}`, `std ${fmt(s.stdDev)}`, `min ${fmt(protoDouble(s.min))}`, `median ${fmt(s.median)}`, `max ${fmt(protoDouble(s.max))}`, `zeros ${s.numZeros}`);
  } else if (f.stringStats) {
    parts.push(`unique ${f.stringStats.unique}`, `avg length ${fmt(f.stringStats.avgLength)}`);
  }
  return parts.map(escapeHtml).join(' · ');
}

function anomalousFeatures(a: Anomalies | undefined): Set<string> {
  return new Set(Object.keys(a?.anomalyInfo ?? {}));
}

function featureCards(ds: DatasetFeatureStatistics, base: DatasetFeatureStatistics | undefined, flagged: Set<string>): string {
  const baseByName = new Map((base?.features ?? []).map((f) => [f.name, f]));
  const cards = ds.features.map((f) => {
    const bars = featureBars(f);
    const b = baseByName.get(f.name);
    const compare = b && base ? baselineBars(bars, featureBars(b), Number(ds.numExamples) / Math.max(1, Number(base.numExamples)), !!f.stringStats) : undefined;
    const caption = `${f.stringStats ? 'top values' : 'histogram'} of ${f.name} (${ds.name})`;
    const chart = bars.length ? barChart(bars, { caption, compare, xTitle: f.stringStats ? 'value' : f.name, yTitle: 'examples' }) : '<p class="meta">no values</p>';
    return `<div class="feature${flagged.has(f.name) ? ' has-anomaly' : ''}" data-feature="${escapeHtml(f.name)}"><h3>${escapeHtml(f.name)}</h3><div class="meta">${featureSummary(f, Number(ds.numExamples))}</div>${chart}</div>`;
  });
  return `<div class="features">${cards.join('')}</div>`;
}

function anomaliesTable(entries: { split: string; anomalies: Anomalies }[]): string {
  const rows: string[] = [];
  for (const { split, anomalies } of entries) {
    const infos = Object.entries(anomalies.anomalyInfo ?? {}).map(([feature, info]) => ({ feature, info }));
    if (anomalies.datasetAnomalyInfo) infos.push({ feature: '(dataset)', info: anomalies.datasetAnomalyInfo });
    for (const { feature, info } of infos) {
      const types = info.reason.map((r) => r.type).join(', ');
      rows.push(`<tr class="anomaly"><td>${escapeHtml(split)}</td><td>${escapeHtml(feature)}</td><td>${escapeHtml(types)}</td><td>${escapeHtml(info.shortDescription)}</td><td>${escapeHtml(info.description)}</td></tr>`);
    }
  }
  if (rows.length === 0) return '<p class="ok" id="no-anomalies">No anomalies found.</p>';
  return `<table id="anomalies"><thead><tr><th>split</th><th>feature</th><th>type</th><th>short description</th><th>description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function driftTable(entries: { split: string; anomalies: Anomalies }[]): string {
  const rows: string[] = [];
  for (const { split, anomalies } of entries) {
    for (const d of anomalies.driftSkewInfo ?? []) {
      const feature = d.path.step.join('.');
      for (const [kind, ms] of [['drift', d.driftMeasurements], ['skew', d.skewMeasurements]] as const) {
        for (const m of ms ?? []) {
          const flagged = m.value > m.threshold;
          rows.push(`<tr class="${flagged ? 'flagged' : ''}"><td>${escapeHtml(split)}</td><td>${escapeHtml(feature)}</td><td>${kind}</td><td>${m.type}</td><td class="num">${fmt(m.value)}</td><td class="num">${fmt(m.threshold)}</td><td>${flagged ? 'above threshold' : 'ok'}</td></tr>`);
        }
      }
    }
  }
  if (rows.length === 0) return '<p class="meta">No drift or skew comparisons were configured.</p>';
  return `<table id="drift"><thead><tr><th>split</th><th>feature</th><th>comparison</th><th>measure</th><th>distance</th><th>threshold</th><th>result</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderDataReport(input: DataReportInput): string {
  const anomalies = input.anomalies ?? [];
  const splitRows = input.statistics.datasets
    .map((d) => `<tr><td>${escapeHtml(d.name)}</td><td class="num">${d.numExamples}</td><td class="num">${d.features.length}</td></tr>`)
    .join('');
  const sections = input.statistics.datasets.map((ds) => {
    const base = input.baseline?.datasets.find((b) => b.name === ds.name) ?? input.baseline?.datasets[0];
    const flagged = anomalousFeatures(anomalies.find((a) => a.split === ds.name)?.anomalies);
    return `<h2>Features — ${escapeHtml(ds.name)}</h2>${base ? '<p class="meta">Red outlines: the baseline statistics.</p>' : ''}${featureCards(ds, base, flagged)}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">Generated ${escapeHtml((input.generatedAt ?? new Date()).toISOString())} by gcp-ml-platform.</p>
<h2>Splits</h2>
<table id="splits"><thead><tr><th>split</th><th>examples</th><th>features</th></tr></thead><tbody>${splitRows}</tbody></table>
<h2>Anomalies</h2>
${anomaliesTable(anomalies)}
<h2>Drift and skew</h2>
${driftTable(anomalies)}
${sections.join('\n')}
</body></html>
`;
}
