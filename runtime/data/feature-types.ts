// The three feature types of Examples artifacts (TFX's INT / FLOAT / STRING), how each is stored in Parquet
// (BIGINT / DOUBLE / VARCHAR), and the one definition of "this text parses as that type", as a DuckDB SQL
// expression and as a JS predicate that agree, so a value accepted by one is accepted by the other.

import { z } from 'zod';
import { UserError } from '../core/errors';

export const FeatureType = z.enum(['INT', 'FLOAT', 'STRING']);
export type FeatureType = z.infer<typeof FeatureType>;

/** DuckDB (and Parquet) type each feature type is stored as. */
export const DUCKDB_TYPE_OF: Record<FeatureType, string> = { INT: 'BIGINT', FLOAT: 'DOUBLE', STRING: 'VARCHAR' };

// Strict on purpose: DuckDB's own VARCHAR → BIGINT cast rounds '1.5' to 2, which would hide a bad value.
const INT_PATTERN = '[+-]?[0-9]+';
const FLOAT_PATTERN = '[+-]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(e[+-]?[0-9]+)?|nan|inf|infinity)';
const INT_RE = new RegExp(`^${INT_PATTERN}$`);
const FLOAT_RE = new RegExp(`^${FLOAT_PATTERN}$`, 'i');
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True when a (non-empty) text value is a valid `type` value: what the SQL check below accepts too. */
export function textParsesAs(type: FeatureType, text: string): boolean {
  if (type === 'STRING') return true;
  if (type === 'FLOAT') return FLOAT_RE.test(text);
  if (!INT_RE.test(text)) return false;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** SQL boolean: the VARCHAR expression `text` (never NULL here) is a valid `type` value. */
export function textParsesAsSql(type: FeatureType, text: string): string {
  if (type === 'STRING') return 'true';
  if (type === 'FLOAT') return `regexp_full_match(${text}, '${FLOAT_PATTERN}', 'i')`;
  return `(regexp_full_match(${text}, '${INT_PATTERN}') AND TRY_CAST(${text} AS BIGINT) IS NOT NULL)`;
}

/** SQL: the VARCHAR expression `text` as the storage type of `type` (NULL when it does not parse). */
export function castTextSql(type: FeatureType, text: string): string {
  if (type === 'STRING') return text;
  return `CASE WHEN ${textParsesAsSql(type, text)} THEN TRY_CAST(${text} AS ${DUCKDB_TYPE_OF[type]}) END`;
}

/**
 * The feature type a DuckDB column type is read as (Parquet inputs): integers and booleans are INT, floating
 * and decimal numbers FLOAT, text, dates and times STRING (their ISO text). Nested types are refused.
 */
export function featureTypeOfDuckDb(duckType: string, column: string, where: string): FeatureType {
  const t = duckType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|BOOLEAN)$/.test(t)) return 'INT';
  if (/^(FLOAT|DOUBLE|DECIMAL.*|UBIGINT|HUGEINT|UHUGEINT)$/.test(t)) return 'FLOAT';
  if (/^(VARCHAR|DATE|TIME.*|TIMESTAMP.*|UUID|ENUM.*)$/.test(t)) return 'STRING';
  throw new UserError(`${where}: column "${column}" has type ${duckType}; ExampleGen reads only scalar INT, FLOAT and STRING columns`);
}

/** SQL: a column of DuckDB type `duckType` converted to the storage type of `type` (NULL when impossible). */
export function castColumnSql(column: string, duckType: string, type: FeatureType): string {
  if (/^VARCHAR$/i.test(duckType)) return castTextSql(type, column);
  if (/^BOOLEAN$/i.test(duckType) && type !== 'STRING') return `TRY_CAST(${column}::INTEGER AS ${DUCKDB_TYPE_OF[type]})`;
  // A fractional number is not an INT (a plain cast would round it).
  if (type === 'INT' && /^(FLOAT|DOUBLE|DECIMAL.*)$/i.test(duckType)) return `CASE WHEN ${column} = trunc(${column}) THEN TRY_CAST(${column} AS BIGINT) END`;
  return `TRY_CAST(${column} AS ${DUCKDB_TYPE_OF[type]})`;
}
