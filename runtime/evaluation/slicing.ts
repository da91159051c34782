// Slices as TFMA defines them. A slice key is a list of (feature, value) pairs sorted by feature name: [] is
// the overall slice ("Overall"), [["island","Biscoe"]] is "island:Biscoe", a cross is
// "island:Biscoe,sex:MALE". An example with a missing value (null, undefined, NaN or ±Infinity) for a
// feature a spec slices on falls in no slice of that spec — it still counts in Overall and in specs on
// other features. Values are strings, numbers, bigints (as numbers when safe) or booleans (as "true" /
// "false"); slicing on a feature holding lists or objects is an error.

import { UserError } from '../core/errors';
import type { SlicingSpec } from './eval-config';

/** An eval example's raw features (a row as read; DuckDB hands INT64 columns over as bigint). */
export type Features = Readonly<Record<string, unknown>>;

/** Numbers stay numbers so the JSON slice key keeps the feature's type, as TFMA's does. */
export type SliceValue = string | number;
export type SliceKey = [feature: string, value: SliceValue][];

export const OVERALL = 'Overall';

/** The slice value of a feature value, or undefined when it is missing. */
function sliceValue(features: Features, feature: string): SliceValue | undefined {
  const v = features[feature];
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : undefined;
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    case 'boolean':
      return String(v);
    case 'undefined':
      return undefined;
    default:
      if (v === null) return undefined;
      throw new UserError(`cannot slice on feature "${feature}": its values are ${Array.isArray(v) ? 'list' : typeof v}s, not strings, numbers or booleans`);
  }
}

const byFeature = (a: [string, SliceValue], b: [string, SliceValue]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The slice of one spec an example falls in, or undefined when it falls in none. */
function sliceOf(features: Features, spec: SlicingSpec): SliceKey | undefined {
  const key: SliceKey = [];
  for (const [feature, wanted] of Object.entries(spec.feature_values ?? {})) {
    const v = sliceValue(features, feature);
    if (v === undefined || String(v) !== wanted) return undefined;
    key.push([feature, v]);
  }
  for (const feature of spec.feature_keys ?? []) {
    const v = sliceValue(features, feature);
    if (v === undefined) return undefined;
    key.push([feature, v]);
  }
  return key.sort(byFeature);
}

/** Every slice an example falls in, once each (two specs may produce the same slice). */
export function slicesOf(features: Features, specs: readonly SlicingSpec[]): SliceKey[] {
  const seen = new Map<string, SliceKey>();
  for (const spec of specs) {
    const key = sliceOf(features, spec);
    if (key) seen.set(sliceId(key), key);
  }
  return [...seen.values()];
}

/** A collision-free identity for maps (display names can collide: values may contain ":" or ","). */
export function sliceId(key: SliceKey): string {
  return JSON.stringify(key);
}

/** TFMA's display form: "Overall", "island:Biscoe", "island:Biscoe,sex:MALE". */
export function sliceName(key: SliceKey): string {
  return key.length === 0 ? OVERALL : key.map(([f, v]) => `${f}:${v}`).join(',');
}

/** Whether a computed slice is one of the slices a spec describes (TFMA's is_slice_applicable). */
export function sliceMatchesSpec(key: SliceKey, spec: SlicingSpec): boolean {
  const values = spec.feature_values ?? {};
  const features = [...(spec.feature_keys ?? []), ...Object.keys(values)];
  if (features.length !== key.length) return false;
  const valueOf = new Map(key.map(([f, v]) => [f, v]));
  return features.every((f) => valueOf.has(f) && (values[f] === undefined || String(valueOf.get(f)) === values[f]));
}

/** A spec in display form, "*" standing for any value: "Overall", "island:*", "island:Dream,sex:*". */
export function specName(spec: SlicingSpec): string {
  const pairs: [string, string][] = [...(spec.feature_keys ?? []).map((f): [string, string] => [f, '*']), ...Object.entries(spec.feature_values ?? {})];
  return pairs.length === 0 ? OVERALL : pairs.sort(byFeature).map(([f, v]) => `${f}:${v}`).join(',');
}

/** Output order: Overall first, then fewer features first, then by feature names and values. */
export function compareSliceKeys(a: SliceKey, b: SliceKey): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const byName = byFeature(a[i], b[i]);
    if (byName !== 0) return byName;
    const [x, y] = [a[i][1], b[i][1]];
    if (x !== y) return typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : 1;
  }
  return 0;
}
