// Validates one split's statistics against a schema, TFDV style: per feature the presence, type, value
// counts/shape and domain checks; per dataset the example-count bounds; and, given the previous span's or
// the serving statistics, the drift / skew comparators with their per-feature thresholds. Every check reads
// statistics only, so a column that changed type is reported, never a crash.

import { anomalyInfo, type AnomalyReason, type AnomalyType, type Anomalies, type DriftSkewInfo, type DriftSkewMeasurement, type DriftSkewMeasurementType } from './anomalies-proto';
import { jensenShannonDivergence, lInfinity, normalizedAbsDifference, type Distance } from './comparators';
import { exactValues } from './infer-schema';
import { floatDomainOf, intDomainOf, stringDomainOf, UNVALIDATED_STAGES, type FeatureComparator, type Schema, type SchemaFeature } from './schema-proto';
import { commonStatsOf, protoDouble, type DatasetFeatureStatistics, type FeatureNameStatistics } from './statistics-proto';

export interface ValidateOptions {
  /** Statistics of the previous span: drift comparators and num_examples_drift_comparator. */
  previous?: DatasetFeatureStatistics;
  /** Statistics of serving data: skew comparators. */
  serving?: DatasetFeatureStatistics;
}

const reason = (type: AnomalyType, shortDescription: string, description: string): AnomalyReason => ({ type, shortDescription, description });

/** Significant digits as TFDV prints distances ("up to six significant digits"). */
const sig = (x: number): string => String(Number(x.toPrecision(6)));

const pct = (part: number, whole: number): string => {
  const p = whole > 0 ? (100 * part) / whole : 0;
  return p < 1 ? '<1%' : `~${Math.round(p)}%`;
};

function custom(f: FeatureNameStatistics, name: string): number {
  return f.customStats?.find((c) => c.name === name)?.num ?? 0;
}

/** A few values with their counts, most frequent first, for one-line descriptions. */
function sample(values: [string, number][], total: number, limit = 5): string {
  const shown = values.slice(0, limit).map(([v, c]) => `${v} (${pct(c, total)})`);
  return shown.join(', ') + (values.length > limit ? `, and ${values.length - limit} more` : '');
}

function typeChecks(sf: SchemaFeature, f: FeatureNameStatistics): AnomalyReason[] {
  const total = Number(commonStatsOf(f)?.totNumValues ?? 0);
  if (sf.type === 'BYTES') {
    if (f.type === 'INT') return [reason('STRING_TYPE_NOW_INT', 'String feature now holds integers', 'Expected STRING values, but the column now holds INT values.')];
    if (f.type === 'FLOAT') return [reason('STRING_TYPE_NOW_FLOAT', 'String feature now holds floats', 'Expected STRING values, but the column now holds FLOAT values.')];
    return [];
  }
  if ((sf.type === 'INT' && f.type === 'INT') || (sf.type === 'FLOAT' && (f.type === 'FLOAT' || f.type === 'INT'))) return [];
  let detail = '';
  if (f.type === 'STRING') {
    const parsable = sf.type === 'INT' ? custom(f, 'int_parsable_count') : custom(f, 'float_parsable_count');
    const bad = total - parsable;
    const badValues = [...(exactValues(f) ?? new Map((f.stringStats?.topValues ?? []).map((t) => [t.value, t.frequency])))].filter(([v]) =>
      sf.type === 'INT' ? !/^\s*[+-]?\d+\s*$/.test(v) : Number.isNaN(Number(v)),
    );
    detail = ` ${bad} of ${total} values are not ${sf.type === 'INT' ? 'integers' : 'numbers'}${badValues.length ? `, e.g. ${sample(badValues, total, 3)}` : ''}.`;
  }
  return [reason('UNEXPECTED_DATA_TYPE', 'Unexpected data type', `Expected data of type: ${sf.type} but got ${f.type}.${detail}`)];
}

