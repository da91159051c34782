// ExampleGen sharded (issue 20 §3, runtime/core/sharding.ts). Shard i of N reads its part of the input — a
// contiguous block of whole files when there are at least N files, else (Parquet only) a contiguous range of the
// rows of all files taken in order, cut by their footers' row counts; CSV and JSON Lines are cut by whole files
// only, so shards past the file count read nothing — and writes its split part files, its rejects and its counts
// into its partial folder. The merge checks that the shards resolved the same inputs and read every input row
// exactly once between them, settles the columns of the merged rows, puts the part files into the Split-* folders
// (named by shard; the shards' states stay whole for a retried merge), and then counts, judges the bad rows and
// sets the properties exactly as the unsharded executor does. A row's split depends only on its values, so it is
// the same sharded or not.
//
// Column types come from each shard's own rows (CSV: a sample, checked on every row; JSON Lines: all its lines).
// A column without a value in a shard's rows (all empty CSV cells, a JSON key never present, a Parquet column
// absent from its files) does not constrain the type: it takes the one the shards holding values give it (STRING
// when none does), as the unsharded run does, and that shard's part files are written again with the merged
// columns (NULL there, in the unsharded column order), so every file of a split has one schema. When shards
// holding values disagree (a column holding text in one shard's files only), the merge fails naming the column
// and the shards; the schema parameter fixes the type for every shard.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { splitFolder } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { MAX_SHARDS, type ShardRef } from '../../core/sharding';
import type { Properties } from '../../metadata/types';
import { queryRows, sqlIdent, sqlString, sqlStringList, withConnection } from '../../data/duckdb';
import { featureTypeOfDuckDb } from '../../data/feature-types';
import { withHashSplitSql } from '../../data/hash-split';
import { parquetRowCounts, shardRanges } from '../../data/shard-rows';
import { stageLocally } from '../../data/stage';
import type { ExampleGenParameters } from './parameters';
import { allInputs, countRows, finish, keptRejectsUri, readAndWrite, resolveRun, rowCount, type ResolvedRun, type RunInput } from './run';
import type { BadRow } from './source';

/** `shards: auto`: one shard per this many input bytes (CSV and JSON Lines: at most one per file). */
export const BYTES_PER_AUTO_SHARD = 256 * 2 ** 20;
/** A shard's record of what it read and found, in its partial folder next to its Split-* folders. */
export const SHARD_FILE = 'example-gen-shard.json';

interface ShardRecord {
  /** What the shard resolved the patterns to (the merge resolves them again and compares). */
  spans: number[];
  version: number;
  uris: string[];
  /** What it read: whole files, or row ranges of Parquet files. */
  inputs: RunInput[];
  /** Row counts of every input file, from the footers, when the shards cut Parquet files into row ranges. */
  file_rows?: number[];
  /** Rows the reader counted (DuckDB had to read exactly these), rows written per split, and the rejects. */
  expected: number;
  split_row_counts: Record<string, number>;
  bad: BadRow[];
  unaccounted: string[];
}

/** Row ranges are needed when a Parquet input has fewer files than shards; otherwise whole files are shared out. */
function byRows(run: ResolvedRun, count: number): boolean {
  return run.format === 'parquet' && run.uris.length < count;
}

/** Shard `shard`'s inputs: a contiguous block of whole files, or its row ranges of the files (`fileRows` given). */
function shardInputs(run: ResolvedRun, shard: ShardRef, fileRows?: number[]): RunInput[] {
  const all = allInputs(run);
  if (!fileRows) return all.slice(Math.floor((shard.index * all.length) / shard.count), Math.floor(((shard.index + 1) * all.length) / shard.count));
  return shardRanges(all.map((_, i) => String(i)), fileRows, shard).map((r) => ({ ...all[Number(r.file)], rows: { from: r.from, to: r.to } }));
}

