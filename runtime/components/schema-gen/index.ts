// SchemaGen: infers a tensorflow_metadata Schema (proto3 JSON, <schema>/schema.json) from an
// ExampleStatistics artifact with TFDV's rules; the schemas of several splits merge to the looser one.

import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { ExampleStatistics, Schema } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitNamesOf } from '../../data/duckdb';
import { readSplitStatistics, schemaPath, writeJson } from '../../tfdv/artifact-files';
import { inferSchema, mergeInferredSchemas } from '../../tfdv/infer-schema';

export const SchemaGen = defineComponent({
  name: 'SchemaGen',
  version: '1',
  description: 'Infers a TFDV schema (schema.json) from statistics.',
  inputs: { statistics: { type: ExampleStatistics } },
  outputs: { schema: { type: Schema } },
  parameters: z.object({
    infer_feature_shape: z.boolean().default(true).describe('Infer fixed shapes for features always present with the same number of values'),
    exclude_splits: z.array(z.string()).default([]).describe('Splits not considered when inferring'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const stats = inputs.statistics[0];
    const splits = splitNamesOf(stats.properties, `statistics ${stats.uri}`).filter((s) => !parameters.exclude_splits.includes(s));
    if (splits.length === 0) throw new UserError(`SchemaGen: no splits left after excluding ${JSON.stringify(parameters.exclude_splits)}`);
    const schemas = [];
    for (const split of splits) schemas.push(inferSchema(await readSplitStatistics(stats.path, split), { inferFeatureShape: parameters.infer_feature_shape }));
    const schema = schemas.reduce(mergeInferredSchemas);
    await writeJson(schemaPath(outputs.schema.path), schema);
    log(`inferred ${schema.feature.length} features from splits ${splits.join(', ')}`);
  },
});
