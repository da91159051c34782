// Streams rows through a serving bundle: rows are read in chunks with DuckDB (from an Examples split's Parquet
// files or any table expression, e.g. read_csv_auto(...)) and predicted with predictRows (transform applied
// exactly as in serving). Used by the Evaluator, the BulkInferrer and `mlp predict`, so none of them holds
// the data in memory.

import { duckdb, sqlIdent, sqlStringList } from '../data/duckdb';

/** The DuckDB table expression over Parquet files. */
export function parquetSource(files: string[]): string {
  return `read_parquet(${sqlStringList(files)})`;
}
import type { RawRow } from '../transform/apply';
import { predictRows, type Prediction, type ServingBundle } from './serving-bundle';

export interface PredictedChunk {
  rows: RawRow[];
  predictions: Prediction[];
}

/** Yields chunks of raw rows of `source` (the columns asked for, default all) with their predictions. */
export async function* predictExamples(bundle: ServingBundle, source: string, opts: { chunkRows?: number; columns?: string[] } = {}): AsyncGenerator<PredictedChunk> {
  const chunkRows = opts.chunkRows ?? 2048;
  const conn = await duckdb();
  try {
    const select = opts.columns ? opts.columns.map(sqlIdent).join(', ') : '*';
    const result = await conn.stream(`SELECT ${select} FROM ${source}`);
    let pending: RawRow[] = [];
    for await (const chunk of result.yieldRowObjectJs()) {
      pending.push(...(chunk as RawRow[]));
      while (pending.length >= chunkRows) {
        const rows = pending.slice(0, chunkRows);
        pending = pending.slice(chunkRows);
        yield { rows, predictions: await predictRows(bundle, rows) };
      }
    }
    if (pending.length > 0) yield { rows: pending, predictions: await predictRows(bundle, pending) };
  } finally {
    conn.closeSync();
  }
}
