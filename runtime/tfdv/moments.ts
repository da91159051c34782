// Mergeable first and second moments: count, mean and M2 (sum of squared deviations), combined with Chan et
// al.'s parallel update so shard order does not matter beyond floating-point rounding. Weighted moments use
// the same formulas with total weight in place of the count.

export interface Moments {
  /** Count, or total weight for weighted moments. */
  n: number;
  mean: number;
  m2: number;
}

export const NO_MOMENTS: Moments = Object.freeze({ n: 0, mean: 0, m2: 0 });

export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** Population standard deviation (TFDV's std_dev). */
export function stdDev(m: Moments): number {
  return m.n > 0 ? Math.sqrt(Math.max(0, m.m2 / m.n)) : 0;
}
