// BigQueryExampleGen: TFX's component of that name. A GoogleSQL query (or a table) with span placeholders runs as
// a BigQuery job that EXPORT DATAs Parquet under the pipeline root; the export then goes through ExampleGen's
// path for Parquet files (split, quarantine, accounting) into an Examples artifact.

import { defineComponent } from '../../core/component';
import { Examples } from '../../core/artifact-types';
import { keptRejectsUri } from '../example-gen';
import { bigQueryClientRunner } from './job-runner';
import { BigQueryExampleGenParameters } from './parameters';
import { runBigQueryExampleGen } from './run';

export { BigQueryExampleGenParameters } from './parameters';

export const BigQueryExampleGen = defineComponent({
  name: 'BigQueryExampleGen',
  version: '1',
  description:
    'Runs a BigQuery query (or reads a table) for a span as an EXPORT DATA job to Parquet, then splits the rows like ExampleGen (hash splits train 2 : eval 1 by default), quarantining bad rows.',
  inputs: {},
  outputs: {
    examples: {
      type: Examples,
      description: 'Split-<name>/part-*.parquet; properties as ExampleGen\'s (span is the span the query was rendered for, version 0)',
    },
  },
  parameters: BigQueryExampleGenParameters,
  executor: async ({ outputs, parameters, log, step }) => {
    const out = outputs.examples;
    out.properties = await runBigQueryExampleGen(parameters, out, log, bigQueryClientRunner, keptRejectsUri(out.uri), step);
  },
});
