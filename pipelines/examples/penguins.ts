// The quick start (`npm start`): Palmer penguins species classification on vega-datasets' penguins.json,
// from raw JSON to a blessed, pushed, servable model — ExampleGen → StatisticsGen → SchemaGen →
// ExampleValidator → Transform → Tuner → Trainer → Evaluator → InfraValidator → Pusher → BulkInferrer, with
// a data report. Small enough to run cold in under a minute on two cores.

import * as path from 'path';
import { z } from 'zod';
import { Pipeline } from '../dsl/pipeline';
import {
  BulkInferrer, DataReport, ExampleGen, ExampleValidator, SchemaGen, StatisticsGen, Trainer, Transform, Tuner,
} from '../../runtime/components';
import { underRoot, vegaDataFile } from './datasets';
import { addReleaseGate } from './release-gate';

export const LABEL = 'Species';

export const pipeline = new Pipeline({
  name: 'penguins',
  description: 'Penguin species from beak, flipper, body mass, island and sex: a blessed, pushed model in a minute',
  parameters: z.object({
    // Looked up only when no input_base is given: vega-datasets is a dev dependency, absent from images.
    input_base: z.string().min(1).default(() => path.dirname(vegaDataFile('penguins.json'))).describe('Folder holding penguins.json (default: the vega-datasets package)'),
    serving_dir: z.string().min(1).default(underRoot('serving', 'penguins')).describe('Model base path the Pusher writes versions into'),
  }),
});

const examples = pipeline.add('example-gen', ExampleGen, {
  parameters: {
    input_base: pipeline.param('input_base'),
    input_splits: [{ name: 'single_split', pattern: 'penguins.json' }],
    output_splits: [
      { name: 'train', buckets: 3 },
      { name: 'eval', buckets: 1 },
    ],
  },
});
const statistics = pipeline.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
const schema = pipeline.add('schema-gen', SchemaGen, { inputs: { statistics: statistics.outputs.statistics } });
const validator = pipeline.add('example-validator', ExampleValidator, {
  inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema },
  parameters: { on_anomalies: 'warn' },
});
pipeline.add('data-report', DataReport, {
  inputs: { statistics: statistics.outputs.statistics, anomalies: validator.outputs.anomalies },
  parameters: { title: 'Penguins data' },
});
const transform = pipeline.add('transform', Transform, {
  inputs: { examples: examples.outputs.examples },
  parameters: {
    spec: [
      { kind: 'z_score', feature: 'Beak Length (mm)', output: 'beak_length' },
      { kind: 'z_score', feature: 'Beak Depth (mm)', output: 'beak_depth' },
      { kind: 'z_score', feature: 'Flipper Length (mm)', output: 'flipper_length' },
      { kind: 'z_score', feature: 'Body Mass (g)', output: 'body_mass' },
      { kind: 'vocabulary', feature: 'Island', output: 'island' },
      { kind: 'vocabulary', feature: 'Sex', output: 'sex' },
    ],
  },
});
const trainingInputs = { examples: examples.outputs.examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema };
const customConfig = { label_key: LABEL, task: 'multiclass', early_stopping: { metric: 'val_loss', patience: 5 } };
const tuner = pipeline.add('tuner', Tuner, {
  inputs: trainingInputs,
  parameters: {
    search_space: {
      learning_rate: { type: 'double', min: 0.003, max: 0.1, scale: 'log' },
      hidden_units: { type: 'discrete', values: ['16,8', '32,16'] },
    },
    algorithm: 'bayesian',
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    max_trials: 4,
    max_parallel_trials: 2,
    hyperparameters: { epochs: 15, batch_size: 16, dropout: 0.1 },
    custom_config: customConfig,
  },
});
export const trainer = pipeline.add('trainer', Trainer, {
  inputs: { ...trainingInputs, hyperparameters: tuner.outputs.best_hyperparameters },
  parameters: { custom_config: customConfig },
});
const { evaluator } = addReleaseGate(pipeline, {
  examples: examples.outputs.examples,
  model: trainer.outputs.model,
  evalConfig: {
    label_key: LABEL,
    task: 'multiclass',
    slicing_specs: [{}, { feature_keys: ['Island'] }, { feature_keys: ['Sex'] }],
    thresholds: {
      accuracy: { value_threshold: { lower_bound: 0.9 }, change_threshold: { absolute: -0.02, direction: 'HIGHER_IS_BETTER' } },
    },
    per_slice_thresholds: [{ slicing_specs: [{ feature_keys: ['Island'] }], metric: 'accuracy', threshold: { value_threshold: { lower_bound: 0.8 } } }],
  },
  pushDestination: pipeline.param('serving_dir'),
  infraExamples: 10,
});
pipeline.add('bulk-inferrer', BulkInferrer, {
  inputs: { examples: examples.outputs.examples, model: trainer.outputs.model, model_blessing: evaluator.outputs.blessing },
  parameters: { split: 'eval' },
});

export default pipeline;
