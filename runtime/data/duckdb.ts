// DuckDB access for the data components: one in-memory engine per process, SQL string literals, and where
// an Examples artifact keeps each split's Parquet files (TFX layout: <uri>/Split-<name>/part-*.parquet).

import * as fs from 'fs';
import * as path from 'path';
import type { DuckDBConnection, DuckDBInstance, Json } from '@duckdb/node-api';
import { splitFolder } from '../core/artifact-types';
import { UserError } from '../core/errors';

let instance: Promise<DuckDBInstance> | undefined;

/** A new connection to the process's in-memory DuckDB (connections are cheap; the instance is shared). */
export async function duckdb(): Promise<DuckDBConnection> {
  // The engine loads on first use: the SQL helpers below are also used where no query runs (CLI argument checks).
  instance ??= (require('@duckdb/node-api') as typeof import('@duckdb/node-api')).DuckDBInstance.create(':memory:');
  return (await instance).connect();
}

/** Runs `work` on a new connection, closed when it ends. */
export async function withConnection<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const conn = await duckdb();
  try {
    return await work(conn);
  } finally {
    conn.closeSync();
  }
}

/** A SQL string literal ('it''s'), for paths and values spliced into DuckDB statements. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL list of string literals (['a.csv', 'b.csv']), for the file lists of read_csv/read_json/read_parquet. */
export function sqlStringList(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** Runs a query and returns its rows as JSON-safe objects (BIGINT and larger integers come back as strings). */
export async function queryRows(conn: DuckDBConnection, sql: string): Promise<Record<string, Json>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson();
}

/**
 * A value read from DuckDB as JSON can carry it: BIGINTs arrive as bigint, which JSON.stringify refuses; they
 * become numbers when exact, else decimal strings (which DuckDB reads back into a BIGINT column exactly).
 */
export function jsonSafe(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** A quoted SQL identifier ("my col"), for column names taken from data. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The Parquet part files of one split of an Examples artifact, sorted; an error naming the split when there are none. */
export function splitParquetFiles(examplesPath: string, split: string): string[] {
  const dir = path.join(examplesPath, splitFolder(split));
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^part-.*\.parquet$/.test(f)).sort() : [];
  if (files.length === 0) throw new UserError(`examples ${examplesPath} have no Parquet files for split "${split}" (expected ${dir}/part-*.parquet)`);
  return files.map((f) => path.join(dir, f));
}

/** Split names of an Examples-like artifact from its `split_names` property (a JSON list, as TFX stores it). */
export function splitNamesOf(properties: Record<string, unknown>, where: string): string[] {
  const raw = properties.split_names;
  try {
    const names = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return names;
  } catch {
    // fall through to the error below
  }
  throw new UserError(`${where} has no valid split_names property (expected a JSON list of names, got ${JSON.stringify(raw)})`);
}
