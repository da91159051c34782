// The evaluation config (TFMA's EvalConfig, as snake_case JSON): which task the model solves, how to slice
// the eval data, which metrics to compute and which thresholds bless the model. Validated with zod so every
// error names its field; cross-field rules (metric names per task, thresholds on computed metrics and on
// slices that are computed at all) are checked here too, before any example is read.

import { z } from 'zod';
import { UserError } from '../core/errors';
import { formatZodIssues } from '../core/executor-io';

export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/**
 * Metric names per task, in output order; all of them are computed when `metrics` is not given.
 * Multiclass `precision` / `recall` are per class: they produce `precision/<class>` and `recall/<class>`.
 */
export const TASK_METRICS: Readonly<Record<Task, readonly string[]>> = {
  binary: ['example_count', 'weighted_example_count', 'accuracy', 'auc', 'auc_pr', 'log_loss', 'precision', 'recall', 'calibration', 'mean_label', 'mean_prediction'],
  multiclass: ['example_count', 'weighted_example_count', 'accuracy', 'log_loss', 'precision', 'recall', 'macro_precision', 'macro_recall'],
  regression: ['example_count', 'weighted_example_count', 'mean_squared_error', 'rmse', 'mae', 'r2', 'mean_label', 'mean_prediction'],
};

/** Metrics that are one value per class in multiclass evaluation (key `<metric>/<class>`). */
export const PER_CLASS_METRICS: readonly string[] = ['precision', 'recall'];

export const SlicingSpec = z
  .strictObject({
    feature_keys: z.array(z.string().min(1)).optional().describe('One slice per value of these features (two or more: their cross)'),
    feature_values: z.record(z.string().min(1), z.string()).optional().describe('Only the slice where each feature has this value'),
  })
  .describe('{} is the overall slice');

const ValueThreshold = z
  .strictObject({
    lower_bound: z.number().optional().describe('The metric must be >= this'),
    upper_bound: z.number().optional().describe('The metric must be <= this'),
  })
  .refine((t) => t.lower_bound !== undefined || t.upper_bound !== undefined, 'give lower_bound, upper_bound or both')
  .refine((t) => t.lower_bound === undefined || t.upper_bound === undefined || t.lower_bound <= t.upper_bound, 'lower_bound is above upper_bound');

export const DIRECTIONS = ['HIGHER_IS_BETTER', 'LOWER_IS_BETTER'] as const;
export type Direction = (typeof DIRECTIONS)[number];

const ChangeThreshold = z
  .strictObject({
    absolute: z.number().optional().describe('Bound on current - baseline'),
    relative: z.number().optional().describe('Bound on (current - baseline) / |baseline|'),
    direction: z.enum(DIRECTIONS).describe('HIGHER_IS_BETTER: the change must be >= the bounds; LOWER_IS_BETTER: <= the bounds'),
  })
  .refine((t) => t.absolute !== undefined || t.relative !== undefined, 'give absolute, relative or both');

export const MetricThreshold = z
  .strictObject({
    value_threshold: ValueThreshold.optional().describe('Bounds on the value'),
    change_threshold: ChangeThreshold.optional().describe('Bounds on the change against the baseline model'),
  })
  .refine((t) => t.value_threshold || t.change_threshold, 'give value_threshold, change_threshold or both');

const PerSliceThreshold = z.strictObject({
  slicing_specs: z.array(SlicingSpec).min(1).describe('The slices this threshold applies to'),
  metric: z.string().min(1).describe('Metric name'),
  threshold: MetricThreshold.describe('The threshold on that metric'),
});

const EvalConfigObject = z.strictObject({
  label_key: z.string().min(1).describe('Feature holding the label'),
  prediction_key: z.string().min(1).optional().describe('Model output to evaluate, when the model has several'),
  example_weight_key: z.string().min(1).optional().describe('Feature holding the example weight (default: every example weighs 1)'),
  task: z.enum(TASKS).describe("The model's task; it decides the metrics"),
  slicing_specs: z.array(SlicingSpec).default([{}]).describe('Slices to compute metrics on; {} is the overall slice'),
  metrics: z.array(z.string().min(1)).optional().describe('Metric names to compute (default: every metric of the task)'),
  thresholds: z.record(z.string().min(1), MetricThreshold).default({}).describe('Thresholds on the overall slice, by metric name'),
  per_slice_thresholds: z.array(PerSliceThreshold).default([]).describe('Thresholds on the slices matching their slicing_specs'),
  decision_threshold: z.number().min(0).max(1).default(0.5).describe('Binary only: a prediction above this is the positive class'),
});

