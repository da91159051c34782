// Statistics of one split of an Examples artifact: its Parquet part files are grouped into shards, each
// shard is summarized by DuckDB (shards and their statements run concurrently on their own connections,
// and DuckDB spreads each scan over its worker threads) while the shard's numeric sketches are filled on
// the split-wide ranges the Parquet statistics give, and the shards' accumulators are merged.

import * as os from 'os';
import { mergeDatasets, type DatasetAccumulator } from './accumulators';
import { buildDatasetStatistics } from './build-statistics';
import { parquetSource } from './column-plans';
import { parquetRanges } from './parquet-ranges';
import { shardSketches, shardSummary, type ColumnSketches, type GridRanges, type ShardOptions } from './shard-statistics';
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

function sameRange(a: { min: number; max: number } | undefined, b: { min: number; max: number }): boolean {
  return a !== undefined && a.min === b.min && a.max === b.max;
}

/** Puts a shard's sketches into its accumulator. */
export function attachSketches(acc: DatasetAccumulator, sketches: Map<string, ColumnSketches>): void {
  for (const [name, s] of sketches) {
    const numeric = acc.features.get(name)?.numeric;
    if (!numeric) continue;
    numeric.sketch = s.sketch;
    numeric.grid = s.grid;
    if (numeric.weighted && s.weighted) Object.assign(numeric.weighted, s.weighted);
  }
}

/**
 * Computes every shard's accumulator and merges them (exported for tests comparing shards with one pass).
 * The grid range of each numeric column is guessed from Parquet statistics so the sketch scans run
 * alongside the summary scans; a column whose exact range (from the summaries) differs is rescanned.
 */
export async function accumulateShards(shards: string[][], opts: ShardOptions = {}): Promise<DatasetAccumulator> {
  const sources = shards.map(parquetSource);
  const guessed = await parquetRanges(shards.flat(), parquetSource(shards.flat()));
  const [summaries, early] = await Promise.all([
    Promise.all(sources.map((source) => shardSummary(source, opts))),
    Promise.all(sources.map((source) => shardSketches(source, guessed, opts))),
  ]);
  const redo = attachGuessedSketches(summaries, early, guessed);
  const late = redo.size > 0 ? await Promise.all(sources.map((source) => shardSketches(source, redo, opts))) : [];
  late.forEach((sketches, i) => attachSketches(summaries[i], sketches));
  return summaries.reduce(mergeDatasets);
}

/**
 * Gives each shard's summary its sketches, taken on the `guessed` grid ranges, for the columns whose guessed
 * range is the exact one the summaries find; returns the other columns with their exact ranges, to rescan.
 */
export function attachGuessedSketches(summaries: DatasetAccumulator[], early: Map<string, ColumnSketches>[], guessed: GridRanges): GridRanges {
  const exact = gridRanges(summaries.reduce(mergeDatasets));
  const redo: GridRanges = new Map([...exact].filter(([name, range]) => !sameRange(guessed.get(name), range)));
  summaries.forEach((summary, i) => attachSketches(summary, new Map([...early[i]].filter(([name]) => !redo.has(name) && exact.has(name)))));
  return redo;
}

export async function generateStatistics(splitName: string, files: string[], opts: GenerateOptions = {}): Promise<DatasetFeatureStatistics> {
  const shards = shardFiles(files, opts.shards ?? os.cpus().length);
  return buildDatasetStatistics(splitName, await accumulateShards(shards, opts));
}
