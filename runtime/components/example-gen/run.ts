// ExampleGen's executor body: resolve the input spans, stage remote files, read them with the format's reader,
// assign each good row to a split (hash of its key, or its predefined input split) and write each split as
// Parquet through DuckDB in one streaming COPY per input split; bad rows are counted, located and quarantined,
// and the rows DuckDB read must be exactly the ones the reader counted on its own (else the node fails). Derived
// columns (derived-columns.ts) are checked before anything is read and added to each good row after its split
// is decided. Column types a reader guessed from a sample (CSV) are checked on every row in that same pass; a row
// that contradicts them makes the reader infer them from all rows, and the splits are written again.
// Which split a row lands in never varies; the order of rows inside a split's file may vary between runs when
// DuckDB reads the input in parallel (a partitioned COPY does not keep insertion order). The phases (resolveRun,
// readAndWrite over some inputs, finish) are exported for the sharded run (shards.ts), which reads and writes per
// shard and finishes once in its merge.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { splitFolder } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import type { Properties } from '../../metadata/types';
import { duckdb, queryRows, sqlString } from '../../data/duckdb';
import { withHashSplitSql, type SplitKey } from '../../data/hash-split';
import { stageLocally } from '../../data/stage';
import { storageFor } from '../../storage';
import { bindDerivedColumns, checkDerivedExpressions, derivedColumnsProperty, derivedFailure, withDerivedSql } from './derived-columns';
import { resolveInputs, type ResolvedInput } from './input-patterns';
import { rangeOf, type ExampleGenParameters } from './parameters';
import { readCsv } from './read-csv';
import { readJsonl } from './read-jsonl';
import { readParquet } from './read-parquet';
import { rowsOf, whereOf, type BadRow, type InputFile, type OpenedSource, type Reader, type RowRange } from './source';

/** Where quarantined rows go, inside the Examples artifact (next to the Split-* folders). */
export const REJECTS_FILE = 'rejects.jsonl';

/** Where a failed run keeps its rejects: next to the artifact's URI (`<uri>.rejects.jsonl`), which failure deletes. */
export function keptRejectsUri(outputUri: string): string {
  return `${outputUri.replace(/\/+$/, '')}.${REJECTS_FILE}`;
}
const BAD_PARTITION = '__bad';
const PARTITION_FLUSH_ROWS = 122_880;
const UNSURE_PARTITION = '__unsure';

const READERS: Record<'csv' | 'jsonl' | 'parquet', Reader> = { csv: readCsv, jsonl: readJsonl, parquet: readParquet };
const EXTENSIONS: [RegExp, keyof typeof READERS][] = [
  [/\.csv$/i, 'csv'],
  [/\.(jsonl|ndjson|json)$/i, 'jsonl'],
  [/\.parquet$/i, 'parquet'],
];

type Format = keyof typeof READERS;

function formatOf(format: ExampleGenParameters['format'], files: string[]): Format {
  if (format !== 'auto') return format;
  const found = new Set(files.map((f) => EXTENSIONS.find(([re]) => re.test(f))?.[1] ?? `unknown (${path.basename(f)})`));
  if (found.size !== 1) throw new UserError(`cannot pick an input format from the file names (${[...found].join(', ')}); set format to csv, jsonl or parquet`);
  return [...found][0] as Format;
}

/** What the input patterns resolve to, with the format and the output split names: the same in every shard. */
export interface ResolvedRun {
  resolved: ResolvedInput;
  /** One input split, hash-split into output_splits (else predefined input splits, kept as they are). */
  hashing: boolean;
  splitNames: string[];
  /** Every input file, in input split then name order. */
  uris: string[];
  format: Format;
}

/** Resolves the inputs and checks the parameters against them (nothing is read yet). */
export async function resolveRun(p: ExampleGenParameters): Promise<ResolvedRun> {
  await checkDerivedExpressions(p.derived_columns ?? {});
  const resolved = await resolveInputs(p.input_base, p.input_splits, rangeOf(p));
  const hashing = resolved.splits.length === 1;
  const splitNames = hashing ? p.output_splits.map((s) => s.name) : resolved.splits.map((s) => s.name);
  const duplicate = splitNames.find((n, i) => splitNames.indexOf(n) !== i);
  if (duplicate) throw new UserError(`split "${duplicate}" is named twice`);
  if (!hashing && p.partition_feature) throw new UserError('partition_feature applies to hash splitting; it cannot be used with predefined input splits');
  const uris = resolved.splits.flatMap((s) => s.files);
  return { resolved, hashing, splitNames, uris, format: formatOf(p.format, uris) };
}

