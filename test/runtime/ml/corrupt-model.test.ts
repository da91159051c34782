// Corrupt model bundles at load time: a truncated or missing weights.bin, a garbage, missing or foreign
// model.json, a missing, garbage or foreign signature.json and a garbage transform_graph.json each make
// loadServingBundle throw a one-line UserError naming the broken file; the BulkInferrer and the Evaluator
// given such a model fail with that same message. The intact bundle (trained by the real Trainer) loads.

import * as fs from 'fs';
import * as path from 'path';
import { BulkInferrer } from '../../../runtime/components/bulk-inferrer';
import { Evaluator } from '../../../runtime/components/evaluator';
import { UserError } from '../../../runtime/core/errors';
import { selectBackend } from '../../../runtime/ml/backend';
import { loadServingBundle } from '../../../runtime/ml/serving-bundle';
import { buildPenguinsUpstream, fresh, LABEL, publishedCopy, run, train, useTempDir, type ArtifactRef, type Upstream } from './helpers';

const tmp = useTempDir('mlp-corrupt-model-');

let up: Upstream;
let model: ArtifactRef;
beforeAll(async () => {
  await selectBackend();
  up = await buildPenguinsUpstream(tmp.dir);
  model = (await train(tmp.dir, up, { hyperparameters: { epochs: 1, batch_size: 64, hidden_units: [4] } })).model;
}, 120_000);

/** A copy of the trained bundle with one file broken by `edit`, as a published Model artifact. */
function broken(edit: (dir: string) => Promise<void> | void): Promise<ArtifactRef> {
  return publishedCopy(model, fresh(tmp.dir, 'broken-model'), edit);
}

/** The error loadServingBundle throws for the folder. */
async function loadError(dir: string): Promise<UserError> {
  const err = await loadServingBundle(dir).then(
    (b) => {
      b.model.dispose();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).not.toContain('\n');
  return err as UserError;
}

test('the intact bundle loads', async () => {
  const bundle = await loadServingBundle(model.uri);
  expect(bundle.signature.label).toEqual({ key: LABEL, classes: ['Adelie', 'Chinstrap', 'Gentoo'] });
  bundle.model.dispose();
});

test('a truncated weights.bin is named', async () => {
  const ref = await broken((dir) => {
    const file = path.join(dir, 'weights.bin');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
  });
  const err = await loadError(ref.uri);
  expect(err.message).toContain('corrupt or truncated');
  expect(err.message).toContain(path.join(ref.uri, 'weights.bin'));
});

test('a missing weights.bin is named', async () => {
  const ref = await broken((dir) => fs.rmSync(path.join(dir, 'weights.bin')));
  expect((await loadError(ref.uri)).message).toBe(`weights file ${path.join(ref.uri, 'weights.bin')} named by ${path.join(ref.uri, 'model.json')} is missing`);
});

test('a garbage, missing or foreign model.json is named', async () => {
  const garbage = await broken((dir) => fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": {"class_name": "Functional", '));
  expect((await loadError(garbage.uri)).message).toMatch(new RegExp(`^model file ${escape(path.join(garbage.uri, 'model.json'))} is not valid JSON \\(.+\\)$`));

  const missing = await broken((dir) => fs.rmSync(path.join(dir, 'model.json')));
  expect((await loadError(missing.uri)).message).toBe(`model file ${path.join(missing.uri, 'model.json')} is missing`);

  const foreign = await broken((dir) => fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', weights: [] })));
  expect((await loadError(foreign.uri)).message).toBe(
    `model file ${path.join(foreign.uri, 'model.json')} is not a TensorFlow.js layers model (no modelTopology / weightsManifest)`,
  );

  // Right shape, broken topology: tfjs cannot build it.
  const topology = await broken((dir) => {
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.modelTopology = { class_name: 'NoSuchModel', config: {} };
    fs.writeFileSync(file, JSON.stringify(json));
  });
  expect((await loadError(topology.uri)).message).toMatch(new RegExp(`^model ${escape(path.join(topology.uri, 'model.json'))} cannot be loaded: `));
});

test('a missing, garbage or foreign signature.json is named', async () => {
  const missing = await broken((dir) => fs.rmSync(path.join(dir, 'signature.json')));
  expect((await loadError(missing.uri)).message).toBe(`model bundle file ${path.join(missing.uri, 'signature.json')} is missing`);

  const garbage = await broken((dir) => fs.writeFileSync(path.join(dir, 'signature.json'), 'not json'));
  expect((await loadError(garbage.uri)).message).toMatch(new RegExp(`^model bundle file ${escape(path.join(garbage.uri, 'signature.json'))} is not valid JSON `));

  const foreign = await broken((dir) => fs.writeFileSync(path.join(dir, 'signature.json'), JSON.stringify({ inputs: [] })));
  expect((await loadError(foreign.uri)).message).toBe(`${path.join(foreign.uri, 'signature.json')} is not a model signature (format mlp.signature)`);
});

test('a garbage transform_graph.json is named', async () => {
  const ref = await broken((dir) => fs.writeFileSync(path.join(dir, 'transform_graph.json'), '[1, 2,'));
  expect((await loadError(ref.uri)).message).toMatch(new RegExp(`^model bundle file ${escape(path.join(ref.uri, 'transform_graph.json'))} is not valid JSON `));
});

test('the BulkInferrer and the Evaluator given a corrupt model fail with the message naming the file', async () => {
  const ref = await broken((dir) => fs.writeFileSync(path.join(dir, 'model.json'), 'garbage'));
  const expected = (await loadError(ref.uri)).message;
  expect(expected).toContain(path.join(ref.uri, 'model.json'));

  const inferred = fresh(tmp.dir, 'inference');
  await expect(run(BulkInferrer, { examples: up.examples, model: ref }, { inference_result: inferred })).rejects.toThrow(expected);
  expect(fs.existsSync(inferred)).toBe(false);

  const outputs = { evaluation: fresh(tmp.dir, 'evaluation'), blessing: fresh(tmp.dir, 'blessing') };
  await expect(
    run(Evaluator, { examples: up.examples, model: ref }, outputs, { eval_config: { label_key: LABEL, task: 'multiclass', thresholds: { accuracy: { value_threshold: { lower_bound: 0.5 } } } } }),
  ).rejects.toThrow(expected);
  expect(fs.existsSync(outputs.blessing)).toBe(false);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