type Spec = z.output<typeof SlicingSpec>;

function specKeys(spec: Spec): string[] {
  return [...(spec.feature_keys ?? []), ...Object.keys(spec.feature_values ?? {})].sort();
}

/**
 * Whether the slices computed for `computed` include every slice `wanted` can match: the same features, and
 * each value `computed` fixes fixed alike in `wanted`. Thresholds on slices nobody computes are config mistakes.
 */
function covers(computed: Spec, wanted: Spec): boolean {
  if (specKeys(computed).join('\0') !== specKeys(wanted).join('\0')) return false;
  const fixed = wanted.feature_values ?? {};
  return Object.entries(computed.feature_values ?? {}).every(([k, v]) => fixed[k] === v);
}

function checkSpec(spec: Spec, path: PropertyKey[], ctx: z.RefinementCtx): void {
  const keys = specKeys(spec);
  const repeated = keys.find((k, i) => keys[i + 1] === k);
  if (repeated !== undefined) ctx.addIssue({ code: 'custom', path, message: `feature "${repeated}" appears twice in the slicing spec` });
}

export const EvalConfig = EvalConfigObject.superRefine((c, ctx) => {
  const known = TASK_METRICS[c.task];
  c.metrics?.forEach((m, i) => {
    if (!known.includes(m)) ctx.addIssue({ code: 'custom', path: ['metrics', i], message: `"${m}" is not a ${c.task} metric (${known.join(', ')})` });
    else if (c.metrics!.indexOf(m) !== i) ctx.addIssue({ code: 'custom', path: ['metrics', i], message: `"${m}" is listed twice` });
  });
  const computed = new Set((c.metrics ?? known).filter((m) => known.includes(m)));
  const perClass = (m: string): boolean => c.task === 'multiclass' && PER_CLASS_METRICS.includes(m);
  const isComputed = (m: string): boolean => {
    const slash = m.indexOf('/');
    const family = slash < 0 ? m : m.slice(0, slash);
    // A per-class metric is thresholded one class at a time ("precision/Adelie"), any other one whole.
    return computed.has(family) && (perClass(family) ? slash > 0 && slash < m.length - 1 : slash < 0);
  };
  const notComputed = (m: string): string =>
    perClass(m)
      ? `"${m}" is per class: name one class, e.g. "${m}/<class>"`
      : `metric "${m}" is not computed (metrics: ${[...computed].join(', ') || 'none'})`;

  c.slicing_specs.forEach((s, i) => checkSpec(s, ['slicing_specs', i], ctx));
  for (const m of Object.keys(c.thresholds)) {
    if (!isComputed(m)) ctx.addIssue({ code: 'custom', path: ['thresholds', m], message: notComputed(m) });
  }
  if (Object.keys(c.thresholds).length > 0 && !c.slicing_specs.some((s) => covers(s, {}))) {
    ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'thresholds apply to the overall slice, which slicing_specs does not include (add {})' });
  }
  c.per_slice_thresholds.forEach((t, i) => {
    if (!isComputed(t.metric)) ctx.addIssue({ code: 'custom', path: ['per_slice_thresholds', i, 'metric'], message: notComputed(t.metric) });
    t.slicing_specs.forEach((s, j) => {
      const path = ['per_slice_thresholds', i, 'slicing_specs', j];
      checkSpec(s, path, ctx);
      if (!c.slicing_specs.some((computedSpec) => covers(computedSpec, s))) {
        ctx.addIssue({ code: 'custom', path, message: 'no entry of slicing_specs computes these slices' });
      }
    });
  });
}).transform((c) => ({ ...c, metrics: c.metrics ?? [...TASK_METRICS[c.task]] }));

export type EvalConfig = z.output<typeof EvalConfig>;
export type EvalConfigInput = z.input<typeof EvalConfig>;
export type SlicingSpec = z.output<typeof SlicingSpec>;
export type MetricThreshold = z.output<typeof MetricThreshold>;

/** Parses and validates a config, throwing a UserError that names `where` and every bad field. */
export function parseEvalConfig(raw: unknown, where = 'eval config'): EvalConfig {
  const parsed = EvalConfig.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid ${where}: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}
