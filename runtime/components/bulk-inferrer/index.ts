// BulkInferrer: predictions over an Examples split with the serving bundle's own prediction path, written as
// Parquet (<inference_result>/Split-<split>/predictions.parquet) with key columns and outputs. Skipped (an
// empty result saying why) when the model is not blessed. This is what fills the static side of hybrid serving.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, InferenceResult, Model, ModelBlessing } from '../../core/artifact-types';
import { splitFolder } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitParquetFiles } from '../../data/duckdb';
import { selectBackend } from '../../ml/backend';
import { parquetSource, predictExamples } from '../../ml/predict-examples';
import { loadServingBundle } from '../../ml/serving-bundle';
import { isBlessed } from '../../ml/blessing';
import { writePredictions } from '../../ml/write-predictions';

export const PREDICTIONS_FILE = 'predictions.parquet';

export const BulkInferrer = defineComponent({
  name: 'BulkInferrer',
  version: '1',
  description: 'Predicts every example of a split with the model and writes Parquet (key columns + outputs).',
  inputs: {
    examples: { type: Examples },
    model: { type: Model },
    model_blessing: { type: ModelBlessing, optional: true, description: 'When given, only a blessed model is used' },
  },
  outputs: { inference_result: { type: InferenceResult } },
  parameters: z.object({
    split: z.string().min(1).default('eval').describe('Split to predict'),
    key_columns: z.array(z.string().min(1)).default([]).describe("Columns copied next to the predictions (default: the model's raw input features)"),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const model = inputs.model[0];
    const blessing = inputs.model_blessing[0];
    if (blessing && !isBlessed(blessing, 'BLESSED')) {
      outputs.inference_result.properties = { inferred: 0 };
      log(`model ${model.uri} is not blessed: no inference`);
      return;
    }
    const backend = await selectBackend();
    const bundle = await loadServingBundle(model.path);
    const files = splitParquetFiles(inputs.examples[0].path, parameters.split);
    const keys = parameters.key_columns.length > 0 ? parameters.key_columns : bundle.signature.inputs.map((i) => i.name);
    const columns = [...new Set([...keys, ...bundle.signature.inputs.map((i) => i.name)])];
    const file = path.join(outputs.inference_result.path, splitFolder(parameters.split), PREDICTIONS_FILE);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    let n: number;
    try {
      n = await writePredictions({
        chunks: predictExamples(bundle, parquetSource(files), { columns }),
        source: parquetSource(files),
        keyColumns: keys,
        task: bundle.signature.task,
        file,
        onChunk: (rows) => log(`predicted ${rows} rows`),
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`BulkInferrer: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      bundle.model.dispose();
    }
    outputs.inference_result.properties = { inferred: 1, rows: n, split: parameters.split, split_names: JSON.stringify([parameters.split]) };
    log(`wrote ${n} predictions of split ${parameters.split} on ${backend.name}`);
  },
});