function presenceChecks(sf: SchemaFeature, f: FeatureNameStatistics, numExamples: number): AnomalyReason[] {
  const present = Number(commonStatsOf(f)?.numNonMissing ?? 0);
  const out: AnomalyReason[] = [];
  const minCount = Number(sf.presence?.minCount ?? 0);
  const minFraction = sf.presence?.minFraction ?? 0;
  if (present === 0 && minCount > 0) {
    return [reason('FEATURE_TYPE_NOT_PRESENT', 'No examples contain the feature', `The feature was not present in any of the ${numExamples} examples.`)];
  }
  if (present < minCount) {
    out.push(reason('FEATURE_TYPE_LOW_NUMBER_PRESENT', 'Feature present in too few examples', `The feature was present in ${present} examples, fewer than the minimum ${minCount}.`));
  }
  if (numExamples > 0 && present / numExamples < minFraction) {
    out.push(
      reason(
        'FEATURE_TYPE_LOW_FRACTION_PRESENT',
        'Column dropped',
        `The feature was present in fewer examples than expected: minimum fraction = ${minFraction}, actual = ${sig(present / numExamples)} (${numExamples - present} of ${numExamples} examples miss it).`,
      ),
    );
  }
  return out;
}

function valueCountChecks(sf: SchemaFeature, f: FeatureNameStatistics, numExamples: number): AnomalyReason[] {
  const common = commonStatsOf(f);
  const present = Number(common?.numNonMissing ?? 0);
  if (!common || present === 0) return [];
  const minNv = Number(common.minNumValues);
  const maxNv = Number(common.maxNumValues);
  if (sf.shape) {
    const n = sf.shape.dim.reduce((p, d) => p * Number(d.size), 1);
    if (minNv !== n || maxNv !== n || present < numExamples) {
      const missing = numExamples - present;
      return [
        reason(
          'INVALID_FEATURE_SHAPE',
          'Invalid shape',
          `Fixed shape expects ${n} value(s) in every example, but examples have ${minNv}..${maxNv} values${missing > 0 ? ` and ${missing} examples miss the feature` : ''}.`,
        ),
      ];
    }
    return [];
  }
  const out: AnomalyReason[] = [];
  if (minNv === 0 && Number(sf.valueCount?.min ?? 0) > 0) {
    out.push(reason('FEATURE_TYPE_NO_VALUES', 'Feature has no values', 'Some examples have the feature present with no values (an empty list).'));
  } else if (sf.valueCount?.min !== undefined && minNv < Number(sf.valueCount.min)) {
    out.push(reason('FEATURE_TYPE_LOW_NUMBER_VALUES', 'Missing values', `Some examples have fewer values than expected: minimum ${sf.valueCount.min}, seen ${minNv}.`));
  }
  if (sf.valueCount?.max !== undefined && maxNv > Number(sf.valueCount.max)) {
    out.push(reason('FEATURE_TYPE_HIGH_NUMBER_VALUES', 'Superfluous values', `Some examples have more values than expected: maximum ${sf.valueCount.max}, seen ${maxNv}.`));
  }
  return out;
}

