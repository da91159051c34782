// Tuner on real penguins artifacts: a fixed hyperparameter value outside its search range is a UserError
// naming it and the range; a small real random search (3 trials of 2 epochs, 2 in parallel, each trial a
// child process training the bundled wide & deep model) publishes best_hyperparameters.json with values
// inside the space plus the fixed ones, and trials.json with every trial; and a Trainer given that
// HyperParameters artifact trains with those values (over its own hyperparameters parameter). Each trial's
// start and end is reported as progress (trial i/N, state, best objective so far).

import * as fs from 'fs';
import * as path from 'path';
import { Tuner, TRIALS_FILE } from '../../../../runtime/components/tuner';
import { BEST_HYPERPARAMETERS_FILE } from '../../../../runtime/tuning/hyperparameters-file';
import { UserError } from '../../../../runtime/core/errors';
import { buildPenguinsUpstream, CUSTOM_CONFIG, fresh, outputRef, run, train, useTempDir, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-tuner-');

const SPACE = {
  learning_rate: { type: 'double', min: 0.01, max: 0.1, scale: 'log' },
  hidden_units: { type: 'discrete', values: ['8', '16,8'] },
};
const FIXED = { epochs: 2, batch_size: 32, dropout: 0 };

let up: Upstream;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
});

function tune(parameters: Record<string, unknown>, log: string[] = []) {
  const outputs = { best_hyperparameters: fresh(tmp.dir, 'best'), tuner_results: fresh(tmp.dir, 'results') };
  return run(Tuner, { examples: up.examples, transform_graph: up.transformGraph, schema: up.schema }, outputs, { custom_config: CUSTOM_CONFIG, ...parameters }, log);
}

test('a fixed value of a searched hyperparameter outside its range is a UserError naming it and the range', async () => {
  const err = await tune({ search_space: SPACE, hyperparameters: { ...FIXED, learning_rate: 0.5 }, max_trials: 1 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toBe('hyperparameter learning_rate=0.5 (in Tuner parameter hyperparameters) is outside the search space: double in [0.01, 0.1]');
  const discrete = await tune({ search_space: SPACE, hyperparameters: { hidden_units: '32' }, max_trials: 1 }).catch((e: unknown) => e);
  expect((discrete as Error).message).toBe('hyperparameter hidden_units="32" (in Tuner parameter hyperparameters) is outside the search space: one of ["8", "16,8"]');
});

test('a small parallel search publishes the best values inside the space and every trial; a Trainer uses them', async () => {
  const log: string[] = [];
  const out = await tune({ search_space: SPACE, algorithm: 'random', max_trials: 3, max_parallel_trials: 2, hyperparameters: FIXED, seed: 7 }, log);
  const best = outputRef(out, 'best_hyperparameters');
  const results = outputRef(out, 'tuner_results');

  // Its progress (log lines here; `mlp run` shows them next to the node): each trial's start and end, with
  // i/N, its state and value, how many are done and the best objective so far.
  const statuses = log.filter((l) => /^trial \d/.test(l));
  expect(statuses).toHaveLength(6);
  expect(statuses.filter((l) => / RUNNING · /.test(l))).toHaveLength(3);
  expect(statuses[0]).toMatch(/^trial 1\/3 RUNNING · 0 of 3 done · no result yet$/);
  expect(statuses.at(-1)).toMatch(/^trial [123]\/3 (COMPLETED|STOPPED) val_loss=[\d.e-]+ · 3 of 3 done · best val_loss=[\d.e-]+ \(trial-\d+\)$/);

  const content = JSON.parse(fs.readFileSync(path.join(best.uri, BEST_HYPERPARAMETERS_FILE), 'utf8'));
  const { learning_rate, hidden_units, ...fixed } = content.values;
  expect(fixed).toEqual(FIXED);
  expect(learning_rate).toBeGreaterThanOrEqual(0.01);
  expect(learning_rate).toBeLessThanOrEqual(0.1);
  expect(SPACE.hidden_units.values).toContain(hidden_units);
  expect(content.objective).toMatchObject({ metric: 'val_loss', goal: 'MINIMIZE', value: expect.any(Number) });

  const trials = JSON.parse(fs.readFileSync(path.join(results.uri, TRIALS_FILE), 'utf8'));
  expect(trials).toMatchObject({ objective: { metric: 'val_loss', goal: 'MINIMIZE' }, algorithm: 'random' });
  expect(trials.trials).toHaveLength(3);
  expect(new Set(trials.trials.map((t: { trial_id: string }) => t.trial_id)).size).toBe(3);
  for (const t of trials.trials) {
    expect(['COMPLETED', 'STOPPED']).toContain(t.status);
    expect(t.objective).toEqual(expect.any(Number));
    expect(t.steps).toBeGreaterThanOrEqual(1);
    expect(t.steps).toBeLessThanOrEqual(FIXED.epochs);
    expect(t.hyperparameters.learning_rate).toBeGreaterThanOrEqual(0.01);
    expect(t.hyperparameters.learning_rate).toBeLessThanOrEqual(0.1);
    expect(SPACE.hidden_units.values).toContain(t.hyperparameters.hidden_units);
  }
  // The best trial is the one with the lowest objective, and its values are the published ones.
  const winner = trials.trials.reduce((a: { objective: number }, b: { objective: number }) => (b.objective < a.objective ? b : a));
  expect(content.trial_id).toBe(winner.trial_id);
  expect(content.objective.value).toBe(winner.objective);
  expect({ learning_rate, hidden_units }).toEqual(winner.hyperparameters);
  expect(best.properties).toMatchObject({ trial_id: winner.trial_id, objective: winner.objective });
  expect(results.properties).toMatchObject({ trials: 3 });

  // A Trainer with the HyperParameters input trains with the tuned values, over its own parameter.
  const trained = await train(tmp.dir, up, { hyperparameters: { epochs: 1, learning_rate: 0.9, hidden_units: [4] } }, { hyperparametersInput: best });
  const training = JSON.parse(fs.readFileSync(path.join(trained.modelRun.uri, 'training.json'), 'utf8'));
  expect(training.hyperparameters).toEqual(content.values);
  expect(trained.modelRun.properties).toMatchObject({ epochs: FIXED.epochs, planned_steps: FIXED.epochs * Math.ceil(JSON.parse(String(up.examples.properties.split_row_counts)).train / FIXED.batch_size) });
  const topology = JSON.parse(fs.readFileSync(path.join(trained.model.uri, 'model.json'), 'utf8')).modelTopology;
  const hiddenUnits = (topology.model_config ?? topology).config.layers.filter((l: { name: string }) => /^hidden_\d+$/.test(l.name)).map((l: { config: { units: number } }) => l.config.units);
  expect(hiddenUnits.join(',')).toBe(hidden_units);
}, 180_000);
