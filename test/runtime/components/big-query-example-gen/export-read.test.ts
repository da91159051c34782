// BigQueryExampleGen's read path: the Parquet shards an EXPORT DATA job leaves under the pipeline root go through
// ExampleGen's own path (split, quarantine, accounting), locally and on the in-process GCS emulator.
// There is no BigQuery emulator, so the job runner here is a fake: it "exports" by writing the rows of a DuckDB
// query as Parquet shards named as EXPORT DATA names them for a URI ending in "*.parquet" (000000000000.parquet,
// 000000000001.parquet, ...) and reports exportDataStatistics as BigQuery does. The live call is not exercised.

import * as fs from 'fs';
import * as path from 'path';
import { runBigQueryExampleGen, exportBaseOf } from '../../../../runtime/components/big-query-example-gen/run';
import { BigQueryExampleGenParameters } from '../../../../runtime/components/big-query-example-gen/parameters';
import type { BigQueryJobRunner } from '../../../../runtime/components/big-query-example-gen/job-runner';
import type { BigQueryJob } from '../../../../runtime/components/big-query-example-gen/query';
import { keptRejectsUri } from '../../../../runtime/components/example-gen';
import { duckdb, queryRows, sqlString } from '../../../../runtime/data/duckdb';
import { storageFor } from '../../../../runtime/storage';
import { useGcsEmulator } from '../../../support/gcs-emulator';
import { runGen, splitRows, useTempDir } from '../example-gen/helpers';

const tmp = useTempDir('mlp-bqeg-');
const JAN_15_2024 = Date.UTC(2024, 0, 15) / 86_400_000;

// 1,000 rows of mixed types with missing values; "age" is text with an "n/a" in 11 rows (id % 97 = 5).
const ROWS =
  "SELECT i AS id, ['a', 'b', 'c'][i % 3 + 1] AS cat, CASE WHEN i % 10 = 0 THEN NULL ELSE i * 0.5 END AS amount, " +
  "CASE WHEN i % 97 = 5 THEN 'n/a' ELSE CAST(i % 50 AS VARCHAR) END AS age FROM range(1000) t(i)";

interface Fake {
  runner: BigQueryJobRunner;
  jobs: BigQueryJob[];
  /** Local copies of every shard written, per export URI. */
  kept: Map<string, string>;
}

/**
 * A stand-in for BigQuery: `rowsFor` maps the job's SQL to the DuckDB query of the rows it exports, written in
 * `shards` files (rows dealt by id) to the job's destination through the storage layer; `extraReported` rows are
 * added to the reported rowCount (an export ExampleGen did not fully read).
 */
function fakeBigQuery(dir: string, rowsFor: (sql: string) => string, shards = 3, extraReported = 0): Fake {
  const jobs: BigQueryJob[] = [];
  const kept = new Map<string, string>();
  const runner: BigQueryJobRunner = {
    async run(job, uri) {
      jobs.push(job);
      // The statement the job runs writes where the runner was told.
      expect(job.configuration.query.query).toContain(`EXPORT DATA OPTIONS (uri = '${uri}', format = 'PARQUET', overwrite = false) AS`);
      const local = path.join(dir, `bq-${jobs.length}`);
      await fs.promises.mkdir(local, { recursive: true });
      const conn = await duckdb();
      try {
        const rows = rowsFor(job.configuration.query.query);
        for (let i = 0; i < shards; i++) {
          const name = `${String(i).padStart(12, '0')}.parquet`;
          await conn.run(`COPY (SELECT * FROM (${rows}) WHERE id % ${shards} = ${i} ORDER BY id) TO ${sqlString(path.join(local, name))} (FORMAT parquet)`);
          await storageFor(uri).writeFile(uri.replace('*', name.replace('.parquet', '')), await fs.promises.readFile(path.join(local, name)));
        }
        const [{ n }] = await queryRows(conn, `SELECT count(*) AS n FROM (${rows})`);
        kept.set(uri, local);
        return { jobId: job.jobReference.jobId, rowCount: Number(n) + extraReported, fileCount: shards };
      } finally {
        conn.closeSync();
      }
    },
  };
  return { runner, jobs, kept };
}

async function run(params: Record<string, unknown>, fake: Fake, uri = path.join(tmp.dir, 'examples')) {
  const out = path.join(tmp.dir, 'scratch');
  await fs.promises.mkdir(out, { recursive: true });
  const log: string[] = [];
  const props = await runBigQueryExampleGen(BigQueryExampleGenParameters.parse(params), { uri, path: out }, (l) => log.push(l), fake.runner, keptRejectsUri(uri), {
    pipeline: 'p',
    node: 'BigQueryExampleGen',
  });
  return { out, props, log };
}

