// Streams an Examples split through a serving bundle: rows are read from Parquet in chunks with DuckDB and
// predicted with predictRows (transform applied exactly as in serving). Used by the Evaluator, the
// BulkInferrer and the InfraValidator, so none of them holds a whole split in memory.

import { duckdb, sqlIdent, sqlStringList } from '../data/duckdb';
import type { RawRow } from '../transform/apply';
import { predictRows, type Prediction, type ServingBundle } from './serving-bundle';

export interface PredictedChunk {
  rows: RawRow[];
  predictions: Prediction[];
}

/**
 * Yields chunks of raw rows (the columns asked for, default all) with their predictions.
 * `limit` stops after that many rows (an infra check needs a sample, not the split).
 */
export async function* predictExamples(bundle: ServingBundle, files: string[], opts: { chunkRows?: number; columns?: string[]; limit?: number } = {}): AsyncGenerator<PredictedChunk> {
  const chunkRows = opts.chunkRows ?? 2048;
  const conn = await duckdb();
  try {
    const select = opts.columns ? opts.columns.map(sqlIdent).join(', ') : '*';
    const limit = opts.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.limit))}` : '';
    const result = await conn.stream(`SELECT ${select} FROM read_parquet(${sqlStringList(files)})${limit}`);
    let pending: RawRow[] = [];
    for await (const chunk of result.yieldRowObjectJs()) {
      pending.push(...(chunk as RawRow[]));
      while (pending.length >= chunkRows) {
        const rows = pending.slice(0, chunkRows);
        pending = pending.slice(chunkRows);
        yield { rows, predictions: predictRows(bundle, rows) };
      }
    }
    if (pending.length > 0) yield { rows: pending, predictions: predictRows(bundle, pending) };
  } finally {
    conn.closeSync();
  }
}
