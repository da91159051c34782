// Parquet input: column types come from the files (integers and booleans INT, floating point and decimals FLOAT,
// text, dates and times STRING) unless the schema says otherwise; a value that does not convert to its schema
// type makes the row bad, located by file and 1-based row number. The rows read are checked against the row
// counts in the files' footers (or the row ranges' sizes, for a shard reading part of a file).

import { UserError } from '../../core/errors';
import { queryRows, sqlIdent, sqlString, sqlStringList } from '../../data/duckdb';
import { castColumnSql, featureTypeOfDuckDb } from '../../data/feature-types';
import type { BadRow, InputFile, Reader } from './source';

export const readParquet: Reader = async (conn, all, opts) => {
  // A file with a row range is read through its row numbers (DuckDB skips the row groups outside the range).
  const scan = (files: InputFile[], located = false) => {
    const ranged = files.some((f) => f.rows);
    const read = `read_parquet(${sqlStringList(files.map((f) => f.local))}, union_by_name=true${located || ranged ? ', filename=true, file_row_number=true' : ''})`;
    if (!ranged) return read;
    const only = files.map((f) => `(filename = ${sqlString(f.local)}${f.rows ? ` AND file_row_number >= ${f.rows.from} AND file_row_number < ${f.rows.to}` : ''})`);
    return `(SELECT * FROM ${read} WHERE ${only.join(' OR ')})`;
  };
  const described = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet(${sqlStringList(all.map((f) => f.local))}, union_by_name=true)`);
  const sources = described.map((r) => ({ name: String(r.column_name), duckType: String(r.column_type) }));
  for (const name of Object.keys(opts.schema)) {
    if (!sources.some((s) => s.name === name)) throw new UserError(`schema column "${name}" is not in the Parquet files (columns: ${sources.map((s) => s.name).join(', ')})`);
  }
  const columns = sources.map((s) => ({ ...s, type: opts.schema[s.name] ?? featureTypeOfDuckDb(s.duckType, s.name, all[0].display) }));
  // Schema types are the only conversions that can fail.
  const checked = columns.filter((c) => c.name in opts.schema);
  const cast = (c: (typeof columns)[number]) => castColumnSql(sqlIdent(c.name), c.duckType, c.type);
  const badSql = checked.length
    ? `coalesce(${checked
        .map((c) => `CASE WHEN ${sqlIdent(c.name)} IS NOT NULL AND ${cast(c)} IS NULL THEN ${sqlString(`column "${c.name}": `)} || to_json(${sqlIdent(c.name)}::VARCHAR) || ${sqlString(` is not a valid ${c.type}`)} END`)
        .join(', ')})`
    : 'NULL::VARCHAR';
  const typed = columns.map((c) => `${cast(c)} AS ${sqlIdent(c.name)}`).join(', ');
  return {
    columns: columns.map(({ name, type }) => ({ name, type })),
    selectSql: (files) => `SELECT ${typed}, ${badSql} AS __bad, false AS __unsure FROM ${scan(files)}`,
    async expectedRows(files) {
      const whole = files.filter((f) => !f.rows);
      const ranged = files.reduce((n, f) => n + (f.rows ? f.rows.to - f.rows.from : 0), 0);
      if (whole.length === 0) return ranged;
      const [r] = await queryRows(conn, `SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata(${sqlStringList(whole.map((f) => f.local))})`);
      return Number(r.n) + ranged;
    },
    async badRows(files, badValueRows) {
      if (badValueRows === 0) return [];
      const display = new Map(files.map((f) => [f.local, f.display]));
      const rows = await queryRows(
        conn,
        `SELECT filename, file_row_number, __bad FROM (SELECT filename, file_row_number, ${badSql} AS __bad ` +
          `FROM ${scan(files, true)}) WHERE __bad IS NOT NULL ORDER BY filename, file_row_number`,
      );
      return rows.map((r): BadRow => ({ file: display.get(String(r.filename)) ?? String(r.filename), row: Number(r.file_row_number) + 1, reason: String(r.__bad) }));
    },
  };
};