function domainChecks(schema: Schema, sf: SchemaFeature, f: FeatureNameStatistics): AnomalyReason[] {
  const out: AnomalyReason[] = [];
  const total = Number(commonStatsOf(f)?.totNumValues ?? 0);
  if (f.numStats) {
    const min = protoDouble(f.numStats.min);
    const max = protoDouble(f.numStats.max);
    const nan = Number(f.numStats.histograms[0]?.numNan ?? 0);
    const intDomain = intDomainOf(schema, sf);
    if (intDomain) {
      if (intDomain.min !== undefined && min < Number(intDomain.min)) out.push(reason('INT_TYPE_SMALL_INT', 'Out-of-range values', `Unexpectedly small value: ${min} (domain minimum ${intDomain.min}).`));
      if (intDomain.max !== undefined && max > Number(intDomain.max)) out.push(reason('INT_TYPE_BIG_INT', 'Out-of-range values', `Unexpectedly large value: ${max} (domain maximum ${intDomain.max}).`));
    }
    const floatDomain = floatDomainOf(schema, sf);
    if (floatDomain) {
      if (floatDomain.min !== undefined && min < floatDomain.min) out.push(reason('FLOAT_TYPE_SMALL_FLOAT', 'Out-of-range values', `Unexpectedly low value: ${min} (domain minimum ${floatDomain.min}).`));
      if (floatDomain.max !== undefined && max > floatDomain.max) out.push(reason('FLOAT_TYPE_BIG_FLOAT', 'Out-of-range values', `Unexpectedly high value: ${max} (domain maximum ${floatDomain.max}).`));
      if (floatDomain.disallowNan && nan > 0) out.push(reason('FLOAT_TYPE_HAS_NAN', 'Invalid values', `Float feature has NaN values (${nan} of ${total}).`));
      const inf = custom(f, 'pos_inf_count') + custom(f, 'neg_inf_count');
      if (floatDomain.disallowInf && (inf > 0 || !Number.isFinite(min) || !Number.isFinite(max))) out.push(reason('FLOAT_TYPE_HAS_INF', 'Invalid values', `Float feature has Inf values (${inf} of ${total}).`));
    }
    if (sf.boolDomain && f.type === 'INT') {
      if (min < 0) out.push(reason('BOOL_TYPE_SMALL_INT', 'Non-boolean values', `Boolean feature has a value below 0: ${min}.`));
      if (max > 1) out.push(reason('BOOL_TYPE_BIG_INT', 'Non-boolean values', `Boolean feature has a value above 1: ${max}.`));
    }
  }
  if (f.stringStats) {
    const allowed = stringDomainOf(schema, sf) ?? (sf.boolDomain ? { value: [sf.boolDomain.trueValue, sf.boolDomain.falseValue].filter((v): v is string => v !== undefined) } : undefined);
    if (allowed) {
      const known = new Set(allowed.value);
      const seen = exactValues(f) ?? new Map(f.stringStats.rankHistogram.buckets.map((b) => [b.label, b.sampleCount]));
      const unexpected = [...seen].filter(([v]) => !known.has(v)).sort((a, b) => b[1] - a[1]);
      if (unexpected.length > 0) {
        out.push(reason('ENUM_TYPE_UNEXPECTED_STRING_VALUES', 'Unexpected string values', `Examples contain values missing from the schema: ${sample(unexpected, total)}.`));
      }
    }
    if (intDomainOf(schema, sf)) {
      const bad = total - custom(f, 'int_parsable_count');
      if (bad > 0) out.push(reason('INT_TYPE_NOT_INT_STRING', 'Non-integer values', `${bad} of ${total} values do not parse as integers.`));
    }
  }
  return out;
}

type Side = 'drift' | 'skew';

interface Comparison {
  reasons: AnomalyReason[];
  measurements: DriftSkewMeasurement[];
}

