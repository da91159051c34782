// Regression metrics over (target, estimate, weight), all weighted: mean_squared_error, rmse, mae, r2
// (1 - residual sum of squares / total sum of squares about the weighted mean label; NaN when the slice's
// labels are all equal), mean_label and mean_prediction. The label variance is accumulated with West's
// weighted update, which stays accurate where Σw·y² - (Σw·y)²/Σw would cancel.

import { UserError } from '../core/errors';
import { ratio, type Accumulator, type EvalExample, type TaskMetrics } from './accumulator';

export const regressionTask: TaskMetrics<number> = {
  prediction(e: EvalExample, index: number): number {
    if (!Number.isFinite(e.label)) throw new UserError(`example ${index}: a regression label must be a finite number, got ${String(e.label)}`);
    const p = e.prediction;
    if (typeof p !== 'number' || !Number.isFinite(p)) throw new UserError(`example ${index}: a regression prediction must be a finite number, got ${JSON.stringify(p)}`);
    return p;
  },
  create: () => new RegressionAccumulator(),
};

class RegressionAccumulator implements Accumulator<number> {
  private count = 0;
  private weight = 0;
  private squaredError = 0;
  private absoluteError = 0;
  private prediction = 0;
  private labelMean = 0;
  /** Σw·(y - weighted mean)². */
  private labelSquares = 0;

  add(label: number, prediction: number, weight: number): void {
    this.count++;
    this.squaredError += weight * (prediction - label) ** 2;
    this.absoluteError += weight * Math.abs(prediction - label);
    this.prediction += weight * prediction;
    if (weight === 0) return;
    this.weight += weight;
    const delta = label - this.labelMean;
    this.labelMean += (weight / this.weight) * delta;
    this.labelSquares += weight * delta * (label - this.labelMean);
  }

  result(): Record<string, number> {
    const mse = ratio(this.squaredError, this.weight);
    return {
      example_count: this.count,
      weighted_example_count: this.weight,
      mean_squared_error: mse,
      rmse: Math.sqrt(mse),
      mae: ratio(this.absoluteError, this.weight),
      r2: 1 - ratio(this.squaredError, this.labelSquares),
      mean_label: this.weight === 0 ? NaN : this.labelMean,
      mean_prediction: ratio(this.prediction, this.weight),
    };
  }
}
