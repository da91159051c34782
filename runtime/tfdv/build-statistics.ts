// Turns a merged DatasetAccumulator into TFDV's DatasetFeatureStatistics (proto3 JSON): common stats,
// numeric stats with a 10-bucket STANDARD and a 10-bucket QUANTILES histogram from the quantile sketch,
// string stats with top 20 values and a rank histogram, weighted variants when weights were given.

import type { DatasetAccumulator, FeatureAccumulator, NumericAccumulator, StringAccumulator } from './accumulators';
import { estimateDistinct } from './distinct-sketch';
import { stdDev } from './moments';
import { cellWidth, gridBucketCounts, gridQuantiles, type GridHistogram } from './grid-histogram';
import { ALPHA, sketchQuantiles, type QuantileSketch } from './quantile-sketch';
import type {
  CommonStatistics,
  CustomStatistic,
  DatasetFeatureStatistics,
  FeatureNameStatistics,
  Histogram,
  NumericStatistics,
  RankHistogram,
  StringStatistics,
} from './statistics-proto';
import { toProtoDouble } from './statistics-proto';
import { rankValues, type ValueCounts } from './value-counts';

export const NUM_HISTOGRAM_BUCKETS = 10;
export const NUM_QUANTILES_BUCKETS = 10;
export const NUM_TOP_VALUES = 20;
export const NUM_RANK_HISTOGRAM_BUCKETS = 1000;

const int64 = (n: number): string => String(Math.round(n));

/**
 * Quantiles from the two sketches, each taking the estimate with the tighter error bound: the grid's is one
 * cell width, the logarithmic sketch's ALPHA·|value|. Clamped to the exact finite [min, max].
 * Error bound of the result: min(cell width, ALPHA·|q|) in value; INT features are rounded (quantiles of
 * integers are integers), and when a grid cell is at most 1 wide it holds one integer and is exact.
 */
export function quantiles(sketch: QuantileSketch, grid: GridHistogram | undefined, fractions: number[], min: number, max: number, integral: boolean): number[] {
  // The logarithmic sketch is left out where the grid is exact (and may cover only some shards' values
  // when a column's type differed between files): then the grid alone answers.
  const partial = grid && [...sketch.values()].reduce((t, c) => t + c, 0) !== [...grid.cells.values()].reduce((t, c) => t + c, 0);
  if (grid && (partial || (integral && cellWidth(grid) <= 1))) return gridQuantiles(grid, fractions, integral);
  const fromSketch = sketchQuantiles(sketch, fractions, min, max);
  const fromGrid = grid ? gridQuantiles(grid, fractions, integral) : fromSketch;
  const gridError = grid ? cellWidth(grid) : Infinity;
  const best = fractions.map((_, i) => (ALPHA * Math.abs(fromSketch[i]) < gridError ? fromSketch[i] : fromGrid[i]));
  return integral ? best.map(Math.round) : best;
}

/** Quantiles histogram: NUM_QUANTILES_BUCKETS buckets of equal mass between consecutive quantiles. */
function quantilesHistogram(sketch: QuantileSketch, grid: GridHistogram | undefined, min: number, max: number, nan: number, integral: boolean): Histogram {
  const total = [...(grid?.cells ?? sketch).values()].reduce((t, c) => t + c, 0);
  const fractions = Array.from({ length: NUM_QUANTILES_BUCKETS + 1 }, (_, i) => i / NUM_QUANTILES_BUCKETS);
  const q = total > 0 ? quantiles(sketch, grid, fractions, min, max, integral) : [];
  const buckets = q.slice(0, -1).map((lo, i) => ({ lowValue: lo, highValue: q[i + 1], sampleCount: total / NUM_QUANTILES_BUCKETS }));
  return { numNan: int64(nan), buckets, type: 'QUANTILES' };
}

/** Equal-width histogram over the finite [min, max], exact from the grid. */
function standardHistogram(grid: GridHistogram | undefined, nan: number): Histogram {
  if (!grid) return { numNan: int64(nan), buckets: [], type: 'STANDARD' };
  const counts = gridBucketCounts(grid, NUM_HISTOGRAM_BUCKETS);
  const width = (grid.max - grid.min) / NUM_HISTOGRAM_BUCKETS;
  const buckets = counts.map((c, i) => ({
    lowValue: grid.min + i * width,
    highValue: i === NUM_HISTOGRAM_BUCKETS - 1 ? grid.max : grid.min + (i + 1) * width,
    sampleCount: c,
  }));
  return { numNan: int64(nan), buckets, type: 'STANDARD' };
}

/** Quantiles of an exact value → count map (q-quantile = the value of rank q·(n−1)). */
function countQuantiles(counts: Map<number, number>, fractions: number[]): number[] {
  const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((t, [, c]) => t + c, 0);
  return fractions.map((q) => {
    const rank = q * (total - 1);
    let seen = 0;
    for (const [v, c] of sorted) {
      seen += c;
      if (seen > rank) return v;
    }
    return sorted[sorted.length - 1][0];
  });
}