/** An input file to read: its URI, the index of its input split, and for a Parquet shard a row range of it. */
export interface RunInput {
  uri: string;
  group: number;
  rows?: RowRange;
}

/** Every input file of a run, whole. */
export function allInputs(run: ResolvedRun): RunInput[] {
  return run.resolved.splits.flatMap((s, group) => s.files.map((uri) => ({ uri, group })));
}

/** What reading some inputs and writing their good rows into Split-* folders found. */
export interface Written {
  /** Rows the reader counted on its own, which DuckDB had to read (0: nothing was written). */
  expected: number;
  bad: BadRow[];
  /** Files whose rows DuckDB read differ from the reader's count. */
  unaccounted: string[];
}

/**
 * Runs ExampleGen into the local folder `outDir` and returns the Examples artifact's properties. When the node
 * fails with rejects found, they are written to `keptRejectsUri` (outside the artifact, which is deleted).
 */
export async function runExampleGen(p: ExampleGenParameters, outDir: string, log: (line: string) => void, keptRejectsUri: string): Promise<Properties> {
  const run = await resolveRun(p);
  const conn = await duckdb();
  try {
    const written = await readAndWrite(conn, p, run, allInputs(run), outDir, log, { emptySplits: true });
    // Headers only, blank lines or only broken records: there is nothing to split (and maybe no column).
    if (written.expected === 0) await failKeepingRejects(noRowsFailure(run.uris, rowCount(written.bad)), written.bad, keptRejectsUri);
    return await finish(conn, p, run, outDir, written, log, keptRejectsUri);
  } finally {
    conn.closeSync();
  }
}

/**
 * Reads `inputs` and writes their good rows into `outDir`'s Split-* folders (with a zero-row file for a split no
 * row went to when `emptySplits`); nothing is written when the inputs have no row to read.
 */
