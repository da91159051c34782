// ExampleGen: turns CSV, JSON Lines or Parquet files (local or gs://, selected by span/version/date patterns)
// into an Examples artifact, Split-<name>/part-*.parquet, split deterministically by hash or as predefined.
// How a row's split is computed is documented in runtime/data/hash-split.ts.

import { defineComponent } from '../../core/component';
import { Examples } from '../../core/artifact-types';
import { ExampleGenParameters } from './parameters';
import { keptRejectsUri, runExampleGen } from './run';
import { exampleGenInputs } from './fingerprint';
import { exampleGenAutoShards, exampleGenMerge, exampleGenPartial } from './shards';

export { ExampleGenParameters } from './parameters';
export { keptRejectsUri, REJECTS_FILE } from './run';

export const ExampleGen = defineComponent({
  name: 'ExampleGen',
  version: '4',
  description:
    'Reads CSV / JSON Lines / Parquet input spans and writes split Parquet examples (hash splits train 2 : eval 1 by default), quarantining bad rows.',
  inputs: {},
  outputs: {
    examples: {
      type: Examples,
      description: 'Split-<name>/part-*.parquet; properties span, version, split_names, row_count, split_row_counts, bad_row_count, derived_columns (when given); bad rows in rejects.jsonl (kept at <uri>.rejects.jsonl when the node fails)',
    },
  },
  parameters: ExampleGenParameters,
  externalInputs: exampleGenInputs,
  executor: async ({ outputs, parameters, log }) => {
    outputs.examples.properties = await runExampleGen(parameters, outputs.examples.path, log, keptRejectsUri(outputs.examples.uri));
  },
  // Shards share out the input files (or a Parquet input's rows); see shards.ts.
  sharding: {
    autoShards: ({ parameters }) => exampleGenAutoShards(parameters),
    partial: ({ parameters, log }, shard, partialDir) => exampleGenPartial(parameters, shard, partialDir, log),
    async merge({ parameters, outputs, log }, partialDirs) {
      outputs.examples.properties = await exampleGenMerge(parameters, partialDirs, outputs.examples.path, outputs.examples.uri, log);
    },
  },
});
