// BigQueryExampleGen's SQL: renders TFX's span placeholders into a query (or a table into a query), wraps it in
// the EXPORT DATA statement that writes Parquet to Cloud Storage, and builds the BigQuery job resource
// (https://cloud.google.com/bigquery/docs/reference/rest/v2/Job) that runs it.
// The placeholders are TFX's query-based ones (tfx/components/example_gen/utils.py get_query_for_span): for span
// s (days since 1970-01-01 UTC), @span_begin_timestamp and @span_end_timestamp are the UTC seconds of that day's
// start and the next day's start, @span_yyyymmdd_utc is the day as a quoted string ('19700102').

import { randomUUID } from 'crypto';
import { UserError } from '../../core/errors';
import type { StepIdentity } from '../../core/component';

const PLACEHOLDERS = ['@span_begin_timestamp', '@span_end_timestamp', '@span_yyyymmdd_utc'] as const;
const SECONDS_PER_DAY = 86_400;
// Anything that looks like a span placeholder (any case) is checked, so a typo fails here, not as an unbound query parameter.
const SPAN_LIKE = /@span_[A-Za-z0-9_]*/gi;
// ExampleGen's file-pattern placeholders mean nothing in SQL; someone moving from files may still write them.
const FILE_PLACEHOLDER = /\{(SPAN|VERSION|YYYY|MM|DD)(:\d+)?\}/;

function yyyymmdd(span: number): string {
  return new Date(span * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10).replace(/-/g, '');
}

/** The span placeholders in `text`, each checked to be a known one (else a one-line error naming it and `where`). */
function placeholdersIn(text: string, where: string): Set<string> {
  const file = FILE_PLACEHOLDER.exec(text);
  if (file) throw new UserError(`${where}: ${file[0]} is a file-pattern placeholder; a query uses ${PLACEHOLDERS.join(', ')}`);
  const found = new Set<string>();
  for (const [tok] of text.matchAll(SPAN_LIKE)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(tok)) throw new UserError(`${where}: unknown placeholder ${tok} (known: ${PLACEHOLDERS.join(', ')})`);
    found.add(tok);
  }
  return found;
}

function needSpan(found: Set<string>, span: number | undefined, where: string): number {
  if (span === undefined) throw new UserError(`${where}: ${[...found][0]} needs a span (set the span parameter)`);
  return span;
}

/** `query` with its span placeholders replaced as TFX does; a query without placeholders is returned as it is. */
export function renderQuery(query: string, span: number | undefined, where: string): string {
  const found = placeholdersIn(query, where);
  if (found.size === 0) return query;
  const s = needSpan(found, span, where);
  return query
    .replace(/@span_begin_timestamp/g, String(s * SECONDS_PER_DAY))
    .replace(/@span_end_timestamp/g, String((s + 1) * SECONDS_PER_DAY))
    .replace(/@span_yyyymmdd_utc/g, `'${yyyymmdd(s)}'`);
}

// [project.]dataset.table; a domain-scoped project id has a ":" and dots (example.com:project).
const TABLE = /^(?:[A-Za-z0-9_:.-]+\.)?[A-Za-z0-9_]+\.[A-Za-z0-9_$-]+$/;

/** A query reading a whole table; @span_yyyymmdd_utc in its name (a date shard, events_@span_yyyymmdd_utc) is the bare date. */
export function tableQuery(table: string, span: number | undefined, where: string): string {
  const found = placeholdersIn(table, where);
  const other = [...found].find((p) => p !== '@span_yyyymmdd_utc');
  if (other) throw new UserError(`${where}: ${other} cannot be part of a table name (only @span_yyyymmdd_utc, for date shards)`);
  const name = found.size ? table.replace(/@span_yyyymmdd_utc/g, yyyymmdd(needSpan(found, span, where))) : table;
  if (!TABLE.test(name)) throw new UserError(`${where}: "${table}" is not a table name (project.dataset.table or dataset.table)`);
  return `SELECT * FROM \`${name}\``;
}

/** A GoogleSQL string literal: backslash and quote are escaped with a backslash. */
export function sqlStringLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;
}

/** EXPORT DATA of the query's rows as Parquet to `uri` (with one "*", numbered 000000000000, 000000000001, ...). */
export function exportStatement(query: string, uri: string): string {
  // overwrite=false: BigQuery refuses a destination that already has files, so nothing stale is mixed in.
  const body = query.trim().replace(/;\s*$/, '');
  return `EXPORT DATA OPTIONS (uri = ${sqlStringLiteral(uri)}, format = 'PARQUET', overwrite = false) AS\n${body}`;
}

/** The parts of BigQuery's Job resource this component sets (REST v2 names). */
export interface BigQueryJob {
  jobReference: { projectId?: string; jobId: string; location?: string };
  configuration: {
    query: { query: string; useLegacySql: false };
    labels: Record<string, string>;
    dryRun: false;
  };
}

function labelValue(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 63);
}

/** The job that runs `sql` (an EXPORT DATA statement): standard SQL, labelled with the pipeline node it runs for. */
export function jobResource(sql: string, opts: { project?: string; location?: string; labels: Record<string, string>; step?: StepIdentity }): BigQueryJob {
  const labels: Record<string, string> = { mlp_component: 'bigqueryexamplegen' };
  if (opts.step) Object.assign(labels, { mlp_pipeline: labelValue(opts.step.pipeline), mlp_node: labelValue(opts.step.node) });
  return {
    // A fresh id per attempt: a retried execution deletes the previous attempt's export and runs a new job.
    jobReference: { projectId: opts.project, jobId: `mlp_bqeg_${randomUUID().replace(/-/g, '_')}`, location: opts.location },
    configuration: { query: { query: sql, useLegacySql: false }, labels: { ...labels, ...opts.labels }, dryRun: false },
  };
}
