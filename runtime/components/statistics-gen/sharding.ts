// StatisticsGen as a sharded step (runtime/core/sharding.ts, runtime/runner/shard-steps.ts). Shard i of N reads,
// per split, its contiguous rows of the split's part files (shardRowsSql) and keeps the mergeable accumulators
// the unsharded executor keeps per file group (runtime/tfdv/generate-statistics.ts): the summary, and the
// quantile sketches and grid histograms of the numeric columns. The grid range must be the same in every shard
// or the histograms do not add up, so every shard takes it from the same place — the split's Parquet footers
// (parquetRanges over all its files), recorded in the partial state; merge checks that every shard used the
// same ranges, merges the accumulators in shard order, and, where a column's exact finite range (from the merged
// summaries) differs from the footers' (files written without statistics, infinities), rescans that column
// over the whole split, as the unsharded executor rescans it. The FeatureStats.json written is the executor's.

import * as fs from 'fs';
import * as path from 'path';
import type { ExecutorContext, InputPorts, OutputPorts, ParameterSchema } from '../../core/component';
import { UserError } from '../../core/errors';
import type { Properties } from '../../metadata/types';
import { shardItem, type ShardingSpec, type ShardRef } from '../../core/sharding';
import { inheritedSpanVersion } from '../../core/span-version';
import { splitNamesOf, splitParquetFiles } from '../../data/duckdb';
import { parquetRowTotal, shardRows, shardsForRows } from '../../data/shard-rows';
import { mergeDatasets, type DatasetAccumulator } from '../../tfdv/accumulators';
import { fromTaggedJson, toTaggedJson } from '../../tfdv/accumulator-json';
import { statisticsPath, writeJson } from '../../tfdv/artifact-files';
import { buildDatasetStatistics } from '../../tfdv/build-statistics';
import { parquetSource } from '../../tfdv/column-plans';
import { attachGuessedSketches, attachSketches } from '../../tfdv/generate-statistics';
import { parquetRanges } from '../../tfdv/parquet-ranges';
import { shardSketches, shardSummary, type ColumnSketches, type GridRanges } from '../../tfdv/shard-statistics';

/** `shards: auto`: one shard per this many rows (all splits together), at most MAX_SHARDS. */
export const ROWS_PER_AUTO_SHARD = 5_000_000;

const PARTIAL_FILE = 'statistics-partial.json';

interface SplitPartial {
  /** Rows of the split this shard read. */
  rows: number;
  /** The grid ranges the sketches were taken on (the split's Parquet footers). */
  ranges: GridRanges;
  summary: DatasetAccumulator;
  sketches: Map<string, ColumnSketches>;
}

interface Partial {
  shard: ShardRef;
  splits: Record<string, SplitPartial>;
}

type Ctx = ExecutorContext<InputPorts, OutputPorts, ParameterSchema>;

/** StatisticsGen's parameters (validated by the launcher before any phase runs). */
interface Params {
  exclude_splits: string[];
  weight_feature?: string;
}

const paramsOf = (ctx: Ctx): Params => ctx.parameters as unknown as Params;

/** The Examples input and the splits to describe (as the executor picks them). */
export function statisticsSplits(ctx: Ctx): { examplesPath: string; properties: Properties; splits: string[] } {
  const examples = ctx.inputs.examples[0];
  const { exclude_splits } = paramsOf(ctx);
  const splits = splitNamesOf(examples.properties, `examples ${examples.uri}`).filter((s) => !exclude_splits.includes(s));
  if (splits.length === 0) throw new UserError(`StatisticsGen: no splits left after excluding ${JSON.stringify(exclude_splits)}`);
  return { examplesPath: examples.path, properties: examples.properties, splits };
}

/** The output properties the executor sets. */
export function statisticsProperties(examplesProperties: Properties, splits: string[]): Properties {
  return { ...inheritedSpanVersion(examplesProperties), split_names: JSON.stringify(splits) };
}

