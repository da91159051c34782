// Thresholds and the blessing, with TFMA's semantics. Every bound of every threshold is one check on one
// slice with a one-line reason; the model is blessed when there is at least one check and all pass.
//   - value_threshold: lower_bound <= value <= upper_bound, both inclusive;
//   - change_threshold against the baseline model's value on the same slice: absolute = current - baseline,
//     relative = (current - baseline) / |baseline|. HIGHER_IS_BETTER passes when the change is >= the bound
//     (absolute -0.01 allows a drop of at most 0.01), LOWER_IS_BETTER when it is <= the bound. A 0 baseline
//     makes the relative change 0 if the value is still 0 and ±Infinity otherwise, so the direction alone
//     decides (TFMA yields NaN there, which fails);
//   - no baseline model (the first run): change thresholds pass ("rubber stamp"), saying so;
//   - a baseline without the slice or metric, or with NaN there, fails: the change cannot be computed;
//   - a NaN current value (undefined on the slice, e.g. AUC of a single-class slice) fails every bound;
//   - a threshold's slicing spec that matches no computed slice fails, naming the spec;
//   - no thresholds at all: not blessed (a model is only blessed by passing something).

import type { Direction, EvalConfig, MetricThreshold, SlicingSpec } from './eval-config';
import type { SliceMetrics } from './metrics';
import { sliceId, sliceMatchesSpec, specName } from './slicing';

export type ThresholdCheck =
  | { kind: 'lower_bound'; bound: number }
  | { kind: 'upper_bound'; bound: number }
  | { kind: 'absolute_change'; bound: number; direction: Direction }
  | { kind: 'relative_change'; bound: number; direction: Direction };

export interface ThresholdResult {
  /** The slice's display name; for a slice missing from the evaluation, its spec ("island:Torgersen", "sex:*"). */
  slice: string;
  metric: string;
  threshold: ThresholdCheck;
  /** NaN when undefined or missing. */
  value: number;
  /** Set for change checks when the baseline has a value. */
  baseline_value?: number;
  passed: boolean;
  reason: string;
}

export interface ValidationResult {
  blessed: boolean;
  results: ThresholdResult[];
  /** The reasons of the failed checks (or why there was nothing to check). */
  failures: string[];
}

export const NO_THRESHOLDS = 'no thresholds are configured; a model is only blessed by passing thresholds';

function checksOf(t: MetricThreshold): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  const { value_threshold: value, change_threshold: change } = t;
  if (value?.lower_bound !== undefined) checks.push({ kind: 'lower_bound', bound: value.lower_bound });
  if (value?.upper_bound !== undefined) checks.push({ kind: 'upper_bound', bound: value.upper_bound });
  if (change?.absolute !== undefined) checks.push({ kind: 'absolute_change', bound: change.absolute, direction: change.direction });
  if (change?.relative !== undefined) checks.push({ kind: 'relative_change', bound: change.relative, direction: change.direction });
  return checks;
}

/** Six significant digits, or more so the whole part and two decimals always show. */
function short(x: number): string {
  const wholeDigits = Math.max(1, Math.floor(Math.log10(Math.abs(x))) + 1);
  return String(Number(x.toPrecision(Math.min(21, Math.max(6, wholeDigits + 2)))));
}

/** A number for a reason, in full when the short forms of it and the bound it is compared with are equal. */
function fmt(x: number, other?: number): string {
  return other !== undefined && x !== other && short(x) === short(other) ? String(x) : short(x);
}

function describe(check: ThresholdCheck): string {
  switch (check.kind) {
    case 'lower_bound':
      return `the lower bound ${fmt(check.bound)}`;
    case 'upper_bound':
      return `the upper bound ${fmt(check.bound)}`;
    default:
      return `the ${check.kind.replace('_', ' ')} bound ${fmt(check.bound)} (${check.direction})`;
  }
}

type Outcome = Pick<ThresholdResult, 'passed' | 'reason' | 'baseline_value'>;

function checkValue(check: ThresholdCheck & { kind: 'lower_bound' | 'upper_bound' }, subject: string, value: number): Outcome {
  const lower = check.kind === 'lower_bound';
  const passed = lower ? value >= check.bound : value <= check.bound;
  const verdict = passed ? 'meets' : lower ? 'is below' : 'is above';
  return { passed, reason: `${subject} = ${fmt(value, check.bound)} ${verdict} ${describe(check)}` };
}

