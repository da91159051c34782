// Computes one shard's statistics inside DuckDB, in two kinds of statements over the shard's files:
//  1. summary: one scan for counts, moments, min/max and NaN/inf/zero counts of every column, plus one
//     GROUP BY per string column (string-values.ts), all running concurrently;
//  2. sketches: one GROUPING SETS scan filling, for every numeric column, the logarithmic quantile sketch
//     and the grid histogram over the split-wide finite [min, max] (the same in every shard, so grids
//     line up); generate-statistics.ts decides where that range comes from.
// Pushing the aggregates into DuckDB's vectorized engine is what keeps StatisticsGen near DuckDB's own
// SUMMARIZE speed, and every result stays mergeable across shards. List columns are unnested (column-plans.ts).

import { sqlIdent } from '../data/duckdb';
import type { DatasetAccumulator, FeatureAccumulator, NumericAccumulator, StringAccumulator } from './accumulators';
import { planColumns, valuesSource, type ColumnPlan } from './column-plans';
import { num, one, query, type Row } from './duckdb-statements';
import { GRID_CELLS, sqlCell, type GridHistogram } from './grid-histogram';
import { NO_MOMENTS } from './moments';
import { addCount, sqlKey, type QuantileSketch } from './quantile-sketch';
import { stringStatistics } from './string-values';

export interface ShardOptions {
  /** Name of a numeric column whose values weight every example (TFDV's weight_feature). */
  weightFeature?: string;
}

/** The SQL weight expression (missing weights count as 0), checked against the columns. */
function weightExpr(plans: ColumnPlan[], weightFeature: string | undefined): string | undefined {
  if (weightFeature === undefined) return undefined;
  const wp = plans.find((p) => p.name === weightFeature);
  if (!wp || wp.type === 'STRING' || wp.list) throw new Error(`weight feature "${weightFeature}" must be a numeric scalar column of the examples`);
  return `coalesce(CAST(${sqlIdent(wp.name)} AS DOUBLE), 0)`;
}

/**
 * Projections and aggregates of a numeric column's values `x` (prefix p). Non-finite values are mapped to
 * NULL once in a projection (cheaper than a FILTER per aggregate); INT values cannot be NaN or infinite, so
 * they skip that entirely.
 */
function numericParts(plan: ColumnPlan, x: string, p: string, w: string | undefined): { projections: string[]; aggregates: string[] } {
  const v = `__${p}_x`;
  if (plan.type === 'INT') {
    return {
      projections: [`${x} AS ${v}`],
      aggregates: [
        `count(${v}) AS ${p}_fin`, `avg(${v}) AS ${p}_mean`, `var_pop(${v}) AS ${p}_var`, `min(${v}) AS ${p}_min`, `max(${v}) AS ${p}_max`,
        `min(${v}) AS ${p}_fmin`, `max(${v}) AS ${p}_fmax`, `count_if(${v} = 0) AS ${p}_zeros`,
        ...weightedAggregates(v, p, w),
      ],
    };
  }
  const f = `__${p}_f`;
  const n = `__${p}_n`;
  return {
    projections: [`${x} AS ${v}`, `CASE WHEN isfinite(${x}) THEN ${x} END AS ${f}`, `CASE WHEN NOT isnan(${x}) THEN ${x} END AS ${n}`],
    aggregates: [
      `count(${f}) AS ${p}_fin`, `avg(${f}) AS ${p}_mean`, `var_pop(${f}) AS ${p}_var`, `min(${n}) AS ${p}_min`, `max(${n}) AS ${p}_max`,
      `min(${f}) AS ${p}_fmin`, `max(${f}) AS ${p}_fmax`, `count_if(${v} = 0) AS ${p}_zeros`, `count(${v}) - count(${n}) AS ${p}_nan`,
      `count_if(${v} = 'inf'::DOUBLE) AS ${p}_pinf`, `count_if(${v} = '-inf'::DOUBLE) AS ${p}_ninf`,
      ...weightedAggregates(f, p, w),
    ],
  };
}

/** Weighted moments from power sums in the same scan; M2 = Σw·x² − W·mean², clamped at 0 against rounding. */
function weightedAggregates(finite: string, p: string, w: string | undefined): string[] {
  if (!w) return [];
  return [`sum(CASE WHEN ${finite} IS NOT NULL THEN ${w} END) AS ${p}_wfin`, `sum(${w} * ${finite}) AS ${p}_wsum`, `sum(${w} * ${finite} * ${finite}) AS ${p}_wsq`];
}

