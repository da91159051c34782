// Distribution distances between two statistics of one feature, as TFDV's skew and drift comparators use
// them, each with the value or bucket that contributes most:
//  - L∞: max over values of |p_v − q_v| of the normalized value counts (categorical features);
//  - Jensen-Shannon divergence: numeric histograms aligned on the union of both bucket boundaries (mass
//    spread uniformly inside a bucket), NaN as its own bucket, normalized; (KL(P‖M) + KL(Q‖M)) / 2 in log2,
//    so 0..1. String features use their value distributions directly;
//  - normalized absolute difference: ½ Σ_v |p_v − q_v| over the normalized value counts (total variation,
//    0..1); TFDV names the threshold but not the formula in its docs, so this is our definition.

import { exactValues } from './infer-schema';
import type { FeatureNameStatistics, Histogram } from './statistics-proto';
import { protoDouble } from './statistics-proto';

export interface Distance {
  value: number;
  /** The value (categorical) or bucket "[low, high)" (numeric) with the largest difference. */
  worst: string;
}

/** Value → probability of a string feature, from its rank histogram (all values when exact, else the top ones). */
function distribution(f: FeatureNameStatistics): Map<string, number> {
  const counts = exactValues(f) ?? new Map((f.stringStats?.rankHistogram?.buckets ?? []).map((b) => [b.label, b.sampleCount]));
  const total = [...counts.values()].reduce((t, c) => t + c, 0);
  return new Map([...counts].map(([v, c]) => [v, total > 0 ? c / total : 0]));
}

function largestDifference(p: Map<string, number>, q: Map<string, number>): { max: number; sum: number; worst: string } {
  let max = 0;
  let sum = 0;
  let worst = '';
  for (const v of new Set([...p.keys(), ...q.keys()])) {
    const d = Math.abs((p.get(v) ?? 0) - (q.get(v) ?? 0));
    sum += d;
    if (d > max) {
      max = d;
      worst = v;
    }
  }
  return { max, sum, worst };
}

export function lInfinity(current: FeatureNameStatistics, baseline: FeatureNameStatistics): Distance {
  const d = largestDifference(distribution(current), distribution(baseline));
  return { value: d.max, worst: d.worst };
}

export function normalizedAbsDifference(current: FeatureNameStatistics, baseline: FeatureNameStatistics): Distance {
  const d = largestDifference(distribution(current), distribution(baseline));
  return { value: d.sum / 2, worst: d.worst };
}

interface Bucket {
  low: number;
  high: number;
  count: number;
}

function standardHistogram(f: FeatureNameStatistics): { buckets: Bucket[]; nan: number } {
  const h: Histogram | undefined = f.numStats?.histograms.find((x) => x.type === 'STANDARD');
  return {
    buckets: (h?.buckets ?? []).map((b) => ({ low: protoDouble(b.lowValue), high: protoDouble(b.highValue), count: b.sampleCount })),
    nan: Number(h?.numNan ?? 0),
  };
}

/** Mass of `buckets` inside [lo, hi), assuming uniform density within each bucket (a point bucket counts when inside). */
function massIn(buckets: Bucket[], lo: number, hi: number, last: boolean): number {
  let m = 0;
  for (const b of buckets) {
    if (b.high === b.low) {
      if (b.low >= lo && (b.low < hi || (last && b.low === hi))) m += b.count;
      continue;
    }
    const overlap = Math.min(b.high, hi) - Math.max(b.low, lo);
    if (overlap > 0) m += (b.count * overlap) / (b.high - b.low);
  }
  return m;
}

function jsdTerms(p: number[], q: number[]): number[] {
  return p.map((pi, i) => {
    const qi = q[i];
    const m = (pi + qi) / 2;
    const kl = (x: number) => (x > 0 ? x * Math.log2(x / m) : 0);
    return (kl(pi) + kl(qi)) / 2;
  });
}

export function jensenShannonDivergence(current: FeatureNameStatistics, baseline: FeatureNameStatistics): Distance {
  if (current.stringStats || baseline.stringStats) {
    const p = distribution(current);
    const q = distribution(baseline);
    const values = [...new Set([...p.keys(), ...q.keys()])];
    const terms = jsdTerms(values.map((v) => p.get(v) ?? 0), values.map((v) => q.get(v) ?? 0));
    const worst = terms.indexOf(Math.max(...terms));
    return { value: terms.reduce((a, b) => a + b, 0), worst: values[worst] ?? '' };
  }
  const a = standardHistogram(current);
  const b = standardHistogram(baseline);
  const bounds = [...new Set([...a.buckets, ...b.buckets].flatMap((x) => [x.low, x.high]))].sort((x, y) => x - y);
  const edges: [number, number][] = bounds.length === 1 ? [[bounds[0], bounds[0]]] : bounds.slice(0, -1).map((lo, i) => [lo, bounds[i + 1]]);
  const pm = [...edges.map(([lo, hi], i) => massIn(a.buckets, lo, hi, i === edges.length - 1)), a.nan];
  const qm = [...edges.map(([lo, hi], i) => massIn(b.buckets, lo, hi, i === edges.length - 1)), b.nan];
  const pt = pm.reduce((x, y) => x + y, 0);
  const qt = qm.reduce((x, y) => x + y, 0);
  if (pt === 0 || qt === 0) return { value: pt === qt ? 0 : 1, worst: '' };
  const terms = jsdTerms(pm.map((x) => x / pt), qm.map((x) => x / qt));
  const w = terms.indexOf(Math.max(...terms));
  const worst = w === edges.length ? 'NaN' : `[${edges[w][0]}, ${edges[w][1]})`;
  return { value: Math.min(1, Math.max(0, terms.reduce((x, y) => x + y, 0))), worst };
}
