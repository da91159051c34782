// ExampleGen's derived columns: name → DuckDB SQL expression over the raw columns (a label such as
// big_tip: "tips > 0.2 * fare", or ingest-time cleanup), computed for every written row and recorded on the
// Examples artifact (`derived_columns`). They add columns, never rows: each is computed after the split is
// decided on the raw columns alone, so adding one moves no row between splits.
//
// An expression is user text spliced into ExampleGen's query, so it is checked in two layers before any row is
// written: DuckDB parses `SELECT <expression>` on its own, which must be one plain SELECT of one unaliased
// expression with no clause, subquery, window, aggregate, star or parameter, and no function whose result can
// change between calls (random(), now(): a derived value depends on its row only); then it is bound in
// parentheses against the raw columns only (never another derived column or an internal one), which must give
// exactly one scalar column.

import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { UserError } from '../../core/errors';
import type { Properties } from '../../metadata/types';
import { queryRows, sqlIdent, sqlString, withConnection } from '../../data/duckdb';
import { DUCKDB_TYPE_OF, featureTypeOfDuckDb, type FeatureType } from '../../data/feature-types';
import type { TypedColumn } from '../../data/hash-split';

/** The Examples property recording the derived columns (a JSON object, name → expression). */
export const DERIVED_COLUMNS_PROPERTY = 'derived_columns';

export const DerivedColumnsParameter = z
  .record(
    z.string().min(1).refine((n) => !n.startsWith('__'), 'names starting with "__" are reserved for ExampleGen'),
    z.string().trim().min(1, 'the expression is empty'),
  )
  .optional()
  .describe(
    'Columns added at ingestion, name → DuckDB SQL expression over the raw columns (e.g. {"big_tip": "tips > 0.2 * fare"}), ' +
      'for labels and ingest-time cleanup; one scalar expression per column, booleans stored as INT 0/1, NULL a missing value. ' +
      'Serving requests never carry them, so the Trainer refuses one as a model input: use it as the label.',
  );

export interface DerivedColumn extends TypedColumn {
  expression: string;
  /** SQL of the stored value (the expression cast to its feature type's storage type). */
  sql: string;
}

/** "derived column "big_tip" = "tips >"": how every message names a derived column. */
function named(name: string, expression: string): string {
  return `derived column ${JSON.stringify(name)} = ${JSON.stringify(expression)}`;
}

/** A DuckDB message on one line, without the echo of the query (its "LINE 1: ..." part). */
function oneLine(message: string): string {
  return message
    .split(/\n\s*\nLINE \d+:/)[0]
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

// Expression classes that are not a scalar value of one row.
const REFUSED_CLASSES: Record<string, string> = {
  SUBQUERY: 'a subquery',
  WINDOW: 'a window function',
  STAR: 'a * or COLUMNS(...)',
  PARAMETER: 'a prepared-statement parameter',
};

/** What in a parsed `SELECT <expression>` makes it more than one unaliased expression, if anything. */
function statementProblem(parsed: { statements?: { node?: Record<string, unknown> }[] }): string | undefined {
  const statements = parsed.statements ?? [];
  if (statements.length !== 1) return `it is ${statements.length} statements, not one expression`;
  const node = statements[0].node ?? {};
  if (node.type !== 'SELECT_NODE') return 'it is not a single expression (it has UNION, INTERSECT, EXCEPT or similar)';
  const list = node.select_list as Record<string, unknown>[];
  if (list.length !== 1) return `it is ${list.length} expressions separated by commas, not one`;
  if (list[0].alias) return `it names its result (AS ${JSON.stringify(list[0].alias)}); the column's name is the key`;
  const empty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.length === 0);
  const clauses = [node.where_clause, node.group_expressions, node.group_sets, node.having, node.qualify, node.sample, node.modifiers, (node.cte_map as { map?: unknown[] } | null)?.map];
  const from = (node.from_table as { type?: string } | null)?.type ?? 'EMPTY';
  if (from !== 'EMPTY' || !clauses.every(empty) || node.aggregate_handling !== 'STANDARD_HANDLING') {
    return 'it has clauses (FROM, WHERE, GROUP BY, ORDER BY, LIMIT ...); it must be one expression over the row';
  }
  return undefined;
}

