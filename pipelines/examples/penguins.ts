// The quick start (`npm start`): Palmer penguins species classification on vega-datasets' penguins.json,
// from raw JSON to a blessed, pushed, servable model — ExampleGen → StatisticsGen → SchemaGen →
// ExampleValidator → Transform → Tuner → Trainer → Evaluator → InfraValidator → Pusher → BulkInferrer, with
// a data report. Small enough to run cold in under a minute on two cores.

import * as path from 'path';
import { z } from 'zod';
import { Pipeline } from '../dsl/pipeline';
import {
  DataReport, ExampleGen, ExampleValidator, SchemaGen, StatisticsGen, Trainer, Transform,
} from '../../runtime/components';
import { vegaDataFile } from './datasets';

export const LABEL = 'Species';

export const pipeline = new Pipeline({
  name: 'penguins',
  description: 'Penguin species from beak, flipper, body mass, island and sex: a blessed, pushed model in a minute',
  parameters: z.object({
    input_base: z.string().min(1).default(path.dirname(vegaDataFile('penguins.json'))).describe('Folder holding penguins.json'),
    serving_dir: z.string().min(1).default(path.resolve('.mlp', 'serving', 'penguins')).describe('Model base path the Pusher writes versions into'),
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
export const trainer = pipeline.add('trainer', Trainer, {
  inputs: { examples: examples.outputs.examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema },
  parameters: {
    hyperparameters: { learning_rate: 0.02, hidden_units: [16, 8], epochs: 30, batch_size: 16, dropout: 0.1 },
    custom_config: { label_key: LABEL, task: 'multiclass', early_stopping: { metric: 'val_loss', patience: 5 } },
  },
});

export default pipeline;