function numericFrom(row: Row, p: string, weighted: boolean): NumericAccumulator {
  const fin = num(row[`${p}_fin`]);
  const acc: NumericAccumulator = {
    moments: fin > 0 ? { n: fin, mean: num(row[`${p}_mean`]), m2: num(row[`${p}_var`]) * fin } : NO_MOMENTS,
    min: row[`${p}_min`] === null ? Infinity : Number(row[`${p}_min`]),
    max: row[`${p}_max`] === null ? -Infinity : Number(row[`${p}_max`]),
    finiteMin: row[`${p}_fmin`] === null ? Infinity : Number(row[`${p}_fmin`]),
    finiteMax: row[`${p}_fmax`] === null ? -Infinity : Number(row[`${p}_fmax`]),
    zeros: num(row[`${p}_zeros`]),
    nan: num(row[`${p}_nan`]),
    posInf: num(row[`${p}_pinf`]),
    negInf: num(row[`${p}_ninf`]),
    sketch: new Map(),
  };
  if (weighted) {
    const W = num(row[`${p}_wfin`]);
    const mean = W > 0 ? num(row[`${p}_wsum`]) / W : 0;
    acc.weighted = { moments: W > 0 ? { n: W, mean, m2: Math.max(0, num(row[`${p}_wsq`]) - W * mean * mean) } : NO_MOMENTS, sketch: new Map() };
  }
  return acc;
}

/** The summary scan of a shard: everything except the numeric sketches. */
export async function shardSummary(source: string, opts: ShardOptions = {}): Promise<DatasetAccumulator> {
  const plans = await planColumns(source);
  const w = weightExpr(plans, opts.weightFeature);
  const aggs = ['count(*) AS n'];
  const projections: string[] = [];
  if (w) aggs.push(`sum(${w}) AS wn`);
  plans.forEach((plan, i) => {
    const col = sqlIdent(plan.name);
    aggs.push(`count(${col}) AS c${i}_nn`);
    if (w) aggs.push(`sum(${w}) FILTER (WHERE ${col} IS NOT NULL) AS c${i}_wnn`);
    if (plan.list) aggs.push(`min(len(${col})) AS c${i}_minv`, `max(len(${col})) AS c${i}_maxv`, `sum(len(${col})) AS c${i}_totv`);
    else if (plan.type !== 'STRING') {
      const parts = numericParts(plan, plan.value(col), `c${i}`, w);
      projections.push(...parts.projections);
      aggs.push(...parts.aggregates);
    }
  });
  // The one-row scan and every per-column query (strings, list elements and lengths) run concurrently.
  const lengths = plans.map((plan) =>
    plan.list ? query(`SELECT len(${sqlIdent(plan.name)}) AS l, count(*) AS c FROM ${source} WHERE ${sqlIdent(plan.name)} IS NOT NULL GROUP BY 1`) : undefined,
  );
  const perColumn = plans.map((plan, i) => {
    const src = valuesSource(plan, source, w);
    if (plan.type === 'STRING') return stringStatistics(src.from, src.x, src.w);
    if (!plan.list) return undefined;
    const parts = numericParts(plan, src.x, `c${i}`, src.w);
    return one(`SELECT ${parts.aggregates.join(', ')} FROM (SELECT *, ${parts.projections.join(', ')} FROM ${src.from})`);
  });
  const [row, ...values] = await Promise.all([
    one(`SELECT ${aggs.join(', ')} FROM (SELECT *${projections.map((x) => `, ${x}`).join('')} FROM ${source})`),
    ...perColumn,
  ]);

  const features = new Map<string, FeatureAccumulator>();
  for (const [i, plan] of plans.entries()) {
    const p = `c${i}`;
    const nonMissing = num(row[`${p}_nn`]);
    const f: FeatureAccumulator = {
      name: plan.name,
      type: plan.type,
      nonMissing,
      minNumValues: nonMissing === 0 ? Infinity : plan.list ? num(row[`${p}_minv`]) : 1,
      maxNumValues: nonMissing === 0 ? -Infinity : plan.list ? num(row[`${p}_maxv`]) : 1,
      totNumValues: plan.list ? num(row[`${p}_totv`]) : nonMissing,
      weightedNonMissing: w ? num(row[`${p}_wnn`]) : undefined,
    };
    const lengthRows = await lengths[i];
    if (lengthRows) f.numValuesCounts = new Map(lengthRows.map((r) => [num(r.l), num(r.c)]));
    if (plan.type === 'STRING') f.string = values[i] as StringAccumulator;
    else f.numeric = numericFrom((values[i] as Row | undefined) ?? row, p, w !== undefined);
    features.set(plan.name, f);
  }
  return { numExamples: num(row.n), weightedNumExamples: w ? num(row.wn) : undefined, features };
}

