// Metrics against hand-computed values: binary (ROC AUC with a tie, average precision, log loss, the
// decision threshold, weights, single-class slices), multiclass per class and macro, regression (weighted
// too), and properties: AUC is the pairwise-comparison probability, an integer weight is that many copies.

import fc from 'fast-check';
import { computeMetrics, parseEvalConfig, type EvalExample } from '../../../runtime/evaluation';

const overall = (task: 'binary' | 'multiclass' | 'regression', extra: Record<string, unknown> = {}) => parseEvalConfig({ label_key: 'y', task, ...extra });

function metricsOf(examples: EvalExample[], config = overall('binary'), classNames?: string[]): Record<string, number> {
  const slices = computeMetrics(examples, config, { classNames });
  expect(slices.map((s) => s.slice)).toEqual(['Overall']);
  return slices[0].metrics;
}

const binary = (labels: number[], predictions: number[], weights?: number[]): EvalExample[] =>
  labels.map((label, i) => ({ label, prediction: predictions[i], weight: weights?.[i], features: {} }));

// Positives score 0.9, 0.6, 0.4; negatives 0.6, 0.2, 0.1 (one tie at 0.6).
const LABELS = [1, 1, 0, 0, 1, 0];
const SCORES = [0.9, 0.6, 0.6, 0.2, 0.4, 0.1];

