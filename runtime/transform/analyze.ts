// The analyzers, in one pass over the training split: a single DuckDB aggregate query computes every
// statistic the spec needs (value histograms for vocabularies, mean and population standard deviation,
// min/max, quantile boundaries, means for default fills), and tf.Transform's rules turn them into the graph.

import { UserError } from '../core/errors';
import { duckdb, sqlIdent, sqlString } from '../data/duckdb';
import { outputName, inputFeatures, type FeatureTransform, type TransformSpec } from './spec';
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

function quantileFractions(numBuckets: number): number[] {
  return Array.from({ length: numBuckets - 1 }, (_, i) => (i + 1) / numBuckets);
}

/** The SQL aggregate expressions one transform needs, keyed by alias. */
function aggregates(t: FeatureTransform, i: number): Record<string, string> {
  if (t.kind === 'cross') return {};
  const col = sqlIdent(t.feature);
  const num = `TRY_CAST(${col} AS DOUBLE)`;
  switch (t.kind) {
    case 'vocabulary':
      return { [`h${i}`]: `to_json(histogram(CAST(${col} AS VARCHAR)))` };
    case 'hash':
      return {};
    case 'z_score':
      return { [`mean${i}`]: `avg(${num})`, [`std${i}`]: `stddev_pop(${num})` };
    case 'min_max':
      return { [`mean${i}`]: `avg(${num})`, [`min${i}`]: `min(${num})`, [`max${i}`]: `max(${num})` };
    case 'bucketize':
      return { [`mean${i}`]: `avg(${num})`, [`q${i}`]: `to_json(quantile_cont(${num}, [${quantileFractions(t.num_buckets).join(', ')}]))` };
    case 'identity':
      return { [`mean${i}`]: `avg(${num})` };
  }
}

function numberOf(row: Record<string, unknown>, key: string, what: string): number {
  const v = row[key];
  if (v === null || v === undefined) throw new UserError(`Transform: ${what} has no numeric values in the training split`);
  return Number(v);
}

function analyzerFor(t: FeatureTransform, i: number, row: Record<string, unknown>): { analyzer: AnalyzerResult; dtype: TransformOutput['dtype']; cardinality?: number } {
  const what = `${t.kind} of ${inputFeatures(t).join(', ')}`;
  switch (t.kind) {
    case 'vocabulary': {
      const vocabulary = buildVocabulary(JSON.parse(String(row[`h${i}`] ?? '{}')), t.frequency_threshold, t.top_k);
      return {
        analyzer: { kind: 'vocabulary', vocabulary, numOovBuckets: t.num_oov_buckets, fill: t.fill ?? '' },
        dtype: 'int32',
        cardinality: vocabulary.length + t.num_oov_buckets,
      };
    }
    case 'z_score':
      return { analyzer: { kind: 'z_score', mean: numberOf(row, `mean${i}`, what), stdDev: numberOf(row, `std${i}`, what), fill: t.fill ?? numberOf(row, `mean${i}`, what) }, dtype: 'float32' };
    case 'min_max':
      return {
        analyzer: { kind: 'min_max', min: numberOf(row, `min${i}`, what), max: numberOf(row, `max${i}`, what), outputMin: t.output_min, outputMax: t.output_max, fill: t.fill ?? numberOf(row, `mean${i}`, what) },
        dtype: 'float32',
      };
    case 'bucketize': {
      const raw = JSON.parse(String(row[`q${i}`] ?? 'null')) as number[] | null;
      if (!raw) throw new UserError(`Transform: ${what} has no numeric values in the training split`);
      // Equal quantiles (a heavy value) would make empty buckets; keep each boundary once.
      const boundaries = [...new Set(raw)];
      return { analyzer: { kind: 'bucketize', boundaries, fill: t.fill ?? numberOf(row, `mean${i}`, what) }, dtype: 'int32', cardinality: boundaries.length + 1 };
    }
    case 'hash':
      return { analyzer: { kind: 'hash', hashBuckets: t.hash_buckets, fill: t.fill ?? '' }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'cross':
      return { analyzer: { kind: 'cross', hashBuckets: t.hash_buckets }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'identity':
      return { analyzer: { kind: 'identity', fill: t.fill ?? numberOf(row, `mean${i}`, what) }, dtype: 'float32' };
  }
}

/** Runs every analyzer over the files (one scan) and returns the graph. */
export async function analyze(spec: TransformSpec, parquetFiles: string[]): Promise<TransformGraph> {
  const names = spec.map(outputName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`Transform: two transforms produce the output "${dup}"; set output names`);
  const conn = await duckdb();
  const source = `read_parquet([${parquetFiles.map(sqlString).join(', ')}])`;
  const columns = new Set((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => String(r.column_name)));
  spec.forEach((t, i) => {
    for (const f of inputFeatures(t)) {
      if (!columns.has(f)) throw new UserError(`Transform: spec[${i}] (${t.kind} → ${names[i]}) reads feature "${f}", which the examples do not have (features: ${[...columns].join(', ')})`);
    }
  });
  const exprs = spec.flatMap((t, i) => Object.entries(aggregates(t, i)).map(([alias, e]) => `${e} AS ${alias}`));
  const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n${exprs.length ? ', ' + exprs.join(', ') : ''} FROM ${source}`)).getRowObjectsJson() as Record<string, unknown>[];
  const outputs: TransformOutput[] = spec.map((t, i) => ({ name: names[i], inputs: inputFeatures(t), ...analyzerFor(t, i, row) }));
  return { format: TRANSFORM_GRAPH_FORMAT, version: TRANSFORM_GRAPH_VERSION, spec, analyzedExamples: Number(row.n), outputs };
}