/** The refused expression classes and the names of the functions a parsed expression uses. */
function walk(expr: unknown, found: { refused: Set<string>; functions: Set<string> }): void {
  if (Array.isArray(expr)) return expr.forEach((e) => walk(e, found));
  if (expr === null || typeof expr !== 'object') return;
  const node = expr as Record<string, unknown>;
  if (typeof node.class === 'string' && node.class in REFUSED_CLASSES) found.refused.add(REFUSED_CLASSES[node.class]);
  if (node.class === 'FUNCTION' && typeof node.function_name === 'string') found.functions.add(node.function_name);
  for (const value of Object.values(node)) walk(value, found);
}

/**
 * Parses each expression on its own (no data needed, run before anything is read); the first that is not one
 * scalar, row-local expression fails with a one-line UserError naming the column and the expression.
 */
export async function checkDerivedExpressions(derived: Record<string, string>): Promise<void> {
  if (Object.keys(derived).length === 0) return;
  return withConnection(async (conn) => {
    for (const [name, expression] of Object.entries(derived)) await checkExpression(conn, name, expression);
  });
}

/** One expression's check (see checkDerivedExpressions). */
async function checkExpression(conn: DuckDBConnection, name: string, expression: string): Promise<void> {
  const fail = (why: string): never => {
    throw new UserError(`${named(name, expression)}: ${why}`);
  };
  const [row] = await queryRows(conn, `SELECT json_serialize_sql(${sqlString(`SELECT ${expression}\n`)}) AS j`);
  const parsed = JSON.parse(String(row.j));
  if (parsed.error) {
    // DuckDB serializes SELECT statements only: any other statement means more than one was given.
    if (/^Only SELECT statements/.test(parsed.error_message)) fail('it is more than one statement, not one expression');
    fail(`${parsed.error_type} error: ${oneLine(parsed.error_message)}`);
  }
  const problem = statementProblem(parsed);
  if (problem) fail(problem);
  const found = { refused: new Set<string>(), functions: new Set<string>() };
  walk((parsed.statements[0].node.select_list as unknown[])[0], found);
  if (found.refused.size) fail(`it has ${[...found.refused].join(' and ')}; it must be a scalar expression over the row's raw columns`);
  if (found.functions.size === 0) return;
  const functions = await queryRows(
    conn,
    `SELECT function_name AS f, list(DISTINCT function_type) AS types, list(DISTINCT stability) FILTER (WHERE function_type = 'scalar') AS stability ` +
      `FROM duckdb_functions() WHERE function_name IN (${[...found.functions].map(sqlString).join(', ')}) GROUP BY function_name ORDER BY function_name`,
  );
  for (const f of functions) {
    const types = f.types as string[];
    if (!types.includes('scalar') && !types.includes('macro') && types.includes('aggregate')) fail(`${f.f}() is an aggregate function; the expression is computed per row`);
    // error() is volatile to DuckDB only because it raises; it fails the node as intended.
    if (f.f !== 'error' && ((f.stability as string[] | null) ?? []).some((s) => s !== 'CONSISTENT')) {
      fail(`${f.f}() can give a different result for the same row (DuckDB: ${(f.stability as string[]).join(', ')}); a derived value must depend on its row only`);
    }
  }
}

/**
 * Binds each (already parsed) expression against the raw columns of `rawSelect` (a reader's select: typed columns
 * plus `__bad` and `__unsure`); returns the derived columns with their feature types. A name must differ from every other
 * column's in more than case: DuckDB's names ignore case, and it would quietly rename the second one ("island_1").
 */
