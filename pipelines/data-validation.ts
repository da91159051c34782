// The data-validation pipeline, the first half of every training pipeline: ingest the latest span, describe
// it, check it against a curated schema and against the previous span (drift), and write a data report.
// Spans land as <input_base>/span-<N>/*.parquet (or .csv / .jsonl); the schema file carries the
// expectations, including per-feature drift thresholds.

import { z } from 'zod';
import { Pipeline } from './dsl/pipeline';
import { ExampleStatistics } from '../runtime/core/artifact-types';
import { DataReport, ExampleGen, ExampleValidator, ImportSchemaGen, StatisticsGen } from '../runtime/components';

export const pipeline = new Pipeline({
  name: 'data-validation',
  description: 'ExampleGen → StatisticsGen → ExampleValidator (schema + drift vs the previous span) → DataReport',
  parameters: z.object({
    input_base: z.string().min(1).describe('Folder (or gs:// prefix) holding span-<N>/ folders of data files'),
    schema_file: z.string().min(1).describe('Curated tensorflow_metadata Schema (proto3 JSON), with drift_comparator thresholds'),
  }),
});

const examples = pipeline.add('example-gen', ExampleGen, {
  parameters: { input_base: pipeline.param('input_base'), input_splits: [{ name: 'single_split', pattern: 'span-{SPAN}/*' }] },
});
const statistics = pipeline.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
const schema = pipeline.add('schema', ImportSchemaGen, { parameters: { schema_file: pipeline.param('schema_file') } });
const previous = pipeline.addResolver('previous-statistics', {
  type: ExampleStatistics,
  strategy: { kind: 'previous-span', of: statistics.outputs.statistics },
});
const validator = pipeline.add('example-validator', ExampleValidator, {
  inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema, baseline_statistics: previous.outputs.result },
  // Record anomalies instead of failing, so the report below is written; training pipelines gate on `blessed`.
  parameters: { on_anomalies: 'warn' },
});
pipeline.add('data-report', DataReport, {
  inputs: { statistics: statistics.outputs.statistics, anomalies: validator.outputs.anomalies, baseline_statistics: previous.outputs.result },
  parameters: { title: 'Data validation' },
});

export default pipeline;
