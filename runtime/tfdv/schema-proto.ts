// TypeScript shapes of the parts of tensorflow_metadata's schema.proto this runtime reads and writes, in the
// proto3 JSON mapping (lowerCamelCase, enums as names, int64 as strings).

import type { Int64 } from './statistics-proto';

export type SchemaFeatureType = 'TYPE_UNKNOWN' | 'BYTES' | 'INT' | 'FLOAT' | 'STRUCT';

export interface FeaturePresence {
  minFraction?: number;
  minCount?: Int64;
}

export interface ValueCount {
  min?: Int64;
  max?: Int64;
}

export interface FixedShape {
  dim: { size: Int64; name?: string }[];
}

export interface IntDomain {
  name?: string;
  min?: Int64;
  max?: Int64;
  isCategorical?: boolean;
}

export interface FloatDomain {
  name?: string;
  min?: number;
  max?: number;
  disallowNan?: boolean;
  disallowInf?: boolean;
}

export interface StringDomain {
  name?: string;
  value: string[];
}

export interface BoolDomain {
  name?: string;
  trueValue?: string;
  falseValue?: string;
}

export interface FeatureComparator {
  infinityNorm?: { threshold: number };
  jensenShannonDivergence?: { threshold: number };
  normalizedAbsDifference?: { threshold: number };
}

export interface SchemaFeature {
  name: string;
  type: SchemaFeatureType;
  presence?: FeaturePresence;
  shape?: FixedShape;
  valueCount?: ValueCount;
  /** Name of a schema-level domain (Schema.stringDomain etc.). */
  domain?: string;
  intDomain?: IntDomain;
  floatDomain?: FloatDomain;
  stringDomain?: StringDomain;
  boolDomain?: BoolDomain;
  skewComparator?: FeatureComparator;
  driftComparator?: FeatureComparator;
  lifecycleStage?: string;
  annotation?: { tag?: string[]; comment?: string[] };
}

export interface NumericValueComparator {
  minFractionThreshold?: number;
  maxFractionThreshold?: number;
}

export interface DatasetConstraints {
  numExamplesDriftComparator?: NumericValueComparator;
  numExamplesVersionComparator?: NumericValueComparator;
  minExamplesCount?: Int64;
  maxExamplesCount?: Int64;
}

export interface Schema {
  feature: SchemaFeature[];
  stringDomain?: StringDomain[];
  floatDomain?: FloatDomain[];
  intDomain?: IntDomain[];
  datasetConstraints?: DatasetConstraints;
  defaultEnvironment?: string[];
}

/** Lifecycle stages TFDV does not validate (treated as deprecated). */
export const UNVALIDATED_STAGES = new Set(['PLANNED', 'ALPHA', 'DEPRECATED', 'DEBUG_ONLY', 'DISABLED']);

/** The string values a feature's domain allows (inline or by reference), or undefined when it has none. */
export function stringDomainOf(schema: Schema, f: SchemaFeature): StringDomain | undefined {
  if (f.stringDomain) return f.stringDomain;
  if (f.domain) return schema.stringDomain?.find((d) => d.name === f.domain);
  return undefined;
}

export function intDomainOf(schema: Schema, f: SchemaFeature): IntDomain | undefined {
  if (f.intDomain) return f.intDomain;
  if (f.domain) return schema.intDomain?.find((d) => d.name === f.domain);
  return undefined;
}

export function floatDomainOf(schema: Schema, f: SchemaFeature): FloatDomain | undefined {
  if (f.floatDomain) return f.floatDomain;
  if (f.domain) return schema.floatDomain?.find((d) => d.name === f.domain);
  return undefined;
}
