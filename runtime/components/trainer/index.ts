// Trainer: runs a user module's runFn (TFX's contract, see fn-args.ts) — by default the bundled wide & deep
// trainer — on the transformed examples, and publishes the serving bundle (Model) and the run's logs and
// metrics (ModelRun, with the TensorFlow.js backend used). Checkpoints live in a folder keyed by the
// execution's inputs and parameters, so a killed attempt's retry resumes where the last checkpoint left off.
// A model that reads one of the examples' derived columns as an input is refused (derived-inputs.ts).

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, HyperParameters, Model, ModelRun, Schema, TransformGraph } from '../../core/artifact-types';
import { canonicalJson, sha256Hex } from '../../core/canonical-json';
import { UserError } from '../../core/errors';
import { splitParquetFiles } from '../../data/duckdb';
import { selectBackend } from '../../ml/backend';
import { loadServingBundle } from '../../ml/serving-bundle';
import { clearCheckpoints } from '../../ml/checkpoints';
import { TRANSFORM_GRAPH_FILE } from '../../transform/graph';
import { readBestHyperparameters } from '../../tuning/hyperparameters-file';
import { derivedColumnsOf } from '../example-gen/derived-columns';
import { refuseDerivedModelInputs } from './derived-inputs';
import { readDataDescription, resolveRunFn } from './fn-args';

export const TRAINING_FILE = 'training.json';

/** <node folder>/.checkpoints/<key>: stable across attempts of the same inputs and parameters. */
function checkpointDirFor(modelRunUri: string, key: unknown): string {
  const nodeFolder = path.posix.dirname(path.posix.dirname(modelRunUri.replace(/\/+$/, '')));
  const hash = sha256Hex(canonicalJson(key)).slice(0, 16);
  return `${nodeFolder}/.checkpoints/${hash}`;
}

export const Trainer = defineComponent({
  name: 'Trainer',
  version: '1',
  description: 'Trains a model with a runFn module (default: the bundled wide & deep trainer) and writes the serving bundle.',
  inputs: {
    examples: { type: Examples },
    transform_graph: { type: TransformGraph },
    schema: { type: Schema },
    hyperparameters: { type: HyperParameters, optional: true, description: "Best hyperparameters from a Tuner; they override the `hyperparameters` parameter" },
    base_model: { type: Model, optional: true, description: 'A model to warm-start from' },
  },
  outputs: {
    model: { type: Model },
    model_run: { type: ModelRun },
  },
  parameters: z.object({
    module_file: z.string().min(1).optional().describe('Module exporting runFn(fnArgs); default: the bundled wide & deep trainer'),
    hyperparameters: z.record(z.string(), z.unknown()).default({}).describe('Hyperparameters passed to runFn'),
    custom_config: z.record(z.string(), z.unknown()).default({}).describe('Free-form configuration passed to runFn (the bundled trainer needs label_key and task)'),
    train_split: z.string().min(1).default('train').describe('Split the model is trained on'),
    eval_split: z.string().min(1).default('eval').describe('Split evaluated after each epoch (val_* metrics, early stopping)'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const backend = await selectBackend();
    log(`TensorFlow.js backend: ${backend.name}${backend.skipped.length ? ` (skipped ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`);
    const examples = inputs.examples[0];
    const graphPath = path.join(inputs.transform_graph[0].path, TRANSFORM_GRAPH_FILE);
    const data = await readDataDescription(inputs.schema[0].path, graphPath);
    const derivedColumns = derivedColumnsOf(examples.properties, `examples ${examples.uri}`);
    const tuned = inputs.hyperparameters[0] ? await readBestHyperparameters(inputs.hyperparameters[0].path) : {};
    const hyperparameters = { ...parameters.hyperparameters, ...tuned };
    const runFn = await resolveRunFn(parameters.module_file);
    const where = parameters.module_file ?? 'the bundled wide & deep trainer';
    const checkpointDir = checkpointDirFor(outputs.model_run.uri, {
      examples: examples.uri,
      transform: inputs.transform_graph[0].uri,
      schema: inputs.schema[0].uri,
      base: inputs.base_model[0]?.uri ?? null,
      hyperparameters,
      parameters,
    });
    const started = Date.now();
    let result;
    try {
      result = await runFn({
        trainFiles: splitParquetFiles(examples.path, parameters.train_split),
        evalFiles: splitParquetFiles(examples.path, parameters.eval_split),
        ...data,
        hyperparameters,
        servingModelDir: outputs.model.path,
        modelRunDir: outputs.model_run.path,
        checkpointDir,
        baseModel: inputs.base_model[0]?.path,
        customConfig: parameters.custom_config,
        derivedColumns,
        backend: backend.name,
        log,
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`Trainer: runFn of ${where} failed: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
    }
    // The Model must be a loadable serving bundle before it is published.
    const bundle = await loadServingBundle(outputs.model.path).catch((err: Error) => {
      throw new UserError(`Trainer: runFn of ${where} did not write a valid serving bundle to servingModelDir: ${err.message.split(outputs.model.path).join(outputs.model.uri)}`);
    });
    bundle.model.dispose();
    // The bundled runFn refuses before training; a user's runFn is held to the same rule here.
    refuseDerivedModelInputs(bundle.signature, derivedColumns);
    const seconds = (Date.now() - started) / 1000;
    const properties = { ...(result?.properties ?? {}), backend: backend.name, training_seconds: seconds };
    await fs.promises.writeFile(path.join(outputs.model_run.path, TRAINING_FILE), JSON.stringify({ ...properties, hyperparameters, checkpoint_dir: checkpointDir }, null, 2));
    outputs.model_run.properties = properties;
    outputs.model.properties = { backend: backend.name };
    await clearCheckpoints(checkpointDir);
    log(`trained in ${seconds.toFixed(1)} s on ${backend.name}`);
  },
});
