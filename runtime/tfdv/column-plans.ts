// How the columns of Examples Parquet files become TFDV features: DuckDB column types mapped to INT, FLOAT
// or STRING, the SQL that yields a column's values, and list columns whose elements are the values.

import { sqlIdent, sqlString } from '../data/duckdb';
import { query } from './duckdb-statements';
import type { FeatureType } from './statistics-proto';

export interface ColumnPlan {
  name: string;
  type: FeatureType;
  /** SQL giving a value as DOUBLE (numeric features) or VARCHAR (string features). */
  value: (v: string) => string;
  /** Element values live in a list column and need unnesting. */
  list: boolean;
}

const INT_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|BOOLEAN)$/;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|DECIMAL.*|REAL)$/;
const TEMPORAL_TYPES = /^(DATE|TIMESTAMP.*|TIME.*)$/;

/** How a DuckDB column type maps to a TFDV feature type (dates and times become INT epoch seconds). */
function planColumn(name: string, duckType: string): ColumnPlan {
  const listMatch = /^(.*)\[\]$/.exec(duckType);
  const base = listMatch ? listMatch[1] : duckType;
  const list = listMatch !== null;
  if (INT_TYPES.test(base)) return { name, type: 'INT', list, value: (v) => `CAST(${v} AS DOUBLE)` };
  if (FLOAT_TYPES.test(base)) return { name, type: 'FLOAT', list, value: (v) => `CAST(${v} AS DOUBLE)` };
  if (TEMPORAL_TYPES.test(base)) return { name, type: 'INT', list, value: (v) => `CAST(epoch(${v}) AS DOUBLE)` };
  // VARCHAR, and anything else (BLOB, STRUCT, MAP, nested lists) described by its text form.
  return { name, type: 'STRING', list, value: (v) => (base === 'VARCHAR' ? v : `CAST(${v} AS VARCHAR)`) };
}

/** FROM clause over Parquet files (columns united by name, so a column absent from a file is missing there). */
export function parquetSource(files: string[]): string {
  return `read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`;
}

export async function planColumns(source: string): Promise<ColumnPlan[]> {
  const rows = await query(`DESCRIBE SELECT * FROM ${source}`);
  return rows.map((r) => planColumn(String(r.column_name), String(r.column_type)));
}

/** Values of a column as rows (and weight `_w`): the column itself, or its unnested list elements. */
export function valuesSource(plan: ColumnPlan, source: string, w: string | undefined): { from: string; x: string; w?: string } {
  if (!plan.list) return { from: source, x: plan.value(sqlIdent(plan.name)), w };
  return {
    from: `(SELECT unnest(${sqlIdent(plan.name)}) AS _v${w ? `, ${w} AS _w` : ''} FROM ${source})`,
    x: plan.value('_v'),
    w: w ? '_w' : undefined,
  };
}
