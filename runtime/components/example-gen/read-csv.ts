// CSV input: a header row, RFC 4180 quoting, an empty cell is a missing value. A streaming pass over each file
// (runtime/data/csv-records.ts) finds every record with its physical lines: a record with the wrong number of
// values or broken quoting is a reject naming its line (or line range), every other one must come out of DuckDB
// as a row, which the executor checks. DuckDB reads every cell as text, skipping the broken records; types are
// inferred from the text (or taken from the schema) and applied in SQL. Inference guesses from a sample and the
// executor's one writing pass checks the guess on every row (`__unsure`): a pass of its own over the whole input
// runs only when a row contradicts it (or derived columns need final types first).

import * as fs from 'fs';
import * as path from 'path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../../core/errors';
import { scanCsv, type CsvRecord } from '../../data/csv-records';
import { queryRows, sqlIdent, sqlString, sqlStringList } from '../../data/duckdb';
import { castTextSql, DUCKDB_TYPE_OF, textParsesAs, textParsesAsSql, type FeatureType } from '../../data/feature-types';
import type { TypedColumn } from '../../data/hash-split';
import { badValueReason, type BadRow, type InputFile, type OpenedSource, type Reader, wholeFilesOnly } from './source';

/** What the scan of one file found: the records DuckDB must read as rows, the ones it cannot, and what it reads. */
interface ScannedFile {
  /** The file DuckDB reads: the input, or a copy with its line endings made uniform. */
  read: string;
  /** Records (the header excluded) that split into exactly the header's number of values. */
  wellFormed: number;
  malformed: BadRow[];
}

let scans = 0;

export const readCsv: Reader = async (conn, all, opts, tmpDir) => {
  wholeFilesOnly(all, 'CSV');
  const names = await headerOf(all, opts.csvDelimiter);
  for (const name of Object.keys(opts.schema)) {
    if (!names.includes(name)) throw new UserError(`schema column "${name}" is not in the CSV header of ${all[0].display} (columns: ${names.join(', ')})`);
  }
  const scanned = new Map<InputFile, ScannedFile>();
  for (const [i, file] of all.entries()) scanned.set(file, await scanFile(file, names.length, opts.csvDelimiter, path.join(tmpDir, `csv-${i}.csv`)));

  // No sniffing: the dialect is fixed, and DuckDB's sniffer gives up on files with broken lines in its sample.
  const varchars = `{${names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}`;
  const options = `header=true, auto_detect=false, columns=${varchars}, delim=${sqlString(opts.csvDelimiter)}, quote='"', escape='"', ignore_errors=true`;
  // DuckDB's rejects are not read (the scan above locates bad records better), but storing them changes how its
  // reader recovers from broken quoting: without it, it skips many more good rows after one (found by fuzzing).
  const tables: string[] = [];
  const scan = (files: InputFile[]) => {
    const id = ++scans;
    tables.push(`eg_csv_rejects_${id}`, `eg_csv_scans_${id}`);
    const rejects = `store_rejects=true, rejects_table='eg_csv_rejects_${id}', rejects_scan='eg_csv_scans_${id}'`;
    return `read_csv(${sqlStringList(files.map((f) => scanned.get(f)!.read))}, ${options}, ${rejects})`;
  };
  // A cell as text, with an empty (or "") cell as missing.
  const cell = (name: string) => `NULLIF(${sqlIdent(name)}, '')`;

  const sample = await sampleRecords(all.map((f) => scanned.get(f)!.read), names.length, opts.csvDelimiter);
  let inference = guessTypes(names, opts.schema, sample);
  // Only schema types can reject a value: inferred ones hold for every value (or the row is unsure).
  const checked = names.filter((n) => n in opts.schema && opts.schema[n] !== 'STRING').map((n) => ({ name: n, type: opts.schema[n] }));
  // Inferred types hold for every value, so a plain cast is enough (TRY_CAST while guessed: a row that contradicts
  // the guess is unsure, not an error); schema types go through the strict check.
  const typed = (c: TypedColumn) => {
    if (c.name in opts.schema || c.type === 'STRING') return castTextSql(c.type, cell(c.name));
    return `${inference.guessed.has(c.name) ? 'TRY_CAST' : 'CAST'}(${cell(c.name)} AS ${DUCKDB_TYPE_OF[c.type]})`;
  };

  const source: OpenedSource = {
    columns: inference.columns,
    selectSql(files) {
      const bad = checked.map((c) => `CASE WHEN ${cell(c.name)} IS NOT NULL AND NOT ${textParsesAsSql(c.type, cell(c.name))} THEN ${sqlString(`column "${c.name}"`)} END`);
      // A guessed column is contradicted by a value that does not parse as its type (STRING: by any value, as it
      // was guessed for a column without values in the sample).
      const unsure = inference.columns
        .filter((c) => inference.guessed.has(c.name))
        .map((c) => `(${cell(c.name)} IS NOT NULL${c.type === 'STRING' ? '' : ` AND NOT ${textParsesAsSql(c.type, cell(c.name))}`})`);
      return (
        `SELECT ${inference.columns.map((c) => `${typed(c)} AS ${sqlIdent(c.name)}`).join(', ')}, ` +
        `${bad.length ? `coalesce(${bad.join(', ')})` : 'NULL::VARCHAR'} AS __bad, ${unsure.length ? unsure.join(' OR ') : 'false'} AS __unsure FROM ${scan(files)}`
      );
    },
    async settleTypes() {
      if (inference.guessed.size === 0) return;
      inference = { columns: await inferTypes(conn, names, opts.schema, scan(all), cell, sample), guessed: new Set() };
      source.columns = inference.columns;
    },
    async expectedRows(files) {
      return files.reduce((n, f) => n + scanned.get(f)!.wellFormed, 0);
    },
    async badRows(files, badValueRows) {
      const rows = files.flatMap((f) => scanned.get(f)!.malformed);
      if (badValueRows === 0) return rows;
      const values: BadRow[] = [];
      for (const f of files) values.push(...(await badValues(f, scanned.get(f)!.read, names, checked, opts.csvDelimiter)));
      // The SQL and JS checks share one definition; a mismatch would drop rows without a trace, so it is fatal.
      if (values.length !== badValueRows) throw new Error(`DuckDB flagged ${badValueRows} rows with bad values but the line scan found ${values.length}`);
      return [...rows, ...values];
    },
    async close() {
      for (const table of tables.splice(0)) await conn.run(`DROP TABLE IF EXISTS ${table}`);
    },
  };
  return source;
};

