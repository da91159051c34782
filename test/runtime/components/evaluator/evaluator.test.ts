// Evaluator on real penguins models trained by the real Trainer (a good one, and a deliberately bad one: one
// epoch at a tiny learning rate): value thresholds pass and fail; change thresholds against a baseline
// model pass for good-vs-bad and fail for bad-vs-good; without a baseline (first run) change thresholds pass,
// and a baseline that is the candidate itself counts as none; a per-slice threshold fails on exactly the one
// island slice given an impossible bound; no thresholds at all is NOT_BLESSED. Each time the blessing folder
// holds the BLESSED / NOT_BLESSED file and the properties TFX's Evaluator records: blessed, current_model,
// current_model_id, baseline_model, baseline_model_id (ids when the input names carry MLMD ids).

import * as fs from 'fs';
import * as path from 'path';
import { Evaluator } from '../../../../runtime/components/evaluator';
import { NO_THRESHOLDS } from '../../../../runtime/evaluation/thresholds';
import { buildPenguinsUpstream, fresh, LABEL, outputRef, QUICK_HP, run, train, useTempDir, type ArtifactRef, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-evaluator-');

let up: Upstream;
let good: ArtifactRef;
let bad: ArtifactRef;
let evalRows: number;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
  good = (await train(tmp.dir, up, { hyperparameters: QUICK_HP })).model;
  bad = (await train(tmp.dir, up, { hyperparameters: { ...QUICK_HP, epochs: 1, learning_rate: 1e-5 } })).model;
  evalRows = JSON.parse(String(up.examples.properties.split_row_counts)).eval;
}, 120_000);

interface Evaluated {
  blessed: boolean;
  files: string[];
  properties: Record<string, unknown>;
  evaluation: {
    model: { uri: string };
    baseline_model?: { uri: string };
    slices: { slice: string; metrics: Record<string, number | null> }[];
    validation: { blessed: boolean; failures: string[]; results: { slice: string; metric: string; passed: boolean; baseline_value?: number }[] };
  };
  evaluationProperties: Record<string, unknown>;
}

async function evaluate(model: ArtifactRef, evalConfig: Record<string, unknown>, baseline?: ArtifactRef): Promise<Evaluated> {
  const out = await run(
    Evaluator,
    { examples: up.examples, model, baseline_model: baseline },
    { evaluation: fresh(tmp.dir, 'evaluation'), blessing: fresh(tmp.dir, 'blessing') },
    { eval_config: { label_key: LABEL, task: 'multiclass', ...evalConfig } },
  );
  const blessing = outputRef(out, 'blessing');
  const evaluation = outputRef(out, 'evaluation');
  const files = fs.readdirSync(blessing.uri).filter((f) => !f.startsWith('_'));
  return {
    blessed: blessing.properties.blessed === 1,
    files,
    properties: blessing.properties,
    evaluation: JSON.parse(fs.readFileSync(path.join(evaluation.uri, 'evaluation.json'), 'utf8')),
    evaluationProperties: evaluation.properties,
  };
}

const accuracyAtLeast = (bound: number) => ({ accuracy: { value_threshold: { lower_bound: bound } } });
const noWorseThanBaseline = { accuracy: { change_threshold: { absolute: -0.02, direction: 'HIGHER_IS_BETTER' } } };

test('value thresholds: the good model passes and is BLESSED, the bad one fails and is NOT_BLESSED', async () => {
  const pass = await evaluate(good, { thresholds: accuracyAtLeast(0.9) });
  expect(pass.blessed).toBe(true);
  expect(pass.files).toEqual(['BLESSED']);
  expect(pass.properties).toEqual(expect.objectContaining({ blessed: 1, current_model: good.uri }));
  // Unnamed inputs carry no MLMD id: none is recorded rather than a made-up one.
  expect(pass.properties).not.toHaveProperty('current_model_id');
  expect(pass.properties).not.toHaveProperty('baseline_model');
  expect(pass.evaluation.model.uri).toBe(good.uri);
  expect(pass.evaluation.validation).toMatchObject({ blessed: true, failures: [] });
  expect(pass.evaluation.slices[0].metrics.example_count).toBe(evalRows);
  expect(pass.evaluationProperties).toMatchObject({ examples: evalRows, skipped_examples: 0, slices: 1 });

  const fail = await evaluate(bad, { thresholds: accuracyAtLeast(0.9) });
  expect(fail.blessed).toBe(false);
  expect(fail.files).toEqual(['NOT_BLESSED']);
  expect(fail.properties).toEqual(expect.objectContaining({ blessed: 0, current_model: bad.uri }));
  expect(fail.evaluation.validation.failures).toEqual([expect.stringMatching(/^accuracy on Overall = [\d.]+ is below the lower bound 0\.9$/)]);
});

