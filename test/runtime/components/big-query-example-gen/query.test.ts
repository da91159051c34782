// BigQueryExampleGen's SQL and job configuration, checked against TFX's placeholder rules (tfx/components/
// example_gen/utils.py get_query_for_span and its test's expected strings) and BigQuery's documented Job resource
// (REST v2: jobReference.{projectId, jobId, location}; configuration.{query.{query, useLegacySql}, labels, dryRun}).
// There is no BigQuery emulator: the live call (bigQueryClientRunner creating the job) is not exercised here,
// except for its refusal of an export URI BigQuery cannot write to, which it checks before loading the client.

import { execFileSync } from 'child_process';
import * as path from 'path';
import { UserError } from '../../../../runtime/core/errors';
import { BigQueryExampleGenParameters } from '../../../../runtime/components/big-query-example-gen/parameters';
import { exportStatement, jobResource, renderQuery, tableQuery } from '../../../../runtime/components/big-query-example-gen/query';
import { splitQueries } from '../../../../runtime/components/big-query-example-gen/run';
import { bigQueryClientRunner } from '../../../../runtime/components/big-query-example-gen/job-runner';

const DAY = 86_400_000;
const JAN_15_2024 = Date.UTC(2024, 0, 15) / DAY;

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('span placeholders (TFX query-based forms)', () => {
  test('TFX test cases: @span_yyyymmdd_utc is a quoted UTC date, the timestamps are the span day in seconds', () => {
    expect(renderQuery('select * from table', 1, 'query')).toBe('select * from table');
    expect(renderQuery('select * from table where date=@span_yyyymmdd_utc', 1, 'query')).toBe("select * from table where date='19700102'");
    expect(
      renderQuery('select * from table where ts>=TIMESTAMP_SECONDS(@span_begin_timestamp) and ts<TIMESTAMP_SECONDS(@span_end_timestamp)', 2, 'query'),
    ).toBe('select * from table where ts>=TIMESTAMP_SECONDS(172800) and ts<TIMESTAMP_SECONDS(259200)');
  });

  test('every occurrence is replaced; a recent span gives its calendar date', () => {
    const q = 'SELECT * FROM t WHERE d = @span_yyyymmdd_utc OR d2 = @span_yyyymmdd_utc AND ts < @span_end_timestamp';
    expect(renderQuery(q, JAN_15_2024, 'query')).toBe(`SELECT * FROM t WHERE d = '20240115' OR d2 = '20240115' AND ts < ${(JAN_15_2024 + 1) * 86_400}`);
  });

  test('a query without placeholders needs no span; one with them does, and the error names the placeholder', () => {
    expect(renderQuery('SELECT 1', undefined, 'query')).toBe('SELECT 1');
    const err = errorOf(() => renderQuery('SELECT * FROM t WHERE d = @span_yyyymmdd_utc', undefined, 'query'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('query: @span_yyyymmdd_utc needs a span (set the span parameter)');
  });

  test.each([
    ['SELECT * FROM t WHERE d = @span_yyyymmdd', '@span_yyyymmdd'],
    ['SELECT * FROM t WHERE ts < @span_end_timestmap', '@span_end_timestmap'],
    ['SELECT * FROM t WHERE d = @SPAN_YYYYMMDD_UTC', '@SPAN_YYYYMMDD_UTC'],
    ['SELECT * FROM t WHERE d = {SPAN}', '{SPAN}'],
    ['SELECT * FROM t_{YYYY}{MM}{DD}', '{YYYY}'],
  ])('a bad placeholder is a one-line error naming it: %s', (query, name) => {
    const err = errorOf(() => renderQuery(query, 3, 'query of split "train"'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/^query of split "train": /);
    expect(err.message).toContain(name);
  });

  test('other @names (BigQuery query parameters, e-mail addresses in literals) are left alone', () => {
    expect(renderQuery("SELECT * FROM t WHERE who = 'a@example.com' AND x = @limit", undefined, 'query')).toBe(
      "SELECT * FROM t WHERE who = 'a@example.com' AND x = @limit",
    );
  });
});

describe('table source', () => {
  test('a table is read whole, backtick-quoted; @span_yyyymmdd_utc in its name is the bare date of a date shard', () => {
    expect(tableQuery('my-project.sales.orders', undefined, 'table')).toBe('SELECT * FROM `my-project.sales.orders`');
    expect(tableQuery('sales.orders', undefined, 'table')).toBe('SELECT * FROM `sales.orders`');
    expect(tableQuery('example.com:proj.analytics.events_@span_yyyymmdd_utc', JAN_15_2024, 'table')).toBe(
      'SELECT * FROM `example.com:proj.analytics.events_20240115`',
    );
  });

  test.each([
    ['orders', '"orders" is not a table name'],
    ['ds.orders`; DROP TABLE x; --', 'is not a table name'],
    ['ds.events_@span_begin_timestamp', '@span_begin_timestamp cannot be part of a table name'],
    ['ds.events_@span_yyyymmdd', 'unknown placeholder @span_yyyymmdd'],
  ])('bad table %s', (table, message) => {
    const err = errorOf(() => tableQuery(table, 1, 'table'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain(message);
  });
});

describe('EXPORT DATA statement', () => {
  test('Parquet to the wildcard URI, never overwriting; a trailing semicolon of the query is dropped', () => {
    expect(exportStatement('SELECT a FROM `d.t`;\n', 'gs://b/ex/examples/7.bigquery-export/single_split/*.parquet')).toBe(
      "EXPORT DATA OPTIONS (uri = 'gs://b/ex/examples/7.bigquery-export/single_split/*.parquet', format = 'PARQUET', overwrite = false) AS\nSELECT a FROM `d.t`",
    );
  });

  test('the URI is a GoogleSQL string literal: quote and backslash are escaped', () => {
    expect(exportStatement('SELECT 1', "gs://b/it's\\here/*.parquet")).toContain("uri = 'gs://b/it\\'s\\\\here/*.parquet'");
  });
});

describe('job resource (BigQuery REST v2 Job; the fields the live runner passes to createJob)', () => {
  const sql = exportStatement('SELECT 1', 'gs://b/x/*.parquet');

  test('standard SQL, not a dry run, in the given project and location, labelled with the pipeline node', () => {
    const job = jobResource(sql, { project: 'p1', location: 'EU', labels: { team: 'risk' }, step: { pipeline: 'Fraud Model', node: 'BigQueryExampleGen' } });
    expect(job.configuration).toEqual({
      query: { query: sql, useLegacySql: false },
      labels: { mlp_component: 'bigqueryexamplegen', mlp_pipeline: 'fraud-model', mlp_node: 'bigqueryexamplegen', team: 'risk' },
      dryRun: false,
    });
    expect(job.jobReference).toMatchObject({ projectId: 'p1', location: 'EU' });
    // Job ids: letters, digits, underscores and dashes, at most 1,024 characters; a new one per attempt.
    expect(job.jobReference.jobId).toMatch(/^[A-Za-z0-9_-]{1,1024}$/);
    expect(jobResource(sql, { labels: {} }).jobReference.jobId).not.toBe(job.jobReference.jobId);
    // Label values follow BigQuery's rule too.
    for (const v of Object.values(job.configuration.labels)) expect(v).toMatch(/^[a-z0-9_-]{0,63}$/);
  });

  test('labels that BigQuery would reject are a parameter error', () => {
    expect(BigQueryExampleGenParameters.safeParse({ query: 'SELECT 1', labels: { Team: 'x' } }).success).toBe(false);
    expect(BigQueryExampleGenParameters.safeParse({ query: 'SELECT 1', labels: { team: 'Risk Team' } }).success).toBe(false);
    expect(BigQueryExampleGenParameters.safeParse({ query: 'SELECT 1', labels: { team: 'risk' } }).success).toBe(true);
  });

  test('exactly one of query, table or input_splits', () => {
    const p = (x: object) => BigQueryExampleGenParameters.parse(x);
    expect(errorOf(() => splitQueries(p({}))).message).toBe('BigQueryExampleGen: set exactly one of query, table or input_splits (got none)');
    expect(errorOf(() => splitQueries(p({ query: 'SELECT 1', table: 'd.t' }))).message).toContain('got query and table');
    expect(splitQueries(p({ input_splits: [{ name: 'train', query: 'SELECT @span_begin_timestamp' }, { name: 'eval', query: 'SELECT 2' }], span: 1 }))).toEqual([
      { name: 'train', query: 'SELECT 86400' },
      { name: 'eval', query: 'SELECT 2' },
    ]);
  });
});

test('the live runner refuses a destination that is not Cloud Storage, before any call', async () => {
  const job = jobResource('SELECT 1', { labels: {} });
  await expect(bigQueryClientRunner.run(job, '/tmp/x/*.parquet')).rejects.toThrow('BigQuery exports only to Cloud Storage: the pipeline root must be a gs:// URI');
});

test('loading the component does not load the BigQuery client (CLI start-up)', () => {
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  const out = execFileSync(
    process.execPath,
    ['-r', 'sucrase/register/ts', '-e', "require('./runtime/components'); console.log(Object.keys(require.cache).filter((k) => k.includes('@google-cloud/bigquery')).length)"],
    { cwd: root, encoding: 'utf8' },
  );
  expect(out.trim()).toBe('0');
});