function compare(comparator: FeatureComparator | undefined, current: FeatureNameStatistics, other: FeatureNameStatistics, side: Side): Comparison {
  const out: Comparison = { reasons: [], measurements: [] };
  if (!comparator) return out;
  const between = side === 'drift' ? 'current and previous' : 'training and serving';
  const run = (threshold: number | undefined, type: DriftSkewMeasurementType, anomaly: AnomalyType, label: string, fn: () => Distance, worstLabel: string) => {
    if (threshold === undefined) return;
    const d = fn();
    out.measurements.push({ type, value: d.value, threshold });
    if (d.value > threshold) {
      out.reasons.push(
        reason(anomaly, `High ${label} between ${between}`, `The ${label} between ${between} is ${sig(d.value)} (up to six significant digits), above the threshold ${threshold}. The ${worstLabel} with maximum difference is: ${d.worst}`),
      );
    }
  };
  const categorical = current.stringStats !== undefined && other.stringStats !== undefined;
  if (categorical) {
    run(comparator.infinityNorm?.threshold, 'L_INFTY', 'COMPARATOR_L_INFTY_HIGH', 'Linfty distance', () => lInfinity(current, other), 'feature value');
    run(comparator.normalizedAbsDifference?.threshold, 'NORMALIZED_ABSOLUTE_DIFFERENCE', 'COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH', 'normalized absolute difference', () => normalizedAbsDifference(current, other), 'feature value');
  }
  if (categorical || (current.numStats && other.numStats)) {
    run(comparator.jensenShannonDivergence?.threshold, 'JENSEN_SHANNON_DIVERGENCE', 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH', 'approximate Jensen-Shannon divergence', () => jensenShannonDivergence(current, other), categorical ? 'feature value' : 'bucket');
  }
  return out;
}

function datasetChecks(schema: Schema, stats: DatasetFeatureStatistics, opts: ValidateOptions): AnomalyReason[] {
  const out: AnomalyReason[] = [];
  const n = Number(stats.numExamples);
  const c = schema.datasetConstraints;
  if (c?.minExamplesCount !== undefined && n < Number(c.minExamplesCount)) {
    out.push(reason('DATASET_LOW_NUM_EXAMPLES', 'Low num examples in dataset', `The dataset has ${n} examples, fewer than the minimum ${c.minExamplesCount}.`));
  }
  if (c?.maxExamplesCount !== undefined && n > Number(c.maxExamplesCount)) {
    out.push(reason('DATASET_HIGH_NUM_EXAMPLES', 'High num examples in dataset', `The dataset has ${n} examples, more than the maximum ${c.maxExamplesCount}.`));
  }
  const drift = c?.numExamplesDriftComparator;
  if (drift && opts.previous) {
    const prev = Number(opts.previous.numExamples);
    const ratio = prev > 0 ? n / prev : Infinity;
    if (drift.minFractionThreshold !== undefined && ratio < drift.minFractionThreshold) {
      out.push(reason('COMPARATOR_LOW_NUM_EXAMPLES', 'Low num examples in comparison to previous span', `The ratio of examples in this span to the previous one is ${sig(ratio)} (${n} / ${prev}), below the threshold ${drift.minFractionThreshold}.`));
    }
    if (drift.maxFractionThreshold !== undefined && ratio > drift.maxFractionThreshold) {
      out.push(reason('COMPARATOR_HIGH_NUM_EXAMPLES', 'High num examples in comparison to previous span', `The ratio of examples in this span to the previous one is ${sig(ratio)} (${n} / ${prev}), above the threshold ${drift.maxFractionThreshold}.`));
    }
  }
  return out;
}

export function validateStatistics(stats: DatasetFeatureStatistics, schema: Schema, opts: ValidateOptions = {}): Anomalies {
  const numExamples = Number(stats.numExamples);
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  const anomalies: Anomalies = { baseline: schema, anomalyInfo: {} };
  const driftSkewInfo: DriftSkewInfo[] = [];
  const add = (name: string, reasons: AnomalyReason[]) => {
    if (reasons.length) anomalies.anomalyInfo[name] = anomalyInfo(reasons, name);
  };

  for (const sf of schema.feature) {
    if (sf.lifecycleStage && UNVALIDATED_STAGES.has(sf.lifecycleStage)) continue;
    const f = byName.get(sf.name);
    if (!f) {
      const required = Number(sf.presence?.minCount ?? 0) > 0 || (sf.presence?.minFraction ?? 0) > 0;
      if (required) add(sf.name, [reason('SCHEMA_MISSING_COLUMN', 'Column dropped', 'Column is completely missing')]);
      continue;
    }
    const typeReasons = typeChecks(sf, f);
    const reasons = [...typeReasons, ...presenceChecks(sf, f, numExamples), ...valueCountChecks(sf, f, numExamples)];
    // Domain checks of the expected type make no sense on values of another type (already reported).
    if (typeReasons.length === 0) reasons.push(...domainChecks(schema, sf, f));
    const info: DriftSkewInfo = { path: { step: [sf.name] } };
    for (const [side, other, comparator] of [
      ['drift', opts.previous, sf.driftComparator],
      ['skew', opts.serving, sf.skewComparator],
    ] as const) {
      const of = other?.features.find((x) => x.name === sf.name);
      if (!of || typeReasons.length) continue;
      const c = compare(comparator, f, of, side);
      reasons.push(...c.reasons);
      if (c.measurements.length) info[side === 'drift' ? 'driftMeasurements' : 'skewMeasurements'] = c.measurements;
    }
    if (info.driftMeasurements || info.skewMeasurements) driftSkewInfo.push(info);
    add(sf.name, reasons);
  }
  const known = new Set(schema.feature.map((f) => f.name));
  for (const f of stats.features) {
    if (!known.has(f.name)) add(f.name, [reason('SCHEMA_NEW_COLUMN', 'New column', 'New column (column in data but not in schema)')]);
  }
  const datasetReasons = datasetChecks(schema, stats, opts);
  if (datasetReasons.length) anomalies.datasetAnomalyInfo = anomalyInfo(datasetReasons);
  if (numExamples === 0) anomalies.dataMissing = true;
  if (driftSkewInfo.length) anomalies.driftSkewInfo = driftSkewInfo;
  return anomalies;
}
