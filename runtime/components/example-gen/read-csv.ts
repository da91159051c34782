// CSV input: a header row, RFC 4180 quoting, an empty cell is a missing value. DuckDB reads every cell as text
// and quarantines structurally broken lines (wrong column count, unterminated quote) in a rejects table with
// their line numbers; types are inferred from the text (or taken from the schema) and applied in SQL.

import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../../core/errors';
import { csvRecords } from '../../data/csv-records';
import { queryRows, sqlIdent, sqlString, sqlStringList } from '../../data/duckdb';
import { castTextSql, DUCKDB_TYPE_OF, textParsesAs, textParsesAsSql, type FeatureType } from '../../data/feature-types';
import type { TypedColumn } from '../../data/hash-split';
import { badValueReason, type BadRow, type InputFile, type Reader } from './source';

let scans = 0;

export const readCsv: Reader = async (conn, all, opts) => {
  const names = await headerOf(all, opts.csvDelimiter);
  // No sniffing: the dialect is fixed, and DuckDB's sniffer gives up on files with broken lines in its sample.
  const varchars = `{${names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}`;
  const options = `header=true, auto_detect=false, columns=${varchars}, delim=${sqlString(opts.csvDelimiter)}, quote='"', escape='"'`;
  const scan = (files: InputFile[], extra: string) => `read_csv(${sqlStringList(files.map((f) => f.local))}, ${options}, ${extra})`;
  // A cell as text, with an empty (or "") cell as missing.
  const cell = (name: string) => `NULLIF(${sqlIdent(name)}, '')`;

  for (const name of Object.keys(opts.schema)) {
    if (!names.includes(name)) throw new UserError(`schema column "${name}" is not in the CSV header of ${all[0].display} (columns: ${names.join(', ')})`);
  }
  const columns = await inferTypes(conn, names, opts.schema, scan(all, 'ignore_errors=true'), cell);
  // Only schema types can reject a value: inferred ones were chosen so that every value parses.
  const checked = columns.filter((c) => c.name in opts.schema && c.type !== 'STRING');
  const rejectTables = new Map<InputFile[], number>();
  // Inferred types hold for every value, so a plain cast is enough; schema types go through the strict check.
  const typed = (c: TypedColumn) =>
    c.name in opts.schema || c.type === 'STRING' ? castTextSql(c.type, cell(c.name)) : `CAST(${cell(c.name)} AS ${DUCKDB_TYPE_OF[c.type]})`;

  return {
    columns,
    selectSql(files) {
      const id = ++scans;
      rejectTables.set(files, id);
      const bad = checked.map((c) => `CASE WHEN ${cell(c.name)} IS NOT NULL AND NOT ${textParsesAsSql(c.type, cell(c.name))} THEN ${sqlString(`column "${c.name}"`)} END`);
      return (
        `SELECT ${columns.map((c) => `${typed(c)} AS ${sqlIdent(c.name)}`).join(', ')}, ` +
        `${bad.length ? `coalesce(${bad.join(', ')})` : 'NULL::VARCHAR'} AS __bad ` +
        `FROM ${scan(files, `store_rejects=true, rejects_table='eg_csv_rejects_${id}', rejects_scan='eg_csv_scans_${id}'`)}`
      );
    },
    async badRows(files, badValueRows) {
      const id = rejectTables.get(files);
      const display = new Map(files.map((f) => [f.local, f.display]));
      const broken = await queryRows(
        conn,
        `SELECT s.file_path, e.line, e.error_type, e.error_message, e.csv_line FROM eg_csv_rejects_${id} e ` +
          `JOIN eg_csv_scans_${id} s USING (scan_id, file_id) ORDER BY s.file_path, e.line`,
      );
      const rows: BadRow[] = [];
      const seen = new Set<string>();
      for (const r of broken) {
        const key = `${r.file_path}\n${r.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const file = display.get(String(r.file_path)) ?? String(r.file_path);
        rows.push({ file, line: Number(r.line), reason: `${String(r.error_type).toLowerCase()}: ${r.error_message}`, text: String(r.csv_line).split('\n')[0] });
      }
      if (badValueRows === 0) return rows;
      const values: BadRow[] = [];
      for (const f of files) values.push(...(await badValues(f, names, checked, opts.csvDelimiter)));
      // The SQL and JS checks share one definition; a mismatch would drop rows without a trace, so it is fatal.
      if (values.length !== badValueRows) throw new Error(`DuckDB flagged ${badValueRows} rows with bad values but the line scan found ${values.length}`);
      return [...rows, ...values];
    },
    async close() {
      for (const id of rejectTables.values()) {
        await conn.run(`DROP TABLE IF EXISTS eg_csv_rejects_${id}; DROP TABLE IF EXISTS eg_csv_scans_${id}`);
      }
    },
  };
};

/** Column names from the header rows, which must agree across files. */
async function headerOf(files: InputFile[], delimiter: string): Promise<string[]> {
  let names: string[] | undefined;
  for (const file of files) {
    let header: string[] | undefined;
    for await (const rec of csvRecords(file.local, delimiter)) {
      header = rec.fields;
      break;
    }
    if (!header) throw new UserError(`CSV file ${file.display} is empty (expected a header row)`);
    const duplicate = header.find((n, i) => header!.indexOf(n) !== i);
    if (duplicate !== undefined) throw new UserError(`CSV file ${file.display}: column "${duplicate}" appears twice in the header`);
    if (names && JSON.stringify(header) !== JSON.stringify(names)) {
      throw new UserError(`CSV file ${file.display} has header ${header.join(',')}, but ${files[0].display} has ${names.join(',')}`);
    }
    names ??= header;
  }
  return names!;
}

/** INT if every value is an integer, else FLOAT if every value is a number, else STRING (also when all are missing). */
async function inferTypes(
  conn: DuckDBConnection,
  names: string[],
  schema: Record<string, FeatureType>,
  scanSql: string,
  cell: (name: string) => string,
): Promise<TypedColumn[]> {
  const open = names.filter((n) => !(n in schema));
  // Which types each column can still have after reading `sql` (a test is dropped once a value fails it), and
  // whether it has any value at all (bool_and over no values is NULL, not false).
  const narrow = async (sql: string, candidates: Map<string, FeatureType[]>) => {
    const tested = [...candidates].flatMap(([n, types]) => types.filter((t) => t !== 'STRING').map((t) => ({ n, t })));
    const aggregates = [
      ...open.map((n, i) => `count(${cell(n)}) > 0 AS p${i}`),
      ...tested.map(({ n, t }, i) => `bool_and(${cell(n)} IS NULL OR ${textParsesAsSql(t, cell(n))}) AS t${i}`),
    ];
    const [r] = await queryRows(conn, `SELECT ${aggregates.join(', ')} FROM ${sql}`);
    const failed = new Set(tested.filter((_, i) => r[`t${i}`] === false).map(({ n, t }) => `${n}\n${t}`));
    const types = new Map([...candidates].map(([n, ts]) => [n, ts.filter((t) => !failed.has(`${n}\n${t}`))]));
    return { types, present: (n: string) => r[`p${open.indexOf(n)}`] === true };
  };
  const found: Record<string, FeatureType> = {};
  if (open.length) {
    const all = new Map(open.map((n): [string, FeatureType[]] => [n, ['INT', 'FLOAT', 'STRING']]));
    // A sample shows which columns hold text and which fractions, so a full pass tests only each column's most
    // specific remaining type; another pass follows only for columns where that test failed after the sample.
    const pending = (await narrow(`(SELECT * FROM ${scanSql} LIMIT 10000)`, all)).types;
    let present: ((n: string) => boolean) | undefined;
    for (;;) {
      for (const [n, ts] of pending) {
        if (ts[0] !== 'STRING') continue;
        found[n] = 'STRING';
        pending.delete(n);
      }
      if (pending.size === 0 && present) break;
      const pass = await narrow(scanSql, new Map([...pending].map(([n, ts]) => [n, [ts[0]]])));
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
    for (const n of open) if (!present!(n)) found[n] = 'STRING';
  }
  return names.map((name) => ({ name, type: schema[name] ?? found[name] }));
}

/** Lines whose values fail a schema type (DuckDB gives no line numbers for these): a streaming pass over the file. */
async function badValues(file: InputFile, names: string[], checked: TypedColumn[], delimiter: string): Promise<BadRow[]> {
  const rows: BadRow[] = [];
  const indexed = checked.map((c) => ({ ...c, index: names.indexOf(c.name) }));
  let header = true;
  for await (const rec of csvRecords(file.local, delimiter)) {
    // The header, and lines with the wrong number of fields (already in DuckDB's rejects), carry no values to check.
    if (header || rec.fields.length !== names.length) {
      header = false;
      continue;
    }
    const failing = indexed.find((c) => rec.fields[c.index] !== '' && !textParsesAs(c.type, rec.fields[c.index]));
    if (failing) {
      rows.push({ file: file.display, line: rec.line, reason: badValueReason(failing.name, failing.type, rec.fields[failing.index]), text: rec.fields.join(delimiter) });
    }
  }
  return rows;
}
