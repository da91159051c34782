// The evaluation config: defaults per task, and validation errors that name the field — types, unknown
// keys, metric names per task, thresholds on metrics or slices that are not computed, per-class names.

import { z } from 'zod';
import { EvalConfig, parseEvalConfig, TASK_METRICS } from '../../../runtime/evaluation';

const base = { label_key: 'species', task: 'binary' };
const errorOf = (raw: Record<string, unknown>): string => {
  try {
    parseEvalConfig(raw, 'eval_config of node Evaluator');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
};

test('defaults: every metric of the task, the overall slice, no thresholds, decision threshold 0.5', () => {
  expect(parseEvalConfig(base)).toEqual({
    ...base,
    slicing_specs: [{}],
    metrics: [...TASK_METRICS.binary],
    thresholds: {},
    per_slice_thresholds: [],
    decision_threshold: 0.5,
  });
  expect(parseEvalConfig({ label_key: 'y', task: 'regression' }).metrics).toEqual(['example_count', 'weighted_example_count', 'mean_squared_error', 'rmse', 'mae', 'r2', 'mean_label', 'mean_prediction']);
});

test('a full config parses as written', () => {
  const raw = {
    label_key: 'species',
    prediction_key: 'probabilities',
    example_weight_key: 'w',
    task: 'multiclass',
    slicing_specs: [{}, { feature_keys: ['island'] }, { feature_keys: ['island', 'sex'] }],
    metrics: ['accuracy', 'recall', 'macro_recall'],
    thresholds: { accuracy: { value_threshold: { lower_bound: 0.9 }, change_threshold: { absolute: -0.01, direction: 'HIGHER_IS_BETTER' } } },
    per_slice_thresholds: [{ slicing_specs: [{ feature_values: { island: 'Dream' } }], metric: 'recall/Gentoo', threshold: { value_threshold: { lower_bound: 0.8 } } }],
    decision_threshold: 0.5,
  };
  expect(parseEvalConfig(raw)).toEqual(raw);
});

test('errors name the field and the source', () => {
  expect(errorOf({ task: 'binary' })).toBe('invalid eval_config of node Evaluator: label_key: Invalid input: expected string, received undefined');
  expect(errorOf({ ...base, task: 'ranking' })).toMatch(/^invalid eval_config of node Evaluator: task: Invalid option/);
  expect(errorOf({ ...base, decision_threshold: 1.5 })).toMatch(/: decision_threshold: Too big/);
  expect(errorOf({ ...base, slicing_specs: [{}, { feature_key: ['island'] }] })).toMatch(/: slicing_specs\.1: Unrecognized key: "feature_key"/);
  expect(errorOf({ ...base, thresholds: { auc: { value_threshold: { lowerbound: 0.5 } } } })).toMatch(/thresholds\.auc\.value_threshold: Unrecognized key: "lowerbound"/);
});

test('thresholds must have a bound, a direction, and consistent bounds', () => {
  expect(errorOf({ ...base, thresholds: { auc: {} } })).toMatch(/: thresholds\.auc: give value_threshold, change_threshold or both$/);
  expect(errorOf({ ...base, thresholds: { auc: { value_threshold: {} } } })).toMatch(/: thresholds\.auc\.value_threshold: give lower_bound, upper_bound or both$/);
  expect(errorOf({ ...base, thresholds: { auc: { value_threshold: { lower_bound: 0.9, upper_bound: 0.8 } } } })).toMatch(/: thresholds\.auc\.value_threshold: lower_bound is above upper_bound$/);
  expect(errorOf({ ...base, thresholds: { auc: { change_threshold: { absolute: 0 } } } })).toMatch(/: thresholds\.auc\.change_threshold\.direction: Invalid option/);
  expect(errorOf({ ...base, thresholds: { auc: { change_threshold: { direction: 'HIGHER_IS_BETTER' } } } })).toMatch(/: thresholds\.auc\.change_threshold: give absolute, relative or both$/);
});

test('metric names belong to the task, once each, and thresholds are on computed metrics', () => {
  expect(errorOf({ ...base, metrics: ['auc', 'rmse'] })).toMatch(/: metrics\.1: "rmse" is not a binary metric \(example_count, /);
  expect(errorOf({ ...base, metrics: ['auc', 'auc'] })).toMatch(/: metrics\.1: "auc" is listed twice$/);
  const threshold = { value_threshold: { lower_bound: 0.5 } };
  expect(errorOf({ ...base, metrics: ['accuracy'], thresholds: { auc: threshold } })).toMatch(/: thresholds\.auc: metric "auc" is not computed \(metrics: accuracy\)$/);
  expect(errorOf({ label_key: 'y', task: 'regression', thresholds: { auc: threshold } })).toMatch(/: thresholds\.auc: metric "auc" is not computed/);
  expect(errorOf({ ...base, per_slice_thresholds: [{ slicing_specs: [{}], metric: 'acc', threshold }] })).toMatch(/: per_slice_thresholds\.0\.metric: metric "acc" is not computed/);
});

test('multiclass per-class metrics are thresholded one class at a time', () => {
  const multiclass = { label_key: 'y', task: 'multiclass' };
  const threshold = { value_threshold: { lower_bound: 0.5 } };
  expect(errorOf({ ...multiclass, thresholds: { precision: threshold } })).toMatch(/: thresholds\.precision: "precision" is per class: name one class, e\.g\. "precision\/<class>"$/);
  expect(errorOf({ ...multiclass, thresholds: { 'accuracy/Adelie': threshold } })).toMatch(/: thresholds\.accuracy\/Adelie: metric "accuracy\/Adelie" is not computed/);
  expect(errorOf({ ...multiclass, metrics: ['accuracy'], thresholds: { 'precision/Adelie': threshold } })).toMatch(/: thresholds\.precision\/Adelie: metric/);
  expect(parseEvalConfig({ ...multiclass, thresholds: { 'precision/Adelie': threshold } }).thresholds).toHaveProperty('precision/Adelie');
  expect(errorOf({ ...base, thresholds: { 'precision/1': threshold } })).toMatch(/: thresholds\.precision\/1: metric "precision\/1" is not computed/);
});

test('thresholds must be on slices that slicing_specs computes', () => {
  const threshold = { value_threshold: { lower_bound: 0.5 } };
  expect(errorOf({ ...base, slicing_specs: [{ feature_keys: ['island'] }], thresholds: { auc: threshold } })).toMatch(
    /: thresholds: thresholds apply to the overall slice, which slicing_specs does not include \(add \{\}\)$/,
  );
  const perSlice = (specs: unknown[]) => ({ ...base, slicing_specs: [{}, { feature_keys: ['island'] }, { feature_values: { sex: 'MALE' } }], per_slice_thresholds: [{ slicing_specs: specs, metric: 'auc', threshold }] });
  // Covered: every island, one island, the sex slice computed.
  expect(() => parseEvalConfig(perSlice([{ feature_keys: ['island'] }, { feature_values: { island: 'Dream' } }, { feature_values: { sex: 'MALE' } }, {}]))).not.toThrow();
  expect(errorOf(perSlice([{}, { feature_keys: ['sex'] }]))).toMatch(/: per_slice_thresholds\.0\.slicing_specs\.1: no entry of slicing_specs computes these slices$/);
  expect(errorOf(perSlice([{ feature_values: { sex: 'FEMALE' } }]))).toMatch(/: per_slice_thresholds\.0\.slicing_specs\.0: no entry/);
  expect(errorOf(perSlice([{ feature_keys: ['island', 'sex'] }]))).toMatch(/: per_slice_thresholds\.0\.slicing_specs\.0: no entry/);
});

test('a feature may appear once in a slicing spec', () => {
  expect(errorOf({ ...base, slicing_specs: [{ feature_keys: ['island'], feature_values: { island: 'Dream' } }] })).toMatch(/: slicing_specs\.0: feature "island" appears twice in the slicing spec$/);
});

test('every error is reported at once', () => {
  const message = errorOf({ label_key: '', task: 'binary', decision_threshold: -1 });
  expect(message).toMatch(/^invalid eval_config of node Evaluator: label_key: Too small: .*; decision_threshold: Too small: /);
});

test('the schema is embeddable as a component parameter: its input JSON Schema is an object', () => {
  const json = z.toJSONSchema(EvalConfig, { io: 'input', unrepresentable: 'any' }) as { type: string; required: string[] };
  expect(json.type).toBe('object');
  expect(json.required).toEqual(['label_key', 'task']);
});