/** Footer row counts of every input file (staged when remote). */
async function inputFileRows(conn: DuckDBConnection, uris: string[]): Promise<number[]> {
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-example-gen-rows-'));
  try {
    return await parquetRowCounts(conn, await stageLocally(uris, tmp));
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/** Shard `shard`: reads its share of the input and writes its part files, rejects and counts into `partialDir`. */
export async function exampleGenPartial(p: ExampleGenParameters, shard: ShardRef, partialDir: string, log: (line: string) => void): Promise<void> {
  const run = await resolveRun(p);
  await withConnection(async (conn) => {
    const fileRows = byRows(run, shard.count) ? await inputFileRows(conn, run.uris) : undefined;
    const inputs = shardInputs(run, shard, fileRows);
    const written = inputs.length ? await readAndWrite(conn, p, run, inputs, partialDir, log, { emptySplits: false }) : { expected: 0, bad: [], unaccounted: [] };
    const counts: Record<string, number> = {};
    for (const name of run.splitNames) counts[name] = await countRows(conn, path.join(partialDir, splitFolder(name)));
    const record: ShardRecord = {
      spans: run.resolved.spans,
      version: run.resolved.version,
      uris: run.uris,
      inputs,
      ...(fileRows && { file_rows: fileRows }),
      expected: written.expected,
      split_row_counts: counts,
      bad: written.bad,
      unaccounted: written.unaccounted,
    };
    await fs.promises.writeFile(path.join(partialDir, SHARD_FILE), JSON.stringify(record));
    log(`shard ${shard.index}/${shard.count}: ${inputs.length} input part(s), ${written.expected} rows read, ${rowCount(written.bad)} bad`);
  });
}

function readRecord(dir: string, index: number, count: number): ShardRecord {
  const file = path.join(dir, SHARD_FILE);
  if (!fs.existsSync(file)) throw new UserError(`ExampleGen merge: shard ${index} of ${count} left no record (${file} is missing)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ShardRecord;
}

/** Every input file read exactly once between the shards: each file whole by one shard, or its rows' ranges tiling it. */
function checkCoverage(run: ResolvedRun, records: ShardRecord[]): void {
  const count = records.length;
  const rows = byRows(run, count) ? records[0].file_rows : undefined;
  if (byRows(run, count) && (!rows || records.some((r) => JSON.stringify(r.file_rows) !== JSON.stringify(rows)))) {
    throw new UserError('ExampleGen merge: the shards saw different row counts in the input files (did they change while the shards ran?)');
  }
  records.forEach((r, i) => {
    const planned = shardInputs(run, { index: i, count }, rows);
    if (JSON.stringify(r.inputs) !== JSON.stringify(planned)) {
      throw new UserError(`ExampleGen merge: shard ${i} of ${count} read ${describeInputs(r.inputs)}, but its share is ${describeInputs(planned)}`);
    }
  });
  // The shares themselves: every file once, row ranges contiguous from the first row to the last.
  const next = new Map<string, number>();
  for (const input of records.flatMap((r) => r.inputs)) {
    const at = next.get(input.uri) ?? 0;
    if (input.rows ? input.rows.from !== at : next.has(input.uri)) throw new Error(`ExampleGen merge: ${input.uri} is read twice or with a gap between shards`);
    next.set(input.uri, input.rows ? input.rows.to : Infinity);
  }
  // Row ranges: the rows the shards' readers counted add up to the footers' total.
  const read = records.reduce((n, r) => n + r.expected, 0);
  const total = rows?.reduce((a, b) => a + b, 0);
  if (total !== undefined && read !== total) throw new Error(`ExampleGen merge: the shards read ${read} rows, but the input files hold ${total}`);
  run.uris.forEach((uri, i) => {
    // A Parquet file without rows is in no shard's ranges.
    if (rows?.[i] === 0) return;
    const end = next.get(uri);
    if (end === undefined || (rows && end !== rows[i])) throw new Error(`ExampleGen merge: no shard read all of ${uri}`);
  });
}

function describeInputs(inputs: RunInput[]): string {
  if (inputs.length === 0) return 'nothing';
  return inputs.map((i) => (i.rows ? `${i.uri} rows ${i.rows.from}-${i.rows.to}` : i.uri)).join(', ');
}

/** A shard's part files by split, and their columns: names in order, DuckDB types, and those holding a value in some row. */
interface ShardParts {
  shard: number;
  parts: Map<string, string[]>;
  columns: { name: string; type: string }[];
  valued: Set<string>;
}

/** What a shard wrote (its part files share one schema: one reader's select), or undefined when it wrote no row. */
async function shardParts(conn: DuckDBConnection, shard: number, dir: string, splitNames: string[]): Promise<ShardParts | undefined> {
  const parts = new Map(splitNames.map((name) => [name, partFiles(path.join(dir, splitFolder(name)))]));
  const all = [...parts.values()].flat();
  if (all.length === 0) return undefined;
  const described = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet(${sqlString(all[0])})`);
  // The footers' null counts, per row group: a column holds a value when some row group has fewer nulls than rows
  // (or no count). Top-level scalar columns only, so path_in_schema is the column's name.
  const valued = await queryRows(
    conn,
    `SELECT path_in_schema AS name FROM parquet_metadata(${sqlStringList(all)}) GROUP BY path_in_schema ` +
      'HAVING bool_or(stats_null_count IS NULL OR stats_null_count < row_group_num_rows)',
  );
  return {
    shard,
    parts,
    columns: described.map((d) => ({ name: String(d.column_name), type: String(d.column_type) })),
    valued: new Set(valued.map((v) => String(v.name))),
  };
}

function partFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^part-.*\.parquet$/.test(f)).sort().map((f) => path.join(dir, f)) : [];
}

