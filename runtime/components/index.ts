// The bundled components. Importing this module registers them all, so `mlp component run <name>` and the
// runner's executor processes can find them by name.

export { ExampleGen } from './example-gen';
export { BigQueryExampleGen } from './big-query-example-gen';
export { StatisticsGen } from './statistics-gen';
export { SchemaGen } from './schema-gen';
export { ImportSchemaGen } from './import-schema-gen';
export { ExampleValidator } from './example-validator';
export { DataReport } from './data-report';
export { Transform } from './transform';
export { Tuner } from './tuner';
export { Trainer } from './trainer';
export { Evaluator } from './evaluator';
export { InfraValidator } from './infra-validator';
export { BulkInferrer } from './bulk-inferrer';
export { Pusher } from './pusher';
export { ProduceNumbers } from './demo/produce-numbers';
export { ScaleNumbers } from './demo/scale-numbers';
export { SummarizeNumbers } from './demo/summarize-numbers';
