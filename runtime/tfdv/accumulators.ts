// Mergeable per-shard statistics of a dataset (one split): everything StatisticsGen needs to build TFDV's
// statistics, in a form where merge(shard A, shard B) equals the accumulator of A ∪ B — exactly for counts,
// min/max and the quantile sketch; up to rounding for moments; within the documented bounds for the
// bounded value counts (value-counts.ts) and the distinct-count sketch (distinct-sketch.ts).

import { UserError } from '../core/errors';
import { mergeGrids, type GridHistogram } from './grid-histogram';
import { mergeDistinct, type DistinctSketch } from './distinct-sketch';
import { mergeMoments, type Moments } from './moments';
import { mergeSketches, type QuantileSketch } from './quantile-sketch';
import { mergeValueCounts, type ValueCounts } from './value-counts';
import type { FeatureType } from './statistics-proto';

export interface NumericAccumulator {
  /** Moments of the finite values (NaN and ±Infinity are counted apart). */
  moments: Moments;
  /** Smallest / largest non-NaN value (may be ±Infinity); +Infinity / −Infinity when there is none. */
  min: number;
  max: number;
  /** Smallest / largest finite value: the range of the grid histogram. */
  finiteMin: number;
  finiteMax: number;
  zeros: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** Quantile sketch and grid histogram of the finite values (filled by the sketch scan). */
  sketch: QuantileSketch;
  grid?: GridHistogram;
  weighted?: { moments: Moments; sketch: QuantileSketch; grid?: GridHistogram };
}

export interface StringAccumulator {
  /** Total UTF-8 byte length of all values. */
  totalBytes: number;
  values: ValueCounts;
  distinct: DistinctSketch;
  /** Values that parse as a 64-bit integer / as a float: a STRING feature that is really numeric (or was). */
  intParsable: number;
  floatParsable: number;
  weightedValues?: ValueCounts;
}

export interface FeatureAccumulator {
  name: string;
  type: FeatureType;
  /** Examples where the feature is present (not null). */
  nonMissing: number;
  /** Values per present example: min, max and total (a scalar column has exactly one). */
  minNumValues: number;
  maxNumValues: number;
  totNumValues: number;
  /** List columns: examples per number of values (exact and mergeable; scalar columns always have 1). */
  numValuesCounts?: Map<number, number>;
  /** Total weight of the examples where the feature is present (weighted statistics only). */
  weightedNonMissing?: number;
  numeric?: NumericAccumulator;
  string?: StringAccumulator;
}

export interface DatasetAccumulator {
  numExamples: number;
  weightedNumExamples?: number;
  features: Map<string, FeatureAccumulator>;
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

function mergeOptionalGrids(a: GridHistogram | undefined, b: GridHistogram | undefined): GridHistogram | undefined {
  return a && b ? mergeGrids(a, b) : (a ?? b);
}

function mergeNumeric(a: NumericAccumulator, b: NumericAccumulator): NumericAccumulator {
  return {
    moments: mergeMoments(a.moments, b.moments),
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    finiteMin: Math.min(a.finiteMin, b.finiteMin),
    finiteMax: Math.max(a.finiteMax, b.finiteMax),
    zeros: a.zeros + b.zeros,
    nan: a.nan + b.nan,
    posInf: a.posInf + b.posInf,
    negInf: a.negInf + b.negInf,
    sketch: mergeSketches(a.sketch, b.sketch),
    grid: mergeOptionalGrids(a.grid, b.grid),
    weighted:
      a.weighted && b.weighted
        ? {
            moments: mergeMoments(a.weighted.moments, b.weighted.moments),
            sketch: mergeSketches(a.weighted.sketch, b.weighted.sketch),
            grid: mergeOptionalGrids(a.weighted.grid, b.weighted.grid),
          }
        : (a.weighted ?? b.weighted),
  };
}

function mergeString(a: StringAccumulator, b: StringAccumulator): StringAccumulator {
  return {
    totalBytes: a.totalBytes + b.totalBytes,
    values: mergeValueCounts(a.values, b.values),
    distinct: mergeDistinct(a.distinct, b.distinct),
    intParsable: a.intParsable + b.intParsable,
    floatParsable: a.floatParsable + b.floatParsable,
    weightedValues:
      a.weightedValues && b.weightedValues ? mergeValueCounts(a.weightedValues, b.weightedValues) : (a.weightedValues ?? b.weightedValues),
  };
}

export function mergeFeatures(a: FeatureAccumulator, b: FeatureAccumulator): FeatureAccumulator {
  // An INT column in one shard and FLOAT in another (e.g. a span with only whole numbers) is FLOAT overall.
  const numericPair = (a.type === 'INT' || a.type === 'FLOAT') && (b.type === 'INT' || b.type === 'FLOAT');
  if (a.type !== b.type && !numericPair) {
    throw new UserError(`feature "${a.name}" is ${a.type} in one shard and ${b.type} in another; the split's files disagree on its column type`);
  }
  return {
    name: a.name,
    type: a.type === b.type ? a.type : 'FLOAT',
    nonMissing: a.nonMissing + b.nonMissing,
    minNumValues: Math.min(a.minNumValues, b.minNumValues),
    maxNumValues: Math.max(a.maxNumValues, b.maxNumValues),
    totNumValues: a.totNumValues + b.totNumValues,
    numValuesCounts: a.numValuesCounts && b.numValuesCounts ? mergeSketches(a.numValuesCounts, b.numValuesCounts) : (a.numValuesCounts ?? b.numValuesCounts),
    weightedNonMissing: addOptional(a.weightedNonMissing, b.weightedNonMissing),
    numeric: a.numeric && b.numeric ? mergeNumeric(a.numeric, b.numeric) : (a.numeric ?? b.numeric),
    string: a.string && b.string ? mergeString(a.string, b.string) : (a.string ?? b.string),
  };
}

export function mergeDatasets(a: DatasetAccumulator, b: DatasetAccumulator): DatasetAccumulator {
  const features = new Map(a.features);
  for (const [name, f] of b.features) {
    const mine = features.get(name);
    features.set(name, mine ? mergeFeatures(mine, f) : f);
  }
  return {
    numExamples: a.numExamples + b.numExamples,
    weightedNumExamples: addOptional(a.weightedNumExamples, b.weightedNumExamples),
    features,
  };
}
