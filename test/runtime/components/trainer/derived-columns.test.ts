// The Trainer and ExampleGen's derived columns, on real penguins artifacts: a derived label trains a model whose
// serving signature asks only for raw columns; a transform that feeds a derived column to the model is refused
// by the bundled runFn before training, and a user's runFn that ignores fnArgs.derivedColumns is refused before
// its model is published.

import * as fs from 'fs';
import * as path from 'path';
import { Trainer } from '../../../../runtime/components/trainer';
import { Tuner } from '../../../../runtime/components/tuner';
import { derivedColumnsOf } from '../../../../runtime/components/example-gen/derived-columns';
import { UserError } from '../../../../runtime/core/errors';
import { SIGNATURE_FILE, type Signature } from '../../../../runtime/ml/signature';
import { REPO_ROOT } from '../../../support/cli';
import { buildPenguinsUpstream, fresh, LABEL, PENGUINS_SPEC, QUICK_HP, run, train, useTempDir, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-trainer-derived-');

const HEAVY = '"Body Mass (g)" > 4000';
const DERIVED = { derived_columns: { heavy: HEAVY } };
// The penguins spec plus the derived column as a model input.
const SPEC_READING_HEAVY = [...PENGUINS_SPEC, { kind: 'identity', feature: 'heavy', output: 'heavy_input' }];
const REFUSAL =
  `Trainer: the model reads a derived column of the examples as input: "heavy" (${JSON.stringify(HEAVY)}); derived columns are computed at ingestion only ` +
  'and serving requests never carry them: use one only as the label, or give the Transform the raw columns it is computed from';

let labelled: Upstream;
let reading: Upstream;
beforeAll(async () => {
  labelled = await buildPenguinsUpstream(path.join(tmp.dir, 'labelled'), PENGUINS_SPEC, DERIVED);
  reading = await buildPenguinsUpstream(path.join(tmp.dir, 'reading'), SPEC_READING_HEAVY, DERIVED);
});

/** Runs the Trainer into fresh outputs expecting a UserError; checks nothing was published. */
async function failure(upstream: Upstream, parameters: Record<string, unknown>, log: string[]): Promise<UserError> {
  const outputs = { model: fresh(tmp.dir, 'model'), model_run: fresh(tmp.dir, 'model_run') };
  const inputs = { examples: upstream.examples, transform_graph: upstream.transformGraph, schema: upstream.schema };
  const err = await run(Trainer, inputs, outputs, parameters, log).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  for (const uri of Object.values(outputs)) expect(fs.existsSync(uri)).toBe(false);
  return err as UserError;
}

test('a derived label: the model trains on it and its serving signature asks only for raw columns', async () => {
  expect(derivedColumnsOf(labelled.examples.properties, 'examples')).toEqual({ heavy: HEAVY });
  const trained = await train(tmp.dir, labelled, { hyperparameters: QUICK_HP, custom_config: { label_key: 'heavy', task: 'binary' } });
  const signature: Signature = JSON.parse(fs.readFileSync(path.join(trained.model.uri, SIGNATURE_FILE), 'utf8'));
  expect(signature.label).toEqual({ key: 'heavy', classes: ['0', '1'] });
  expect(signature.inputs.map((i) => i.name).sort()).toEqual(['Beak Depth (mm)', 'Beak Length (mm)', 'Body Mass (g)', 'Flipper Length (mm)', 'Island', 'Sex']);
});

test('a derived column as a model input: the bundled runFn refuses it before training', async () => {
  const log: string[] = [];
  const err = await failure(reading, { hyperparameters: QUICK_HP, custom_config: { label_key: LABEL, task: 'multiclass' } }, log);
  expect(err.message).toBe(REFUSAL);
  expect(log.filter((l) => /^epoch /.test(l))).toEqual([]);
});

test("the Tuner's trials are held to the same rule: a derived model input fails every trial with the Trainer's refusal", async () => {
  const log: string[] = [];
  const outputs = { best_hyperparameters: fresh(tmp.dir, 'best'), tuner_results: fresh(tmp.dir, 'results') };
  const inputs = { examples: reading.examples, transform_graph: reading.transformGraph, schema: reading.schema };
  const parameters = { search_space: { learning_rate: { type: 'double', min: 0.01, max: 0.1 } }, hyperparameters: QUICK_HP, max_trials: 1, custom_config: { label_key: LABEL, task: 'multiclass' } };
  const err = await run(Tuner, inputs, outputs, parameters, log).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toContain(REFUSAL);
  expect(log.filter((l) => /^epoch /.test(l))).toEqual([]);
});

test("a user's runFn that ignores derivedColumns: its model is refused before it is published", async () => {
  const module = path.join(REPO_ROOT, 'test', 'fixtures', 'modules', 'ignoring-derived-run-fn.ts');
  const log: string[] = [];
  const err = await failure(reading, { module_file: module, hyperparameters: { ...QUICK_HP, epochs: 1 }, custom_config: { label_key: LABEL, task: 'multiclass' } }, log);
  expect(err.message).toBe(REFUSAL);
  // It did train (the refusal came from the Trainer, after runFn).
  expect(log.filter((l) => /^epoch /.test(l))).toHaveLength(1);
});

test('the derived_columns property as ExampleGen writes it (JSON text) and as the metadata store returns it (a struct); an unreadable one is named', () => {
  expect(derivedColumnsOf({ derived_columns: JSON.stringify({ heavy: HEAVY }) }, 'examples /x/1')).toEqual({ heavy: HEAVY });
  expect(derivedColumnsOf({ derived_columns: { heavy: HEAVY } }, 'examples /x/1')).toEqual({ heavy: HEAVY });
  expect(() => derivedColumnsOf({ derived_columns: '["heavy"]' }, 'examples /x/1')).toThrow(
    new UserError('examples /x/1 has an invalid derived_columns property (expected a JSON object of name → expression, got "[\\"heavy\\"]")'),
  );
  expect(derivedColumnsOf({ span: 0 }, 'examples /x/1')).toEqual({});
});
