// Applies a TransformGraph to raw rows: the one function training, evaluation, batch inference and the
// model server call, so a raw example becomes the same numbers everywhere (no training/serving skew).
// Rows are plain objects of raw feature values as they come from Parquet or a JSON request.

import { UserError } from '../core/errors';
import { hashToBucket } from './hashing';
import { TRANSFORM_GRAPH_FORMAT, TRANSFORM_GRAPH_VERSION, type AnalyzerResult, type TransformGraph } from './graph';

export type RawRow = Record<string, unknown>;
export type TransformedColumns = Record<string, Float32Array | Int32Array>;

function missing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

function numeric(v: unknown, fill: number): number {
  if (missing(v) || v === '') return fill;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isNaN(n) ? fill : n;
}

function text(v: unknown, fill: string): string {
  return missing(v) ? fill : String(v);
}

/** One output value for a row; `inputs` are the raw feature names the analyzer reads (one but for crosses). */
function applyOne(a: AnalyzerResult, row: RawRow, inputs: string[], vocabIndex?: Map<string, number>): number {
  const value = row[inputs[0]];
  switch (a.kind) {
    case 'vocabulary': {
      const token = text(value, a.fill);
      const id = vocabIndex!.get(token);
      if (id !== undefined) return id;
      return a.numOovBuckets > 0 ? a.vocabulary.length + hashToBucket(token, a.numOovBuckets) : -1;
    }
    case 'z_score': {
      const x = numeric(value, a.fill) - a.mean;
      return a.stdDev > 0 ? x / a.stdDev : x;
    }
    case 'min_max': {
      const x = numeric(value, a.fill);
      if (a.max === a.min) return a.outputMin;
      return ((x - a.min) / (a.max - a.min)) * (a.outputMax - a.outputMin) + a.outputMin;
    }
    case 'bucketize': {
      const x = numeric(value, a.fill);
      // Bucket i holds boundaries[i-1] <= x < boundaries[i], as tf.Transform's apply_buckets.
      let lo = 0;
      let hi = a.boundaries.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (a.boundaries[mid] <= x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    case 'hash':
      return hashToBucket(text(value, a.fill), a.hashBuckets);
    case 'cross':
      return hashToBucket(inputs.map((f) => text(row[f], '')).join('_X_'), a.hashBuckets);
    case 'identity':
      return numeric(value, a.fill);
  }
}

/** Checks a parsed JSON value is a graph this runtime can apply (format and version), naming the source. */
export function checkGraph(value: unknown, where: string): TransformGraph {
  const g = value as Partial<TransformGraph> | null;
  if (!g || g.format !== TRANSFORM_GRAPH_FORMAT || !Array.isArray(g.outputs)) throw new UserError(`${where} is not a transform graph (format ${TRANSFORM_GRAPH_FORMAT})`);
  if (g.version !== TRANSFORM_GRAPH_VERSION) throw new UserError(`${where} is transform graph version ${g.version}; this runtime applies version ${TRANSFORM_GRAPH_VERSION}`);
  return g as TransformGraph;
}

// Vocabulary lookups are built once per loaded graph, not per request.
const vocabIndexes = new WeakMap<AnalyzerResult, Map<string, number>>();

function vocabIndexOf(a: AnalyzerResult & { kind: 'vocabulary' }): Map<string, number> {
  let index = vocabIndexes.get(a);
  if (!index) vocabIndexes.set(a, (index = new Map(a.vocabulary.map((t, i) => [t, i]))));
  return index;
}

/** Transforms rows into one typed column per output. */
export function applyTransform(graph: TransformGraph, rows: RawRow[]): TransformedColumns {
  const out: TransformedColumns = {};
  for (const o of graph.outputs) {
    const column = o.dtype === 'int32' ? new Int32Array(rows.length) : new Float32Array(rows.length);
    const vocabIndex = o.analyzer.kind === 'vocabulary' ? vocabIndexOf(o.analyzer) : undefined;
    for (let r = 0; r < rows.length; r++) column[r] = applyOne(o.analyzer, rows[r], o.inputs, vocabIndex);
    out[o.name] = column;
  }
  return out;
}