function rangesText(ranges: GridRanges): string {
  return JSON.stringify([...ranges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const statisticsSharding: ShardingSpec = {
  async autoShards(ctx) {
    const { examplesPath, splits } = statisticsSplits(ctx);
    let rows = 0;
    for (const split of splits) rows += await parquetRowTotal(splitParquetFiles(examplesPath, split));
    return shardsForRows(rows, ROWS_PER_AUTO_SHARD);
  },

  async partial(ctx, shard, partialDir) {
    const { examplesPath, splits } = statisticsSplits(ctx);
    const opts = { weightFeature: paramsOf(ctx).weight_feature };
    const partial: Partial = { shard, splits: {} };
    for (const split of splits) {
      const files = splitParquetFiles(examplesPath, split);
      const { sql, rows } = await shardRows(files, shard);
      const ranges = await parquetRanges(files, parquetSource(files));
      const [summary, sketches] = await Promise.all([shardSummary(sql, opts), shardSketches(sql, ranges, opts)]);
      if (summary.numExamples !== rows) throw new UserError(`StatisticsGen shard ${shardItem(shard)}, split ${split}: read ${summary.numExamples} rows where the Parquet footers give ${rows}`);
      partial.splits[split] = { rows, ranges, summary, sketches };
      ctx.log(`shard ${shardItem(shard)}, split ${split}: ${rows} rows`);
    }
    await fs.promises.writeFile(path.join(partialDir, PARTIAL_FILE), toTaggedJson(partial));
  },

  async merge(ctx, partialDirs) {
    const { examplesPath, properties, splits } = statisticsSplits(ctx);
    const opts = { weightFeature: paramsOf(ctx).weight_feature };
    const partials = partialDirs.map((dir, index) => {
      const file = path.join(dir, PARTIAL_FILE);
      if (!fs.existsSync(file)) throw new UserError(`StatisticsGen merge: shard ${index}/${partialDirs.length} has no ${PARTIAL_FILE} in ${dir}`);
      const p = fromTaggedJson<Partial>(fs.readFileSync(file, 'utf8'));
      if (p.shard.index !== index || p.shard.count !== partialDirs.length) {
        throw new UserError(`StatisticsGen merge: ${file} is shard ${shardItem(p.shard)}, expected ${index}/${partialDirs.length}`);
      }
      return p;
    });
    for (const split of splits) {
      const started = Date.now();
      const files = splitParquetFiles(examplesPath, split);
      const shards = partials.map((p) => {
        const s = p.splits[split];
        if (!s) throw new UserError(`StatisticsGen merge: shard ${shardItem(p.shard)} has no state for split ${split}`);
        return s;
      });
      const ranges = rangesText(shards[0].ranges);
      const other = shards.findIndex((s) => rangesText(s.ranges) !== ranges);
      if (other >= 0) throw new UserError(`StatisticsGen merge, split ${split}: shard ${other}/${shards.length} took its histograms on other grid ranges than shard 0/${shards.length}; the split's files changed while the shards ran`);
      const expected = await parquetRowTotal(files);
      const read = shards.reduce((n, s) => n + s.rows, 0);
      if (read !== expected) throw new UserError(`StatisticsGen merge, split ${split}: the shards read ${read} rows, the split's files hold ${expected}`);
      const summaries = shards.map((s) => s.summary);
      const redo = attachGuessedSketches(summaries, shards.map((s) => s.sketches), shards[0].ranges);
      const merged = summaries.reduce(mergeDatasets);
      if (redo.size > 0) {
        ctx.log(`split ${split}: rescanning ${redo.size} numeric columns whose range the Parquet footers did not give exactly`);
        attachSketches(merged, await shardSketches(parquetSource(files), redo, opts));
      }
      const dataset = buildDatasetStatistics(split, merged);
      await writeJson(statisticsPath(ctx.outputs.statistics.path, split), { datasets: [dataset] });
      ctx.log(`split ${split}: ${dataset.numExamples} examples, ${dataset.features.length} features from ${shards.length} shards in ${Date.now() - started} ms`);
    }
    ctx.outputs.statistics.properties = statisticsProperties(properties, splits);
  },
};
