// ImportSchemaGen: publishes a curated schema file (tensorflow_metadata Schema in proto3 JSON) as a Schema
// artifact after checking it, so teams version their expectations instead of re-inferring them. The file
// may be a local path or a gs:// object.

import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Schema } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { schemaPath, writeJson } from '../../tfdv/artifact-files';
import { storageFor } from '../../storage';
import { checkSchema } from '../../tfdv/check-schema';

export const ImportSchemaGen = defineComponent({
  name: 'ImportSchemaGen',
  version: '1',
  description: 'Imports a curated schema file (proto3 JSON) as a Schema artifact.',
  inputs: {},
  outputs: { schema: { type: Schema } },
  parameters: z.object({
    schema_file: z.string().min(1).describe('Local path or gs:// URI of the schema file (proto3 JSON of tensorflow_metadata Schema)'),
  }),
  executor: async ({ outputs, parameters, log }) => {
    const storage = storageFor(parameters.schema_file);
    if (!(await storage.exists(parameters.schema_file))) throw new UserError(`ImportSchemaGen: schema file ${parameters.schema_file} does not exist`);
    let raw: unknown;
    try {
      raw = JSON.parse((await storage.readFile(parameters.schema_file)).toString('utf8'));
    } catch (e) {
      throw new UserError(`ImportSchemaGen: ${parameters.schema_file} is not valid JSON: ${(e as Error).message}`);
    }
    const checked = checkSchema(raw);
    if (!checked.schema) throw new UserError(`ImportSchemaGen: ${parameters.schema_file} is not a valid schema: ${checked.problems.join('; ')}`);
    await writeJson(schemaPath(outputs.schema.path), checked.schema);
    log(`imported ${checked.schema.feature.length} features from ${parameters.schema_file}`);
  },
});