/**
 * The columns of the merged splits, in the unsharded run's order, each with the type the shards holding a value in
 * it agree on; fails naming the first column two shards type differently. The unsharded order is that of first
 * appearance over the files in input order (CSV: the one header; JSON Lines: keys as first met; Parquet:
 * union_by_name), so of first appearance over the shards in order, derived columns last as in every shard.
 * A column without values in a shard's rows (all NULL, or absent there) does not constrain its type where types
 * come from values (CSV, JSON Lines; a Parquet file declares its columns' types, so only absence is free there,
 * which union_by_name fills with NULL); CSV files share one header, so there a column is never absent.
 */
function mergeColumns(format: ResolvedRun['format'], shards: ShardParts[], derived: string[]): { name: string; type: string }[] {
  const fromValues = format !== 'parquet';
  if (format === 'csv') {
    const header = (s: ShardParts) => s.columns.map((c) => c.name).join(',');
    const other = shards.find((s) => header(s) !== header(shards[0]));
    if (other) {
      throw new UserError(
        `ExampleGen merge: shard ${shards[0].shard}'s CSV files have columns ${header(shards[0])} but shard ${other.shard}'s have ${header(other)}: every CSV file must have the same header`,
      );
    }
  }
  const names = [...new Set(shards.flatMap((s) => s.columns.map((c) => c.name)))];
  const ordered = [...names.filter((n) => !derived.includes(n)), ...names.filter((n) => derived.includes(n))];
  return ordered.map((name) => {
    const typed = shards.flatMap((s) => {
      const type = s.columns.find((c) => c.name === name)?.type;
      return type && (s.valued.has(name) || !fromValues) ? [{ shard: s.shard, type }] : [];
    });
    const other = typed.find((t) => t.type !== typed[0].type);
    if (other) {
      throw new UserError(
        `ExampleGen merge: column "${name}" is ${typed[0].type} in shard ${typed[0].shard}'s rows but ${other.type} in shard ${other.shard}'s ` +
          '(each shard types its columns from its own rows): set its type in the schema parameter so that every shard reads it alike',
      );
    }
    // No shard holds a value: the type they gave it (all STRING, as unsharded, unless the schema parameter says).
    return { name, type: typed[0]?.type ?? shards.flatMap((s) => s.columns).find((c) => c.name === name)!.type };
  });
}

