// BulkInferrer: predictions over an Examples split with the serving bundle's own prediction path, written as
// Parquet (<inference_result>/Split-<split>/predictions.parquet) with key columns and outputs. Skipped (an
// empty result saying why) when the model is not blessed. This is what fills the static side of hybrid serving.
// Sharded (`shards: N`), shard i predicts its contiguous rows of the split into its partial folder and the merge
// concatenates the shards' files in shard order: the same rows, in the same order, as one run.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent, type ExecutorContext } from '../../core/component';
import { Examples, InferenceResult, Model, ModelBlessing } from '../../core/artifact-types';
import { splitFolder } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitParquetFiles, sqlString, sqlStringList, withConnection } from '../../data/duckdb';
import { parquetRowTotal, shardRows, shardsForRows } from '../../data/shard-rows';
import { selectBackend } from '../../ml/backend';
import { parquetSource, predictExamples } from '../../ml/predict-examples';
import { loadServingBundle } from '../../ml/serving-bundle';
import { isBlessed } from '../../ml/blessing';
import { writePredictions } from '../../ml/write-predictions';

export const PREDICTIONS_FILE = 'predictions.parquet';
/** `shards: auto`: one shard per this many rows of the split (prediction costs far more per row than a scan). */
export const ROWS_PER_AUTO_SHARD = 1_000_000;

const Inputs = {
  examples: { type: Examples },
  model: { type: Model },
  model_blessing: { type: ModelBlessing, optional: true, description: 'When given, only a blessed model is used' },
};
const Outputs = { inference_result: { type: InferenceResult } };
const Parameters = z.object({
  split: z.string().min(1).default('eval').describe('Split to predict'),
  key_columns: z.array(z.string().min(1)).default([]).describe("Columns copied next to the predictions (default: the model's raw input features)"),
});
type Context = ExecutorContext<typeof Inputs, typeof Outputs, typeof Parameters>;

/** False (with the output's properties and log line set) when a blessing is given and it is not BLESSED. */
function blessedOrSkipped({ inputs, outputs, log }: Context): boolean {
  const blessing = inputs.model_blessing[0];
  if (!blessing || isBlessed(blessing, 'BLESSED')) return true;
  outputs.inference_result.properties = { inferred: 0 };
  log(`model ${inputs.model[0].uri} is not blessed: no inference`);
  return false;
}

/** Predicts the rows of `source` (a DuckDB table expression over the split) into `file`; returns the row count. */
async function predictInto({ inputs, parameters, log }: Context, source: string, file: string): Promise<number> {
  const backend = await selectBackend();
  const bundle = await loadServingBundle(inputs.model[0].path);
  const keys = parameters.key_columns.length > 0 ? parameters.key_columns : bundle.signature.inputs.map((i) => i.name);
  const columns = [...new Set([...keys, ...bundle.signature.inputs.map((i) => i.name)])];
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  try {
    const n = await writePredictions({
      chunks: predictExamples(bundle, source, { columns }),
      source,
      keyColumns: keys,
      task: bundle.signature.task,
      file,
      onChunk: (rows) => log(`predicted ${rows} rows`),
    });
    log(`wrote ${n} predictions of split ${parameters.split} on ${backend.name}`);
    return n;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`BulkInferrer: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    bundle.model.dispose();
  }
}

function resultFile({ outputs, parameters }: Context): string {
  return path.join(outputs.inference_result.path, splitFolder(parameters.split), PREDICTIONS_FILE);
}

function setResultProperties({ outputs, parameters }: Context, rows: number): void {
  outputs.inference_result.properties = { inferred: 1, rows, split: parameters.split, split_names: JSON.stringify([parameters.split]) };
}

/** What a shard leaves in its partial folder next to its predictions: its row count (checked by the merge). */
const SHARD_FILE = 'shard.json';

export const BulkInferrer = defineComponent({
  name: 'BulkInferrer',
  version: '1',
  description: 'Predicts every example of a split with the model and writes Parquet (key columns + outputs).',
  inputs: Inputs,
  outputs: Outputs,
  parameters: Parameters,
  executor: async (ctx) => {
    if (!blessedOrSkipped(ctx)) return;
    const files = splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.split);
    setResultProperties(ctx, await predictInto(ctx, parquetSource(files), resultFile(ctx)));
  },
  sharding: {
    async autoShards({ inputs, parameters }) {
      return shardsForRows(await parquetRowTotal(splitParquetFiles(inputs.examples[0].path, parameters.split)), ROWS_PER_AUTO_SHARD);
    },
    // An unblessed model: the shards do nothing (the model is not even loaded) and the merge records the skip.
    async partial(ctx, shard, partialDir) {
      const blessing = ctx.inputs.model_blessing[0];
      if (blessing && !isBlessed(blessing, 'BLESSED')) return;
      const selected = await shardRows(splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.split), shard);
      const n = await predictInto(ctx, selected.sql, path.join(partialDir, PREDICTIONS_FILE));
      if (n !== selected.rows) throw new Error(`BulkInferrer shard ${shard.index}/${shard.count}: predicted ${n} rows of the ${selected.rows} selected`);
      await fs.promises.writeFile(path.join(partialDir, SHARD_FILE), JSON.stringify({ rows: n }));
    },
    async merge(ctx, partialDirs) {
      if (!blessedOrSkipped(ctx)) return;
      const expected = await parquetRowTotal(splitParquetFiles(ctx.inputs.examples[0].path, ctx.parameters.split));
      await withConnection(async (conn) => {
        const parts = partialDirs.map((dir, i) => {
          const meta = path.join(dir, SHARD_FILE);
          if (!fs.existsSync(meta)) throw new UserError(`BulkInferrer merge: shard ${i} of ${partialDirs.length} left no predictions (${meta} is missing)`);
          return { file: path.join(dir, PREDICTIONS_FILE), rows: (JSON.parse(fs.readFileSync(meta, 'utf8')) as { rows: number }).rows };
      });
      const total = parts.reduce((a, p) => a + p.rows, 0);
      if (total !== expected) {
        throw new UserError(`BulkInferrer merge: the ${parts.length} shards predicted ${total} rows (${parts.map((p) => p.rows).join(' + ')}) but split ${ctx.parameters.split} has ${expected}`);
      }
      const file = resultFile(ctx);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      // The files in shard order; DuckDB's scan keeps that order (preserve_insertion_order, its default).
      const copied = await conn.runAndReadAll(`COPY (SELECT * FROM read_parquet(${sqlStringList(parts.map((p) => p.file))})) TO ${sqlString(file)} (FORMAT parquet)`);
      const written = Number(copied.getRows()[0]?.[0] ?? NaN);
      if (written !== expected) throw new Error(`BulkInferrer merge: wrote ${written} rows to ${file}, expected ${expected}`);
      setResultProperties(ctx, written);
      ctx.log(`merged ${parts.length} shards: ${written} predictions of split ${ctx.parameters.split}`);
      });
    },
  },
});
