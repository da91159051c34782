// The analyzers over the training split, in three steps that a sharded Transform runs apart: accumulate scans
// rows (one shard's, or the whole split) with DuckDB into a mergeable accumulator — token counts for
// vocabularies, exact integer sums for means and standard deviations (exact-moments.ts), min/max, value counts
// for quantile boundaries (value-quantiles.ts); mergeAccumulators adds them up in shard order; finishAnalysis
// applies tf.Transform's rules to the merged accumulator and returns the graph. Every merge is exact, so the
// graph is the same for any shard count (and analyze() is the one-shard case). Vocabulary tokens are made by
// raw-values.ts from the histogram's values as DuckDB hands them to JavaScript (the values every apply path
// sees), and numeric statistics over raw-values.ts' SQL numeric view, so analysis and apply read every column
// type alike.

import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../core/errors';
import { sqlIdent, sqlStringList, withConnection } from '../data/duckdb';
import { exactMean, exactStdDev, exponentSql, groupSumsSql, mantissaSql, mergeSums, sumsFromJson, sumsOfRows, sumsToJson, type ExactSums } from './exact-moments';
import { EXACT_VALUE_LIMIT, exactCounts, exactValuesSql, mergeValueCounts, sketchCounts, sketchSql, valueCountsFromJson, valueQuantiles, type ValueCounts } from './value-quantiles';
import { outputName, inputFeatures, type FeatureTransform, type TransformSpec } from './spec';
import { isNumericKind, numericSql, SUPPORTED_COLUMN_TYPES, tokenOf, valueKindOf, type ValueKind } from './raw-values';
import {
  TRANSFORM_GRAPH_FORMAT,
  TRANSFORM_GRAPH_VERSION,
  type AnalyzerResult,
  type TransformGraph,
  type TransformOutput,
} from './graph';

/**
 * tf.Transform's vocabulary: empty tokens and tokens with newlines dropped, frequency_threshold applied,
 * ordered by frequency descending with ties broken by reverse lexicographic order, then top_k.
 */
export function buildVocabulary(counts: Record<string, number>, frequencyThreshold: number, topK?: number): string[] {
  const tokens = Object.entries(counts).filter(([t, c]) => t !== '' && !t.includes('\n') && !t.includes('\r') && c >= frequencyThreshold);
  tokens.sort(([a, ca], [b, cb]) => cb - ca || (a < b ? 1 : a > b ? -1 : 0));
  return (topK === undefined ? tokens : tokens.slice(0, topK)).map(([t]) => t);
}

const NUMERIC_TRANSFORMS = new Set<FeatureTransform['kind']>(['z_score', 'min_max', 'bucketize', 'identity']);

function quantileFractions(numBuckets: number): number[] {
  return Array.from({ length: numBuckets - 1 }, (_, i) => (i + 1) / numBuckets);
}

/** What one transform's analyzer accumulates (hash and cross need nothing). */
export type OutputAccumulator =
  | { kind: 'vocabulary'; counts: [string, number][] }
  | { kind: 'numeric'; sums: ExactSums; min: number | null; max: number | null; values?: ValueCounts }
  | { kind: 'none' };

/** The mergeable state of the analyzers over some rows of the analyzed split (JSON-safe via accumulatorToJson). */
export interface AnalysisAccumulator {
  examples: number;
  /** Per transform, the value kind of each input feature (checked equal across shards). */
  kinds: ValueKind[][];
  outputs: OutputAccumulator[];
}

function checkOutputNames(spec: TransformSpec): string[] {
  const names = spec.map(outputName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`Transform: two transforms produce the output "${dup}"; set output names`);
  return names;
}

/** The value kinds of every transform's inputs, refusing missing features and columns a transform cannot read. */
async function inputKinds(conn: DuckDBConnection, spec: TransformSpec, names: string[], source: string): Promise<ValueKind[][]> {
  const columnTypes = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)]));
  return spec.map((t, i) =>
    inputFeatures(t).map((f) => {
      const type = columnTypes.get(f);
      const where = `Transform: spec[${i}] (${t.kind} → ${names[i]}) reads feature "${f}"`;
      if (type === undefined) throw new UserError(`${where}, which the examples do not have (features: ${[...columnTypes.keys()].join(', ')})`);
      const kind = valueKindOf(type);
      if (!kind) throw new UserError(`${where}, a ${type} column; the transform reads ${SUPPORTED_COLUMN_TYPES} columns`);
      if (NUMERIC_TRANSFORMS.has(t.kind) && !isNumericKind(kind)) {
        throw new UserError(`${where}, a ${type} column; ${t.kind} needs a numeric, boolean, date or timestamp column (use vocabulary or hash for strings)`);
      }
      return kind;
    }),
  );
}

