// Continuous training on monthly spans of US flights (see flights-data.ts for how spans land): each run
// (`mlp run flights --param span=N`) ingests one span, reports drift against the previous span, tunes the
// optimizer, trains a delay classifier warm-started from the last blessed model, evaluates it against that
// model with change thresholds, and pushes it only when it is at least as good. The pipeline the benchmarks
// and the cloud targets use.

import * as path from 'path';
import { z } from 'zod';
import { Pipeline } from '../dsl/pipeline';
import { ExampleStatistics, Model } from '../../runtime/core/artifact-types';
import { ExampleGen, ExampleValidator, ImportSchemaGen, StatisticsGen, Trainer, Transform, Tuner } from '../../runtime/components';
import { underRoot } from './datasets';
import { addReleaseGate } from './release-gate';

export const LABEL = 'delayed';

export const pipeline = new Pipeline({
  name: 'flights',
  description: 'Is a flight delayed ≥ 15 min? Span after span: drift check, warm-started training, evaluation against the last blessed model, push',
  parameters: z.object({
    span: z.number().int().min(0).optional().describe('Span (month) to process; default: the latest one present'),
    input_base: z.string().min(1).default(underRoot('data', 'flights')).describe('Folder or gs:// prefix with span-<N>/ folders (npm run flights:spans writes them)'),
    serving_dir: z.string().min(1).default(underRoot('serving', 'flights')).describe('Model base path the Pusher writes versions into'),
  }),
});

const examples = pipeline.add('example-gen', ExampleGen, {
  parameters: {
    input_base: pipeline.param('input_base'),
    input_splits: [{ name: 'single_split', pattern: 'span-{SPAN}/*' }],
    span: pipeline.param('span'),
  },
});
const statistics = pipeline.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
const schema = pipeline.add('schema', ImportSchemaGen, { parameters: { schema_file: path.join(__dirname, 'flights-schema.json') } });
const previous = pipeline.addResolver('previous-statistics', { type: ExampleStatistics, strategy: { kind: 'previous-span', of: statistics.outputs.statistics } });
pipeline.add('example-validator', ExampleValidator, {
  inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema, baseline_statistics: previous.outputs.result },
  parameters: { on_anomalies: 'warn' },
});
const transform = pipeline.add('transform', Transform, {
  inputs: { examples: examples.outputs.examples },
  parameters: {
    spec: [
      { kind: 'vocabulary', feature: 'origin', top_k: 150, num_oov_buckets: 5 },
      { kind: 'vocabulary', feature: 'destination', top_k: 150, num_oov_buckets: 5 },
      { kind: 'cross', features: ['origin', 'destination'], hash_buckets: 2000 },
      { kind: 'bucketize', feature: 'hour', num_buckets: 24 },
      { kind: 'hash', feature: 'day_of_week', hash_buckets: 7 },
      { kind: 'z_score', feature: 'distance' },
      { kind: 'bucketize', feature: 'distance', num_buckets: 10, output: 'distance_bucket' },
    ],
  },
});
// Warm start from the last blessed model; the release gate's baseline is the same model unless it is the
// candidate itself (a rerun of a span that was already blessed).
const warmStart = pipeline.addResolver('warm-start-model', { type: Model, strategy: { kind: 'latest-blessed-model', evaluator: 'evaluator' } });
const trainingInputs = { examples: examples.outputs.examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema };
const customConfig = { label_key: LABEL, task: 'binary', checkpoint_every_steps: 200 };
// A small search per span over the optimizer's settings only: the architecture stays fixed so every span's
// model can warm-start from the last blessed one. On Argo the trials fan out as parallel pods.
const tuner = pipeline.add('tuner', Tuner, {
  inputs: trainingInputs,
  parameters: {
    search_space: {
      learning_rate: { type: 'double', min: 0.001, max: 0.01, scale: 'log' },
      dropout: { type: 'double', min: 0, max: 0.3 },
    },
    algorithm: 'random',
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    max_trials: 2,
    max_parallel_trials: 2,
    early_stopping: false,
    hyperparameters: { hidden_units: [64, 32], batch_size: 256, epochs: 1 },
    custom_config: customConfig,
  },
});
const trainer = pipeline.add('trainer', Trainer, {
  inputs: { ...trainingInputs, hyperparameters: tuner.outputs.best_hyperparameters, base_model: warmStart.outputs.result },
  parameters: { custom_config: customConfig },
});
addReleaseGate(pipeline, {
  examples: examples.outputs.examples,
  model: trainer.outputs.model,
  evalConfig: {
    label_key: LABEL,
    task: 'binary',
    slicing_specs: [{}, { feature_keys: ['day_of_week'] }],
    thresholds: {
      auc: { value_threshold: { lower_bound: 0.55 }, change_threshold: { absolute: -0.01, direction: 'HIGHER_IS_BETTER' } },
    },
  },
  pushDestination: pipeline.param('serving_dir'),
});

export default pipeline;
