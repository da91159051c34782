// Where each bundled component is defined, so a worker process or a container step loads only the component
// it runs (the data components pull in DuckDB's native engine; a demo step should not pay for that).
// Kept in step with index.ts by a test.

import * as path from 'path';

export const BUNDLED_COMPONENT_MODULES: Readonly<Record<string, string>> = {
  ExampleGen: 'example-gen',
  BigQueryExampleGen: 'big-query-example-gen',
  StatisticsGen: 'statistics-gen',
  SchemaGen: 'schema-gen',
  ImportSchemaGen: 'import-schema-gen',
  ExampleValidator: 'example-validator',
  DataReport: 'data-report',
  Transform: 'transform',
  Tuner: 'tuner',
  Trainer: 'trainer',
  Evaluator: 'evaluator',
  InfraValidator: 'infra-validator',
  BulkInferrer: 'bulk-inferrer',
  Pusher: 'pusher',
  ProduceNumbers: 'demo/produce-numbers',
  ScaleNumbers: 'demo/scale-numbers',
  SummarizeNumbers: 'demo/summarize-numbers',
};

/** Loads (and so registers) a bundled component by name; false when the name is not a bundled component. */
export function loadBundledComponent(name: string): boolean {
  const folder = BUNDLED_COMPONENT_MODULES[name];
  if (!folder) return false;
  require(path.join(__dirname, folder));
  return true;
}
