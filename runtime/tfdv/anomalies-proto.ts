// TypeScript shapes of tensorflow_metadata's anomalies.proto in its JSON mapping, and the AnomalyInfo.Type
// codes this runtime emits (names are what the JSON carries; codes as in anomalies.proto).

import type { Schema } from './schema-proto';

export const ANOMALY_TYPE_CODES = {
  BOOL_TYPE_BIG_INT: 1,
  BOOL_TYPE_SMALL_INT: 7,
  ENUM_TYPE_UNEXPECTED_STRING_VALUES: 14,
  FEATURE_TYPE_HIGH_NUMBER_VALUES: 15,
  FEATURE_TYPE_LOW_FRACTION_PRESENT: 16,
  FEATURE_TYPE_LOW_NUMBER_PRESENT: 17,
  FEATURE_TYPE_LOW_NUMBER_VALUES: 18,
  FEATURE_TYPE_NOT_PRESENT: 19,
  FEATURE_TYPE_NO_VALUES: 20,
  FLOAT_TYPE_BIG_FLOAT: 22,
  FLOAT_TYPE_SMALL_FLOAT: 24,
  INT_TYPE_BIG_INT: 28,
  INT_TYPE_NOT_INT_STRING: 30,
  INT_TYPE_SMALL_INT: 32,
  SCHEMA_MISSING_COLUMN: 35,
  SCHEMA_NEW_COLUMN: 36,
  STRING_TYPE_NOW_FLOAT: 38,
  STRING_TYPE_NOW_INT: 39,
  COMPARATOR_L_INFTY_HIGH: 42,
  COMPARATOR_LOW_NUM_EXAMPLES: 49,
  COMPARATOR_HIGH_NUM_EXAMPLES: 50,
  DATASET_LOW_NUM_EXAMPLES: 51,
  FLOAT_TYPE_HAS_NAN: 53,
  DATASET_HIGH_NUM_EXAMPLES: 58,
  FLOAT_TYPE_HAS_INF: 62,
  COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH: 63,
  UNEXPECTED_DATA_TYPE: 70,
  INVALID_FEATURE_SHAPE: 80,
  COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH: 87,
} as const;

export type AnomalyType = keyof typeof ANOMALY_TYPE_CODES;

export interface AnomalyReason {
  type: AnomalyType;
  shortDescription: string;
  description: string;
}

export interface AnomalyInfo {
  path?: { step: string[] };
  severity: 'UNKNOWN' | 'WARNING' | 'ERROR';
  description: string;
  shortDescription: string;
  reason: AnomalyReason[];
}

export type DriftSkewMeasurementType = 'L_INFTY' | 'JENSEN_SHANNON_DIVERGENCE' | 'NORMALIZED_ABSOLUTE_DIFFERENCE';

export interface DriftSkewMeasurement {
  type: DriftSkewMeasurementType;
  value: number;
  threshold: number;
}

export interface DriftSkewInfo {
  path: { step: string[] };
  driftMeasurements?: DriftSkewMeasurement[];
  skewMeasurements?: DriftSkewMeasurement[];
}

export interface Anomalies {
  baseline: Schema;
  anomalyNameFormat?: 'UNKNOWN' | 'SERIALIZED_PATH';
  anomalyInfo: Record<string, AnomalyInfo>;
  datasetAnomalyInfo?: AnomalyInfo;
  dataMissing?: boolean;
  driftSkewInfo?: DriftSkewInfo[];
}

/** An AnomalyInfo from its reasons: TFDV's short description is the reason's own when there is one reason. */
export function anomalyInfo(reasons: AnomalyReason[], feature?: string): AnomalyInfo {
  return {
    ...(feature !== undefined ? { path: { step: [feature] } } : {}),
    severity: 'ERROR',
    description: reasons.map((r) => r.description).join(' '),
    shortDescription: reasons.length === 1 ? reasons[0].shortDescription : 'Multiple errors',
    reason: reasons,
  };
}

/** Every anomaly of an Anomalies message as flat records (dataset-level ones have feature undefined). */
export function listAnomalies(a: Anomalies): { feature?: string; reason: AnomalyReason }[] {
  const out: { feature?: string; reason: AnomalyReason }[] = [];
  for (const r of a.datasetAnomalyInfo?.reason ?? []) out.push({ reason: r });
  for (const [feature, info] of Object.entries(a.anomalyInfo)) for (const r of info.reason) out.push({ feature, reason: r });
  return out;
}
