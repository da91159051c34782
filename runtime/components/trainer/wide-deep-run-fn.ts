// The bundled runFn: trains the wide & deep model (runtime/ml/wide-deep.ts) for tabular classification or
// regression on the transformed features, with the streaming input pipeline, checkpoints, warm start and
// early stopping, and writes the serving bundle. custom_config names the label and the task.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { UserError } from '../../core/errors';
import { formatZodIssues } from '../../core/executor-io';
import { sqlIdent, sqlStringList, withConnection } from '../../data/duckdb';
import { InputPipeline } from '../../ml/input-pipeline';
import { loadModelFiles } from '../../ml/model-files';
import { encodeLabel } from '../../ml/model-inputs';
import { writeServingBundle } from '../../ml/serving-bundle';
import { buildSignature, labelClasses, type Signature } from '../../ml/signature';
import { trainLoop } from '../../ml/train-loop';
import { buildWideDeep, compileFor, WideDeepHyperparameters } from '../../ml/wide-deep';
import { refuseDerivedModelInputs } from './derived-inputs';
import type { FnArgs, RunFnResult } from './fn-args';

export const METRICS_FILE = 'metrics.jsonl';

export const WideDeepConfig = z.object({
  label_key: z.string().min(1).describe('Feature holding the label'),
  task: z.enum(['binary', 'multiclass', 'regression']).describe('binary and multiclass: a classifier; regression: a number'),
  early_stopping: z
    .object({
      metric: z.enum(['val_loss', 'val_accuracy', 'val_rmse']).default('val_loss').describe('Metric watched after each epoch'),
      patience: z.number().int().min(1).default(3).describe('Epochs without improvement before training stops'),
      min_delta: z.number().min(0).default(0).describe('Smallest change that counts as an improvement'),
    })
    .optional()
    .describe('Stop when the eval metric stops improving (default: train every epoch)'),
  checkpoint_every_steps: z.number().int().min(1).optional().describe('Steps between checkpoints (default: one per epoch)'),
  shuffle_buffer: z.number().int().min(0).default(10000).describe('Examples in the shuffle buffer (0: no shuffling)'),
});

/** Counts labelled rows and checks that every feature the model reads is a column, naming the missing one. */
async function countTrainingRows(files: string[], signature: Signature, split: string): Promise<number> {
  return withConnection(async (conn) => {
    const source = `read_parquet(${sqlStringList(files)})`;
    const columns = new Set((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => String(r.column_name)));
    for (const name of [...signature.inputs.map((i) => i.name), signature.label.key]) {
      if (!columns.has(name)) throw new UserError(`Trainer: the ${split} split has no column "${name}" (columns: ${[...columns].join(', ')})`);
    }
    const values = (await conn.runAndReadAll(`SELECT DISTINCT ${sqlIdent(signature.label.key)} AS v FROM ${source}`)).getRowObjectsJS();
    const unknown = values.map((r) => r.v).filter((v) => v !== null && encodeLabel(signature, v) === undefined);
    if (unknown.length > 0 && signature.task !== 'regression') {
      throw new UserError(`Trainer: label "${signature.label.key}" of the ${split} split has values ${unknown.slice(0, 5).map((v) => JSON.stringify(String(v))).join(', ')} outside its classes ${JSON.stringify(signature.label.classes)}`);
    }
    // NaN labels are left out of training (encodeLabel), so they must not count towards the steps either.
    const label = sqlIdent(signature.label.key);
    const [row] = (await conn.runAndReadAll(`SELECT count(${label}) FILTER (WHERE NOT coalesce(isnan(try_cast(${label} AS DOUBLE)), false)) AS n FROM ${source}`)).getRowObjectsJson();
    return Number(row.n);
  });
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new UserError(`Trainer: invalid ${what}: ${formatZodIssues(r.error.issues)}`);
  return r.data;
}

export async function runFn(args: FnArgs): Promise<RunFnResult> {
  const config = parse(WideDeepConfig, args.customConfig, 'custom_config');
  const hp = parse(WideDeepHyperparameters, args.hyperparameters, 'hyperparameter');
  if (!args.schema.feature?.some((f) => f.name === config.label_key)) {
    throw new UserError(`Trainer: custom_config.label_key "${config.label_key}" is not a feature of the schema (features: ${(args.schema.feature ?? []).map((f) => f.name).join(', ')})`);
  }
  const classes = labelClasses(args.schema, config.label_key, config.task);
  const signature = buildSignature({ graph: args.transformGraph, schema: args.schema, task: config.task, labelKey: config.label_key, classes });
  refuseDerivedModelInputs(signature, args.derivedColumns ?? {});
  const trainRows = await countTrainingRows(args.trainFiles, signature, 'train');
  if (trainRows === 0) throw new UserError(`Trainer: the train split has no examples with label "${config.label_key}"`);
  await countTrainingRows(args.evalFiles, signature, 'eval');
  const stepsPerEpoch = Math.ceil(trainRows / hp.batch_size);

  const model = buildWideDeep(signature, hp);
  compileFor(model, signature, hp.learning_rate);
  if (args.baseModel) {
    const base = await loadModelFiles(args.baseModel);
    const shapes = (m: typeof model) => m.getWeights().map((w) => w.shape.join('x')).join(',');
    if (shapes(base) === shapes(model)) {
      model.setWeights(base.getWeights());
      args.log(`warm start from ${args.baseModel}`);
    } else {
      args.log(`warm start skipped: ${args.baseModel} has a different architecture`);
    }
    base.dispose();
  }

  const train = new InputPipeline({ files: args.trainFiles, graph: args.transformGraph, signature, batchSize: hp.batch_size, shuffleBuffer: config.shuffle_buffer, seed: hp.seed });
  const evalData = new InputPipeline({ files: args.evalFiles, graph: args.transformGraph, signature, batchSize: Math.max(hp.batch_size, 256) });
  let result;
  try {
    result = await trainLoop({
      model,
      signature,
      train,
      eval: evalData,
      epochs: hp.epochs,
      stepsPerEpoch,
      checkpointUri: args.checkpointDir,
      checkpointEverySteps: config.checkpoint_every_steps,
      earlyStopping: config.early_stopping && { metric: config.early_stopping.metric, patience: config.early_stopping.patience, minDelta: config.early_stopping.min_delta },
      onEpoch: (r) => args.onEpoch?.(r),
      log: args.log,
      bar: process.stderr.isTTY ? process.stderr : undefined,
    });
  } finally {
    await Promise.all([train.close(), evalData.close()]);
  }
  await writeServingBundle(args.servingModelDir, model, args.transformGraph, signature);
  await fs.promises.writeFile(path.join(args.modelRunDir, METRICS_FILE), result.history.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const last = result.history[result.history.length - 1];
  return {
    properties: {
      steps: result.steps,
      planned_steps: result.plannedSteps,
      epochs: result.epochs,
      resumed_from_step: result.resumedFromStep,
      stopped_early: result.stoppedEarly ? 1 : 0,
      train_examples: trainRows,
      ...(last?.val_loss !== undefined ? { val_loss: last.val_loss } : {}),
      ...(last?.val_accuracy !== undefined ? { val_accuracy: last.val_accuracy } : {}),
      ...(last?.val_rmse !== undefined ? { val_rmse: last.val_rmse } : {}),
    },
  };
}