/** Token counts of a histogram of typed values: values with one token (e.g. -0.0 and 0.0) count together. */
function tokenCounts(histogram: unknown, kind: ValueKind): [string, number][] {
  const counts = new Map<string, number>();
  for (const { key, value } of (histogram ?? []) as { key: unknown; value: bigint | number }[]) {
    const token = tokenOf(kind, key);
    if (token !== undefined) counts.set(token, (counts.get(token) ?? 0) + Number(value));
  }
  return [...counts.entries()];
}

const describeTransform = (t: FeatureTransform) => `${t.kind} of ${inputFeatures(t).join(', ')}`;

/**
 * Runs every analyzer over `source` (a DuckDB table expression: the split's files, or one shard's rows) and
 * returns the accumulator: one aggregate scan, one grouped scan for the exact sums, and one per bucketize input
 * for its value counts. `exactValueLimit` is value-quantiles.ts' limit (tests lower it).
 */
export async function accumulate(spec: TransformSpec, source: string, exactValueLimit = EXACT_VALUE_LIMIT): Promise<AnalysisAccumulator> {
  const names = checkOutputNames(spec);
  return withConnection(async (conn) => {
    const kinds = await inputKinds(conn, spec, names, source);
    const num = (i: number) => numericSql(kinds[i][0], sqlIdent((spec[i] as { feature: string }).feature));
    const numeric = spec.flatMap((t, i) => (NUMERIC_TRANSFORMS.has(t.kind) ? [i] : []));
    const exprs = spec.flatMap((t, i) => {
      if (t.kind === 'vocabulary') return [`histogram(${sqlIdent(t.feature)}) AS h${i}`];
      if (!NUMERIC_TRANSFORMS.has(t.kind)) return [];
      return [
        `count(${num(i)}) AS n${i}`,
        `count(*) FILTER (WHERE isinf(${num(i)})) AS inf${i}`,
        `min(${num(i)}) AS min${i}`,
        `max(${num(i)}) AS max${i}`,
        ...(t.kind === 'bucketize' ? [`count(DISTINCT ${num(i)}) AS d${i}`] : []),
      ];
    });
    // JS values (not JSON): histogram keys arrive exactly as every apply path reads the column.
    const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n${exprs.length ? ', ' + exprs.join(', ') : ''} FROM ${source}`)).getRowObjectsJS() as Record<string, unknown>[];
    for (const i of numeric) {
      // Infinite values have no mean or spread to scale by: refused, not turned into NaN or ±Infinity parameters.
      if (Number(row[`inf${i}`]) > 0) throw new UserError(`Transform: ${describeTransform(spec[i])}: the training split has ${Number(row[`inf${i}`])} infinite values; the analyzers need finite numbers`);
    }
    const sums = new Map<number, Record<string, unknown>[]>(numeric.map((i) => [i, []]));
    if (numeric.length > 0) {
      const pairs = numeric.map((i) => `{'f': ${i}, 'v': ${num(i)}}`).join(', ');
      const grouped = (await conn.runAndReadAll(
        `SELECT f, e, ${groupSumsSql('m')} FROM (SELECT f, e, ${mantissaSql('v', 'e')} AS m FROM (SELECT f, v, ${exponentSql('v')} AS e FROM (SELECT unnest([${pairs}], recursive := true) FROM ${source}) WHERE v IS NOT NULL AND v <> 0)) GROUP BY f, e`,
      )).getRowObjectsJS() as Record<string, unknown>[];
      for (const r of grouped) sums.get(Number(r.f))!.push(r);
    }
    const outputs: OutputAccumulator[] = [];
    for (const [i, t] of spec.entries()) {
      if (t.kind === 'vocabulary') {
        outputs.push({ kind: 'vocabulary', counts: tokenCounts(row[`h${i}`], kinds[i][0]) });
      } else if (NUMERIC_TRANSFORMS.has(t.kind)) {
        const stat = (k: string) => (row[k] === null ? null : Number(row[k]) + 0);
        const acc: OutputAccumulator = { kind: 'numeric', sums: sumsOfRows(Number(row[`n${i}`]), sums.get(i)!, describeTransform(t)), min: stat(`min${i}`), max: stat(`max${i}`) };
        if (t.kind === 'bucketize') {
          const exact = Number(row[`d${i}`]) <= exactValueLimit;
          const rows = (await conn.runAndReadAll(exact ? exactValuesSql(num(i), source) : sketchSql(num(i), source))).getRowObjectsJS() as Record<string, unknown>[];
          acc.values = exact ? exactCounts(rows, exactValueLimit) : sketchCounts(rows);
        }
        outputs.push(acc);
      } else {
        outputs.push({ kind: 'none' });
      }
    }
    return { examples: Number(row.n), kinds, outputs };
  });
}

function mergeOutput(a: OutputAccumulator, b: OutputAccumulator, exactValueLimit: number, where: string): OutputAccumulator {
  if (a.kind === 'vocabulary' && b.kind === 'vocabulary') {
    const counts = new Map(a.counts);
    for (const [t, c] of b.counts) counts.set(t, (counts.get(t) ?? 0) + c);
    return { kind: 'vocabulary', counts: [...counts.entries()] };
  }
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number) => (x === null ? y : y === null ? x : f(x, y));
    const merged: OutputAccumulator = { kind: 'numeric', sums: mergeSums(a.sums, b.sums), min: pick(a.min, b.min, Math.min), max: pick(a.max, b.max, Math.max) };
    if (a.values && b.values) merged.values = mergeValueCounts(a.values, b.values, exactValueLimit);
    else if (a.values || b.values) throw new UserError(`${where}: value counts in one accumulator and not the other`);
    return merged;
  }
  if (a.kind === 'none' && b.kind === 'none') return a;
  throw new UserError(`${where}: a ${a.kind} accumulator and a ${b.kind} one`);
}

/** The accumulator of all their rows (at least one), in the order given; refuses accumulators of different specs or columns. */
export function mergeAccumulators(accs: AnalysisAccumulator[], exactValueLimit = EXACT_VALUE_LIMIT): AnalysisAccumulator {
  if (accs.length === 0) throw new Error('mergeAccumulators: no accumulators');
  return accs.slice(1).reduce((a, b, j) => {
    const where = `Transform merge: accumulator ${j + 1}`;
    if (JSON.stringify(a.kinds) !== JSON.stringify(b.kinds) || a.outputs.length !== b.outputs.length) {
      throw new UserError(`${where} is of other transforms or column types than accumulator 0 (kinds ${JSON.stringify(b.kinds)}, expected ${JSON.stringify(a.kinds)})`);
    }
    return { examples: a.examples + b.examples, kinds: a.kinds, outputs: a.outputs.map((o, i) => mergeOutput(o, b.outputs[i], exactValueLimit, `${where}, output ${i}`)) };
  }, accs[0]);
}

/** A spec's fill token in the column's canonical form ("32.0" for a DOUBLE column is "32"); "" stays "" (OOV). */
function fillToken(fill: string | undefined, kind: ValueKind, what: string): string {
  if (fill === undefined || fill === '') return '';
  try {
    return tokenOf(kind, fill) ?? '';
  } catch (err) {
    throw new UserError(`Transform: ${what}: fill ${(err as Error).message}`);
  }
}

function analyzerFor(t: FeatureTransform, acc: OutputAccumulator, kind: ValueKind): { analyzer: AnalyzerResult; dtype: TransformOutput['dtype']; cardinality?: number } {
  const what = describeTransform(t);
  const numeric = () => {
    if (acc.kind !== 'numeric') throw new Error(`${what}: no numeric accumulator`);
    const mean = exactMean(acc.sums);
    if (mean === undefined || acc.min === null || acc.max === null) throw new UserError(`Transform: ${what} has no numeric values in the training split`);
    return { ...acc, mean, min: acc.min, max: acc.max };
  };
  switch (t.kind) {
    case 'vocabulary': {
      if (acc.kind !== 'vocabulary') throw new Error(`${what}: no vocabulary accumulator`);
      const counts: Record<string, number> = Object.create(null);
      for (const [token, c] of acc.counts) counts[token] = c;
      const vocabulary = buildVocabulary(counts, t.frequency_threshold, t.top_k);
      return {
        analyzer: { kind: 'vocabulary', vocabulary, numOovBuckets: t.num_oov_buckets, fill: fillToken(t.fill, kind, what) },
        dtype: 'int32',
        cardinality: vocabulary.length + t.num_oov_buckets,
      };
    }
    case 'z_score': {
      const n = numeric();
      return { analyzer: { kind: 'z_score', mean: n.mean, stdDev: exactStdDev(n.sums)!, fill: t.fill ?? n.mean }, dtype: 'float32' };
    }
    case 'min_max': {
      const n = numeric();
      return { analyzer: { kind: 'min_max', min: n.min, max: n.max, outputMin: t.output_min, outputMax: t.output_max, fill: t.fill ?? n.mean }, dtype: 'float32' };
    }
    case 'bucketize': {
      const n = numeric();
      if (!n.values) throw new Error(`${what}: no value counts`);
      // Equal quantiles (a heavy value) would make empty buckets; keep each boundary once.
      const boundaries = [...new Set(valueQuantiles(n.values, quantileFractions(t.num_buckets), n.min, n.max))];
      return { analyzer: { kind: 'bucketize', boundaries, fill: t.fill ?? n.mean }, dtype: 'int32', cardinality: boundaries.length + 1 };
    }
    case 'hash':
      return { analyzer: { kind: 'hash', hashBuckets: t.hash_buckets, fill: fillToken(t.fill, kind, what) }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'cross':
      return { analyzer: { kind: 'cross', hashBuckets: t.hash_buckets }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'identity':
      return { analyzer: { kind: 'identity', fill: t.fill ?? numeric().mean }, dtype: 'float32' };
  }
}

/** tf.Transform's rules over the merged accumulator: the graph. */
export function finishAnalysis(spec: TransformSpec, acc: AnalysisAccumulator): TransformGraph {
  const names = checkOutputNames(spec);
  if (acc.outputs.length !== spec.length) throw new UserError(`Transform: the accumulator has ${acc.outputs.length} outputs, the spec ${spec.length}`);
  const outputs: TransformOutput[] = spec.map((t, i) => ({ name: names[i], inputs: inputFeatures(t), types: acc.kinds[i], ...analyzerFor(t, acc.outputs[i], acc.kinds[i][0]) }));
  return { format: TRANSFORM_GRAPH_FORMAT, version: TRANSFORM_GRAPH_VERSION, spec, analyzedExamples: acc.examples, outputs };
}

/** The DuckDB table expression over the split's Parquet files. */
export function filesSource(parquetFiles: string[]): string {
  return `read_parquet(${sqlStringList(parquetFiles)})`;
}

/** Runs every analyzer over the files and returns the graph (the one-shard case of accumulate → merge → finish). */
export async function analyze(spec: TransformSpec, parquetFiles: string[]): Promise<TransformGraph> {
  return finishAnalysis(spec, await accumulate(spec, filesSource(parquetFiles)));
}

/** The accumulator as JSON (bigints as strings), for a shard's partial state. */
export function accumulatorToJson(acc: AnalysisAccumulator): unknown {
  return { ...acc, outputs: acc.outputs.map((o) => (o.kind === 'numeric' ? { ...o, sums: sumsToJson(o.sums) } : o)) };
}

/** Reads accumulatorToJson's form back; `where` names the file. */
export function accumulatorFromJson(v: unknown, where: string): AnalysisAccumulator {
  const o = v as Partial<AnalysisAccumulator>;
  if (!o || typeof o.examples !== 'number' || !Array.isArray(o.kinds) || !Array.isArray(o.outputs)) throw new UserError(`${where}: not a Transform analysis accumulator`);
  return {
    examples: o.examples,
    kinds: o.kinds,
    outputs: o.outputs.map((out, i) => {
      if (out.kind === 'numeric') {
        return { ...out, sums: sumsFromJson(out.sums, `${where} output ${i}`), ...(out.values ? { values: valueCountsFromJson(out.values, `${where} output ${i}`) } : {}) };
      }
      if (out.kind === 'vocabulary' || out.kind === 'none') return out;
      throw new UserError(`${where}: output ${i} has an unknown accumulator kind`);
    }),
  };
}