test('a span query exported in shards splits exactly as ExampleGen splits the same Parquet files; the export is removed', async () => {
  const fake = fakeBigQuery(tmp.dir, (sql) => {
    expect(sql).toContain("WHERE day = '20240115'");
    return ROWS;
  });
  const { out, props } = await run({ query: 'SELECT * FROM `p.d.t` WHERE day = @span_yyyymmdd_utc', span: JAN_15_2024, labels: { team: 'risk' } }, fake);
  expect(fake.jobs).toHaveLength(1);
  expect(fake.jobs[0].configuration.labels).toMatchObject({ team: 'risk', mlp_node: 'bigqueryexamplegen' });
  expect(props).toMatchObject({ span: JAN_15_2024, version: 0, spans: `[${JAN_15_2024}]`, row_count: 1000, bad_row_count: 0, split_names: '["train","eval"]' });

  // The same shards read by ExampleGen as files: the same split of every row.
  const [shardDir] = fake.kept.values();
  expect(fs.readdirSync(shardDir).sort()).toEqual(['000000000000.parquet', '000000000001.parquet', '000000000002.parquet']);
  const files = await runGen(tmp.dir, { input_base: shardDir, format: 'parquet' }, 'files');
  expect(props.split_row_counts).toBe(files.props.split_row_counts);
  expect(await splitRows(out, 'eval', 'id')).toEqual(await splitRows(files.out, 'eval', 'id'));
  expect(fs.existsSync(exportBaseOf(path.join(tmp.dir, 'examples')))).toBe(false);
});

test('bad values are quarantined with the export shard and row they came from, and counted', async () => {
  const fake = fakeBigQuery(tmp.dir, () => ROWS);
  const { out, props } = await run({ table: 'p.d.people', schema: { age: 'INT' }, max_bad_rows_fraction: 0.05 }, fake);
  expect(props).toMatchObject({ row_count: 989, bad_row_count: 11, span: 0 });
  const rejects = fs.readFileSync(path.join(out, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(rejects).toHaveLength(11);
  // id 5 is the second row of shard 2 (ids 2, 5, 8, ...).
  expect(rejects).toContainEqual({
    file: path.join(exportBaseOf(path.join(tmp.dir, 'examples')), 'single_split', '000000000002.parquet'),
    row: 2,
    reason: 'column "age": "n/a" is not a valid INT',
  });
  expect(fake.jobs[0].configuration.query.query).toMatch(/AS\nSELECT \* FROM `p\.d\.people`$/);
});

test('more rows exported than read fails the node', async () => {
  const fake = fakeBigQuery(tmp.dir, () => ROWS, 2, 1);
  await expect(run({ query: 'SELECT 1' }, fake)).rejects.toThrow(/^BigQuery exported 1001 rows but ExampleGen read 1000 from the export under .*, so rows could be lost$/);
});

test('files a failed earlier attempt left in the export folder are removed before the job, not read', async () => {
  const uri = path.join(tmp.dir, 'examples');
  const stale = path.join(exportBaseOf(uri), 'single_split', '000000000007.parquet');
  fs.mkdirSync(path.dirname(stale), { recursive: true });
  const conn = await duckdb();
  await conn.run(`COPY (${ROWS}) TO ${sqlString(stale)} (FORMAT parquet)`);
  conn.closeSync();
  const { props } = await run({ query: 'SELECT 1' }, fakeBigQuery(tmp.dir, () => ROWS), uri);
  expect(props.row_count).toBe(1000);
});

test('predefined splits: one export job per split query, kept as they are', async () => {
  const fake = fakeBigQuery(tmp.dir, (sql) => `${ROWS} WHERE ${sql.includes("'train'") ? 'i % 3 <> 0' : 'i % 3 = 0'}`);
  const { props, out } = await run(
    {
      input_splits: [
        { name: 'train', query: "SELECT * FROM d.t WHERE part = 'train' AND ts < @span_end_timestamp" },
        { name: 'eval', query: "SELECT * FROM d.t WHERE part = 'eval' AND ts < @span_end_timestamp" },
      ],
      span: 3,
    },
    fake,
  );
  expect(fake.jobs.map((j) => j.configuration.query.query.split('\n')[1])).toEqual([
    "SELECT * FROM d.t WHERE part = 'train' AND ts < 345600",
    "SELECT * FROM d.t WHERE part = 'eval' AND ts < 345600",
  ]);
  expect(props).toMatchObject({ split_names: '["train","eval"]', split_row_counts: '{"train":666,"eval":334}', span: 3 });
  expect((await splitRows(out, 'eval', 'id')).every((r) => Number(r.id) % 3 === 0)).toBe(true);
});

describe('under a gs:// pipeline root (GCS emulator)', () => {
  useGcsEmulator();

  test('the shards are exported to and read from Cloud Storage, then the export is deleted', async () => {
    const uri = 'gs://mlp-bqeg-test/root/BigQueryExampleGen/examples/12';
    const fake = fakeBigQuery(tmp.dir, () => ROWS, 4);
    const { props } = await run({ query: 'SELECT * FROM d.t' }, fake, uri);
    expect([...fake.kept.keys()]).toEqual([`${uri}.bigquery-export/single_split/*.parquet`]);
    expect(props).toMatchObject({ row_count: 1000, bad_row_count: 0 });
    expect(await storageFor(uri).list(exportBaseOf(uri))).toEqual([]);
  });
});