/** Merges the shards' partial folders into the Examples artifact at `outDir` (URI `outUri`); returns its properties. */
export async function exampleGenMerge(p: ExampleGenParameters, partialDirs: string[], outDir: string, outUri: string, log: (line: string) => void): Promise<Properties> {
  const run = await resolveRun(p);
  const count = partialDirs.length;
  const records = partialDirs.map((dir, i) => readRecord(dir, i, count));
  records.forEach((r, i) => {
    if (JSON.stringify([r.spans, r.version, r.uris]) !== JSON.stringify([run.resolved.spans, run.resolved.version, run.uris])) {
      throw new UserError(
        `ExampleGen merge: shard ${i} of ${count} read span(s) ${r.spans.join(', ')} version ${r.version} (${r.uris.length} files), but the input now resolves to ` +
          `span(s) ${run.resolved.spans.join(', ')} version ${run.resolved.version} (${run.uris.length} files): the input changed while the shards ran`,
      );
    }
  });
  checkCoverage(run, records);
  return withConnection(async (conn) => {
    const shards: ShardParts[] = [];
    for (const [shard, dir] of partialDirs.entries()) {
      const parts = await shardParts(conn, shard, dir, run.splitNames);
      if (parts) shards.push(parts);
    }
    const columns = shards.length ? mergeColumns(run.format, shards, Object.keys(p.derived_columns ?? {})) : [];
    // What each shard's rows come to per split in the merged folders (a shard whose rows are hashed again differs).
    const wrote = records.map((r) => r.split_row_counts);
    for (const s of shards) wrote[s.shard] = await placeParts(conn, p, run, s, columns, records[s.shard], outDir, log);
    // The shards' own counts must be what the split folders now hold.
    for (const name of run.splitNames) {
      const sum = wrote.reduce((n, w) => n + (w[name] ?? 0), 0);
      const held = await countRows(conn, path.join(outDir, splitFolder(name)));
      if (held !== sum) throw new Error(`ExampleGen merge: split ${name} holds ${held} rows after the merge, but the shards wrote ${sum}`);
    }
    await writeEmptySplits(conn, outDir, run.splitNames);
    const bad = records.flatMap((r) => r.bad);
    const unaccounted = records.flatMap((r) => r.unaccounted);
    const expected = records.reduce((n, r) => n + r.expected, 0);
    log(`merged ${count} shards: ${expected} rows read, ${rowCount(bad)} bad`);
    return finish(conn, p, run, outDir, { expected, bad, unaccounted }, log, keptRejectsUri(outUri));
  });
}

/** Where a shard's part file goes (its split folder made): part-<shard>-<the shard's part name>, keeping the shards' files apart. */
async function mergedPartName(outDir: string, split: string, shard: number, part: string): Promise<string> {
  await fs.promises.mkdir(path.join(outDir, splitFolder(split)), { recursive: true });
  return path.join(outDir, splitFolder(split), `part-${String(shard).padStart(5, '0')}-${path.basename(part).replace(/^part-/, '')}`);
}

/**
 * Puts a shard's part files into the merged splits and returns its rows per split there. Files already of the
 * merged columns are linked, not moved (a retried merge finds the shards' states whole); the others are written
 * again with the merged columns, in their order, a column without values there as a NULL of the merged type, so
 * every file of a split has one schema (DuckDB's read_parquet of several files takes the columns of the first,
 * matches the others' by name and drops their extra ones). A NULL's split key text is U+001E whatever its type
 * (coalesce(text, chr(30)) in runtime/data/hash-split.ts; the INT and FLOAT texts of NULL are NULL), so retyping a
 * column that is NULL in every row of the shard moves no row; a column absent from the shard's rows is not in its
 * whole-record key at all, so those rows are hashed again over every column, as the unsharded run hashes them.
 */
