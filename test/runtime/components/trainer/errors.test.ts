// Trainer errors and user modules, run through the launcher on real penguins artifacts: a runFn that throws,
// a module without runFn, a missing module, a runFn that writes no serving bundle, an invalid hyperparameter,
// custom_config without label_key, a label the schema does not know, and label values outside the schema's
// classes each fail with one UserError line naming the module / field / value, and publish nothing. A plain
// JavaScript module exporting run_fn receives the documented fnArgs and its properties reach the ModelRun.

import * as fs from 'fs';
import * as path from 'path';
import { Trainer } from '../../../../runtime/components/trainer';
import { UserError } from '../../../../runtime/core/errors';
import { sqlString } from '../../../../runtime/data/duckdb';
import { REPO_ROOT } from '../../../support/cli';
import { buildPenguinsUpstream, CUSTOM_CONFIG, fresh, LABEL, publishedCopy, run, sqlRows, train, useTempDir, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-trainer-errors-');
const MODULES = path.join(REPO_ROOT, 'test', 'fixtures', 'modules');

let up: Upstream;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
});

/** Runs the Trainer into fresh outputs; resolves to the error it fails with (and checks nothing was published). */
async function failure(parameters: Record<string, unknown>, upstream: Upstream = up): Promise<UserError> {
  const outputs = { model: fresh(tmp.dir, 'model'), model_run: fresh(tmp.dir, 'model_run') };
  const err = await run(Trainer, { examples: upstream.examples, transform_graph: upstream.transformGraph, schema: upstream.schema }, outputs, parameters).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  for (const uri of Object.values(outputs)) expect(fs.existsSync(uri)).toBe(false);
  return err as UserError;
}

const quick = { epochs: 1, batch_size: 64, hidden_units: [4] };

test('a runFn that throws: the error names the module and the first line of its message', async () => {
  const module = path.join(MODULES, 'throwing-run-fn.ts');
  const err = await failure({ module_file: module, custom_config: { store: 'db:5432' } });
  expect(err.message).toBe(`Trainer: runFn of ${module} failed: feature store unreachable at db:5432`);
});

test('a module without runFn, and a module that does not exist, are named', async () => {
  const module = path.join(MODULES, 'no-run-fn.ts');
  expect((await failure({ module_file: module })).message).toBe(`Trainer: module_file ${module} does not export a runFn function`);
  const missing = path.join(MODULES, 'no-such-module.ts');
  expect((await failure({ module_file: missing })).message).toBe(`Trainer: module_file ${missing} not found`);
});

test('a runFn that writes no serving bundle is refused before anything is published', async () => {
  const module = path.join(MODULES, 'no-bundle-run-fn.ts');
  const err = await failure({ module_file: module });
  expect(err.message).toMatch(new RegExp(`^Trainer: runFn of ${escape(module)} did not write a valid serving bundle to servingModelDir: .*signature\\.json is missing$`));
});

test('an invalid hyperparameter is named with its constraint', async () => {
  const err = await failure({ hyperparameters: { ...quick, learning_rate: -1 }, custom_config: CUSTOM_CONFIG });
  expect(err.message).toMatch(/^Trainer: invalid hyperparameter: learning_rate: .*>0/);
  const units = await failure({ hyperparameters: { ...quick, hidden_units: '64,x' }, custom_config: CUSTOM_CONFIG });
  expect(units.message).toMatch(/^Trainer: invalid hyperparameter: hidden_units: /);
});

test('custom_config without label_key, or with a label the schema lacks, says so', async () => {
  const err = await failure({ hyperparameters: quick, custom_config: { task: 'multiclass' } });
  expect(err.message).toMatch(/^Trainer: invalid custom_config: label_key: /);
  const unknown = await failure({ hyperparameters: quick, custom_config: { label_key: 'Penguin', task: 'multiclass' } });
  expect(unknown.message).toContain('Trainer: custom_config.label_key "Penguin" is not a feature of the schema (features: ');
});

test('label values outside the schema classes are named with the classes', async () => {
  // The same examples with three more train rows of a species the schema (and the model's classes) lack.
  const examples = await publishedCopy(up.examples, fresh(tmp.dir, 'examples'), async (dir) => {
    const train = path.join(dir, 'Split-train');
    const part = path.join(train, fs.readdirSync(train).find((f) => f.endsWith('.parquet'))!);
    await sqlRows(`COPY (SELECT * REPLACE ('Emperor' AS ${LABEL}) FROM read_parquet(${sqlString(part)}) LIMIT 3) TO ${sqlString(path.join(train, 'part-99999.parquet'))} (FORMAT parquet)`);
  });
  const err = await failure({ hyperparameters: quick, custom_config: CUSTOM_CONFIG }, { ...up, examples });
  expect(err.message).toBe(`Trainer: label "${LABEL}" of the train split has values "Emperor" outside its classes ["Adelie","Chinstrap","Gentoo"]`);
});

test('a JavaScript module exporting run_fn gets the fnArgs and its properties reach the ModelRun', async () => {
  const module = path.join(MODULES, 'wrapping-run-fn.js');
  const { modelRun, model } = await train(tmp.dir, up, { module_file: module, hyperparameters: quick });
  const seen = JSON.parse(fs.readFileSync(path.join(modelRun.uri, 'fn_args.json'), 'utf8'));
  expect(seen).toEqual({
    hyperparameters: quick,
    customConfig: CUSTOM_CONFIG,
    trainFiles: fs.readdirSync(path.join(up.examples.uri, 'Split-train')).length,
    evalFiles: fs.readdirSync(path.join(up.examples.uri, 'Split-eval')).length,
    schemaFeatures: expect.arrayContaining([LABEL, 'Island', 'Sex']),
    transformOutputs: ['beak_length', 'beak_depth', 'flipper_length', 'body_mass', 'island', 'sex'],
    backend: 'wasm',
  });
  expect(modelRun.properties).toMatchObject({ wrapped: 1, epochs: 1, backend: 'wasm' });
  expect(fs.readdirSync(model.uri)).toEqual(expect.arrayContaining(['model.json', 'weights.bin', 'signature.json', 'transform_graph.json']));
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
