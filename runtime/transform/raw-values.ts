// What a raw feature value is to the transform: a token (vocabulary, hash, cross) or a number (z_score,
// min_max, bucketize, identity), decided by the kind of column the feature had in the training data. The
// analyzer and apply both call tokenOf on the values DuckDB hands to JavaScript, and the analyzer's SQL
// numeric view (numericSql) equals numberOf on them, so a value has one token and one number in analysis,
// training, evaluation, batch inference and serving. The other encodings a caller may send (a JSON number
// for a date, a numeric string, 0/1 for a boolean) are mapped to the same token or refused: never OOV.

import { UserError } from '../core/errors';

export const VALUE_KINDS = ['string', 'integer', 'float', 'double', 'boolean', 'date', 'timestamp'] as const;
/** float is FLOAT (32-bit: tokens are its shortest decimal); double is DOUBLE and DECIMAL (read as doubles). */
export type ValueKind = (typeof VALUE_KINDS)[number];

const INTEGER_TYPES = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;
const TIMESTAMP_TYPES = /^TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?$/;

/** The kind of a DuckDB column type; undefined for types the transform does not read (BLOB, TIME, lists, ...). */
export function valueKindOf(columnType: string): ValueKind | undefined {
  if (columnType === 'VARCHAR') return 'string';
  if (INTEGER_TYPES.test(columnType)) return 'integer';
  if (columnType === 'FLOAT') return 'float';
  if (columnType === 'DOUBLE' || columnType.startsWith('DECIMAL(')) return 'double';
  if (columnType === 'BOOLEAN') return 'boolean';
  if (columnType === 'DATE') return 'date';
  if (TIMESTAMP_TYPES.test(columnType)) return 'timestamp';
  return undefined;
}

/** The column types valueKindOf accepts, for messages. */
export const SUPPORTED_COLUMN_TYPES = 'VARCHAR, integer types, FLOAT, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP';

/** Whether numeric transforms read this kind (everything but strings: booleans are 0/1, dates epoch seconds). */
export function isNumericKind(kind: ValueKind): boolean {
  return kind !== 'string';
}

/**
 * The analyzer's numeric view of a column as SQL: numberOf on the same values. NaN is missing (as in apply);
 * dates and timestamps are epoch seconds at millisecond precision, as DuckDB's JavaScript values carry them.
 */
export function numericSql(kind: ValueKind, column: string): string {
  if (kind === 'date' || kind === 'timestamp') return `(epoch_ms(${column}) / 1000.0)`;
  return `nullif(CAST(${column} AS DOUBLE), 'NaN'::DOUBLE)`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (v instanceof Date) return `date ${Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()}`;
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Why a value cannot be read as `kind`: an error, not a default. */
function unmappable(kind: ValueKind, v: unknown, hint = ''): UserError {
  return new UserError(`${describe(v)} is not ${kind === 'integer' ? 'an' : 'a'} ${kind} value${hint ? ` (${hint})` : ''}`);
}

/** null, undefined and NaN are missing for every kind; an empty string is missing for every kind but string. */
function isMissing(kind: ValueKind, v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) || (v === '' && kind !== 'string');
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DAY_SECONDS = 86_400;

/** An integer column's value as its exact decimal text. */
function integerText(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (!Number.isSafeInteger(v)) throw unmappable('integer', v, 'beyond 2^53 a number is not exact: send it as a string');
    return String(v === 0 ? 0 : v);
  }
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) return BigInt(v).toString();
  throw unmappable('integer', v);
}

function finiteOrInfinite(kind: ValueKind, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && DECIMAL_TEXT.test(v)) return Number(v);
  throw unmappable(kind, v);
}

function booleanOf(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (v === 'true' || v === 'false') return v === 'true';
  throw unmappable('boolean', v, 'expected true/false or 1/0');
}

/** A date or timestamp value as a JavaScript Date (UTC; the millisecond precision DuckDB's values have). */
function instantOf(kind: 'date' | 'timestamp', v: unknown): Date {
  let d: Date | undefined;
  if (v instanceof Date) d = v;
  // Numbers are epoch seconds: how the statistics and the schema describe date and time features (INT), taken
  // to the nearest millisecond (the precision of the values read from Parquet).
  else if (typeof v === 'number' && Number.isFinite(v)) d = new Date(Math.round(v * 1000));
  else if (typeof v === 'string' && kind === 'date' && DATE_TEXT.test(v)) d = new Date(`${v}T00:00:00Z`);
  // A timestamp without a zone is UTC, as DuckDB reads a TIMESTAMP column.
  else if (typeof v === 'string' && kind === 'timestamp' && TIMESTAMP_TEXT.test(v)) d = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(v.slice(10)) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`);
  if (!d || Number.isNaN(d.getTime())) throw unmappable(kind, v, kind === 'date' ? 'expected "YYYY-MM-DD" or epoch seconds' : 'expected an ISO 8601 time or epoch seconds');
  if (kind === 'date' && d.getTime() % (DAY_SECONDS * 1000) !== 0) throw unmappable(kind, v, 'not midnight UTC');
  return d;
}

/** The shortest decimal that reads back as the same 32-bit float. */
function float32Text(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return String(f);
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(f.toPrecision(digits));
    if (Math.fround(shorter) === f) return String(shorter);
  }
  return String(f === 0 ? 0 : f);
}

/** The token of a value (undefined when missing); throws a UserError when the value is not of `kind`. */
export function tokenOf(kind: ValueKind, v: unknown): string | undefined {
  if (isMissing(kind, v)) return undefined;
  switch (kind) {
    case 'string':
      if (typeof v === 'string') return v;
      throw unmappable(kind, v);
    case 'integer':
      return integerText(v);
    case 'float':
      return float32Text(finiteOrInfinite(kind, v));
    case 'double': {
      const x = finiteOrInfinite(kind, v);
      return String(x === 0 ? 0 : x);
    }
    case 'boolean':
      return String(booleanOf(v));
    case 'date':
      return instantOf(kind, v).toISOString().slice(0, 10);
    case 'timestamp':
      return instantOf(kind, v).toISOString();
  }
}

/** The number of a value (undefined when missing); throws a UserError when the value is not of `kind`. */
export function numberOf(kind: ValueKind, v: unknown): number | undefined {
  if (isMissing(kind, v)) return undefined;
  switch (kind) {
    case 'string':
      throw new UserError(`${describe(v)}: a string feature has no numeric value`);
    case 'integer':
      if (typeof v === 'number' && !Number.isInteger(v)) throw unmappable(kind, v);
      return typeof v === 'number' ? v : Number(integerText(v));
    case 'float':
      return Math.fround(finiteOrInfinite(kind, v));
    case 'double':
      return finiteOrInfinite(kind, v);
    case 'boolean':
      return booleanOf(v) ? 1 : 0;
    case 'date':
    case 'timestamp':
      return instantOf(kind, v).getTime() / 1000;
  }
}