describe('binary', () => {
  test('every metric on a six-example set with a tied score', () => {
    const m = metricsOf(binary(LABELS, SCORES));
    // Pairs won: 0.9 beats 3, 0.6 beats 2 and ties 1, 0.4 beats 2 → 7.5 of 9.
    expect(m.auc).toBeCloseTo(7.5 / 9, 12);
    // Thresholds 0.9, 0.6, 0.4: precision 1, 2/3, 3/4, each adding a third of the recall.
    expect(m.auc_pr).toBeCloseTo(29 / 36, 12);
    // Positive when > 0.5: TP 2 (0.9, 0.6), FP 1 (0.6), FN 1 (0.4), TN 2.
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    // -(2 ln 0.9 + ln 0.6 + 2 ln 0.4 + ln 0.8) / 6
    expect(m.log_loss).toBeCloseTo(0.4628786, 6);
    expect(m.mean_label).toBe(0.5);
    expect(m.mean_prediction).toBeCloseTo(2.8 / 6, 12);
    expect(m.calibration).toBeCloseTo(2.8 / 3, 12);
    expect(m.example_count).toBe(6);
    expect(m.weighted_example_count).toBe(6);
    expect(Object.keys(m)).toEqual(['example_count', 'weighted_example_count', 'accuracy', 'auc', 'auc_pr', 'log_loss', 'precision', 'recall', 'calibration', 'mean_label', 'mean_prediction']);
  });

  test('weights: weight 2 on the top positive and 0 on the lowest negative change every ratio', () => {
    const m = metricsOf(binary(LABELS, SCORES, [2, 1, 1, 1, 1, 0]));
    // Positive weight 4, negative weight 2 (0.6 and 0.2): 2·2 + 1·(1 + ½) + 1·1 = 6.5 of 8.
    expect(m.auc).toBeCloseTo(6.5 / 8, 12);
    expect(m.precision).toBeCloseTo(3 / 4, 12);
    expect(m.recall).toBeCloseTo(3 / 4, 12);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.mean_label).toBeCloseTo(4 / 6, 12);
    expect(m.example_count).toBe(6);
    expect(m.weighted_example_count).toBe(6);
  });

  test('the decision threshold is strict (TFMA / Keras: positive when prediction > threshold) and configurable', () => {
    const examples = binary([1, 0, 1], [0.5, 0.3, 0.8]);
    expect(metricsOf(examples).recall).toBeCloseTo(1 / 2, 12);
    const m = metricsOf(examples, overall('binary', { decision_threshold: 0.25 }));
    expect(m.recall).toBe(1);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
  });

  test('log loss clips predictions to [1e-7, 1 - 1e-7]', () => {
    expect(metricsOf(binary([1, 0], [0, 1])).log_loss).toBeCloseTo(-Math.log(1e-7), 6);
  });

  test('a single-class slice: AUC is NaN, and so is whatever divides by an empty class', () => {
    const positives = metricsOf(binary([1, 1], [0.2, 0.7]));
    expect(positives.auc).toBeNaN();
    expect(positives.auc_pr).toBe(1);
    expect(positives.recall).toBe(0.5);
    const negatives = metricsOf(binary([0, 0], [0.2, 0.7]));
    expect(negatives.auc).toBeNaN();
    expect(negatives.auc_pr).toBeNaN();
    expect(negatives.recall).toBeNaN();
    expect(negatives.calibration).toBeNaN();
    expect(negatives.precision).toBe(0);
    expect(metricsOf(binary([1, 0], [0.1, 0.2])).precision).toBeNaN();
  });

  test('only the configured metrics are reported', () => {
    expect(metricsOf(binary(LABELS, SCORES), overall('binary', { metrics: ['auc', 'example_count'] }))).toEqual({ example_count: 6, auc: 7.5 / 9 });
  });

  test('bad examples are named by their index', () => {
    expect(() => computeMetrics(binary([1, 2], [0.5, 0.5]), overall('binary'))).toThrow('example 1: a binary label must be 0 or 1, got 2');
    expect(() => computeMetrics(binary([1], [1.5]), overall('binary'))).toThrow('example 0: a binary prediction must be a probability in [0, 1], got 1.5');
    expect(() => computeMetrics(binary([1, 0], [0.5, 0.5], [1, -1]), overall('binary'))).toThrow('example 1: a weight must be a finite number >= 0, got -1');
  });

  const example = fc.record({ label: fc.constantFrom(0, 1), score: fc.integer({ min: 0, max: 5 }), weight: fc.integer({ min: 0, max: 3 }) });

  test('property: AUC is the weighted probability that a positive outscores a negative (ties ½)', () => {
    fc.assert(
      fc.property(fc.array(example, { minLength: 1, maxLength: 40 }), (rows) => {
        let wins = 0, pairs = 0;
        for (const p of rows.filter((r) => r.label === 1)) {
          for (const n of rows.filter((r) => r.label === 0)) {
            const w = p.weight * n.weight;
            pairs += w;
            wins += w * (p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0);
          }
        }
        const auc = metricsOf(binary(rows.map((r) => r.label), rows.map((r) => r.score / 5), rows.map((r) => r.weight))).auc;
        if (pairs === 0) expect(auc).toBeNaN();
        else expect(auc).toBeCloseTo(wins / pairs, 10);
      }),
    );
  });

  test('property: an integer weight k is the same as k copies of the example', () => {
    fc.assert(
      fc.property(fc.array(example, { minLength: 1, maxLength: 30 }), (rows) => {
        const weighted = metricsOf(binary(rows.map((r) => r.label), rows.map((r) => r.score / 5), rows.map((r) => r.weight)));
        const copies = rows.flatMap((r) => Array.from({ length: r.weight }, () => r));
        fc.pre(copies.length > 0);
        const copied = metricsOf(binary(copies.map((r) => r.label), copies.map((r) => r.score / 5)));
        for (const name of ['accuracy', 'auc', 'auc_pr', 'log_loss', 'precision', 'recall', 'calibration', 'mean_label', 'mean_prediction', 'weighted_example_count']) {
          if (Number.isNaN(copied[name] ?? NaN)) expect(weighted[name]).toBeNaN();
          else expect(weighted[name]).toBeCloseTo(copied[name], 10);
        }
      }),
    );
  });
});

