// Bounded, mergeable value counts for string features: each shard keeps its CAPACITY most frequent values
// with exact counts plus `floor`, an upper bound on the count of any value it dropped (0 when it kept every
// value, so small vocabularies stay exact). Merging adds counts; a value missing from one summary may have
// had up to that summary's floor there, so merged counts are lower bounds with error ≤ the sum of floors,
// and the merged floor bounds every value left out.

/** Values kept per summary: enough for TFDV's rank histogram (1000 buckets) and domain inference. */
export const CAPACITY = 1000;

export interface ValueCounts {
  counts: Map<string, number>;
  /** Upper bound on the count of any value not in `counts`. */
  floor: number;
}

export function emptyValueCounts(): ValueCounts {
  return { counts: new Map(), floor: 0 };
}

/**
 * Keeps the `capacity` largest counts. A dropped value's true count is at most its kept count plus the old
 * floor, so the floor grows by the largest dropped count. Ties break by value.
 */
export function truncateValueCounts(v: ValueCounts, capacity = CAPACITY): ValueCounts {
  if (v.counts.size <= capacity) return v;
  const sorted = rankValues(v);
  return { counts: new Map(sorted.slice(0, capacity)), floor: v.floor + sorted[capacity][1] };
}

export function mergeValueCounts(a: ValueCounts, b: ValueCounts): ValueCounts {
  const counts = new Map(a.counts);
  for (const [v, c] of b.counts) counts.set(v, (counts.get(v) ?? 0) + c);
  return truncateValueCounts({ counts, floor: a.floor + b.floor });
}

/** Values by descending count, then ascending value (TFDV's order for top values). */
export function rankValues(v: ValueCounts): [string, number][] {
  return [...v.counts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

/** True when every count is exact and every value is present. */
export function isExact(v: ValueCounts): boolean {
  return v.floor === 0;
}
