// Metrics per slice in one pass: each example is checked once, then added to the accumulator of every slice
// it falls in (created on first sight), so N examples cost N × (slices per example) additions, not one
// filter of the whole set per slice, and a split can be streamed through in chunks. Slices come back
// Overall first (see compareSliceKeys) with the config's metrics; NaN marks a metric that is undefined on a
// slice (written as null in JSON).

import { UserError } from '../core/errors';
import type { Accumulator, EvalExample, TaskMetrics } from './accumulator';
import { binaryTask } from './binary-metrics';
import type { EvalConfig } from './eval-config';
import { multiclassTask } from './multiclass-metrics';
import { regressionTask } from './regression-metrics';
import { compareSliceKeys, sliceId, sliceName, slicesOf, type SliceKey } from './slicing';

export interface SliceMetrics {
  /** Display name: "Overall", "island:Biscoe", "island:Biscoe,sex:MALE". */
  slice: string;
  slice_key: SliceKey;
  /** Examples in the slice (unweighted), whether or not example_count is among the metrics. */
  example_count: number;
  metrics: Record<string, number>;
}

export interface MetricsOptions {
  /** Multiclass only (and required there): class names by index, for the per-class keys. */
  classNames?: readonly string[];
}

/** Metrics per slice, fed example by example (or chunk by chunk, from an async stream of predictions). */
export interface MetricsAccumulator {
  add(example: EvalExample): void;
  /** The slices seen so far, Overall first. */
  result(): SliceMetrics[];
}

export function metricsAccumulator(config: EvalConfig, options: MetricsOptions = {}): MetricsAccumulator {
  switch (config.task) {
    case 'binary':
      return perSlice(binaryTask(config.decision_threshold), config);
    case 'multiclass':
      return perSlice(multiclassTask(checkClassNames(options.classNames)), config);
    case 'regression':
      return perSlice(regressionTask, config);
  }
}

/** Metrics per slice of examples already at hand (a list or a generator). */
export function computeMetrics(examples: Iterable<EvalExample>, config: EvalConfig, options: MetricsOptions = {}): SliceMetrics[] {
  const accumulator = metricsAccumulator(config, options);
  for (const e of examples) accumulator.add(e);
  return accumulator.result();
}

function checkClassNames(names: readonly string[] | undefined): readonly string[] {
  if (!names || names.length < 2) throw new UserError('multiclass evaluation needs the names of at least two classes');
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new UserError(`class name "${repeated}" appears twice`);
  return names;
}

function perSlice<P>(task: TaskMetrics<P>, config: EvalConfig): MetricsAccumulator {
  const slices = new Map<string, { key: SliceKey; accumulator: Accumulator<P> }>();
  const wanted = new Set(config.metrics);
  let index = 0;
  return {
    add(e: EvalExample): void {
      const prediction = task.prediction(e, index);
      const weight = e.weight ?? 1;
      if (!(Number.isFinite(weight) && weight >= 0)) throw new UserError(`example ${index}: a weight must be a finite number >= 0, got ${String(weight)}`);
      for (const key of slicesOf(e.features, config.slicing_specs)) {
        const id = sliceId(key);
        let slice = slices.get(id);
        if (!slice) slices.set(id, (slice = { key, accumulator: task.create() }));
        slice.accumulator.add(e.label, prediction, weight);
      }
      index++;
    },
    result(): SliceMetrics[] {
      return [...slices.values()]
        .sort((a, b) => compareSliceKeys(a.key, b.key))
        .map(({ key, accumulator }) => {
          const all = accumulator.result();
          // Per-class keys ("precision/Adelie") come with their metric ("precision").
          const metrics = Object.fromEntries(Object.entries(all).filter(([name]) => wanted.has(name.split('/')[0])));
          return { slice: sliceName(key), slice_key: key, example_count: all.example_count, metrics };
        });
    },
  };
}