export async function readAndWrite(
  conn: DuckDBConnection,
  p: ExampleGenParameters,
  run: ResolvedRun,
  inputs: RunInput[],
  outDir: string,
  log: (line: string) => void,
  opts: { emptySplits: boolean },
): Promise<Written> {
  const uris = [...new Set(inputs.map((i) => i.uri))];
  const { resolved, format } = run;
  log(`reading ${uris.length} ${format} file(s), span(s) ${resolved.spans.join(', ')} version ${resolved.version}`);
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-example-gen-'));
  let source: OpenedSource | undefined;
  try {
    const locals = await stageLocally(uris, path.join(tmp, 'staged'));
    const localOf = new Map(uris.map((u, i) => [u, locals[i]]));
    const files = inputs.map((i): InputFile & { group: number } => ({ local: localOf.get(i.uri)!, display: i.uri, group: i.group, ...(i.rows && { rows: i.rows }) }));
    const groups = resolved.splits.map((s, g) => ({ name: s.name, files: files.filter((f) => f.group === g) })).filter((g) => g.files.length > 0);
    source = await READERS[format](conn, files, { schema: p.schema ?? {}, csvDelimiter: p.csv_delimiter }, tmp);
    const expected = await source.expectedRows(files);
    if (expected === 0) return { expected, bad: await source.badRows(files, 0), unaccounted: [] };
    // A reader that guessed column types from a sample checks them on every row while writing; when a row shows
    // the guess wrong, the types are inferred from all rows and the splits written again. Derived columns are
    // typed and checked against the raw columns' types, so those must be final first.
    if (Object.keys(p.derived_columns ?? {}).length) await source.settleTypes?.();
    const write = () => writeSplits(conn, source!, groups, run, p, outDir, opts.emptySplits, log);
    let written = await write();
    if (written === 'unsure') {
      log('column types guessed from a sample do not hold for every row: inferring them from all rows and writing again');
      await source.settleTypes!();
      for (const name of run.splitNames) await fs.promises.rm(path.join(outDir, splitFolder(name)), { recursive: true, force: true });
      written = await write();
      if (written === 'unsure') throw new Error('column types inferred from every row still do not hold');
    }
    return { expected, ...written };
  } finally {
    await source?.close?.();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Counts the rows in `outDir`'s splits, fails the node when the accounting does not add up or there are too many
 * bad rows (keeping the rejects), else writes the rejects file and returns the artifact's properties.
 */
export async function finish(
  conn: DuckDBConnection,
  p: ExampleGenParameters,
  run: ResolvedRun,
  outDir: string,
  { bad, unaccounted }: Written,
  log: (line: string) => void,
  keptRejectsUri: string,
): Promise<Properties> {
  const { resolved, splitNames } = run;
  const counts: Record<string, number> = {};
  for (const name of splitNames) counts[name] = await countRows(conn, path.join(outDir, splitFolder(name)));
  const good = Object.values(counts).reduce((a, b) => a + b, 0);
  const badCount = rowCount(bad);
  const failure = unaccounted.length
    ? `ExampleGen's row accounting does not add up, so rows could be lost: ${unaccounted.join('; ')}`
    : (badRowsFailure(sorted(bad), badCount, good, p.max_bad_rows_fraction) ?? (good === 0 ? noRowsFailure(run.uris, badCount) : undefined));
  if (failure) await failKeepingRejects(failure, bad, keptRejectsUri);
  // A failed earlier attempt of this execution may have left its rejects there.
  await storageFor(keptRejectsUri).delete(keptRejectsUri);
  if (bad.length) {
    await fs.promises.writeFile(path.join(outDir, REJECTS_FILE), rejectsJsonl(bad));
    log(`quarantined ${badCount} bad row(s) in ${REJECTS_FILE}; the first ones:`);
    for (const b of bad.slice(0, 5)) log(`  ${whereOf(b)}: ${b.reason}`);
  }
  log(`wrote ${good} rows: ${splitNames.map((n) => `${n} ${counts[n]}`).join(', ')}`);
  return {
    span: resolved.spans[resolved.spans.length - 1],
    version: resolved.version,
    split_names: JSON.stringify(splitNames),
    spans: JSON.stringify(resolved.spans),
    row_count: good,
    split_row_counts: JSON.stringify(counts),
    bad_row_count: badCount,
    ...derivedColumnsProperty(p.derived_columns),
  };
}

/** Input rows the rejects stand for. */
export function rowCount(bad: BadRow[]): number {
  return bad.reduce((n, b) => n + rowsOf(b), 0);
}

/**
 * Writes every input split group's good rows to their split folders (one streaming COPY per group) and returns
 * the bad rows found and the files whose rows do not add up; 'unsure' as soon as a group has a row showing that
 * the reader's column types, guessed from a sample, are wrong (what it wrote is then to be discarded).
 */
async function writeSplits(
  conn: DuckDBConnection,
  source: OpenedSource,
  groups: { name: string; files: InputFile[] }[],
  { hashing, splitNames }: ResolvedRun,
  p: ExampleGenParameters,
  outDir: string,
  emptySplits: boolean,
  log: (line: string) => void,
): Promise<{ bad: BadRow[]; unaccounted: string[] } | 'unsure'> {
  const all = groups.flatMap((g) => g.files);
  const { columns } = source;
  const derived = await bindDerivedColumns(conn, p.derived_columns ?? {}, source.selectSql(all), columns);
  for (const d of derived) log(`derived column ${d.name} (${d.type}) = ${d.expression}`);
  let key: SplitKey = { record: columns };
  if (p.partition_feature) {
    const feature = columns.find((c) => c.name === p.partition_feature);
    if (!feature) throw new UserError(`partition_feature "${p.partition_feature}" is not a column (columns: ${columns.map((c) => c.name).join(', ')})`);
    key = { feature };
  }

  const bad: BadRow[] = [];
  const unaccounted: string[] = [];
  for (const [i, group] of groups.entries()) {
    const raw = source.selectSql(group.files);
    // The split key names the raw columns, so derived ones never change which split a row lands in.
    const select = withDerivedSql(raw, derived);
    const split = hashing ? withHashSplitSql(select, key, p.output_splits) : `SELECT *, ${sqlString(group.name)} AS __split FROM (${select})`;
    const parts = path.join(outDir, `.parts-${i}`);
    // One streaming pass: good rows to their split's partition, bad ones to a partition that is only counted, and
    // rows that contradict guessed column types to one that only says so. Partitions are flushed to their files
    // every row group's worth of rows (DuckDB's default ROW_GROUP_SIZE) rather than DuckDB's default of 524,288:
    // measured 15-25% less time for the whole COPY (docs/benchmarks.md), the same rows and about the same bytes.
    try {
      await conn.run(`SET partitioned_write_flush_threshold = ${PARTITION_FLUSH_ROWS}`);
      await conn.run(
        `COPY (SELECT * EXCLUDE (__bad, __unsure, __split), CASE WHEN __unsure THEN '${UNSURE_PARTITION}' WHEN __bad IS NULL THEN __split ELSE '${BAD_PARTITION}' END AS __split FROM (${split})) ` +
          `TO ${sqlString(parts)} (FORMAT parquet, PARTITION_BY (__split), FILENAME_PATTERN 'part-{i}')`,
      );
    } catch (err) {
      throw (await derivedFailure(conn, raw, derived, group.files.map((f) => f.display).join(', '))) ?? err;
    } finally {
      await conn.run('RESET partitioned_write_flush_threshold');
    }
    if (fs.existsSync(path.join(parts, `__split=${UNSURE_PARTITION}`))) {
      await fs.promises.rm(parts, { recursive: true, force: true });
      return 'unsure';
    }
    const badValues = await countRows(conn, path.join(parts, `__split=${BAD_PARTITION}`));
    const groupBad = await source.badRows(group.files, badValues);
    bad.push(...groupBad);
    // Every row the reader counted must have come out of DuckDB: a split or the bad-value partition.
    let read = 0;
    for (const dir of fs.existsSync(parts) ? await fs.promises.readdir(parts) : []) read += await countRows(conn, path.join(parts, dir));
    const expected = await source.expectedRows(group.files);
    if (read !== expected) unaccounted.push(...(await mismatches(conn, source, group.files, groupBad, { read, expected })));
    for (const name of hashing ? splitNames : [group.name]) {
      const from = path.join(parts, `__split=${name}`);
      const to = path.join(outDir, splitFolder(name));
      if (fs.existsSync(from)) await fs.promises.rename(from, to);
      else if (emptySplits) await writeEmptySplit(conn, select, to);
    }
    await fs.promises.rm(parts, { recursive: true, force: true });
  }
  return { bad, unaccounted };
}

/** Bad rows by file and location. */
function sorted(bad: BadRow[]): BadRow[] {
  return bad.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? a.row ?? 0) - (b.line ?? b.row ?? 0));
}