async function placeParts(
  conn: DuckDBConnection,
  p: ExampleGenParameters,
  run: ResolvedRun,
  s: ShardParts,
  columns: { name: string; type: string }[],
  record: ShardRecord,
  outDir: string,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  if (JSON.stringify(s.columns) === JSON.stringify(columns)) {
    for (const [split, parts] of s.parts) for (const part of parts) await linkOrCopy(part, await mergedPartName(outDir, split, s.shard, part));
    return record.split_row_counts;
  }
  const own = new Map(s.columns.map((c) => [c.name, c.type]));
  const select = `SELECT ${columns.map((c) => (own.get(c.name) === c.type ? sqlIdent(c.name) : `CAST(NULL AS ${c.type}) AS ${sqlIdent(c.name)}`)).join(', ')}`;
  const derived = Object.keys(p.derived_columns ?? {});
  const raw = columns.filter((c) => !derived.includes(c.name));
  const absent = raw.filter((c) => !own.has(c.name));
  const nulls = columns.filter((c) => own.has(c.name) && own.get(c.name) !== c.type);
  log(
    `shard ${s.shard}: ${[...absent.map((c) => `${c.name} absent`), ...nulls.map((c) => `${c.name} all NULL`)].join(', ') || 'columns in another order'}: ` +
      `writing its part files again with ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
  );
  if (!(run.hashing && !p.partition_feature && absent.length)) {
    for (const [split, parts] of s.parts) {
      for (const part of parts) await conn.run(`COPY (${select} FROM read_parquet(${sqlString(part)})) TO ${sqlString(await mergedPartName(outDir, split, s.shard, part))} (FORMAT parquet)`);
    }
    return record.split_row_counts;
  }
  const key = { record: raw.map((c) => ({ name: c.name, type: featureTypeOfDuckDb(c.type, c.name, `ExampleGen merge, shard ${s.shard}`) })) };
  const tmp = path.join(outDir, `.shard-${s.shard}`);
  try {
    const all = [...s.parts.values()].flat();
    await conn.run(
      `COPY (${withHashSplitSql(`${select} FROM read_parquet(${sqlStringList(all)})`, key, p.output_splits)}) ` +
        `TO ${sqlString(tmp)} (FORMAT parquet, PARTITION_BY (__split), FILENAME_PATTERN 'part-{i}')`,
    );
    const counts: Record<string, number> = {};
    for (const split of run.splitNames) {
      const from = path.join(tmp, `__split=${split}`);
      counts[split] = await countRows(conn, from);
      for (const part of partFiles(from)) await fs.promises.rename(part, await mergedPartName(outDir, split, s.shard, part));
    }
    const [before, after] = [record.split_row_counts, counts].map((c) => Object.values(c).reduce((a, b) => a + b, 0));
    if (before !== after) throw new Error(`ExampleGen merge: shard ${s.shard} wrote ${before} rows, but hashing them again into the splits gave ${after}`);
    return counts;
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The file at `to` without writing its bytes again where the file system allows: a hard link (the whole dataset
 * passes through the merge, so a copy doubles its I/O and disk), else a copy (another file system, no links).
 */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.promises.link(from, to);
  } catch (err) {
    if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
  }
}

/** A split no shard wrote a row to gets a zero-row Parquet file with the columns of the others' rows. */
async function writeEmptySplits(conn: DuckDBConnection, outDir: string, splitNames: string[]): Promise<void> {
  const any = splitNames.flatMap((n) => partFiles(path.join(outDir, splitFolder(n))))[0];
  if (!any) return;
  for (const name of splitNames) {
    const dir = path.join(outDir, splitFolder(name));
    if (partFiles(dir).length) continue;
    await fs.promises.mkdir(dir, { recursive: true });
    await conn.run(`COPY (SELECT * FROM read_parquet(${sqlString(any)}) LIMIT 0) TO ${sqlString(path.join(dir, 'part-0.parquet'))} (FORMAT parquet)`);
  }
}

/** Shards: one per BYTES_PER_AUTO_SHARD of input, at most MAX_SHARDS, and for CSV / JSON Lines at most one per file. */
export async function exampleGenAutoShards(p: ExampleGenParameters): Promise<number> {
  const run = await resolveRun(p);
  const bytes = run.uris.reduce((n, u) => n + (run.resolved.sizes.get(u) ?? 0), 0);
  const cap = run.format === 'parquet' ? MAX_SHARDS : Math.min(MAX_SHARDS, run.uris.length);
  return Math.max(1, Math.min(cap, Math.ceil(bytes / BYTES_PER_AUTO_SHARD)));
}
