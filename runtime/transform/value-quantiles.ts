// Bucketize boundaries from mergeable value counts. While a column has at most EXACT_VALUE_LIMIT distinct
// values the counts are exact and the boundaries are DuckDB's quantile_cont (interpolated at rank q·(n−1)),
// computed here from the merged counts so that any sharding gives the same doubles. Past the limit the counts
// collapse into tfdv's DDSketch (quantile-sketch.ts), whose merge is exact too — the same sketch for any
// sharding — but whose boundaries are only within ALPHA relative error of the order statistic at rank
// ⌊q·(n−1)⌋. Every exact entry carries its sketch key as DuckDB computed it, so a collapse in the merge gives
// the very sketch a single pass would have built in SQL.

import { UserError } from '../core/errors';
import { sketchQuantiles, sqlKey } from '../tfdv/quantile-sketch';

/** Distinct values kept exactly per bucketize input (each entry is three numbers in the partial state). */
export const EXACT_VALUE_LIMIT = 200_000;

/** Exactly one of the two: [value, count, sketch key] by ascending value, or [sketch key, count] by key. */
export type ValueCounts = { exact: [number, number, number][] } | { sketch: [number, number][] };

/** SQL: (v, c, k) rows, one per distinct value of the DOUBLE expression `x` (non-null rows) in `source`. */
export function exactValuesSql(x: string, source: string): string {
  return `SELECT v, count(*) AS c, ${sqlKey('v')} AS k FROM (SELECT ${x} AS v FROM ${source}) WHERE v IS NOT NULL GROUP BY v`;
}

/** SQL: (k, c) rows, the sketch of the DOUBLE expression `x` (non-null rows) in `source`. */
export function sketchSql(x: string, source: string): string {
  return `SELECT ${sqlKey('v')} AS k, count(*) AS c FROM (SELECT ${x} AS v FROM ${source}) WHERE v IS NOT NULL GROUP BY k`;
}

/** Exact counts from exactValuesSql's rows (−0 and 0 are one value), collapsed to the sketch past `limit`. */
export function exactCounts(rows: Record<string, unknown>[], limit = EXACT_VALUE_LIMIT): ValueCounts {
  const byValue = new Map<number, [number, number, number]>();
  for (const r of rows) {
    const v = Number(r.v) + 0;
    const e = byValue.get(v);
    if (e) e[1] += Number(r.c);
    else byValue.set(v, [v, Number(r.c), Number(r.k)]);
  }
  return boundedExact(byValue, limit);
}

export function sketchCounts(rows: Record<string, unknown>[]): ValueCounts {
  return { sketch: rows.map((r): [number, number] => [Number(r.k), Number(r.c)]).sort((a, b) => a[0] - b[0]) };
}

function boundedExact(byValue: Map<number, [number, number, number]>, limit: number): ValueCounts {
  const exact = [...byValue.values()].sort((a, b) => a[0] - b[0]);
  return exact.length <= limit ? { exact } : toSketch({ exact });
}

function toSketch(vc: ValueCounts): { sketch: [number, number][] } {
  if ('sketch' in vc) return vc;
  const byKey = new Map<number, number>();
  for (const [, c, k] of vc.exact) byKey.set(k, (byKey.get(k) ?? 0) + c);
  return { sketch: [...byKey.entries()].sort((a, b) => a[0] - b[0]) };
}

export function mergeValueCounts(a: ValueCounts, b: ValueCounts, limit = EXACT_VALUE_LIMIT): ValueCounts {
  if ('exact' in a && 'exact' in b) {
    const byValue = new Map<number, [number, number, number]>(a.exact.map((e) => [e[0], [...e]]));
    for (const [v, c, k] of b.exact) {
      const e = byValue.get(v);
      if (e) e[1] += c;
      else byValue.set(v, [v, c, k]);
    }
    return boundedExact(byValue, limit);
  }
  const byKey = new Map<number, number>(toSketch(a).sketch);
  for (const [k, c] of toSketch(b).sketch) byKey.set(k, (byKey.get(k) ?? 0) + c);
  return { sketch: [...byKey.entries()].sort((x, y) => x[0] - y[0]) };
}

/** Checks the JSON form (the same shape); `where` names the file. */
export function valueCountsFromJson(v: unknown, where: string): ValueCounts {
  const o = v as Record<string, unknown>;
  const rows = o && (Array.isArray(o.exact) ? o.exact : Array.isArray(o.sketch) ? o.sketch : undefined);
  const width = o && Array.isArray(o.exact) ? 3 : 2;
  if (!rows || !(rows as unknown[]).every((r) => Array.isArray(r) && r.length === width && r.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new UserError(`${where}: value counts must be {exact: [[value, count, key], …]} or {sketch: [[key, count], …]}`);
  }
  return o as ValueCounts;
}

/** Whether the counts are still exact (for the graph's readers: boundaries equal quantile_cont's). */
export function isExact(vc: ValueCounts): boolean {
  return 'exact' in vc;
}

/**
 * The quantiles at `fractions` (ascending), clamped to [min, max] in the sketch case: exact counts give
 * quantile_cont's lo·(1−d) + hi·d between the values at ranks ⌊r⌋ and ⌈r⌉, r = q·(n−1).
 */
export function valueQuantiles(vc: ValueCounts, fractions: number[], min: number, max: number): number[] {
  if ('sketch' in vc) return sketchQuantiles(new Map(vc.sketch), fractions, min, max);
  const n = vc.exact.reduce((t, [, c]) => t + c, 0);
  // The value at 0-based rank `rank`, walking forward (ranks asked in ascending order).
  let i = 0;
  let below = 0;
  const at = (rank: number) => {
    while (below + vc.exact[i][1] <= rank) below += vc.exact[i++][1];
    return vc.exact[i][0];
  };
  return fractions.map((q) => {
    const r = q * (n - 1);
    const lo = at(Math.floor(r));
    const hi = at(Math.ceil(r));
    const d = r - Math.floor(r);
    return d === 0 ? lo : lo * (1 - d) + hi * d;
  });
}
