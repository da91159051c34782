// Transform: runs the preprocessing spec's analyzers over the training split in one pass and writes the
// TransformGraph (<transform_graph>/transform_graph.json: spec + analyzer results, versioned). Every later
// step applies that graph with runtime/transform/apply.ts, the same function the model server uses.

import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, TransformGraph } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitNamesOf, splitParquetFiles } from '../../data/duckdb';
import { writeJson } from '../../tfdv/artifact-files';
import { analyze } from '../../transform/analyze';
import { TRANSFORM_GRAPH_FILE } from '../../transform/graph';
import { TransformSpec } from '../../transform/spec';

export const Transform = defineComponent({
  name: 'Transform',
  version: '1',
  description: 'Analyzes the training split for a preprocessing spec and writes the TransformGraph.',
  inputs: { examples: { type: Examples } },
  outputs: { transform_graph: { type: TransformGraph } },
  parameters: z.object({
    spec: TransformSpec.describe('One entry per output feature: vocabulary, z_score, min_max, bucketize, hash, cross or identity'),
    analyze_split: z.string().min(1).default('train').describe('Split the analyzers run over'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const examples = inputs.examples[0];
    const splits = splitNamesOf(examples.properties, `examples ${examples.uri}`);
    if (!splits.includes(parameters.analyze_split)) {
      throw new UserError(`Transform: examples ${examples.uri} have no split "${parameters.analyze_split}" (splits: ${splits.join(', ')})`);
    }
    const graph = await analyze(parameters.spec, splitParquetFiles(examples.path, parameters.analyze_split));
    await writeJson(path.join(outputs.transform_graph.path, TRANSFORM_GRAPH_FILE), graph);
    outputs.transform_graph.properties = { analyzed_examples: graph.analyzedExamples, outputs: graph.outputs.length };
    log(`analyzed ${graph.analyzedExamples} examples of split ${parameters.analyze_split}: ${graph.outputs.map((o) => o.name).join(', ')}`);
  },
});
