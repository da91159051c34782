// Schema inference with TFDV's rules, from one split's statistics, and the merge SchemaGen uses to combine
// the schemas inferred from several splits (the looser expectation wins, as tfdv.update_schema does).
// Rules: presence min_count 1 when ever present, min_fraction 1 only when never missing; a fixed shape when
// never missing with always the same n > 0 values, else value_count; domains, first match wins: INT in
// [0, 1] or STRING of ≤ 2 true/false tokens → bool_domain; STRING all integers → int_domain; STRING with
// 1..100 distinct values → a named string_domain; otherwise none (FLOAT never gets one).

import type { BoolDomain, FeaturePresence, Schema, SchemaFeature, SchemaFeatureType, StringDomain, ValueCount } from './schema-proto';
import { commonStatsOf, protoDouble, type DatasetFeatureStatistics, type FeatureNameStatistics } from './statistics-proto';

export const MAX_STRING_DOMAIN_SIZE = 100;
const TRUE_TOKENS = new Set(['true', 't', 'yes', 'y']);
const FALSE_TOKENS = new Set(['false', 'f', 'no', 'n']);

export interface InferOptions {
  /** Infer fixed shapes (TFX SchemaGen's infer_feature_shape, default true); false keeps value_count only. */
  inferFeatureShape?: boolean;
}

function schemaType(f: FeatureNameStatistics): SchemaFeatureType {
  if (f.type === 'INT') return 'INT';
  if (f.type === 'FLOAT') return 'FLOAT';
  if (f.type === 'STRUCT') return 'STRUCT';
  return 'BYTES';
}

function custom(f: FeatureNameStatistics, name: string): { num?: number; str?: string } | undefined {
  return f.customStats?.find((c) => c.name === name);
}

/** All values of a string feature with counts, when the statistics list every one of them exactly. */
export function exactValues(f: FeatureNameStatistics): Map<string, number> | undefined {
  const s = f.stringStats;
  if (!s) return undefined;
  const buckets = s.rankHistogram?.buckets ?? [];
  const exact = (custom(f, 'value_counts_max_error')?.num ?? 0) === 0 && buckets.length === Number(s.unique);
  return exact ? new Map(buckets.map((b) => [b.label, b.sampleCount])) : undefined;
}

function boolDomainOf(values: string[]): BoolDomain | undefined {
  if (values.length === 0 || values.length > 2) return undefined;
  const t = values.filter((v) => TRUE_TOKENS.has(v.toLowerCase()));
  const f = values.filter((v) => FALSE_TOKENS.has(v.toLowerCase()));
  if (t.length > 1 || f.length > 1 || t.length + f.length !== values.length) return undefined;
  return { ...(t[0] !== undefined ? { trueValue: t[0] } : {}), ...(f[0] !== undefined ? { falseValue: f[0] } : {}) };
}

function inferFeature(f: FeatureNameStatistics, numExamples: number, opts: InferOptions, stringDomains: StringDomain[]): SchemaFeature {
  const feature: SchemaFeature = { name: f.name, type: schemaType(f) };
  const common = commonStatsOf(f);
  const present = Number(common?.numNonMissing ?? 0);
  const minNv = Number(common?.minNumValues ?? 0);
  const maxNv = Number(common?.maxNumValues ?? 0);

  const presence: FeaturePresence = {};
  if (present > 0 && present === numExamples) presence.minFraction = 1;
  if (present > 0) presence.minCount = '1';
  feature.presence = presence;

  if (opts.inferFeatureShape !== false && present === numExamples && present > 0 && minNv === maxNv && minNv > 0) {
    feature.shape = { dim: [{ size: String(minNv) }] };
  } else if (present > 0) {
    const vc: ValueCount = minNv === maxNv && minNv > 0 ? { min: String(minNv), max: String(maxNv) } : minNv > 0 ? { min: '1' } : {};
    feature.valueCount = vc;
  }

  if (f.type === 'INT' && f.numStats && present > 0) {
    const min = protoDouble(f.numStats.min);
    const max = protoDouble(f.numStats.max);
    if (min >= 0 && max <= 1) feature.boolDomain = {};
  } else if (f.type === 'STRING' && f.stringStats && present > 0) {
    const values = exactValues(f);
    const bool = values && boolDomainOf([...values.keys()]);
    if (bool) feature.boolDomain = bool;
    else if (custom(f, 'domain_info')?.str === 'int_domain {}') feature.intDomain = {};
    else if (values && values.size >= 1 && values.size <= MAX_STRING_DOMAIN_SIZE) {
      stringDomains.push({ name: f.name, value: [...values.keys()].sort() });
      feature.domain = f.name;
    }
  }
  return feature;
}

