// Statistics of one split of an Examples artifact: its Parquet part files are grouped into shards, each
// shard is summarized by DuckDB (shards and their statements run concurrently on their own connections,
// and DuckDB spreads each scan over its worker threads), the summaries are merged, and a second pass fills
// every shard's sketches on the split-wide numeric ranges before those are merged too.

import * as os from 'os';
import { mergeDatasets, type DatasetAccumulator } from './accumulators';
import { buildDatasetStatistics } from './build-statistics';
import { parquetSource } from './column-plans';
import { shardSketches, shardSummary, type GridRanges, type ShardOptions } from './shard-statistics';
import type { DatasetFeatureStatistics } from './statistics-proto';

export interface GenerateOptions extends ShardOptions {
  /** How many shards to split the files into (default: one per CPU, never more than files). */
  shards?: number;
}

/** Splits files into `n` contiguous groups of near-equal size (by count). */
export function shardFiles(files: string[], n: number): string[][] {
  const k = Math.max(1, Math.min(n, files.length));
  return Array.from({ length: k }, (_, i) => files.slice(Math.floor((i * files.length) / k), Math.floor(((i + 1) * files.length) / k)));
}

/** The finite [min, max] of every numeric feature with finite values, over all shards. */
export function gridRanges(acc: DatasetAccumulator): GridRanges {
  const ranges: GridRanges = new Map();
  for (const f of acc.features.values()) {
    if (f.numeric && f.numeric.moments.n > 0) ranges.set(f.name, { min: f.numeric.finiteMin, max: f.numeric.finiteMax });
  }
  return ranges;
}

/** Computes every shard's accumulator and merges them (exported for tests comparing shards with one pass). */
export async function accumulateShards(shards: string[][], opts: ShardOptions = {}): Promise<DatasetAccumulator> {
  const summaries = await Promise.all(shards.map((files) => shardSummary(parquetSource(files), opts)));
  const ranges = gridRanges(summaries.reduce(mergeDatasets));
  await Promise.all(shards.map((files, i) => shardSketches(parquetSource(files), summaries[i], ranges, opts)));
  return summaries.reduce(mergeDatasets);
}

export async function generateStatistics(splitName: string, files: string[], opts: GenerateOptions = {}): Promise<DatasetFeatureStatistics> {
  const shards = shardFiles(files, opts.shards ?? os.cpus().length);
  return buildDatasetStatistics(splitName, await accumulateShards(shards, opts));
}
