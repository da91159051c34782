// What every task's metrics share: the example the caller hands over, and the per-slice accumulator a task
// creates. Examples are checked once (naming the bad one) and then added to each slice they fall in.

import type { Features } from './slicing';

export interface EvalExample {
  /** binary: 0 or 1; multiclass: the class index; regression: the target. */
  label: number;
  /** binary: probability of class 1; multiclass: one probability per class; regression: the estimate. */
  prediction: number | readonly number[];
  /** Default 1; the caller reads it from example_weight_key. Must be finite and >= 0. */
  weight?: number;
  /** Raw features, for slicing. */
  features: Features;
}

export interface Accumulator<P> {
  add(label: number, prediction: P, weight: number): void;
  /** Every metric of the task, always with example_count; NaN where undefined on the slice. */
  result(): Record<string, number>;
}

export interface TaskMetrics<P> {
  /** The example's prediction in the task's shape; throws a UserError naming the example when it does not fit. */
  prediction(e: EvalExample, index: number): P;
  create(): Accumulator<P>;
}

/** a / b, NaN when b is 0 (the metric is undefined on this slice). */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}
