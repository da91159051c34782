// The TransformGraph artifact's content: the spec as given plus every analyzer result, versioned, in one
// JSON file (<uri>/transform_graph.json). Training, evaluation, batch inference and the model server all
// load this file and apply it with apply.ts, so they transform raw features identically.

import type { TransformSpec } from './spec';

export const TRANSFORM_GRAPH_FILE = 'transform_graph.json';
export const TRANSFORM_GRAPH_FORMAT = 'mlp.transform_graph';
export const TRANSFORM_GRAPH_VERSION = 1;

export type AnalyzerResult =
  | { kind: 'vocabulary'; vocabulary: string[]; numOovBuckets: number; fill: string }
  | { kind: 'z_score'; mean: number; stdDev: number; fill: number }
  | { kind: 'min_max'; min: number; max: number; outputMin: number; outputMax: number; fill: number }
  | { kind: 'bucketize'; boundaries: number[]; fill: number }
  | { kind: 'hash'; hashBuckets: number; fill: string }
  | { kind: 'cross'; hashBuckets: number }
  | { kind: 'identity'; fill: number };

export interface TransformOutput {
  name: string;
  /** Raw features read. */
  inputs: string[];
  /** int32 for ids and buckets (embedding / one-hot inputs), float32 for scaled values. */
  dtype: 'int32' | 'float32';
  /** For int32 outputs: ids are in [0, cardinality) (vocabulary: V + OOV buckets; -1 when there are none). */
  cardinality?: number;
  analyzer: AnalyzerResult;
}

export interface TransformGraph {
  format: typeof TRANSFORM_GRAPH_FORMAT;
  version: typeof TRANSFORM_GRAPH_VERSION;
  spec: TransformSpec;
  /** Examples the analyzers saw. */
  analyzedExamples: number;
  outputs: TransformOutput[];
}