test('change thresholds compare with the baseline model: good over bad passes, bad over good fails', async () => {
  // Inputs named as Vertex names them (and as the runner's driver does): the MLMD ids land on the blessing.
  const better = await evaluate(
    { ...good, name: 'projects/p/locations/europe-west4/metadataStores/default/artifacts/41' },
    { thresholds: noWorseThanBaseline },
    { ...bad, name: 'metadataStores/default/artifacts/7' },
  );
  expect(better.blessed).toBe(true);
  expect(better.files).toEqual(['BLESSED']);
  expect(better.properties).toEqual(expect.objectContaining({ blessed: 1, current_model: good.uri, current_model_id: 41, baseline_model: bad.uri, baseline_model_id: 7 }));
  expect(better.evaluation.baseline_model?.uri).toBe(bad.uri);
  const check = better.evaluation.validation.results[0];
  expect(check).toMatchObject({ slice: 'Overall', metric: 'accuracy', passed: true, baseline_value: expect.any(Number) });

  const worse = await evaluate(bad, { thresholds: noWorseThanBaseline }, good);
  expect(worse.blessed).toBe(false);
  expect(worse.files).toEqual(['NOT_BLESSED']);
  expect(worse.properties).toEqual(expect.objectContaining({ blessed: 0, current_model: bad.uri, baseline_model: good.uri }));
  expect(worse.evaluation.validation.failures).toEqual([
    expect.stringMatching(/^accuracy on Overall = [\d.]+ vs baseline [\d.]+: absolute change -[\d.]+ is below the bound -0\.02 \(HIGHER_IS_BETTER\)$/),
  ]);
  // The baseline's accuracy in the failing check is the good model's, as evaluated above.
  expect(worse.evaluation.validation.results[0].baseline_value).toBe(better.evaluation.slices[0].metrics.accuracy);
});

test('without a baseline (first run) change thresholds pass; the candidate as its own baseline is no baseline', async () => {
  const first = await evaluate(bad, { thresholds: noWorseThanBaseline });
  expect(first.blessed).toBe(true);
  expect(first.evaluation.validation.results[0].passed).toBe(true);
  expect(first.evaluation).not.toHaveProperty('baseline_model');
  expect(first.properties).not.toHaveProperty('baseline_model');

  const self = await evaluate(good, { thresholds: noWorseThanBaseline }, good);
  expect(self.blessed).toBe(true);
  expect(self.properties).not.toHaveProperty('baseline_model');
  expect(self.evaluation).not.toHaveProperty('baseline_model');
});

test('a per-slice threshold fails on exactly the island slice it cannot meet', async () => {
  const result = await evaluate(good, {
    slicing_specs: [{}, { feature_keys: ['Island'] }],
    thresholds: accuracyAtLeast(0.9),
    per_slice_thresholds: [
      { slicing_specs: [{ feature_keys: ['Island'] }], metric: 'accuracy', threshold: { value_threshold: { lower_bound: 0.5 } } },
      { slicing_specs: [{ feature_values: { Island: 'Dream' } }], metric: 'example_count', threshold: { value_threshold: { upper_bound: 0 } } },
    ],
  });
  const islands = result.evaluation.slices.map((s) => s.slice).filter((s) => s.startsWith('Island:')).sort();
  expect(islands).toEqual(['Island:Biscoe', 'Island:Dream', 'Island:Torgersen']);
  expect(result.blessed).toBe(false);
  expect(result.files).toEqual(['NOT_BLESSED']);
  expect(result.evaluation.validation.failures).toEqual([expect.stringMatching(/^example_count on Island:Dream = \d+ is above the upper bound 0$/)]);
  // Every other check passed: the overall one and the accuracy of each island.
  const passed = result.evaluation.validation.results.filter((r) => r.passed).map((r) => `${r.metric} ${r.slice}`).sort();
  expect(passed).toEqual(['accuracy Island:Biscoe', 'accuracy Island:Dream', 'accuracy Island:Torgersen', 'accuracy Overall']);
});

test('no thresholds at all: NOT_BLESSED, saying why', async () => {
  const result = await evaluate(good, {});
  expect(result.blessed).toBe(false);
  expect(result.files).toEqual(['NOT_BLESSED']);
  expect(result.properties).toEqual(expect.objectContaining({ blessed: 0, current_model: good.uri }));
  expect(result.evaluation.validation.failures).toEqual([NO_THRESHOLDS]);
});
