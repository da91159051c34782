// Value statistics of one string column of a shard, from one GROUP BY per column: bounded value counts
// (and weights), total bytes, distinct-value hashes, and how many values parse as numbers.

import type { StringAccumulator } from './accumulators';
import { distinctFromHashes, K as DISTINCT_K } from './distinct-sketch';
import { num, one, query } from './duckdb-statements';
import { CAPACITY, type ValueCounts } from './value-counts';

const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const isFloatText = (v: string): boolean => v.trim() !== '' && !Number.isNaN(Number(v));

/**
 * A string column's value statistics from its per-value groups, computed once: the CAPACITY most frequent
 * values (one more to learn the floor), total bytes and distinct hashes. How many values parse as numbers
 * is counted in JS over the kept values; only when values were dropped and some kept value is numeric
 * (a numeric column with a few error strings) is the count taken over all groups in SQL. When no frequent
 * value is numeric the dropped tail is taken as non-numeric too (the decisions that use these counts —
 * int domain inference, type anomalies — come out the same either way).
 */
export async function stringStatistics(from: string, x: string, w: string | undefined): Promise<StringAccumulator> {
  const groups = `SELECT ${x} AS v, count(*) AS c${w ? `, sum(${w}) AS w` : ', NULL::DOUBLE AS w'} FROM ${from} WHERE ${x} IS NOT NULL GROUP BY 1`;
  // Ranked by count, not weight: the weighted floor is the largest weight among the values not kept.
  const weightFloor = w ? `(SELECT max(w) FROM g ANTI JOIN (SELECT v FROM top ORDER BY c DESC, v LIMIT ${CAPACITY}) kept USING (v))` : 'NULL::DOUBLE';
  const rows = await query(
    `WITH g AS MATERIALIZED (${groups}), top AS MATERIALIZED (SELECT v, c, w FROM g ORDER BY c DESC, v LIMIT ${CAPACITY + 1})
     SELECT 0 AS part, v, c, w, NULL::DOUBLE AS wfloor, NULL::HUGEINT AS bytes, NULL::UBIGINT[] AS hashes FROM top
     UNION ALL
     SELECT 1, NULL, NULL, NULL, ${weightFloor}, sum(strlen(v) * c), min(hash(v), ${DISTINCT_K}) FROM g`,
  );
  // UNION ALL keeps no order: rank again (count down, then value) so the last of CAPACITY + 1 rows is the floor.
  const top = rows.filter((r) => Number(r.part) === 0).sort((a, b) => num(b.c) - num(a.c) || (String(a.v) < String(b.v) ? -1 : 1));
  const totals = rows.find((r) => Number(r.part) === 1)!;
  const values: ValueCounts = { counts: new Map(), floor: 0 };
  const weighted: ValueCounts = { counts: new Map(), floor: 0 };
  top.forEach((r, i) => {
    if (i === CAPACITY) values.floor = num(r.c);
    else {
      values.counts.set(String(r.v), num(r.c));
      if (w) weighted.counts.set(String(r.v), num(r.w));
    }
  });
  if (w && values.floor > 0) weighted.floor = num(totals.wfloor);

  let intParsable = 0;
  let floatParsable = 0;
  for (const [v, c] of values.counts) {
    if (INT_TEXT.test(v)) intParsable += c;
    if (isFloatText(v)) floatParsable += c;
  }
  if (values.floor > 0 && floatParsable > 0) {
    const parsed = await one(
      `SELECT sum(c) FILTER (WHERE regexp_full_match(v, '\\s*[+-]?\\d+\\s*')) AS ints, sum(c) FILTER (WHERE TRY_CAST(trim(v) AS DOUBLE) IS NOT NULL) AS floats FROM (${groups})`,
    );
    intParsable = num(parsed.ints);
    floatParsable = num(parsed.floats);
  }
  return {
    totalBytes: num(totals.bytes),
    values,
    distinct: distinctFromHashes((totals.hashes as string[] | null) ?? []),
    intParsable,
    floatParsable,
    weightedValues: w ? weighted : undefined,
  };
}
