// The ModelEvaluation artifact: what evaluation.json holds, that it reads back equal (NaN through null),
// that the reader refuses other files naming them, and the blessing marker names. End to end: a first run
// (no baseline) blessed by its value threshold, then a worse candidate failing its change threshold
// against that run's evaluation read back from JSON.

import {
  BLESSED_FILE,
  EVALUATION_FILE,
  NOT_BLESSED_FILE,
  blessingFile,
  buildEvaluation,
  computeMetrics,
  evaluationJson,
  parseEvalConfig,
  readEvaluation,
  validateMetrics,
  type EvalExample,
} from '../../../runtime/evaluation';
import { UserError } from '../../../runtime/core/errors';

const config = parseEvalConfig({
  label_key: 'species',
  task: 'binary',
  metrics: ['example_count', 'accuracy', 'auc'],
  slicing_specs: [{}, { feature_keys: ['island'] }],
  thresholds: { accuracy: { value_threshold: { lower_bound: 0.6 }, change_threshold: { absolute: -0.1, direction: 'HIGHER_IS_BETTER' } } },
});

// Torgersen has a single class, so its AUC is NaN.
const examples = (predictions: number[]): EvalExample[] =>
  [
    ['Biscoe', 1],
    ['Biscoe', 0],
    ['Dream', 1],
    ['Dream', 0],
    ['Torgersen', 0],
  ].map(([island, label], i) => ({ label: label as number, prediction: predictions[i], features: { island } }));

function evaluate(predictions: number[], baseline?: ReturnType<typeof readEvaluation>) {
  const slices = computeMetrics(examples(predictions), config);
  const validation = validateMetrics(slices, baseline?.slices, config);
  return buildEvaluation({ config, slices, validation, model: { uri: `/tmp/model-${predictions.join('-')}`, id: 7 }, baselineModel: baseline?.model });
}

test('file names as TFX names them', () => {
  expect([EVALUATION_FILE, BLESSED_FILE, NOT_BLESSED_FILE]).toEqual(['evaluation.json', 'BLESSED', 'NOT_BLESSED']);
  expect(blessingFile(true)).toBe('BLESSED');
  expect(blessingFile(false)).toBe('NOT_BLESSED');
});

test('a first run: the JSON shape, NaN written as null, blessed without a baseline', () => {
  const first = evaluate([0.9, 0.2, 0.8, 0.3, 0.1]);
  const json = JSON.parse(evaluationJson(first));
  expect(json).toMatchObject({ format: 'mlp.model_evaluation', version: 1, model: { uri: '/tmp/model-0.9-0.2-0.8-0.3-0.1', id: 7 }, config: { task: 'binary' } });
  expect(json).not.toHaveProperty('baseline_model');
  expect(json.slices).toEqual([
    { slice: 'Overall', slice_key: [], example_count: 5, metrics: { example_count: 5, accuracy: 1, auc: 1 } },
    { slice: 'island:Biscoe', slice_key: [['island', 'Biscoe']], example_count: 2, metrics: { example_count: 2, accuracy: 1, auc: 1 } },
    { slice: 'island:Dream', slice_key: [['island', 'Dream']], example_count: 2, metrics: { example_count: 2, accuracy: 1, auc: 1 } },
    { slice: 'island:Torgersen', slice_key: [['island', 'Torgersen']], example_count: 1, metrics: { example_count: 1, accuracy: 1, auc: null } },
  ]);
  expect(json.validation.blessed).toBe(true);
  expect(json.validation.results.map((r: { reason: string }) => r.reason)).toEqual([
    'accuracy on Overall = 1 meets the lower bound 0.6',
    'accuracy on Overall: no baseline model to compare with, so the absolute change bound -0.1 (HIGHER_IS_BETTER) passes (first run)',
  ]);
});

test('reads back equal, NaN restored', () => {
  const first = evaluate([0.9, 0.2, 0.8, 0.3, 0.1]);
  const read = readEvaluation(evaluationJson(first), '/a/evaluation.json');
  expect(read).toEqual(first);
  expect(read.slices[3].metrics.auc).toBeNaN();
  expect(readEvaluation(JSON.parse(evaluationJson(first)), 'x')).toEqual(first);
});

test('a worse candidate fails its change threshold against the baseline evaluation', () => {
  const baseline = readEvaluation(evaluationJson(evaluate([0.9, 0.2, 0.8, 0.3, 0.1])), 'baseline/evaluation.json');
  // Dream's positive and Torgersen's negative flip: accuracy 3/5 (meets 0.6) but 0.4 below the baseline's 1.
  const candidate = evaluate([0.9, 0.2, 0.4, 0.3, 0.7], baseline);
  expect(candidate.baseline_model).toEqual(baseline.model);
  expect(candidate.validation.blessed).toBe(false);
  expect(candidate.validation.failures).toEqual(['accuracy on Overall = 0.6 vs baseline 1: absolute change -0.4 is below the bound -0.1 (HIGHER_IS_BETTER)']);
  expect(blessingFile(candidate.validation.blessed)).toBe(NOT_BLESSED_FILE);
});

describe('readEvaluation refuses what it cannot read, naming the file', () => {
  const where = 'gs://b/Evaluator/evaluation/7/evaluation.json';
  const good = JSON.parse(evaluationJson(evaluate([0.9, 0.2, 0.8, 0.3, 0.1])));
  const refuse = (value: unknown): string => {
    try {
      readEvaluation(value, where);
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as Error).message;
    }
    throw new Error('read');
  };

  test('not JSON', () => {
    expect(refuse('{"format": ')).toMatch(new RegExp(`^${where} is not valid JSON: `));
  });

  test('another kind of file', () => {
    expect(refuse({ format: 'mlp.transform_graph', version: 1, outputs: [] })).toBe(`${where} is not a model evaluation (format mlp.model_evaluation)`);
    expect(refuse('[]')).toBe(`${where} is not a model evaluation (format mlp.model_evaluation)`);
    expect(refuse(null)).toBe(`${where} is not a model evaluation (format mlp.model_evaluation)`);
  });

  test('another version', () => {
    expect(refuse({ ...good, version: 2 })).toBe(`${where} is model evaluation version 2; this runtime reads version 1`);
  });

  test('a damaged evaluation names the field', () => {
    const damaged = { ...good, slices: [{ ...good.slices[0], metrics: { auc: 'high' } }] };
    expect(refuse(damaged)).toMatch(new RegExp(`^${where} is not a valid model evaluation: slices\\.0\\.metrics\\.auc: `));
    expect(refuse({ ...good, config: { ...good.config, task: 'ranking' } })).toMatch(/: config\.task: /);
  });
});
