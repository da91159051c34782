// TypeScript shapes of tensorflow_metadata's statistics.proto in its proto3 JSON mapping (lowerCamelCase
// names, enums as names, 64-bit integers as strings), so files we write load with json_format.Parse.

/** uint64 / int64 fields: decimal strings in proto3 JSON. */
export type Int64 = string;

export type FeatureType = 'INT' | 'FLOAT' | 'STRING' | 'BYTES' | 'STRUCT';

export interface HistogramBucket {
  lowValue: number | string;
  highValue: number | string;
  sampleCount: number;
}

export interface Histogram {
  numNan?: Int64;
  numUndefined?: Int64;
  buckets: HistogramBucket[];
  type: 'STANDARD' | 'QUANTILES';
  name?: string;
}

export interface RankHistogramBucket {
  lowRank: Int64;
  highRank: Int64;
  label: string;
  sampleCount: number;
}

export interface RankHistogram {
  buckets: RankHistogramBucket[];
  name?: string;
}

export interface WeightedCommonStatistics {
  numNonMissing: number;
  numMissing: number;
  avgNumValues: number;
  totNumValues: number;
}

export interface CommonStatistics {
  numNonMissing: Int64;
  numMissing: Int64;
  minNumValues: Int64;
  maxNumValues: Int64;
  avgNumValues: number;
  totNumValues: Int64;
  numValuesHistogram?: Histogram;
  weightedCommonStats?: WeightedCommonStatistics;
}

export interface WeightedNumericStatistics {
  mean: number;
  stdDev: number;
  median: number;
  histograms: Histogram[];
}

export interface NumericStatistics {
  commonStats: CommonStatistics;
  mean: number;
  stdDev: number;
  numZeros: Int64;
  /** Doubles: ±Infinity is written as the strings "Infinity" / "-Infinity" (proto3 JSON). */
  min: number | string;
  median: number;
  max: number | string;
  histograms: Histogram[];
  weightedNumericStats?: WeightedNumericStatistics;
}

export interface FreqAndValue {
  value: string;
  frequency: number;
}

export interface WeightedStringStatistics {
  topValues: FreqAndValue[];
  rankHistogram: RankHistogram;
}

export interface StringStatistics {
  commonStats: CommonStatistics;
  unique: Int64;
  topValues: FreqAndValue[];
  avgLength: number;
  rankHistogram: RankHistogram;
  weightedStringStats?: WeightedStringStatistics;
  invalidUtf8Count?: Int64;
}

export interface CustomStatistic {
  name: string;
  num?: number;
  str?: string;
}

export interface FeatureNameStatistics {
  name: string;
  type: FeatureType;
  numStats?: NumericStatistics;
  stringStats?: StringStatistics;
  customStats?: CustomStatistic[];
}

export interface DatasetFeatureStatistics {
  name: string;
  numExamples: Int64;
  weightedNumExamples?: number;
  features: FeatureNameStatistics[];
}

export interface DatasetFeatureStatisticsList {
  datasets: DatasetFeatureStatistics[];
}

/** The common stats of a feature, whichever kind of stats it carries. */
export function commonStatsOf(f: FeatureNameStatistics): CommonStatistics | undefined {
  return f.numStats?.commonStats ?? f.stringStats?.commonStats;
}

/** A proto3 JSON double (number or "Infinity"/"-Infinity"/"NaN") as a JS number. */
export function protoDouble(v: number | string | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v);
}

/** A JS number as a proto3 JSON double: non-finite values become their string names. */
export function toProtoDouble(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}
