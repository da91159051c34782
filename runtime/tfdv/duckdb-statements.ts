// Running the statistics' SQL on the shared DuckDB engine: every statement gets its own connection so the
// independent statements of a shard run concurrently, with a bound on how many are in flight.

import * as os from 'os';
import { duckdb } from '../data/duckdb';

export type Row = Record<string, unknown>;

/** A SQL result value (numbers, BIGINT strings, NULL) as a number; NULL counts as 0. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Statements in flight at once: enough to overlap scans, few enough to bound the hash tables held in memory. */
const MAX_CONCURRENT_STATEMENTS = Math.max(2, os.cpus().length);
let running = 0;
const waiting: (() => void)[] = [];

/**
 * Runs one statement on its own connection: independent statements of a shard run concurrently (up to
 * MAX_CONCURRENT_STATEMENTS), so a column's GROUP BY overlaps the one-row scan instead of waiting for it.
 */
export async function query(sql: string): Promise<Row[]> {
  // A finishing statement hands its slot straight to the next waiting one.
  if (running >= MAX_CONCURRENT_STATEMENTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  const conn = await duckdb();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export async function one(sql: string): Promise<Row> {
  return (await query(sql))[0];
}
