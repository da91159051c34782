// The analyzers, in one pass over the training split: a single DuckDB aggregate query computes every
// statistic the spec needs (value histograms for vocabularies, mean and population standard deviation,
// min/max, quantile boundaries, means for default fills), and tf.Transform's rules turn them into the graph.
// Vocabulary tokens are made by raw-values.ts from the histogram's values as DuckDB hands them to JavaScript
// (the values every apply path sees), and numeric statistics over raw-values.ts' SQL numeric view, so
// analysis and apply read every column type alike.

import { UserError } from '../core/errors';
import { duckdb, sqlIdent, sqlString } from '../data/duckdb';
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

/** The SQL aggregate expressions one transform needs, keyed by alias (`kind`: its input column's kind). */
function aggregates(t: FeatureTransform, i: number, kind: ValueKind): Record<string, string> {
  if (t.kind === 'cross') return {};
  const col = sqlIdent(t.feature);
  const num = numericSql(kind, col);
  switch (t.kind) {
    case 'vocabulary':
      return { [`h${i}`]: `histogram(${col})` };
    case 'hash':
      return {};
    case 'z_score':
      return { [`mean${i}`]: `avg(${num})`, [`std${i}`]: `stddev_pop(${num})` };
    case 'min_max':
      return { [`mean${i}`]: `avg(${num})`, [`min${i}`]: `min(${num})`, [`max${i}`]: `max(${num})` };
    case 'bucketize':
      return { [`mean${i}`]: `avg(${num})`, [`q${i}`]: `quantile_cont(${num}, [${quantileFractions(t.num_buckets).join(', ')}])` };
    case 'identity':
      return { [`mean${i}`]: `avg(${num})` };
  }
}

function statOf(row: Record<string, unknown>, key: string, what: string): number {
  const v = row[key];
  if (v === null || v === undefined) throw new UserError(`Transform: ${what} has no numeric values in the training split`);
  return Number(v);
}

/** Token counts of a histogram of typed values: values with one token (e.g. -0.0 and 0.0) count together. */
function tokenCounts(histogram: unknown, kind: ValueKind): Record<string, number> {
  const counts: Record<string, number> = Object.create(null);
  for (const { key, value } of (histogram ?? []) as { key: unknown; value: bigint | number }[]) {
    const token = tokenOf(kind, key);
    if (token !== undefined) counts[token] = (counts[token] ?? 0) + Number(value);
  }
  return counts;
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

function analyzerFor(t: FeatureTransform, i: number, row: Record<string, unknown>, kind: ValueKind): { analyzer: AnalyzerResult; dtype: TransformOutput['dtype']; cardinality?: number } {
  const what = `${t.kind} of ${inputFeatures(t).join(', ')}`;
  switch (t.kind) {
    case 'vocabulary': {
      const vocabulary = buildVocabulary(tokenCounts(row[`h${i}`], kind), t.frequency_threshold, t.top_k);
      return {
        analyzer: { kind: 'vocabulary', vocabulary, numOovBuckets: t.num_oov_buckets, fill: fillToken(t.fill, kind, what) },
        dtype: 'int32',
        cardinality: vocabulary.length + t.num_oov_buckets,
      };
    }
    case 'z_score':
      return { analyzer: { kind: 'z_score', mean: statOf(row, `mean${i}`, what), stdDev: statOf(row, `std${i}`, what), fill: t.fill ?? statOf(row, `mean${i}`, what) }, dtype: 'float32' };
    case 'min_max':
      return {
        analyzer: { kind: 'min_max', min: statOf(row, `min${i}`, what), max: statOf(row, `max${i}`, what), outputMin: t.output_min, outputMax: t.output_max, fill: t.fill ?? statOf(row, `mean${i}`, what) },
        dtype: 'float32',
      };
    case 'bucketize': {
      const raw = row[`q${i}`] as number[] | null;
      if (!raw) throw new UserError(`Transform: ${what} has no numeric values in the training split`);
      // Equal quantiles (a heavy value) would make empty buckets; keep each boundary once.
      const boundaries = [...new Set(raw)];
      return { analyzer: { kind: 'bucketize', boundaries, fill: t.fill ?? statOf(row, `mean${i}`, what) }, dtype: 'int32', cardinality: boundaries.length + 1 };
    }
    case 'hash':
      return { analyzer: { kind: 'hash', hashBuckets: t.hash_buckets, fill: fillToken(t.fill, kind, what) }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'cross':
      return { analyzer: { kind: 'cross', hashBuckets: t.hash_buckets }, dtype: 'int32', cardinality: t.hash_buckets };
    case 'identity':
      return { analyzer: { kind: 'identity', fill: t.fill ?? statOf(row, `mean${i}`, what) }, dtype: 'float32' };
  }
}

/** Runs every analyzer over the files (one scan) and returns the graph. */
export async function analyze(spec: TransformSpec, parquetFiles: string[]): Promise<TransformGraph> {
  const names = spec.map(outputName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`Transform: two transforms produce the output "${dup}"; set output names`);
  const conn = await duckdb();
  const source = `read_parquet([${parquetFiles.map(sqlString).join(', ')}])`;
  const columnTypes = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)]));
  const kinds = spec.map((t, i) =>
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
  const exprs = spec.flatMap((t, i) => Object.entries(aggregates(t, i, kinds[i][0])).map(([alias, e]) => `${e} AS ${alias}`));
  // JS values (not JSON): histogram keys arrive exactly as every apply path reads the column.
  const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n${exprs.length ? ', ' + exprs.join(', ') : ''} FROM ${source}`)).getRowObjectsJS() as Record<string, unknown>[];
  const outputs: TransformOutput[] = spec.map((t, i) => ({ name: names[i], inputs: inputFeatures(t), types: kinds[i], ...analyzerFor(t, i, row, kinds[i][0]) }));
  return { format: TRANSFORM_GRAPH_FORMAT, version: TRANSFORM_GRAPH_VERSION, spec, analyzedExamples: Number(row.n), outputs };
}
