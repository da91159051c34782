// Shared by the ExampleGen tests: temp folders, real-data fixtures (vega-datasets penguins as CSV / JSON Lines,
// flights-3m.parquet cut into monthly span files with DuckDB), running ExampleGen and reading its splits back.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';
import { ExampleGenParameters, keptRejectsUri } from '../../../../runtime/components/example-gen';
import { runExampleGen } from '../../../../runtime/components/example-gen/run';
import { duckdb, queryRows, sqlString } from '../../../../runtime/data/duckdb';
import type { Properties } from '../../../../runtime/metadata/types';
import type { Json } from '@duckdb/node-api';

export const VEGA = path.join(__dirname, '..', '..', '..', '..', 'node_modules', 'vega-datasets', 'data');
export const FLIGHTS = path.join(VEGA, 'flights-3m.parquet');

type Penguin = Record<string, string | number | null>;
export const PENGUINS: Penguin[] = JSON.parse(fs.readFileSync(path.join(VEGA, 'penguins.json'), 'utf8'));
export const PENGUIN_COLUMNS = Object.keys(PENGUINS[0]);

/** A temp dir per test, removed afterwards; read `.dir` inside tests. */
export function useTempDir(prefix: string): { dir: string } {
  const ctx = { dir: '' };
  beforeEach(async () => {
    ctx.dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    await fs.promises.rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Penguins as CSV text: header, then one line per penguin (missing values as empty cells). */
export function penguinsCsv(rows: Penguin[] = PENGUINS): string {
  return [PENGUIN_COLUMNS.map(csvCell).join(','), ...rows.map((r) => PENGUIN_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

export function penguinsJsonl(rows: Penguin[] = PENGUINS): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

export async function query(sql: string): Promise<Record<string, Json>[]> {
  const conn = await duckdb();
  try {
    return await queryRows(conn, sql);
  } finally {
    conn.closeSync();
  }
}

/** Writes `rows` flights of month `month` (1-6 of 2001) to a Parquet file. */
export async function writeFlightsMonth(file: string, month: number, rows: number): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await query(
    `COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = ${month} LIMIT ${rows}) TO ${sqlString(file)} (FORMAT parquet)`,
  );
  return file;
}

/** Runs ExampleGen with these parameters into a fresh folder below `dir`; returns it with the properties. */
export async function runGen(dir: string, params: Record<string, unknown>, name = 'out'): Promise<{ out: string; props: Properties; log: string[] }> {
  const out = path.join(dir, name);
  await fs.promises.mkdir(out, { recursive: true });
  const log: string[] = [];
  const props = await runExampleGen(ExampleGenParameters.parse(params), out, (l) => log.push(l), keptRejectsUri(out));
  return { out, props, log };
}

/** All rows of one output split. */
export function splitRows(out: string, split: string, orderBy?: string): Promise<Record<string, Json>[]> {
  return query(`SELECT * FROM read_parquet(${sqlString(path.join(out, `Split-${split}`, '*.parquet'))})${orderBy ? ` ORDER BY ${orderBy}` : ''}`);
}

/** The split a bucket falls in: the first whose cumulative bucket count exceeds it. */
function splitOfBucket(bucket: bigint, splits: { name: string; buckets: number }[]): string {
  let cumulative = 0n;
  for (const s of splits) {
    cumulative += BigInt(s.buckets);
    if (bucket < cumulative) return s.name;
  }
  throw new Error('unreachable');
}

function bucketTotal(splits: { buckets: number }[]): bigint {
  return BigInt(splits.reduce((s, x) => s + x.buckets, 0));
}

/**
 * The split the documented whole-record formula assigns to a record key: the first split whose cumulative bucket
 * count c has int(md5(key).hexdigest(), 16) * total < c * 2^128.
 */
export function expectedSplit(key: string, splits: { name: string; buckets: number }[]): string {
  const digest = BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);
  let cumulative = 0n;
  for (const s of splits) {
    cumulative += BigInt(s.buckets);
    if (digest * bucketTotal(splits) < cumulative << 128n) return s.name;
  }
  throw new Error('unreachable');
}

/** The split the documented partition-feature formula (TFX's) assigns to a value: int(sha256(value).hexdigest(), 16) % total. */
export function expectedFeatureSplit(value: string, splits: { name: string; buckets: number }[]): string {
  return splitOfBucket(BigInt(`0x${createHash('sha256').update(value, 'utf8').digest('hex')}`) % bucketTotal(splits), splits);
}

/** The whole-record key of values already in canonical column order (texts; null for missing): joined by U+001F, missing as U+001E. */
export function recordKey(texts: (string | null)[]): string {
  return texts.map((t) => t ?? '\x1e').join('\x1f');
}

export const DEFAULT_SPLITS = [
  { name: 'train', buckets: 2 },
  { name: 'eval', buckets: 1 },
];
