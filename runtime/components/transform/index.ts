// Transform: runs the preprocessing spec's analyzers over the training split in one pass and writes the
// TransformGraph (<transform_graph>/transform_graph.json: spec + analyzer results, versioned), and with
// `materialize` the transformed examples of every split. Every later
// step applies that graph with runtime/transform/apply.ts, the same function the model server uses. Each
// vocabulary's out-of-vocabulary rate on the eval split is recorded in the graph and as properties; a rate
// over max_oov_rate is logged here and makes the Evaluator refuse to bless the model.

import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, TransformGraph } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { inheritedSpanVersion } from '../../core/span-version';
import { splitNamesOf, splitParquetFiles } from '../../data/duckdb';
import { writeJson } from '../../tfdv/artifact-files';
import { analyze } from '../../transform/analyze';
import { materializeSplit } from '../../transform/materialize';
import { measureOutOfVocabulary, outOfVocabularyFailures } from '../../transform/out-of-vocabulary';
import { TRANSFORM_GRAPH_FILE } from '../../transform/graph';
import { TransformSpec } from '../../transform/spec';

export const Transform = defineComponent({
  name: 'Transform',
  // 2: graph version 2 (raw-value kinds, out-of-vocabulary rates); a cached version 1 graph is not reused.
  version: '2',
  description: 'Analyzes the training split for a preprocessing spec and writes the TransformGraph.',
  inputs: { examples: { type: Examples } },
  outputs: {
    transform_graph: { type: TransformGraph },
    transformed_examples: { type: Examples, description: 'Every split transformed (only with materialize; otherwise empty, materialized = 0)' },
  },
  parameters: z.object({
    spec: TransformSpec.describe('One entry per output feature: vocabulary, z_score, min_max, bucketize, hash, cross or identity'),
    analyze_split: z.string().min(1).default('train').describe('Split the analyzers run over'),
    materialize: z.boolean().default(false).describe('Also write the transformed examples of every split'),
    keep_columns: z.array(z.string().min(1)).default([]).describe('Raw columns copied into the transformed examples (e.g. the label)'),
    oov_split: z.string().min(1).optional().describe('Split whose out-of-vocabulary rates are measured (default: eval when there is one, else the analyzed split)'),
    max_oov_rate: z.number().min(0).max(1).default(0.5).describe('A vocabulary with a higher out-of-vocabulary rate is flagged, and the Evaluator does not bless its model'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const examples = inputs.examples[0];
    const splits = splitNamesOf(examples.properties, `examples ${examples.uri}`);
    if (!splits.includes(parameters.analyze_split)) {
      throw new UserError(`Transform: examples ${examples.uri} have no split "${parameters.analyze_split}" (splits: ${splits.join(', ')})`);
    }
    if (parameters.oov_split !== undefined && !splits.includes(parameters.oov_split)) {
      throw new UserError(`Transform: examples ${examples.uri} have no split "${parameters.oov_split}" (oov_split; splits: ${splits.join(', ')})`);
    }
    const oovSplit = parameters.oov_split ?? (splits.includes('eval') ? 'eval' : parameters.analyze_split);
    const analyzed = await analyze(parameters.spec, splitParquetFiles(examples.path, parameters.analyze_split));
    const graph = await measureOutOfVocabulary(analyzed, splitParquetFiles(examples.path, oovSplit), oovSplit, parameters.max_oov_rate);
    await writeJson(path.join(outputs.transform_graph.path, TRANSFORM_GRAPH_FILE), graph);
    const flagged = outOfVocabularyFailures(graph);
    const rates = Object.fromEntries(graph.outputs.flatMap((o) => (o.outOfVocabulary ? [[o.name, o.outOfVocabulary.rate]] : [])));
    outputs.transform_graph.properties = {
      analyzed_examples: graph.analyzedExamples,
      outputs: graph.outputs.length,
      oov_split: oovSplit,
      oov_rates: JSON.stringify(rates),
      oov_flagged: flagged.length,
    };
    for (const f of flagged) log(`flagged: ${f}`);
    const transformed = outputs.transformed_examples;
    if (parameters.materialize) {
      for (const split of splits) {
        const n = await materializeSplit(graph, splitParquetFiles(examples.path, split), split, transformed.path, parameters.keep_columns);
        log(`materialized ${n} transformed examples of split ${split}`);
      }
    }
    // Examples of the input's span and version, as TFX's Transform records its transformed_examples, with the
    // splits written; unmaterialized ones have no split_names, so a consumer fails naming that, not on nothing.
    transformed.properties = {
      materialized: parameters.materialize ? 1 : 0,
      ...(parameters.materialize ? { split_names: JSON.stringify(splits) } : {}),
      ...inheritedSpanVersion(examples.properties),
    };
    log(`analyzed ${graph.analyzedExamples} examples of split ${parameters.analyze_split}: ${graph.outputs.map((o) => o.name).join(', ')}`);
  },
});
