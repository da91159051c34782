// A mergeable quantile sketch (DDSketch, Masson et al. 2019): values fall into logarithmic buckets whose
// width is a fixed fraction of their magnitude, so every quantile is reported within relative error ALPHA of
// the exact order statistic, and merging two sketches (adding bucket counts) is exact — shards merged give
// the same sketch as one pass. Bucket keys are computed in SQL (sqlKey) so DuckDB fills the sketch.
// Relative error suits heavy-tailed data but not data far from zero (years, timestamps), which the grid
// histogram (grid-histogram.ts) handles; build-statistics.ts uses whichever bound is tighter.

/** Relative accuracy: a reported quantile q̂ satisfies |q̂ − q| ≤ ALPHA·|q| for the exact quantile q. */
export const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LN_GAMMA = Math.log(GAMMA);
/** Shifts log-bucket indices (≈ ±35,500 over the double range) to positive numbers; the sign carries x's sign. */
const OFFSET = 40_000;
/** Magnitudes below this share the zero bucket (key 0). */
const MIN_MAGNITUDE = 1e-300;

/** Bucket key of a finite value: 0 for (near) zero, ±(log-index + OFFSET) with the value's sign. */
export function sketchKey(x: number): number {
  const m = Math.abs(x);
  if (m < MIN_MAGNITUDE) return 0;
  const k = Math.ceil(Math.log(m) / LN_GAMMA) + OFFSET;
  return x > 0 ? k : -k;
}

/** The same key as a DuckDB SQL expression over a DOUBLE expression `x` (only meaningful for finite x). */
export function sqlKey(x: string): string {
  return `CASE WHEN abs(${x}) < ${MIN_MAGNITUDE} THEN 0 WHEN ${x} > 0 THEN CAST(ceil(ln(${x}) / ${LN_GAMMA}) AS INTEGER) + ${OFFSET} ELSE -(CAST(ceil(ln(-${x}) / ${LN_GAMMA}) AS INTEGER) + ${OFFSET}) END`;
}

/** Representative value of a key's bucket: within ALPHA relative error of every value in the bucket. */
export function keyValue(key: number): number {
  if (key === 0) return 0;
  const k = Math.abs(key) - OFFSET;
  const v = (2 * Math.pow(GAMMA, k)) / (GAMMA + 1);
  return key > 0 ? v : -v;
}

/** Bucket key → count (or total weight, for weighted statistics). */
export type QuantileSketch = Map<number, number>;

/** Adds to a key → count map (sketch buckets; also the grid histogram's cells). */
export function addCount(s: Map<number, number>, key: number, count: number): void {
  s.set(key, (s.get(key) ?? 0) + count);
}

export function mergeSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  const out = new Map(a);
  for (const [k, c] of b) addCount(out, k, c);
  return out;
}

/** Buckets in ascending value order (negative keys with larger magnitude are smaller values). */
export function sortedBuckets(s: QuantileSketch): [number, number][] {
  return [...s.entries()].filter(([, c]) => c > 0).sort((a, b) => keyValue(a[0]) - keyValue(b[0]));
}

/**
 * Quantiles at the given fractions, clamped to the exact [min, max] seen. The q-quantile is the value of
 * rank q·(n−1) (0-based) in sorted order.
 */
export function sketchQuantiles(s: QuantileSketch, fractions: number[], min: number, max: number): number[] {
  const buckets = sortedBuckets(s);
  const total = buckets.reduce((t, [, c]) => t + c, 0);
  if (total === 0) return fractions.map(() => NaN);
  return fractions.map((q) => {
    if (q <= 0) return min;
    if (q >= 1) return max;
    const rank = q * (total - 1);
    let seen = 0;
    for (const [key, c] of buckets) {
      seen += c;
      if (seen > rank) return Math.min(max, Math.max(min, keyValue(key)));
    }
    return max;
  });
}