/** Change checks; `baseline` is undefined without a baseline model, null when it lacks the slice or metric. */
function checkChange(check: ThresholdCheck & { kind: 'absolute_change' | 'relative_change' }, subject: string, value: number, baseline: number | null | undefined): Outcome {
  if (baseline === undefined) return { passed: true, reason: `${subject}: no baseline model to compare with, so ${describe(check)} passes (first run)` };
  if (baseline === null) return { passed: false, reason: `${subject}: the baseline has no value on this slice, so ${describe(check)} cannot be checked` };
  if (Number.isNaN(baseline)) return { passed: false, reason: `${subject}: the baseline value is NaN, so ${describe(check)} cannot be checked`, baseline_value: baseline };
  const diff = value - baseline;
  const change = check.kind === 'absolute_change' ? diff : diff === 0 ? 0 : diff / Math.abs(baseline);
  const higher = check.direction === 'HIGHER_IS_BETTER';
  const passed = higher ? change >= check.bound : change <= check.bound;
  const verdict = passed ? 'meets' : higher ? 'is below' : 'is above';
  const what = check.kind === 'absolute_change' ? 'absolute change' : 'relative change';
  return {
    passed,
    baseline_value: baseline,
    reason: `${subject} = ${fmt(value)} vs baseline ${fmt(baseline)}: ${what} ${fmt(change, check.bound)} ${verdict} the bound ${fmt(check.bound)} (${check.direction})`,
  };
}

function check(c: ThresholdCheck, slice: SliceMetrics, metric: string, baseline: SliceMetrics | null | undefined): ThresholdResult {
  const subject = `${metric} on ${slice.slice}`;
  const value = slice.metrics[metric];
  const base = { slice: slice.slice, metric, threshold: c };
  if (value === undefined) return { ...base, value: NaN, passed: false, reason: `${subject} is not computed, so ${describe(c)} cannot be checked` };
  if (Number.isNaN(value)) return { ...base, value, passed: false, reason: `${subject} is NaN (undefined on this slice), so it cannot meet ${describe(c)}` };
  const outcome =
    c.kind === 'lower_bound' || c.kind === 'upper_bound'
      ? checkValue(c, subject, value)
      : checkChange(c, subject, value, baseline && (baseline.metrics[metric] ?? null));
  return { ...base, value, ...outcome };
}

/**
 * Checks the current model's metrics against the config's thresholds (and the baseline model's metrics,
 * when there is a baseline model) and decides the blessing.
 */
export function validateMetrics(current: readonly SliceMetrics[], baseline: readonly SliceMetrics[] | undefined, config: EvalConfig): ValidationResult {
  const targets: { specs: SlicingSpec[]; metric: string; threshold: MetricThreshold; source: string }[] = [
    ...Object.entries(config.thresholds).map(([metric, threshold]) => ({ specs: [{}], metric, threshold, source: `thresholds.${metric}` })),
    ...config.per_slice_thresholds.map((t, i) => ({ specs: t.slicing_specs, metric: t.metric, threshold: t.threshold, source: `per_slice_thresholds[${i}]` })),
  ];
  const baselineOf = baseline && new Map(baseline.map((s) => [sliceId(s.slice_key), s]));
  const results: ThresholdResult[] = [];
  for (const t of targets) {
    const checks = checksOf(t.threshold);
    const matched = new Map<string, SliceMetrics>();
    for (const spec of t.specs) {
      const slices = current.filter((s) => sliceMatchesSpec(s.slice_key, spec));
      for (const s of slices) matched.set(sliceId(s.slice_key), s);
      if (slices.length > 0) continue;
      const name = specName(spec);
      for (const c of checks) {
        const reason = `slice ${name} (${t.source}) is not in the evaluation, so ${t.metric} cannot be checked against ${describe(c)}`;
        results.push({ slice: name, metric: t.metric, threshold: c, value: NaN, passed: false, reason });
      }
    }
    for (const [id, s] of matched) {
      for (const c of checks) results.push(check(c, s, t.metric, baselineOf && (baselineOf.get(id) ?? null)));
    }
  }
  const failures = results.filter((r) => !r.passed).map((r) => r.reason);
  if (results.length === 0) failures.push(NO_THRESHOLDS);
  return { blessed: failures.length === 0, results, failures };
}