/** Why DuckDB reads no row from a record, or undefined when it reads one (it ignores extra empty values at the end). */
function malformation(rec: CsvRecord, columns: number): string | undefined {
  if (rec.malformed === 'unterminated quote') return 'unterminated quote: the quoted value runs to the end of the file';
  if (rec.malformed) return rec.malformed;
  if (rec.fieldCount < columns) return `missing columns: ${rec.fieldCount} values, expected ${columns}`;
  if (rec.filledCount > columns) return `too many columns: ${rec.fieldCount} values, expected ${columns}`;
  return undefined;
}

/** A record's lines as a reject names them. */
function linesOf(rec: CsvRecord): Pick<BadRow, 'line' | 'end_line'> {
  return rec.lines > 1 ? { line: rec.line, end_line: rec.line + rec.lines - 1 } : { line: rec.line };
}

/**
 * One streaming pass over a file: every record after the header is either well formed (DuckDB must read it as a
 * row, which the executor checks) or malformed (a reject with its lines). A file that mixes line endings, which
 * DuckDB's reader refuses, is copied with each record's line break written as \n (same lines, quoted values kept).
 */
async function scanFile(file: InputFile, columns: number, delimiter: string, copy: string): Promise<ScannedFile> {
  const malformed: (BadRow & { offset: number })[] = [];
  let wellFormed = 0;
  let header = true;
  const { terminators } = await scanCsv(file.local, delimiter, (rec) => {
    if (header) {
      header = false;
      return;
    }
    const reason = malformation(rec, columns);
    if (reason) malformed.push({ file: file.display, ...linesOf(rec), reason, offset: rec.offset });
    else wellFormed++;
  });
  await addText(file.local, malformed);
  let read = file.local;
  if (terminators.size > 1) {
    const out = fs.createWriteStream(copy);
    await scanCsv(file.local, delimiter, () => undefined, { normalized: out });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    read = copy;
  }
  return { read, wellFormed, malformed: malformed.map(({ offset: _, ...b }) => b) };
}

