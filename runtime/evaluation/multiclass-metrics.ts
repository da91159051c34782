// Multiclass metrics over (class index, probability vector, weight): weighted sums only, so a slice's
// accumulator is a few numbers per class.
//
// Conventions:
//   - the predicted class is the argmax (the first one on a tie);
//   - log_loss is sparse categorical cross-entropy, -ln p[label] with p clipped to [1e-7, 1 - 1e-7];
//   - precision/<class> is NaN when the slice has no prediction of that class, recall/<class> when it has no
//     example of it; macro_precision / macro_recall average the classes where the value is defined (a class
//     absent from a slice does not drag its macro recall to 0) and are NaN when none is.

import { UserError } from '../core/errors';
import { ratio, type Accumulator, type EvalExample, type TaskMetrics } from './accumulator';
import { LOG_LOSS_EPSILON } from './binary-metrics';

export function multiclassTask(classNames: readonly string[]): TaskMetrics<readonly number[]> {
  const k = classNames.length;
  return {
    prediction(e: EvalExample, index: number): readonly number[] {
      if (!Number.isInteger(e.label) || e.label < 0 || e.label >= k) {
        throw new UserError(`example ${index}: a multiclass label must be a class index in [0, ${k}), got ${String(e.label)}`);
      }
      const p = e.prediction;
      if (!Array.isArray(p) || p.length !== k || !p.every((x) => typeof x === 'number' && x >= 0 && x <= 1)) {
        throw new UserError(`example ${index}: a multiclass prediction must be ${k} probabilities in [0, 1] (one per class), got ${JSON.stringify(p)}`);
      }
      return p;
    },
    create: () => new MulticlassAccumulator(classNames),
  };
}

function argmax(p: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

function definedMean(values: number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return ratio(defined.reduce((s, v) => s + v, 0), defined.length);
}

class MulticlassAccumulator implements Accumulator<readonly number[]> {
  private count = 0;
  private weight = 0;
  private correct = 0;
  private logLoss = 0;
  /** Per class: weight labelled c, weight predicted c, weight labelled and predicted c. */
  private readonly actual: Float64Array;
  private readonly predicted: Float64Array;
  private readonly truePositive: Float64Array;

  constructor(private readonly classNames: readonly string[]) {
    this.actual = new Float64Array(classNames.length);
    this.predicted = new Float64Array(classNames.length);
    this.truePositive = new Float64Array(classNames.length);
  }

  add(label: number, prediction: readonly number[], weight: number): void {
    const top = argmax(prediction);
    this.count++;
    this.weight += weight;
    this.actual[label] += weight;
    this.predicted[top] += weight;
    if (top === label) {
      this.correct += weight;
      this.truePositive[label] += weight;
    }
    this.logLoss -= weight * Math.log(Math.min(Math.max(prediction[label], LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON));
  }

  result(): Record<string, number> {
    const precision = this.classNames.map((_, c) => ratio(this.truePositive[c], this.predicted[c]));
    const recall = this.classNames.map((_, c) => ratio(this.truePositive[c], this.actual[c]));
    const out: Record<string, number> = {
      example_count: this.count,
      weighted_example_count: this.weight,
      accuracy: ratio(this.correct, this.weight),
      log_loss: ratio(this.logLoss, this.weight),
    };
    this.classNames.forEach((name, c) => (out[`precision/${name}`] = precision[c]));
    this.classNames.forEach((name, c) => (out[`recall/${name}`] = recall[c]));
    out.macro_precision = definedMean(precision);
    out.macro_recall = definedMean(recall);
    return out;
  }
}
