// The TransformGraph artifact's content: the spec as given plus every analyzer result, versioned, in one
// JSON file (<uri>/transform_graph.json). Training, evaluation, batch inference and the model server all
// load this file and apply it with apply.ts, so they transform raw features identically. Version 2 records
// the kind of column each input had in training (raw-values.ts reads every value through it) and each
// vocabulary's out-of-vocabulary rate on the eval split; version 1 graphs (no kinds: tokens were String(v))
// are still applied as they were when their models were trained.

import type { ValueKind } from './raw-values';
import type { TransformSpec } from './spec';

export const TRANSFORM_GRAPH_FILE = 'transform_graph.json';
export const TRANSFORM_GRAPH_FORMAT = 'mlp.transform_graph';
export const TRANSFORM_GRAPH_VERSION = 2;
/** The version before raw-value kinds, still applied (with its String(v) tokens) so older models serve unchanged. */
export const LEGACY_GRAPH_VERSION = 1;

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
  /** The kind of each input's column in the training data, parallel to `inputs` (absent in version 1). */
  types?: ValueKind[];
  /** Vocabularies: how many values of a split the vocabulary did not know (set by the Transform component). */
  outOfVocabulary?: OutOfVocabulary;
}

export interface OutOfVocabulary {
  split: string;
  /** Rows with a value (missing values are not counted: they take the fill). */
  values: number;
  oov: number;
  /** oov / values (0 when there are no values). */
  rate: number;
  /** The Transform's max_oov_rate: a higher rate is flagged, and the Evaluator does not bless the model. */
  maxRate: number;
}

export interface TransformGraph {
  format: typeof TRANSFORM_GRAPH_FORMAT;
  version: typeof TRANSFORM_GRAPH_VERSION | typeof LEGACY_GRAPH_VERSION;
  spec: TransformSpec;
  /** Examples the analyzers saw. */
  analyzedExamples: number;
  outputs: TransformOutput[];
}