/** Sets each reject's text to the first line of its record (at most 1000 bytes), read at the record's offset. */
async function addText(file: string, rows: (BadRow & { offset: number })[]): Promise<void> {
  if (rows.length === 0) return;
  const fd = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(1000);
    for (const row of rows) {
      const { bytesRead } = await fd.read(buf, 0, buf.length, row.offset);
      const text = buf.subarray(0, bytesRead);
      const end = text.findIndex((b) => b === 10 || b === 13);
      row.text = text.subarray(0, end < 0 ? bytesRead : end).toString('utf8');
    }
  } finally {
    await fd.close();
  }
}

/** Column names from the header rows, which must agree across files. */
async function headerOf(files: InputFile[], delimiter: string): Promise<string[]> {
  let names: string[] | undefined;
  for (const file of files) {
    let header: string[] | undefined;
    await scanCsv(file.local, delimiter, (rec) => ((header = rec.fields), false), { fields: true });
    if (!header) throw new UserError(`CSV file ${file.display} is empty (expected a header row)`);
    // DuckDB's column names ignore case: "a" and "A" are the same column to it.
    const first = (n: string) => header!.findIndex((m) => m.toLowerCase() === n.toLowerCase());
    const duplicate = header.find((n, i) => first(n) !== i);
    if (duplicate !== undefined) {
      const other = header[first(duplicate)];
      throw new UserError(
        `CSV file ${file.display}: ${other === duplicate ? `column "${duplicate}" appears twice in the header` : `columns "${other}" and "${duplicate}" differ only in case (column names ignore case)`}`,
      );
    }
    if (names && JSON.stringify(header) !== JSON.stringify(names)) {
      throw new UserError(`CSV file ${file.display} has header ${header.join(',')}, but ${files[0].display} has ${names.join(',')}`);
    }
    names ??= header;
  }
  return names!;
}

/**
 * Which types each column can still have after reading `sql` (a test is dropped once a value fails it), and whether
 * it has any value at all (bool_and over no values is NULL, not false).
 */
async function narrowTypes(conn: DuckDBConnection, sql: string, candidates: Map<string, FeatureType[]>, cell: (name: string) => string) {
  const names = [...candidates.keys()];
  const tested = [...candidates].flatMap(([n, types]) => types.filter((t) => t !== 'STRING').map((t) => ({ n, t })));
  const aggregates = [
    ...names.map((n, i) => `count(${cell(n)}) > 0 AS p${i}`),
    ...tested.map(({ n, t }, i) => `bool_and(${cell(n)} IS NULL OR ${textParsesAsSql(t, cell(n))}) AS t${i}`),
  ];
  const [r] = await queryRows(conn, `SELECT ${aggregates.join(', ')} FROM ${sql}`);
  const failed = new Set(tested.filter((_, i) => r[`t${i}`] === false).map(({ n, t }) => `${n}\n${t}`));
  const types = new Map([...candidates].map(([n, ts]) => [n, ts.filter((t) => !failed.has(`${n}\n${t}`))]));
  return { types, present: (n: string) => r[`p${names.indexOf(n)}`] === true };
}

/** The columns without a schema type, each with every type it could have before a value is seen. */
function openColumns(names: string[], schema: Record<string, FeatureType>): Map<string, FeatureType[]> {
  return new Map(names.filter((n) => !(n in schema)).map((n): [string, FeatureType[]] => [n, ['INT', 'FLOAT', 'STRING']]));
}

const SAMPLE_ROWS = 10_000;

/**
 * The values of the first SAMPLE_ROWS well-formed records (in file order, the header skipped), read by the line
 * scanner: the rows DuckDB reads first, without starting its parallel reader for a few thousand rows.
 */
async function sampleRecords(files: string[], columns: number, delimiter: string): Promise<string[][]> {
  const rows: string[][] = [];
  for (const file of files) {
    if (rows.length >= SAMPLE_ROWS) break;
    let header = true;
    await scanCsv(
      file,
      delimiter,
      (rec) => {
        if (header) return void (header = false);
        if (!malformation(rec, columns)) rows.push(rec.fields!);
        return rows.length < SAMPLE_ROWS;
      },
      { fields: true },
    );
  }
  return rows;
}

