// The rows of one shard of a split's Parquet part files (sharded steps, runtime/core/sharding.ts): the files
// taken in order as one sequence of rows, cut into `count` contiguous ranges of near-equal size, shard i getting
// range i. Contiguous ranges keep the split's row order when the shards' outputs are concatenated in shard
// order, and DuckDB prunes the row groups outside a `file_row_number` range, so a shard reads only its rows.

import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_SHARDS, type ShardRef } from '../core/sharding';
import { UserError } from '../core/errors';
import { queryRows, sqlString, sqlStringList, withConnection } from './duckdb';

/** One file's part of a shard: rows [from, to) of `file`. */
export interface FileRowRange {
  file: string;
  from: number;
  to: number;
}

/** Rows per file, from the Parquet footers (no data read). */
export async function parquetRowCounts(conn: DuckDBConnection, files: string[]): Promise<number[]> {
  if (files.length === 0) return [];
  const rows = await queryRows(conn, `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlStringList(files)})`);
  const byFile = new Map(rows.map((r) => [String(r.file_name), Number(r.num_rows)]));
  return files.map((f) => {
    const n = byFile.get(f);
    if (n === undefined) throw new UserError(`${f}: no Parquet footer found (is it a Parquet file?)`);
    return n;
  });
}

/** Rows of all the files together, from their footers (what the shards' row counts must add up to). */
export async function parquetRowTotal(files: string[]): Promise<number> {
  return withConnection(async (conn) => (await parquetRowCounts(conn, files)).reduce((a, b) => a + b, 0));
}

/** `shards: auto` for `rows` rows: one shard per `rowsPerShard` rows (rounded up), from 1 to MAX_SHARDS. */
export function shardsForRows(rows: number, rowsPerShard: number): number {
  return Math.min(MAX_SHARDS, Math.max(1, Math.ceil(rows / rowsPerShard)));
}

/** Shard `shard.index` of `shard.count` over files with `counts` rows each, as per-file row ranges. */
export function shardRanges(files: string[], counts: number[], shard: ShardRef): FileRowRange[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const lo = Math.floor((shard.index * total) / shard.count);
  const hi = Math.floor(((shard.index + 1) * total) / shard.count);
  const ranges: FileRowRange[] = [];
  let start = 0;
  files.forEach((file, i) => {
    const end = start + counts[i];
    const from = Math.max(lo, start);
    const to = Math.min(hi, end);
    if (from < to) ranges.push({ file, from: from - start, to: to - start });
    start = end;
  });
  return ranges;
}

/**
 * A SQL relation of the shard's rows, in file and row order (DuckDB keeps insertion order for scans and UNION ALL
 * under preserve_insertion_order, its default), with the files' own columns only. Empty shards
 * (fewer rows than shards) select no rows but keep the columns.
 */
export async function shardRowsSql(conn: DuckDBConnection, files: string[], shard: ShardRef): Promise<{ sql: string; rows: number }> {
  if (files.length === 0) throw new UserError('no Parquet part files to shard');
  const ranges = shardRanges(files, await parquetRowCounts(conn, files), shard);
  const scan = (r: FileRowRange) =>
    `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(r.file)}, file_row_number = true) WHERE file_row_number >= ${r.from} AND file_row_number < ${r.to}`;
  const sql = ranges.length === 0
    ? `(SELECT * FROM read_parquet(${sqlStringList(files)}) LIMIT 0)`
    : `(${ranges.map(scan).join(' UNION ALL ')})`;
  return { sql, rows: ranges.reduce((n, r) => n + r.to - r.from, 0) };
}

/** shardRowsSql on a connection of its own, closed before it returns (the SQL reads files, so any connection runs it). */
export async function shardRows(files: string[], shard: ShardRef): Promise<{ sql: string; rows: number }> {
  return withConnection((conn) => shardRowsSql(conn, files, shard));
}
