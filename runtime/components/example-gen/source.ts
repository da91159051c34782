// What a format reader gives the executor: the typed columns, a DuckDB SELECT over some of the input files
// (typed columns plus `__bad`, the reason a row is bad or NULL, and `__unsure`, whether the row contradicts column
// types guessed from a sample), how many rows that SELECT must yield (counted
// independently of DuckDB, for the executor's accounting), and the bad rows found with their locations.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { TypedColumn } from '../../data/hash-split';
import type { FeatureType } from '../../data/feature-types';

/** One quarantined row: where it is (a file line or line range for text formats, a row number for Parquet) and why. */
export interface BadRow {
  /** The input file as the user named it (its gs:// URI when it was staged). */
  file: string;
  line?: number;
  /** Last line of a reject spanning several lines (a quoted value with line breaks, or an unterminated quote). */
  end_line?: number;
  row?: number;
  reason: string;
  /** The raw text of the row, when the format has one. */
  text?: string;
}

export function whereOf(bad: BadRow): string {
  if (bad.line === undefined) return `${bad.file} row ${bad.row}`;
  return bad.end_line !== undefined ? `${bad.file}:${bad.line}-${bad.end_line}` : `${bad.file}:${bad.line}`;
}

/**
 * Input rows a reject stands for: one per line it spans, since a broken record's line breaks are the best guess of
 * the rows that were meant (an unterminated quote swallows every following line into one record).
 */
export function rowsOf(bad: BadRow): number {
  return bad.line !== undefined && bad.end_line !== undefined ? bad.end_line - bad.line + 1 : 1;
}

/** Rows [from, to) of a file, 0-based. */
export interface RowRange {
  from: number;
  to: number;
}

export interface InputFile {
  /** What DuckDB opens. */
  local: string;
  /** What messages name. */
  display: string;
  /** Only these rows of the file (a Parquet file read by several shards); the whole file when absent. */
  rows?: RowRange;
}

export interface ReaderOptions {
  schema: Record<string, FeatureType>;
  csvDelimiter: string;
}

export interface OpenedSource {
  /** The columns with their types: final, or guessed from a sample until `settleTypes` runs. */
  columns: TypedColumn[];
  /**
   * SELECT of the typed columns (file order), `__bad` and `__unsure` over some of the files. `__unsure` is true on a
   * row that shows a guessed column type wrong (none once the types are settled).
   */
  selectSql(files: InputFile[]): string;
  /** Infers the column types from every row when they were guessed from a sample (updates `columns`). */
  settleTypes?(): Promise<void>;
  /**
   * Rows the select over these files must yield, counted without DuckDB (CSV: well-formed records found by a
   * pass over the text; JSON Lines: the good lines staged; Parquet: the row counts in the files' footers).
   */
  expectedRows(files: InputFile[]): Promise<number>;
  /**
   * Bad rows of these files, once their select has been read (some readers learn them while reading);
   * `badValueRows` is how many rows the select flagged in `__bad`, so readers look for them only when needed.
   */
  badRows(files: InputFile[], badValueRows: number): Promise<BadRow[]>;
  /** Drops temporary tables (temporary files go with the executor's temp dir). */
  close?(): Promise<void>;
}

/** Opens the files for reading; only the Parquet reader takes files with a row range. */
export type Reader = (conn: DuckDBConnection, all: InputFile[], opts: ReaderOptions, tmpDir: string) => Promise<OpenedSource>;

/** The text readers' refusal of row ranges (ExampleGen shards their input by whole files). */
export function wholeFilesOnly(files: InputFile[], format: string): void {
  const ranged = files.find((f) => f.rows);
  if (ranged) throw new Error(`${ranged.display}: a ${format} file is read whole, not as a row range`);
}

/** Reason text for a value that does not parse as its schema type. */
export function badValueReason(column: string, type: FeatureType, value: string): string {
  return `column "${column}": ${JSON.stringify(value)} is not a valid ${type}`;
}