/** Split-wide finite range of each numeric feature: the grid every shard's histogram uses. */
export type GridRanges = Map<string, { min: number; max: number }>;

/**
 * Both sketch keys of a value in one BIGINT: grid cell · 2^18 + (log-sketch key + 2^17). Both keys grow
 * with the value, so a column has at most GRID_CELLS + (sketch buckets) distinct pairs: one GROUP BY over
 * the pair fills both sketches, half the grouping work of two separate keys. An INT column spanning at most
 * GRID_CELLS has one integer per cell, exact on its own, so it skips the (logarithm-costly) sketch key.
 */
const PAIR_SHIFT = 262_144;
const SKETCH_BIAS = 131_072;

function pairKey(plan: ColumnPlan, x: string, range: { min: number; max: number }): string {
  const gridOnly = plan.type === 'INT' && range.max - range.min <= GRID_CELLS;
  return `CASE WHEN isfinite(${x}) THEN CAST(${sqlCell(x, range.min, range.max)} AS BIGINT) * ${PAIR_SHIFT} + ${gridOnly ? 0 : `(${sqlKey(x)} + ${SKETCH_BIAS})`} END`;
}

/** A numeric column's quantile sketch and grid histogram in one shard (and their weighted forms). */
export interface ColumnSketches {
  sketch: QuantileSketch;
  grid: GridHistogram;
  weighted?: { sketch: QuantileSketch; grid: GridHistogram };
}

/**
 * The sketch scan of a shard: quantile sketches and grid histograms (and weighted ones) of the numeric
 * columns named in `ranges`, from one GROUPING SETS scan over the scalar columns and one grouped scan per
 * list column.
 */
export async function shardSketches(source: string, ranges: GridRanges, opts: ShardOptions = {}): Promise<Map<string, ColumnSketches>> {
  const all = await planColumns(source);
  const w = weightExpr(all, opts.weightFeature);
  const plans = all.filter((p) => p.type !== 'STRING' && ranges.has(p.name));
  const out = new Map<string, ColumnSketches>();

  // In a GROUPING SETS result a row belongs to the one set whose key is non-NULL; rows whose keys are all
  // NULL group the non-finite values, which the summary scan counts.
  const fill = (plan: ColumnPlan, rows: Row[], key: string) => {
    const range = ranges.get(plan.name)!;
    const sketch = new Map<number, number>();
    const cells = new Map<number, number>();
    const wSketch = new Map<number, number>();
    const wCells = new Map<number, number>();
    for (const r of rows) {
      if (r[key] === null) continue;
      const pair = Number(r[key]);
      const cell = Math.floor(pair / PAIR_SHIFT);
      const sketchPart = pair % PAIR_SHIFT;
      addCount(cells, cell, num(r.c));
      if (w) addCount(wCells, cell, num(r.w));
      if (sketchPart === 0) continue;
      addCount(sketch, sketchPart - SKETCH_BIAS, num(r.c));
      if (w) addCount(wSketch, sketchPart - SKETCH_BIAS, num(r.w));
    }
    out.set(plan.name, {
      sketch,
      grid: { ...range, cells },
      ...(w ? { weighted: { sketch: wSketch, grid: { ...range, cells: wCells } } } : {}),
    });
  };
  const measures = `count(*) AS c${w ? ', sum(_w) AS w' : ''}`;

  const scalars = plans.map((p, i) => ({ p, i })).filter(({ p }) => !p.list);
  const lists = plans.map((p, i) => ({ p, i })).filter(({ p }) => p.list);
  await Promise.all([
    (async () => {
      if (scalars.length === 0) return;
      const keys = scalars.map(({ p, i }) => `${pairKey(p, p.value(sqlIdent(p.name)), ranges.get(p.name)!)} AS k${i}`);
      const names = scalars.map(({ i }) => `k${i}`);
      const rows = await query(
        `SELECT ${names.join(', ')}, ${measures} FROM (SELECT ${keys.join(', ')}${w ? `, ${w} AS _w` : ''} FROM ${source})
         GROUP BY GROUPING SETS (${names.map((n) => `(${n})`).join(', ')})`,
      );
      for (const { p, i } of scalars) fill(p, rows, `k${i}`);
    })(),
    ...lists.map(async ({ p, i }) => {
      const src = valuesSource(p, source, w);
      const rows = await query(`SELECT k${i}, ${measures} FROM (SELECT ${pairKey(p, src.x, ranges.get(p.name)!)} AS k${i}${src.w ? `, ${src.w} AS _w` : ''} FROM ${src.from}) GROUP BY 1`);
      fill(p, rows, `k${i}`);
    }),
  ]);
  return out;
}