function commonStats(f: FeatureAccumulator, numExamples: number, weightedNumExamples: number | undefined): CommonStatistics {
  const present = f.nonMissing;
  const avg = present > 0 ? f.totNumValues / present : 0;
  const minNv = present > 0 ? f.minNumValues : 0;
  const maxNv = present > 0 ? f.maxNumValues : 0;
  const out: CommonStatistics = {
    numNonMissing: int64(present),
    numMissing: int64(numExamples - present),
    minNumValues: int64(minNv),
    maxNumValues: int64(maxNv),
    avgNumValues: avg,
    totNumValues: int64(f.totNumValues),
  };
  if (present > 0) {
    // Scalar columns have exactly one value per present example; list columns carry exact length counts.
    const fractions = Array.from({ length: NUM_QUANTILES_BUCKETS + 1 }, (_, i) => i / NUM_QUANTILES_BUCKETS);
    const bounds = f.numValuesCounts ? countQuantiles(f.numValuesCounts, fractions) : fractions.map(() => minNv);
    out.numValuesHistogram = {
      buckets: bounds.slice(0, -1).map((lo, i) => ({ lowValue: lo, highValue: bounds[i + 1], sampleCount: present / NUM_QUANTILES_BUCKETS })),
      type: 'QUANTILES',
    };
  }
  if (f.weightedNonMissing !== undefined && weightedNumExamples !== undefined) {
    out.weightedCommonStats = {
      numNonMissing: f.weightedNonMissing,
      numMissing: weightedNumExamples - f.weightedNonMissing,
      avgNumValues: avg,
      totNumValues: avg * f.weightedNonMissing,
    };
  }
  return out;
}

function numericStats(n: NumericAccumulator, common: CommonStatistics, integral: boolean): NumericStatistics {
  const hasValues = n.min <= n.max;
  const [median] = n.moments.n > 0 ? quantiles(n.sketch, n.grid, [0.5], n.finiteMin, n.finiteMax, integral) : [0];
  const out: NumericStatistics = {
    commonStats: common,
    mean: n.moments.mean,
    stdDev: stdDev(n.moments),
    numZeros: int64(n.zeros),
    min: hasValues ? toProtoDouble(n.min) : 0,
    median,
    max: hasValues ? toProtoDouble(n.max) : 0,
    histograms: [standardHistogram(n.grid, n.nan), quantilesHistogram(n.sketch, n.grid, n.finiteMin, n.finiteMax, n.nan, integral)],
  };
  if (n.weighted) {
    const w = n.weighted;
    const [wMedian] = w.moments.n > 0 ? quantiles(w.sketch, w.grid, [0.5], n.finiteMin, n.finiteMax, integral) : [0];
    out.weightedNumericStats = {
      mean: w.moments.mean,
      stdDev: stdDev(w.moments),
      median: wMedian,
      histograms: [standardHistogram(w.grid, 0), quantilesHistogram(w.sketch, w.grid, n.finiteMin, n.finiteMax, 0, integral)],
    };
  }
  return out;
}

function rankHistogram(values: ValueCounts): RankHistogram {
  return {
    buckets: rankValues(values)
      .slice(0, NUM_RANK_HISTOGRAM_BUCKETS)
      .map(([label, c], i) => ({ lowRank: int64(i), highRank: int64(i), label, sampleCount: c })),
  };
}

function topValues(values: ValueCounts) {
  return rankValues(values)
    .slice(0, NUM_TOP_VALUES)
    .map(([value, frequency]) => ({ value, frequency }));
}

function stringStats(s: StringAccumulator, common: CommonStatistics, totValues: number): StringStatistics {
  const out: StringStatistics = {
    commonStats: common,
    unique: int64(s.values.floor === 0 ? s.values.counts.size : estimateDistinct(s.distinct)),
    topValues: topValues(s.values),
    avgLength: totValues > 0 ? s.totalBytes / totValues : 0,
    rankHistogram: rankHistogram(s.values),
  };
  if (s.weightedValues) out.weightedStringStats = { topValues: topValues(s.weightedValues), rankHistogram: rankHistogram(s.weightedValues) };
  return out;
}

/**
 * Custom stats TFDV does not define but our validator and schema inference need: how many string values
 * parse as numbers (a numeric column that now holds strings), whether value counts are exact, NaN/inf counts.
 */
function customStats(f: FeatureAccumulator): CustomStatistic[] {
  const out: CustomStatistic[] = [];
  if (f.string) {
    out.push({ name: 'int_parsable_count', num: f.string.intParsable }, { name: 'float_parsable_count', num: f.string.floatParsable });
    out.push({ name: 'value_counts_max_error', num: f.string.values.floor });
    if (f.totNumValues > 0 && f.string.intParsable === f.totNumValues) out.push({ name: 'domain_info', str: 'int_domain {}' });
  }
  if (f.numeric) out.push({ name: 'pos_inf_count', num: f.numeric.posInf }, { name: 'neg_inf_count', num: f.numeric.negInf });
  return out;
}

export function buildDatasetStatistics(name: string, acc: DatasetAccumulator): DatasetFeatureStatistics {
  const features: FeatureNameStatistics[] = [];
  for (const f of [...acc.features.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const common = commonStats(f, acc.numExamples, acc.weightedNumExamples);
    const feature: FeatureNameStatistics = { name: f.name, type: f.type };
    if (f.numeric) feature.numStats = numericStats(f.numeric, common, f.type === 'INT');
    if (f.string) feature.stringStats = stringStats(f.string, common, f.totNumValues);
    feature.customStats = customStats(f);
    features.push(feature);
  }
  const out: DatasetFeatureStatistics = { name, numExamples: int64(acc.numExamples), features };
  if (acc.weightedNumExamples !== undefined) out.weightedNumExamples = acc.weightedNumExamples;
  return out;
}