describe('multiclass', () => {
  const classes = ['a', 'b', 'c'];
  const examples: EvalExample[] = [
    { label: 0, prediction: [0.7, 0.2, 0.1], features: {} }, // predicted a, right
    { label: 0, prediction: [0.3, 0.6, 0.1], features: {} }, // predicted b
    { label: 1, prediction: [0.1, 0.8, 0.1], features: {} }, // predicted b, right
    { label: 2, prediction: [0.2, 0.5, 0.3], features: {} }, // predicted b
    { label: 1, prediction: [0.4, 0.4, 0.2], features: {} }, // a tie: the first class, a
  ];

  test('accuracy, sparse cross-entropy, per-class and macro precision / recall', () => {
    const m = metricsOf(examples, overall('multiclass'), classes);
    expect(m.accuracy).toBeCloseTo(2 / 5, 12);
    // -(ln 0.7 + ln 0.3 + ln 0.8 + ln 0.3 + ln 0.4) / 5
    expect(m.log_loss).toBeCloseTo(0.780811, 6);
    expect(m['precision/a']).toBeCloseTo(1 / 2, 12);
    expect(m['precision/b']).toBeCloseTo(1 / 3, 12);
    expect(m['precision/c']).toBeNaN(); // never predicted
    expect(m['recall/a']).toBeCloseTo(1 / 2, 12);
    expect(m['recall/b']).toBeCloseTo(1 / 2, 12);
    expect(m['recall/c']).toBe(0);
    // Macro averages the defined values: (1/2 + 1/3) / 2 and (1/2 + 1/2 + 0) / 3.
    expect(m.macro_precision).toBeCloseTo(5 / 12, 12);
    expect(m.macro_recall).toBeCloseTo(1 / 3, 12);
    expect(m.example_count).toBe(5);
  });

  test('weights count in every ratio', () => {
    const weighted = examples.map((e, i) => ({ ...e, weight: i === 3 ? 3 : 1 }));
    const m = metricsOf(weighted, overall('multiclass', { metrics: ['accuracy', 'precision', 'weighted_example_count'] }), classes);
    expect(m.accuracy).toBeCloseTo(2 / 7, 12);
    expect(m['precision/b']).toBeCloseTo(1 / 5, 12);
    expect(m.weighted_example_count).toBe(7);
    expect(Object.keys(m).sort()).toEqual(['accuracy', 'precision/a', 'precision/b', 'precision/c', 'weighted_example_count']);
  });

  test('class names are required and must fit the predictions', () => {
    expect(() => computeMetrics(examples, overall('multiclass'))).toThrow('multiclass evaluation needs the names of at least two classes');
    expect(() => computeMetrics(examples, overall('multiclass'), { classNames: ['a', 'b', 'a'] })).toThrow('class name "a" appears twice');
    const outOfRange = [{ label: 2, prediction: [0.5, 0.5], features: {} }];
    expect(() => computeMetrics(outOfRange, overall('multiclass'), { classNames: ['a', 'b'] })).toThrow('example 0: a multiclass label must be a class index in [0, 2), got 2');
    expect(() => computeMetrics([{ label: 0, prediction: [0.5, 0.5], features: {} }], overall('multiclass'), { classNames: classes })).toThrow(
      'example 0: a multiclass prediction must be 3 probabilities in [0, 1] (one per class), got [0.5,0.5]',
    );
  });
});

describe('regression', () => {
  const labels = [1, 2, 3, 4];
  const estimates = [1.5, 2, 2, 5]; // errors 0.5, 0, -1, 1

  const regression = (weights?: number[]): EvalExample[] => labels.map((label, i) => ({ label, prediction: estimates[i], weight: weights?.[i], features: {} }));

  test('mse, rmse, mae and r2', () => {
    const m = metricsOf(regression(), overall('regression'));
    expect(m.mean_squared_error).toBeCloseTo(2.25 / 4, 12);
    expect(m.rmse).toBeCloseTo(0.75, 12);
    expect(m.mae).toBeCloseTo(2.5 / 4, 12);
    // Total sum of squares about 2.5: 2.25 + 0.25 + 0.25 + 2.25 = 5.
    expect(m.r2).toBeCloseTo(1 - 2.25 / 5, 12);
    expect(m.mean_label).toBeCloseTo(2.5, 12);
    expect(m.mean_prediction).toBeCloseTo(2.625, 12);
  });

  test('weighted: weight 3 on the last example', () => {
    const m = metricsOf(regression([1, 1, 1, 3]), overall('regression'));
    expect(m.mean_squared_error).toBeCloseTo(4.25 / 6, 12);
    expect(m.mae).toBeCloseTo(4.5 / 6, 12);
    // Weighted mean label 3; total sum of squares 4 + 1 + 0 + 3·1 = 8.
    expect(m.mean_label).toBeCloseTo(3, 12);
    expect(m.r2).toBeCloseTo(1 - 4.25 / 8, 12);
    expect(m.weighted_example_count).toBe(6);
  });

  test('r2 is NaN when every label is the same', () => {
    const m = metricsOf([2, 2].map((label, i) => ({ label, prediction: i, features: {} })), overall('regression'));
    expect(m.r2).toBeNaN();
    expect(m.mean_squared_error).toBeCloseTo(2.5, 12);
  });
});