export async function bindDerivedColumns(conn: DuckDBConnection, derived: Record<string, string>, rawSelect: string, raw: TypedColumn[]): Promise<DerivedColumn[]> {
  const taken = new Map(raw.map((c) => [c.name.toLowerCase(), `the input column "${c.name}"`]));
  const out: DerivedColumn[] = [];
  for (const [name, expression] of Object.entries(derived)) {
    const owner = taken.get(name.toLowerCase());
    if (owner) throw new UserError(`${named(name, expression)}: the name is taken by ${owner} (column names ignore case); pick another name`);
    taken.set(name.toLowerCase(), `the derived column "${name}"`);
    // The newline ends a trailing -- comment inside the parentheses.
    const value = `(${expression}\n)`;
    let described;
    try {
      described = await queryRows(conn, `DESCRIBE SELECT ${value} AS ${sqlIdent(name)} FROM (SELECT * EXCLUDE (__bad, __unsure) FROM (${rawSelect}))`);
    } catch (err) {
      throw new UserError(`${named(name, expression)}: ${oneLine((err as Error).message)} (raw columns: ${raw.map((c) => c.name).join(', ')})`);
    }
    if (described.length !== 1) throw new UserError(`${named(name, expression)}: it gives ${described.length} columns, not one`);
    const duckType = String(described[0].column_type);
    let type: FeatureType;
    try {
      type = featureTypeOfDuckDb(duckType, name, 'derived columns');
    } catch {
      throw new UserError(`${named(name, expression)}: its type is ${duckType}; a derived column must be a number, boolean, text, date or time`);
    }
    // A plain CAST, not TRY_CAST: these conversions cannot fail, and one that did must not become a missing value.
    out.push({ name, type, expression, sql: `CAST(${value} AS ${DUCKDB_TYPE_OF[type]})` });
  }
  return out;
}

/** SQL: `select`'s rows plus the derived columns; rows already bad (`__bad`) get NULL, unevaluated. */
export function withDerivedSql(select: string, derived: DerivedColumn[]): string {
  if (derived.length === 0) return select;
  return `SELECT *, ${derived.map((d) => `CASE WHEN __bad IS NULL THEN ${d.sql} END AS ${sqlIdent(d.name)}`).join(', ')} FROM (${select})`;
}

/**
 * After a query over `select` + derived columns failed with `err`: the derived column whose evaluation fails on
 * these rows (each is evaluated alone), as a UserError naming it; undefined when none fails alone.
 */
export async function derivedFailure(conn: DuckDBConnection, select: string, derived: DerivedColumn[], where: string): Promise<UserError | undefined> {
  for (const d of derived) {
    try {
      await queryRows(conn, `SELECT count(${sqlIdent(d.name)}) AS n FROM (${withDerivedSql(select, [d])})`);
    } catch (err) {
      return new UserError(`${named(d.name, d.expression)}: evaluating it failed on a row of ${where}: ${oneLine((err as Error).message)}`);
    }
  }
  return undefined;
}

/** The Examples property for these derived columns (none when there are none, as for Examples written before them). */
export function derivedColumnsProperty(derived: Record<string, string> | undefined): Properties {
  return derived && Object.keys(derived).length ? { [DERIVED_COLUMNS_PROPERTY]: JSON.stringify(derived) } : {};
}

/** The derived columns recorded on an Examples artifact's properties (name → expression; none when unrecorded). */
export function derivedColumnsOf(properties: Record<string, unknown>, where: string): Record<string, string> {
  const raw = properties[DERIVED_COLUMNS_PROPERTY];
  if (raw === undefined) return {};
  try {
    const value = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')) return value;
  } catch {
    // fall through to the error below
  }
  throw new UserError(`${where} has an invalid ${DERIVED_COLUMNS_PROPERTY} property (expected a JSON object of name → expression, got ${JSON.stringify(raw)})`);
}
