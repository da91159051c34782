// Transform: runs the preprocessing spec's analyzers over the training split and writes the
// TransformGraph (<transform_graph>/transform_graph.json: spec + analyzer results, versioned), and with
// `materialize` the transformed examples of every split. Every later
// step applies that graph with runtime/transform/apply.ts, the same function the model server uses. Each
// vocabulary's out-of-vocabulary rate on the eval split is recorded in the graph and as properties; a rate
// over max_oov_rate is logged here and makes the Evaluator refuse to bless the model.
// Sharded (`shards: N`), shard i runs the analyzers over its contiguous rows of the analyzed split and writes
// their accumulator; the merge adds them up in shard order, finishes the analysis (the same graph as unsharded:
// analyze.ts' merges are exact) and does the rest unsharded: out-of-vocabulary rates, the graph, materialize.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent, type ExecutorContext } from '../../core/component';
import { Examples, TransformGraph } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { inheritedSpanVersion } from '../../core/span-version';
import { splitNamesOf, splitParquetFiles } from '../../data/duckdb';
import { parquetRowTotal, shardRows, shardsForRows } from '../../data/shard-rows';
import { writeJson } from '../../tfdv/artifact-files';
import { accumulate, accumulatorFromJson, accumulatorToJson, analyze, finishAnalysis, mergeAccumulators } from '../../transform/analyze';
import { materializeSplit } from '../../transform/materialize';
import { measureOutOfVocabulary, outOfVocabularyFailures } from '../../transform/out-of-vocabulary';
import { TRANSFORM_GRAPH_FILE, type TransformGraph as Graph } from '../../transform/graph';
import { TransformSpec } from '../../transform/spec';

/** `shards: auto`: one shard per this many rows of the analyzed split (a scan of ~5M rows takes seconds). */
export const ROWS_PER_AUTO_SHARD = 5_000_000;
/** A shard's partial state: its analysis accumulator (analyze.ts' accumulatorToJson). */
export const ACCUMULATOR_FILE = 'accumulator.json';

const Inputs = { examples: { type: Examples } };
const Outputs = {
  transform_graph: { type: TransformGraph },
  transformed_examples: { type: Examples, description: 'Every split transformed (only with materialize; otherwise empty, materialized = 0)' },
};
const Parameters = z.object({
  spec: TransformSpec.describe('One entry per output feature: vocabulary, z_score, min_max, bucketize, hash, cross or identity'),
  analyze_split: z.string().min(1).default('train').describe('Split the analyzers run over'),
  materialize: z.boolean().default(false).describe('Also write the transformed examples of every split'),
  keep_columns: z.array(z.string().min(1)).default([]).describe('Raw columns copied into the transformed examples (e.g. the label)'),
  oov_split: z.string().min(1).optional().describe('Split whose out-of-vocabulary rates are measured (default: eval when there is one, else the analyzed split)'),
  max_oov_rate: z.number().min(0).max(1).default(0.5).describe('A vocabulary with a higher out-of-vocabulary rate is flagged, and the Evaluator does not bless its model'),
});
type Context = ExecutorContext<typeof Inputs, typeof Outputs, typeof Parameters>;

/** The input's splits and the out-of-vocabulary split, refusing splits the examples do not have. */
function checkedSplits({ inputs, parameters }: Context): { splits: string[]; oovSplit: string } {
  const examples = inputs.examples[0];
  const splits = splitNamesOf(examples.properties, `examples ${examples.uri}`);
  if (!splits.includes(parameters.analyze_split)) {
    throw new UserError(`Transform: examples ${examples.uri} have no split "${parameters.analyze_split}" (splits: ${splits.join(', ')})`);
  }
  if (parameters.oov_split !== undefined && !splits.includes(parameters.oov_split)) {
    throw new UserError(`Transform: examples ${examples.uri} have no split "${parameters.oov_split}" (oov_split; splits: ${splits.join(', ')})`);
  }
  return { splits, oovSplit: parameters.oov_split ?? (splits.includes('eval') ? 'eval' : parameters.analyze_split) };
}

/** Everything after the analysis: out-of-vocabulary rates, the graph file, properties, materialized examples. */
async function writeOutputs(ctx: Context, analyzed: Graph): Promise<void> {
  const { inputs, outputs, parameters, log } = ctx;
  const examples = inputs.examples[0];
  const { splits, oovSplit } = checkedSplits(ctx);
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
}

export const Transform = defineComponent({
  name: 'Transform',
  // 2: graph version 2 (raw-value kinds, out-of-vocabulary rates); a cached version 1 graph is not reused.
  // 3: means and standard deviations exact (correctly rounded, the same for any sharding), bucketize boundaries
  // from a sketch past EXACT_VALUE_LIMIT distinct values, infinite values refused.
  version: '3',
  description: 'Analyzes the training split for a preprocessing spec and writes the TransformGraph.',
  inputs: Inputs,
  outputs: Outputs,
  parameters: Parameters,
  executor: async (ctx) => {
    checkedSplits(ctx);
    await writeOutputs(ctx, await analyze(ctx.parameters.spec, splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.analyze_split)));
  },
  sharding: {
    async autoShards({ inputs, parameters }) {
      return shardsForRows(await parquetRowTotal(splitParquetFiles(inputs.examples[0].path, parameters.analyze_split)), ROWS_PER_AUTO_SHARD);
    },
    async partial(ctx, shard, partialDir) {
      checkedSplits(ctx);
      const { sql } = await shardRows(splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.analyze_split), shard);
      const acc = await accumulate(ctx.parameters.spec, sql);
      await writeJson(path.join(partialDir, ACCUMULATOR_FILE), accumulatorToJson(acc));
      ctx.log(`shard ${shard.index}/${shard.count}: analyzed ${acc.examples} examples of split ${ctx.parameters.analyze_split}`);
    },
    async merge(ctx, partialDirs) {
      checkedSplits(ctx);
      const accs = partialDirs.map((dir, i) => {
        const file = path.join(dir, ACCUMULATOR_FILE);
        if (!fs.existsSync(file)) throw new UserError(`Transform merge: shard ${i} of ${partialDirs.length} left no accumulator (${file} is missing)`);
        return accumulatorFromJson(JSON.parse(fs.readFileSync(file, 'utf8')), file);
      });
      const merged = mergeAccumulators(accs);
      const rows = await parquetRowTotal(splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.analyze_split));
      if (merged.examples !== rows) {
        throw new UserError(`Transform merge: the ${accs.length} shards analyzed ${merged.examples} examples (${accs.map((a) => a.examples).join(' + ')}) but split ${ctx.parameters.analyze_split} has ${rows}`);
      }
      await writeOutputs(ctx, finishAnalysis(ctx.parameters.spec, merged));
    },
  },
});