/** narrowTypes over the sample's values (the same test, textParsesAs being textParsesAsSql's twin). */
function narrowSample(sample: string[][], names: string[], candidates: Map<string, FeatureType[]>) {
  const types = new Map<string, FeatureType[]>();
  const seen = new Set<string>();
  for (const [n, ts] of candidates) {
    const i = names.indexOf(n);
    const values = sample.map((r) => r[i]).filter((v) => v !== '');
    if (values.length) seen.add(n);
    types.set(n, ts.filter((t) => values.every((v) => textParsesAs(t, v))));
  }
  return { types, present: (n: string) => seen.has(n) };
}

/**
 * Types as a sample shows them: each column's most specific type that all its sampled values parse as, STRING for
 * a column without values in the sample. `guessed` names the columns whose type other rows could still change
 * (all but schema columns and those the sample already showed to be STRING).
 */
function guessTypes(names: string[], schema: Record<string, FeatureType>, sample: string[][]): { columns: TypedColumn[]; guessed: Set<string> } {
  const open = openColumns(names, schema);
  if (open.size === 0) return { columns: names.map((name) => ({ name, type: schema[name] })), guessed: new Set() };
  const narrowed = narrowSample(sample, names, open);
  const type = (n: string): FeatureType => schema[n] ?? (narrowed.present(n) ? narrowed.types.get(n)![0] : 'STRING');
  const guessed = new Set([...open.keys()].filter((n) => !narrowed.present(n) || type(n) !== 'STRING'));
  return { columns: names.map((name) => ({ name, type: type(name) })), guessed };
}

/** INT if every value is an integer, else FLOAT if every value is a number, else STRING (also when all are missing). */
async function inferTypes(
  conn: DuckDBConnection,
  names: string[],
  schema: Record<string, FeatureType>,
  scanSql: string,
  cell: (name: string) => string,
  sample: string[][],
): Promise<TypedColumn[]> {
  const open = openColumns(names, schema);
  const found: Record<string, FeatureType> = {};
  if (open.size) {
    // A sample shows which columns hold text and which fractions, so a full pass tests only each column's most
    // specific remaining type; another pass follows only for columns where that test failed after the sample.
    const pending = narrowSample(sample, names, open).types;
    let present: ((n: string) => boolean) | undefined;
    for (;;) {
      for (const [n, ts] of pending) {
        if (ts[0] !== 'STRING') continue;
        found[n] = 'STRING';
        pending.delete(n);
      }
      if (pending.size === 0 && present) break;
      const pass = await narrowTypes(conn, scanSql, new Map([...open.keys()].map((n) => [n, pending.has(n) ? [pending.get(n)![0]] : []])), cell);
      present ??= pass.present;
      for (const [n, ts] of pending) {
        if (pass.types.get(n)!.length === 0) {
          pending.set(n, ts.slice(1));
          continue;
        }
        found[n] = ts[0];
        pending.delete(n);
      }
    }
    for (const n of open.keys()) if (!present!(n)) found[n] = 'STRING';
  }
  return names.map((name) => ({ name, type: schema[name] ?? found[name] }));
}

/** Lines whose values fail a schema type (DuckDB gives no line numbers for these): a streaming pass over the file. */
async function badValues(file: InputFile, read: string, names: string[], checked: TypedColumn[], delimiter: string): Promise<BadRow[]> {
  const rows: BadRow[] = [];
  const indexed = checked.map((c) => ({ ...c, index: names.indexOf(c.name) }));
  let header = true;
  await scanCsv(
    read,
    delimiter,
    (rec) => {
      // The header, and malformed records (already rejects), carry no values to check.
      if (header || malformation(rec, names.length)) {
        header = false;
        return;
      }
      const fields = rec.fields!;
      const failing = indexed.find((c) => fields[c.index] !== '' && !textParsesAs(c.type, fields[c.index]));
      if (failing) {
        rows.push({ file: file.display, ...linesOf(rec), reason: badValueReason(failing.name, failing.type, fields[failing.index]), text: fields.join(delimiter) });
      }
    },
    { fields: true },
  );
  return rows;
}
