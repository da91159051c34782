// Binary classification metrics over (label 0/1, predicted probability of the positive class, weight).
// The accumulator keeps every triple of its slice because ROC AUC and PR AUC are computed exactly (a sort)
// instead of TFMA's 10,000-bucket approximation; everything else is a weighted sum.
//
// Conventions (TFMA's unless noted):
//   - a prediction is positive when it is > decision_threshold (Keras / TFMA confusion matrices);
//   - auc: ROC AUC = P(score of a random positive > that of a random negative), ties counting 1/2, weighted;
//   - auc_pr: average precision, Σ over distinct scores of ΔRecall × Precision (scikit-learn's
//     average_precision_score; TFMA interpolates its buckets instead, which can read slightly higher);
//   - log_loss clips predictions to [1e-7, 1 - 1e-7];
//   - calibration = Σw·prediction / Σw·label;
//   - undefined values are NaN: auc with a single class in the slice, auc_pr and recall without positives,
//     precision without predicted positives, calibration without positive labels, means when Σw = 0.

import { UserError } from '../core/errors';
import { ratio, type Accumulator, type EvalExample, type TaskMetrics } from './accumulator';

export const LOG_LOSS_EPSILON = 1e-7;

export function binaryTask(decisionThreshold: number): TaskMetrics<number> {
  return {
    prediction(e: EvalExample, index: number): number {
      if (e.label !== 0 && e.label !== 1) throw new UserError(`example ${index}: a binary label must be 0 or 1, got ${String(e.label)}`);
      const p = e.prediction;
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
        throw new UserError(`example ${index}: a binary prediction must be a probability in [0, 1], got ${JSON.stringify(p)}`);
      }
      return p;
    },
    create: () => new BinaryAccumulator(decisionThreshold),
  };
}

class BinaryAccumulator implements Accumulator<number> {
  private readonly labels: number[] = [];
  private readonly predictions: number[] = [];
  private readonly weights: number[] = [];

  constructor(private readonly decisionThreshold: number) {}

  add(label: number, prediction: number, weight: number): void {
    this.labels.push(label);
    this.predictions.push(prediction);
    this.weights.push(weight);
  }

  result(): Record<string, number> {
    let w = 0, wLabel = 0, wPrediction = 0, wCorrect = 0, logLoss = 0, tp = 0, fp = 0;
    for (let i = 0; i < this.labels.length; i++) {
      const [y, p, wi] = [this.labels[i], this.predictions[i], this.weights[i]];
      const positive = p > this.decisionThreshold;
      const clipped = Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
      w += wi;
      wLabel += wi * y;
      wPrediction += wi * p;
      if (positive === (y === 1)) wCorrect += wi;
      if (positive && y === 1) tp += wi;
      else if (positive) fp += wi;
      logLoss -= wi * Math.log(y === 1 ? clipped : 1 - clipped);
    }
    return {
      example_count: this.labels.length,
      weighted_example_count: w,
      accuracy: ratio(wCorrect, w),
      auc: rocAuc(this.labels, this.predictions, this.weights),
      auc_pr: averagePrecision(this.labels, this.predictions, this.weights),
      log_loss: ratio(logLoss, w),
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, wLabel),
      calibration: ratio(wPrediction, wLabel),
      mean_label: ratio(wLabel, w),
      mean_prediction: ratio(wPrediction, w),
    };
  }
}

/** Groups of equal scores in ascending score order, with the positive and negative weight of each. */
function scoreGroups(labels: number[], scores: number[], weights: number[]): { positive: number; negative: number }[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const groups: { positive: number; negative: number }[] = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (k === 0 || scores[i] !== scores[order[k - 1]]) groups.push({ positive: 0, negative: 0 });
    const g = groups[groups.length - 1];
    if (labels[i] === 1) g.positive += weights[i];
    else g.negative += weights[i];
  }
  return groups;
}

/** Exact weighted ROC AUC: Σ over positives of the negative weight scored below, plus half the tied weight. */
function rocAuc(labels: number[], scores: number[], weights: number[]): number {
  let negativesBelow = 0, pairs = 0, positives = 0;
  for (const g of scoreGroups(labels, scores, weights)) {
    pairs += g.positive * (negativesBelow + g.negative / 2);
    negativesBelow += g.negative;
    positives += g.positive;
  }
  return ratio(pairs, positives * negativesBelow);
}

/** Average precision: walking thresholds from the highest score down, Σ ΔRecall × Precision. */
function averagePrecision(labels: number[], scores: number[], weights: number[]): number {
  const groups = scoreGroups(labels, scores, weights).reverse();
  const positives = groups.reduce((s, g) => s + g.positive, 0);
  let truePositives = 0, predicted = 0, sum = 0;
  for (const g of groups) {
    truePositives += g.positive;
    predicted += g.positive + g.negative;
    // A group without positive weight moves no recall (and may have 0 predicted weight so far).
    if (g.positive > 0) sum += g.positive * (truePositives / predicted);
  }
  return ratio(sum, positives);
}