export function inferSchema(stats: DatasetFeatureStatistics, opts: InferOptions = {}): Schema {
  const stringDomain: StringDomain[] = [];
  const feature = stats.features.map((f) => inferFeature(f, Number(stats.numExamples), opts, stringDomain));
  return { feature, ...(stringDomain.length ? { stringDomain } : {}) };
}

function valueCountOf(f: SchemaFeature): ValueCount | undefined {
  if (f.shape) {
    const n = String(f.shape.dim.reduce((p, d) => p * Number(d.size), 1));
    return { min: n, max: n };
  }
  return f.valueCount;
}

function mergeFeature(a: SchemaFeature, b: SchemaFeature, schema: Schema, other: Schema): SchemaFeature {
  const out: SchemaFeature = { name: a.name, type: a.type === b.type ? a.type : a.type !== 'BYTES' && b.type !== 'BYTES' ? 'FLOAT' : 'BYTES' };
  const presence: FeaturePresence = {};
  if (a.presence?.minFraction === 1 && b.presence?.minFraction === 1) presence.minFraction = 1;
  const minCount = Math.min(Number(a.presence?.minCount ?? 0), Number(b.presence?.minCount ?? 0));
  if (minCount > 0) presence.minCount = String(minCount);
  out.presence = presence;

  if (a.shape && b.shape && JSON.stringify(a.shape) === JSON.stringify(b.shape) && presence.minFraction === 1) out.shape = a.shape;
  else {
    const va = valueCountOf(a);
    const vb = valueCountOf(b);
    if (va && vb) {
      const vc: ValueCount = {};
      const min = Math.min(Number(va.min ?? 0), Number(vb.min ?? 0));
      if (min > 0) vc.min = String(min);
      if (va.max !== undefined && vb.max !== undefined) vc.max = String(Math.max(Number(va.max), Number(vb.max)));
      out.valueCount = vc;
    } else if (va ?? vb) out.valueCount = va ?? vb;
  }

  if (out.type === a.type && out.type === b.type) {
    const da = a.domain ? schema.stringDomain?.find((d) => d.name === a.domain) : undefined;
    const db = b.domain ? other.stringDomain?.find((d) => d.name === b.domain) : undefined;
    if (da && db) {
      const union = [...new Set([...da.value, ...db.value])].sort();
      if (union.length <= MAX_STRING_DOMAIN_SIZE) {
        da.value = union;
        out.domain = a.domain;
      }
    } else if (a.boolDomain && b.boolDomain && JSON.stringify(a.boolDomain) === JSON.stringify(b.boolDomain)) out.boolDomain = a.boolDomain;
    else if (a.intDomain && b.intDomain) out.intDomain = a.intDomain;
  }
  return out;
}

/** A feature seen in only some splits: it may be missing from whole examples, so no fraction and no fixed shape. */
function oneSided(f: SchemaFeature): SchemaFeature {
  const { shape, presence, ...rest } = f;
  return {
    ...rest,
    presence: presence?.minCount ? { minCount: presence.minCount } : {},
    ...(shape ? { valueCount: valueCountOf(f) } : {}),
  };
}

/** Combines schemas inferred from different splits: features of either, each with the looser constraints. */
export function mergeInferredSchemas(a: Schema, b: Schema): Schema {
  const merged: Schema = { feature: [], stringDomain: (a.stringDomain ?? []).map((d) => ({ ...d, value: [...d.value] })) };
  const byName = new Map(b.feature.map((f) => [f.name, f]));
  for (const fa of a.feature) {
    const fb = byName.get(fa.name);
    merged.feature.push(fb ? mergeFeature(fa, fb, merged, b) : oneSided(fa));
    byName.delete(fa.name);
  }
  for (const fb of byName.values()) {
    const domain = fb.domain ? b.stringDomain?.find((d) => d.name === fb.domain) : undefined;
    if (domain) merged.stringDomain!.push(domain);
    merged.feature.push(oneSided(fb));
  }
  // Only keep domains some feature still references.
  const used = new Set(merged.feature.map((f) => f.domain).filter(Boolean));
  merged.stringDomain = merged.stringDomain!.filter((d) => used.has(d.name));
  if (merged.stringDomain.length === 0) delete merged.stringDomain;
  return merged;
}