function rejectsJsonl(bad: BadRow[]): string {
  return sorted(bad).map((b) => JSON.stringify(b)).join('\n') + '\n';
}

/** Fails the node; its rejects go to `keptUri` first, outside the artifact folder that failure deletes. */
export async function failKeepingRejects(failure: string, bad: BadRow[], keptUri: string): Promise<never> {
  if (bad.length === 0) throw new UserError(failure);
  await storageFor(keptUri).writeFile(keptUri, rejectsJsonl(bad));
  throw new UserError(`${failure}; the rejects are kept in ${keptUri}`);
}

/** Why the node fails when bad rows (sorted by location) exceed the tolerated fraction of all rows read, naming the first. */
function badRowsFailure(bad: BadRow[], badCount: number, good: number, maxFraction: number): string | undefined {
  const total = good + badCount;
  if (badCount === 0 || badCount / total <= maxFraction) return undefined;
  return (
    `${badCount} of ${total} rows are bad (${((100 * badCount) / total).toFixed(2)}%, max_bad_rows_fraction ${maxFraction}); ` +
    `first bad row: ${whereOf(bad[0])}: ${bad[0].reason}`
  );
}

/** Why the node fails when no row is left to write (an input of headers only, or of bad rows only). */
export function noRowsFailure(uris: string[], badCount: number): string {
  const files = `${uris.length === 1 ? '' : `${uris.length} files: `}${uris.slice(0, 3).join(', ')}${uris.length > 3 ? ', ...' : ''}`;
  return badCount ? `no row to write: all ${badCount} rows of the input are bad (${files})` : `the input has no data rows, only a header or nothing (${files})`;
}

/**
 * Names the files whose rows DuckDB read differ from the reader's own count (a file at a time only when several
 * were read together), with the first malformed record, the usual cause: DuckDB recovers from broken quoting in
 * its own way and may read a made-up row, or none, from it.
 */
async function mismatches(
  conn: DuckDBConnection,
  source: OpenedSource,
  files: InputFile[],
  bad: BadRow[],
  total: { read: number; expected: number },
): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    let { read, expected } = total;
    if (files.length > 1) {
      read = Number((await queryRows(conn, `SELECT count(*) AS n FROM (${source.selectSql([file])})`))[0].n);
      expected = await source.expectedRows([file]);
      if (read === expected) continue;
    }
    const first = bad.find((b) => b.file === file.display && b.line !== undefined);
    out.push(
      `${file.display}: ${expected} well-formed rows by ExampleGen's count, but DuckDB read ${read}` +
        (first ? ` (first malformed record: ${whereOf(first)}: ${first.reason})` : ''),
    );
  }
  return out;
}

export async function countRows(conn: DuckDBConnection, dir: string): Promise<number> {
  if (!fs.existsSync(dir)) return 0;
  const [r] = await queryRows(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(dir, '*.parquet'))})`);
  return Number(r.n);
}

/** A split no row hashed into still gets a (zero-row) Parquet file with the right columns, so readers find it. */
async function writeEmptySplit(conn: DuckDBConnection, select: string, dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await conn.run(`COPY (SELECT * EXCLUDE (__bad, __unsure) FROM (${select}) LIMIT 0) TO ${sqlString(path.join(dir, 'part-0.parquet'))} (FORMAT parquet)`);
}
