// Applies a TransformGraph to raw rows: the one function training, evaluation, batch inference and the
// model server call, so a raw example becomes the same numbers everywhere (no training/serving skew).
// Rows are plain objects of raw feature values as they come from Parquet or a JSON request; each value is
// read by the kind its column had in training (raw-values.ts), and a value that is not of that kind is an
// error naming the feature, never a default or an out-of-vocabulary id.

import { UserError } from '../core/errors';
import { hashToBucket } from './hashing';
import { numberOf, tokenOf } from './raw-values';
import {
  LEGACY_GRAPH_VERSION,
  TRANSFORM_GRAPH_FORMAT,
  TRANSFORM_GRAPH_VERSION,
  type AnalyzerResult,
  type TransformGraph,
  type TransformOutput,
} from './graph';

export type RawRow = Record<string, unknown>;
export type TransformedColumns = Record<string, Float32Array | Int32Array>;

/** How one output reads its inputs' values (input = index into the output's inputs). */
interface Reader {
  token(v: unknown, input: number): string | undefined;
  number(v: unknown, input: number): number | undefined;
}

// Version 1 graphs read values without kinds (String(v), Number(v)): kept so that a model trained behind one
// is served exactly as it was trained.
function legacyMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

const LEGACY_READER: Reader = {
  token: (v) => (legacyMissing(v) ? undefined : String(v)),
  number: (v) => {
    if (legacyMissing(v) || v === '') return undefined;
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isNaN(n) ? undefined : n;
  },
};

const readers = new WeakMap<TransformOutput, Reader>();

function readerOf(o: TransformOutput): Reader {
  let reader = readers.get(o);
  if (reader) return reader;
  const types = o.types;
  if (!types) reader = LEGACY_READER;
  else {
    const named = <T>(input: number, read: () => T): T => {
      try {
        return read();
      } catch (err) {
        throw new UserError(`feature "${o.inputs[input]}" (${types[input]} in the training data): ${(err as Error).message}`);
      }
    };
    reader = {
      token: (v, input) => named(input, () => tokenOf(types[input], v)),
      number: (v, input) => named(input, () => numberOf(types[input], v)),
    };
  }
  readers.set(o, reader);
  return reader;
}

/** The token of one input's value as `o` reads it (undefined when missing); a UserError naming the feature when it cannot be read. */
export function tokenFor(o: TransformOutput, value: unknown, input = 0): string | undefined {
  return readerOf(o).token(value, input);
}

/** The output for one value of a transform with one input (all but crosses). */
function applyOne(a: Exclude<AnalyzerResult, { kind: 'cross' }>, value: unknown, read: Reader, vocabIndex?: Map<string, number>): number {
  switch (a.kind) {
    case 'vocabulary': {
      const token = read.token(value, 0) ?? a.fill;
      const id = vocabIndex!.get(token);
      if (id !== undefined) return id;
      return a.numOovBuckets > 0 ? a.vocabulary.length + hashToBucket(token, a.numOovBuckets) : -1;
    }
    case 'z_score': {
      const x = (read.number(value, 0) ?? a.fill) - a.mean;
      return a.stdDev > 0 ? x / a.stdDev : x;
    }
    case 'min_max': {
      const x = read.number(value, 0) ?? a.fill;
      if (a.max === a.min) return a.outputMin;
      return ((x - a.min) / (a.max - a.min)) * (a.outputMax - a.outputMin) + a.outputMin;
    }
    case 'bucketize': {
      const x = read.number(value, 0) ?? a.fill;
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
      return hashToBucket(read.token(value, 0) ?? a.fill, a.hashBuckets);
    case 'identity':
      return read.number(value, 0) ?? a.fill;
  }
}

function applyCross(a: AnalyzerResult & { kind: 'cross' }, row: RawRow, inputs: string[], read: Reader): number {
  return hashToBucket(inputs.map((f, i) => read.token(row[f], i) ?? '').join('_X_'), a.hashBuckets);
}

/** Checks a parsed JSON value is a graph this runtime can apply (format and version), naming the source. */
export function checkGraph(value: unknown, where: string): TransformGraph {
  const g = value as Partial<TransformGraph> | null;
  if (!g || g.format !== TRANSFORM_GRAPH_FORMAT || !Array.isArray(g.outputs)) throw new UserError(`${where} is not a transform graph (format ${TRANSFORM_GRAPH_FORMAT})`);
  if (g.version !== TRANSFORM_GRAPH_VERSION && g.version !== LEGACY_GRAPH_VERSION) {
    throw new UserError(`${where} is transform graph version ${g.version}; this runtime applies versions ${LEGACY_GRAPH_VERSION} and ${TRANSFORM_GRAPH_VERSION}`);
  }
  if (g.version === TRANSFORM_GRAPH_VERSION) {
    const bad = g.outputs.find((o) => !Array.isArray(o.types) || o.types.length !== o.inputs.length);
    if (bad) throw new UserError(`${where}: output "${bad.name}" has no column kind for each of its inputs (a version ${TRANSFORM_GRAPH_VERSION} graph records them)`);
  }
  return g as TransformGraph;
}

// Vocabulary lookups are built once per loaded graph, not per request.
const vocabIndexes = new WeakMap<AnalyzerResult, Map<string, number>>();

export function vocabIndexOf(a: AnalyzerResult & { kind: 'vocabulary' }): Map<string, number> {
  let index = vocabIndexes.get(a);
  if (!index) vocabIndexes.set(a, (index = new Map(a.vocabulary.map((t, i) => [t, i]))));
  return index;
}

/** Transforms rows into one typed column per output; a value not of its column's kind throws a UserError. */
export function applyTransform(graph: TransformGraph, rows: RawRow[]): TransformedColumns {
  const out: TransformedColumns = {};
  for (const o of graph.outputs) {
    const column = o.dtype === 'int32' ? new Int32Array(rows.length) : new Float32Array(rows.length);
    const read = readerOf(o);
    const a = o.analyzer;
    if (a.kind === 'cross') {
      for (let r = 0; r < rows.length; r++) column[r] = applyCross(a, rows[r], o.inputs, read);
    } else {
      const vocabIndex = a.kind === 'vocabulary' ? vocabIndexOf(a) : undefined;
      const input = o.inputs[0];
      for (let r = 0; r < rows.length; r++) column[r] = applyOne(a, rows[r][input], read, vocabIndex);
    }
    out[o.name] = column;
  }
  return out;
}

/**
 * Checks every input value of each row can be read by its column's kind, before rows of several callers are
 * batched together (the model server): the first problem as "row <i>: feature ...", else undefined.
 */
export function rawRowProblem(graph: TransformGraph, rows: RawRow[]): string | undefined {
  for (const o of graph.outputs) {
    if (!o.types) continue;
    const read = readerOf(o);
    const numeric = o.analyzer.kind !== 'vocabulary' && o.analyzer.kind !== 'hash' && o.analyzer.kind !== 'cross';
    for (let r = 0; r < rows.length; r++) {
      for (let i = 0; i < o.inputs.length; i++) {
        try {
          if (numeric) read.number(rows[r][o.inputs[i]], i);
          else read.token(rows[r][o.inputs[i]], i);
        } catch (err) {
          return `row ${r}: ${(err as Error).message}`;
        }
      }
    }
  }
  return undefined;
}
