// ExampleGen sharded (issue 20 §3): partial ×N then merge writes what the unsharded executor writes — the same
// rows in each split (as sorted multisets), the same rejects and the same properties — for Parquet (whole files, and
// row ranges when there are more shards than files), CSV and JSON Lines (whole files; shards past the file count
// read nothing) and predefined input splits; a column without values in one shard's files (all empty, a JSON key
// never present, a Parquet column absent from its files) takes the type the other shards give it, in the unsharded
// column order and splits, every part file of one schema; the merge fails on shards whose column types differ where
// both hold values (naming the column and the shards), on CSV headers that differ, on rows lost between the shards
// and the splits and on a shard that read something else than its share; a retried merge publishes the same
// artifact, as do the CLI phases (mlp component shard plan|run|merge) and the local runner (one execution with
// shards=3); auto picks one shard per 256 MiB of input.

import * as fs from 'fs';
import * as path from 'path';
import { ExampleGen, REJECTS_FILE } from '../../../../runtime/components/example-gen';
import { exampleGenAutoShards, SHARD_FILE } from '../../../../runtime/components/example-gen/shards';
import { ExampleGenParameters } from '../../../../runtime/components/example-gen/parameters';
import { sqlString } from '../../../../runtime/data/duckdb';
import { localContext, runShardPhases } from '../../ml/shard-phases';
import { Pipeline } from '../../../../pipelines/dsl/pipeline';
import { runPipeline } from '../../../../runtime/runner/local-runner';
import { runCli } from '../../../support/cli';
import { useTempStore } from '../../../support/temp-store';
import { query, runGen, useTempDir, write } from './helpers';

const tmp = useTempDir('mlp-eg-shards-');

/** Every split's rows sorted (a multiset), the rejects file's text and the properties of an Examples folder. */
async function contents(out: string, splits: string[]) {
  const rows: Record<string, unknown[]> = {};
  for (const s of splits) rows[s] = await query(`SELECT * FROM read_parquet(${sqlString(path.join(out, `Split-${s}`, '*.parquet'))}) ORDER BY ALL`);
  const rejects = path.join(out, REJECTS_FILE);
  return { rows, rejects: fs.existsSync(rejects) ? fs.readFileSync(rejects, 'utf8') : undefined };
}

/** The columns (names in order, types) of every part file of the splits, each schema once. */
async function partSchemas(out: string, splits: string[]): Promise<string[]> {
  const schemas = new Set<string>();
  for (const s of splits) {
    for (const f of fs.readdirSync(path.join(out, `Split-${s}`))) {
      const described = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path.join(out, `Split-${s}`, f))})`);
      schemas.add(described.map((d) => `${d.column_name} ${d.column_type}`).join(', '));
    }
  }
  return [...schemas];
}

async function sharded(params: Record<string, unknown>, shards: number, name: string) {
  const out = path.join(tmp.dir, name);
  const { outputs, partialDirs } = await runShardPhases(ExampleGen, tmp.dir, {}, { examples: out }, params, shards);
  return { out, props: outputs.examples.properties, partialDirs };
}

async function expectShardedEqualsUnsharded(params: Record<string, unknown>, splits: string[], counts: number[]) {
  const unsharded = await runGen(tmp.dir, params, 'unsharded');
  const expected = await contents(unsharded.out, splits);
  for (const n of counts) {
    const { out, props } = await sharded(params, n, `sharded-${n}`);
    expect([n, props]).toEqual([n, unsharded.props]);
    expect([n, await contents(out, splits)]).toEqual([n, expected]);
  }
  return { unsharded, expected };
}

test('Parquet: whole files per shard, or row ranges when there are more shards than files, give the unsharded splits, rejects and properties', async () => {
  // Two files of several row groups; every 97th code is not an integer (a bad row under the schema).
  fs.mkdirSync(path.join(tmp.dir, 'in'));
  for (const [i, rows] of [[0, 1500], [1, 700]]) {
    await query(
      `COPY (SELECT ${i} * 10000 + r AS id, CASE WHEN r % 97 = 5 THEN 'x' || r ELSE (r * 7)::VARCHAR END AS code, r / 8.0 AS v, ` +
        `CASE WHEN r % 11 = 0 THEN NULL ELSE 'n' || (r % 13) END AS s FROM range(${rows}) t(r)) ` +
        `TO ${sqlString(path.join(tmp.dir, 'in', `part-${i}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 256)`,
    );
  }
  const params = { input_base: path.join(tmp.dir, 'in'), schema: { code: 'INT' }, max_bad_rows_fraction: 0.05 };
  const { unsharded, expected } = await expectShardedEqualsUnsharded(params, ['train', 'eval'], [1, 2, 3, 7]);
  expect(unsharded.props.bad_row_count).toBe(16 + 8);
  expect(expected.rejects!.split('\n')[0]).toContain('"row":6');
});

test('CSV: whole files per shard (shards past the file count read nothing) give the unsharded splits, rejects and properties', async () => {
  const header = 'id,name,score\n';
  write(path.join(tmp.dir, 'in', 'a.csv'), header + '1,ann,0.5\n2,"bo, jr",39.1\n3,,2.25\nbroken,"line\n');
  write(path.join(tmp.dir, 'in', 'b.csv'), header + '4,dee,\n5,eve,1e3\n6,fay,7,extra\n7,gus,-2\n');
  write(path.join(tmp.dir, 'in', 'c.csv'), header + Array.from({ length: 50 }, (_, i) => `${100 + i},n${i % 4},${i / 4}`).join('\n') + '\n');
  const params = { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.1 };
  const { unsharded, expected } = await expectShardedEqualsUnsharded(params, ['train', 'eval'], [1, 2, 3, 5]);
  expect(unsharded.props.row_count).toBe(56);
  expect(expected.rejects!.trim().split('\n').map((l) => JSON.parse(l).file.replace(/.*\//, ''))).toEqual(['a.csv', 'b.csv']);
});

test('JSON Lines: whole files per shard give the unsharded splits, rejects and properties', async () => {
  write(path.join(tmp.dir, 'in', 'a.jsonl'), '{"id": 1, "v": 0.5}\n{"id": 2, "v": 1.5}\nnot json\n');
  write(path.join(tmp.dir, 'in', 'b.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: 10 + i, v: i / 2 })).join('\n') + '\n');
  await expectShardedEqualsUnsharded({ input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.1 }, ['train', 'eval'], [2, 3]);
});

test('CSV: a column empty in every row of one shard\'s file takes the type of the other shard\'s values, as unsharded', async () => {
  const rows = (from: number, x: (i: number) => string) => Array.from({ length: 40 }, (_, i) => `${from + i},${x(i)},n${i % 3}`).join('\n');
  write(path.join(tmp.dir, 'in', 'a.csv'), `id,x,s\n${rows(0, () => '')}\n`);
  write(path.join(tmp.dir, 'in', 'b.csv'), `id,x,s\n${rows(100, (i) => String(i * 7))}\n`);
  const params = { input_base: path.join(tmp.dir, 'in') };
  const { unsharded } = await expectShardedEqualsUnsharded(params, ['train', 'eval'], [2]);
  expect(await partSchemas(unsharded.out, ['train', 'eval'])).toEqual(['id BIGINT, x BIGINT, s VARCHAR']);
  expect(await partSchemas(path.join(tmp.dir, 'sharded-2'), ['train', 'eval'])).toEqual(['id BIGINT, x BIGINT, s VARCHAR']);
});

test('JSON Lines: a key absent from one shard\'s file is a NULL column of the other shard\'s type, in the unsharded column order and splits', async () => {
  // a.jsonl never has "x"; b.jsonl has it between "id" and "v" (unsharded, the columns come in order of first appearance: id, v, x).
  write(path.join(tmp.dir, 'in', 'a.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i, v: i / 4 })).join('\n') + '\n');
  write(path.join(tmp.dir, 'in', 'b.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: 100 + i, x: i * 3, v: i / 2 })).join('\n') + '\n');
  const params = { input_base: path.join(tmp.dir, 'in') };
  const { unsharded } = await expectShardedEqualsUnsharded(params, ['train', 'eval'], [2]);
  expect(await partSchemas(unsharded.out, ['train', 'eval'])).toEqual(['id BIGINT, v DOUBLE, x BIGINT']);
  expect(await partSchemas(path.join(tmp.dir, 'sharded-2'), ['train', 'eval'])).toEqual(['id BIGINT, v DOUBLE, x BIGINT']);
});

test('Parquet: a column absent from one shard\'s files is NULL there, derived columns stay last, and a retried merge publishes the same', async () => {
  fs.mkdirSync(path.join(tmp.dir, 'in'));
  await query(`COPY (SELECT r AS id, r / 4 AS v FROM range(40) t(r)) TO ${sqlString(path.join(tmp.dir, 'in', 'a.parquet'))} (FORMAT parquet)`);
  await query(`COPY (SELECT 100 + r AS id, r * 3 AS x, r / 2 AS v FROM range(40) t(r)) TO ${sqlString(path.join(tmp.dir, 'in', 'b.parquet'))} (FORMAT parquet)`);
  const params = { input_base: path.join(tmp.dir, 'in'), derived_columns: { twice: 'v * 2' } };
  const { unsharded, expected } = await expectShardedEqualsUnsharded(params, ['train', 'eval'], [2]);
  expect(await partSchemas(unsharded.out, ['train', 'eval'])).toEqual(['id BIGINT, v DOUBLE, x BIGINT, twice DOUBLE']);
  expect(await partSchemas(path.join(tmp.dir, 'sharded-2'), ['train', 'eval'])).toEqual(['id BIGINT, v DOUBLE, x BIGINT, twice DOUBLE']);
  // The merge wrote shard 0's rows again and left its partial folder as it was: merging again gives the same.
  const first = await sharded(params, 2, 'first');
  const before = await contents(first.partialDirs[0], ['train', 'eval']);
  const again = localContext(ExampleGen, {}, { examples: path.join(tmp.dir, 'again') }, params);
  await ExampleGen.sharding!.merge(again, first.partialDirs);
  expect(await contents(path.join(tmp.dir, 'again'), ['train', 'eval'])).toEqual(expected);
  expect(await contents(first.partialDirs[0], ['train', 'eval'])).toEqual(before);
});

test('CSV files with different headers in two shards fail the merge naming both, as the unsharded run fails', async () => {
  write(path.join(tmp.dir, 'in', 'a.csv'), 'id,x\n1,10\n');
  write(path.join(tmp.dir, 'in', 'b.csv'), 'x,id\n20,2\n');
  const params = { input_base: path.join(tmp.dir, 'in') };
  await expect(runGen(tmp.dir, params, 'unsharded')).rejects.toThrow(/has header x,id, but .*a\.csv has id,x/);
  await expect(sharded(params, 2, 'headers')).rejects.toThrow(/shard 0's CSV files have columns id,x but shard 1's have x,id: every CSV file must have the same header/);
});

test('predefined input splits are sharded by file and merged into the same splits', async () => {
  for (const split of ['train', 'eval']) {
    for (const k of [1, 2]) write(path.join(tmp.dir, 'in', split, `${k}.csv`), `id,x\n${Array.from({ length: 20 }, (_, i) => `${k * 100 + i},${split}${i}`).join('\n')}\n`);
  }
  const params = {
    input_base: path.join(tmp.dir, 'in'),
    input_splits: [
      { name: 'train', pattern: 'train/*.csv' },
      { name: 'eval', pattern: 'eval/*.csv' },
    ],
  };
  await expectShardedEqualsUnsharded(params, ['train', 'eval'], [2, 3, 6]);
});

test("shards typing a column differently fail the merge, naming the column and the shards; the schema parameter settles it", async () => {
  write(path.join(tmp.dir, 'in', 'a.csv'), 'id,x\n1,10\n2,20\n');
  write(path.join(tmp.dir, 'in', 'b.csv'), 'id,x\n3,ten\n4,20\n');
  const params = { input_base: path.join(tmp.dir, 'in') };
  await expect(sharded(params, 2, 'mixed')).rejects.toThrow(/column "x" is BIGINT in shard 0's rows but VARCHAR in shard 1's .*set its type in the schema parameter/);
  await expectShardedEqualsUnsharded({ ...params, schema: { x: 'STRING' } }, ['train', 'eval'], [2]);
});

test('a column with values of different types in two shards fails the merge even when a third shard has no value in it', async () => {
  write(path.join(tmp.dir, 'in', 'a.csv'), 'id,x\n1,10\n2,20\n');
  write(path.join(tmp.dir, 'in', 'b.csv'), 'id,x\n3,\n4,\n');
  write(path.join(tmp.dir, 'in', 'c.csv'), 'id,x\n5,ten\n6,\n');
  const params = { input_base: path.join(tmp.dir, 'in') };
  await expect(sharded(params, 3, 'mixed')).rejects.toThrow(/column "x" is BIGINT in shard 0's rows but VARCHAR in shard 2's .*set its type in the schema parameter/);
  write(path.join(tmp.dir, 'in', 'c.csv'), 'id,x\n5,0.5\n6,\n');
  await expect(sharded(params, 3, 'mixed-float')).rejects.toThrow(/column "x" is BIGINT in shard 0's rows but DOUBLE in shard 2's /);
});

test('the merge leaves the shards\' states whole: a retried merge publishes the same Examples', async () => {
  write(path.join(tmp.dir, 'in', 'a.csv'), `id,x\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 3}`).join('\n')}\n`);
  const params = { input_base: path.join(tmp.dir, 'in') };
  const first = await sharded(params, 1, 'first');
  const again = localContext(ExampleGen, {}, { examples: path.join(tmp.dir, 'again') }, params);
  await ExampleGen.sharding!.merge(again, first.partialDirs);
  expect(again.outputs.examples.properties).toEqual(first.props);
  expect(await contents(path.join(tmp.dir, 'again'), ['train', 'eval'])).toEqual(await contents(first.out, ['train', 'eval']));
});

test('rows lost between a shard and the splits fail the merge', async () => {
  write(path.join(tmp.dir, 'in', 'a.csv'), `id\n${Array.from({ length: 40 }, (_, i) => i).join('\n')}\n`);
  const params = { input_base: path.join(tmp.dir, 'in') };
  const partial = path.join(tmp.dir, 'p0');
  fs.mkdirSync(partial);
  await ExampleGen.sharding!.partial(localContext(ExampleGen, {}, { examples: path.join(tmp.dir, 'unused') }, params), { index: 0, count: 1 }, partial);
  const record = JSON.parse(fs.readFileSync(path.join(partial, SHARD_FILE), 'utf8'));
  record.split_row_counts.train += 1;
  fs.writeFileSync(path.join(partial, SHARD_FILE), JSON.stringify(record));
  await expect(ExampleGen.sharding!.merge(localContext(ExampleGen, {}, { examples: path.join(tmp.dir, 'lost') }, params), [partial])).rejects.toThrow(
    /split train holds \d+ rows after the merge, but the shards wrote \d+/,
  );
});

test('a shard reading something else than its share fails the merge', async () => {
  for (const k of [1, 2]) write(path.join(tmp.dir, 'in', `${k}.csv`), `id\n${k}\n`);
  const params = { input_base: path.join(tmp.dir, 'in') };
  const first = await sharded(params, 2, 'first');
  const record = JSON.parse(fs.readFileSync(path.join(first.partialDirs[1], SHARD_FILE), 'utf8'));
  record.inputs = [];
  fs.writeFileSync(path.join(first.partialDirs[1], SHARD_FILE), JSON.stringify(record));
  const again = localContext(ExampleGen, {}, { examples: path.join(tmp.dir, 'again') }, params);
  await expect(ExampleGen.sharding!.merge(again, first.partialDirs)).rejects.toThrow(/shard 1 of 2 read nothing, but its share is .*2\.csv/);
});

test('mlp component shard plan, run ×N and merge, as an engine runs them, publish the unsharded Examples', async () => {
  for (const k of [1, 2]) write(path.join(tmp.dir, 'in', `${k}.csv`), `id,x\n${Array.from({ length: 30 }, (_, i) => `${k * 100 + i},${i / 2}`).join('\n')}\nbad,row,here\n`);
  const params = { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.1 };
  const unsharded = await runGen(tmp.dir, params, 'unsharded');
  const out = path.join(tmp.dir, 'cli-out');
  const input = JSON.stringify({
    inputs: { parameterValues: params },
    outputs: { artifacts: { examples: { artifacts: [{ uri: out }] } }, outputFile: path.join(tmp.dir, 'output.json') },
  });
  const common = ['ExampleGen', '--executor-input', input, '--shards-dir', path.join(tmp.dir, 'shards')];
  const plan = await runCli(['component', 'shard', 'plan', ...common, '--out', path.join(tmp.dir, 'items.json'), '--shards', '3']);
  expect([plan.code, plan.stderr]).toEqual([0, expect.anything()]);
  const items = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'items.json'), 'utf8')) as string[];
  expect(items).toEqual(['0/3', '1/3', '2/3']);
  for (const item of items) {
    const r = await runCli(['component', 'shard', 'run', ...common, '--shard', item]);
    expect([item, r.code, r.stderr]).toEqual([item, 0, expect.stringContaining(`shard ${item}: `)]);
  }
  const merge = await runCli(['component', 'shard', 'merge', ...common]);
  expect([merge.code, merge.stderr]).toEqual([0, expect.stringContaining('merged 3 shards: 60 rows read, 2 bad')]);
  const metadata = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'output.json'), 'utf8')).artifacts.examples.artifacts[0].metadata;
  for (const [key, value] of Object.entries(unsharded.props)) expect([key, metadata[key]]).toEqual([key, value]);
  expect(await contents(out, ['train', 'eval'])).toEqual(await contents(unsharded.out, ['train', 'eval']));
}, 120_000);

describe('in the local runner', () => {
  const t = useTempStore('mlp-eg-shards-run-');
  test('an ExampleGen node with shards: 3 publishes the unsharded Examples, one execution with shards=3', async () => {
    for (const k of [1, 2, 3, 4]) write(path.join(t.root, 'in', `${k}.csv`), `id,x\n${Array.from({ length: 25 }, (_, i) => `${k * 100 + i},v${i % 5}`).join('\n')}\n`);
    const params = { input_base: path.join(t.root, 'in') };
    const pipeline = new Pipeline({ name: 'sharded-example-gen' });
    pipeline.add('example-gen', ExampleGen, { parameters: params, shards: 3 });
    const summary = await runPipeline(pipeline, { root: t.root, store: t.store });
    expect(summary.state).toBe('COMPLETE');
    const out = summary.nodes.find((n) => n.id === 'example-gen')!.outputs.examples;
    const [execution] = await t.store.getExecutions({ type: 'ExampleGen' });
    expect(execution.customProperties?.shards).toBe(3);
    const unsharded = await runGen(t.root, params, 'unsharded');
    const [artifact] = await t.store.getArtifacts({ uri: out });
    for (const [key, value] of Object.entries(unsharded.props)) expect([key, artifact.customProperties?.[key] ?? artifact.properties?.[key]]).toEqual([key, value]);
    expect(await contents(out, ['train', 'eval'])).toEqual(await contents(unsharded.out, ['train', 'eval']));
  }, 120_000);
});

test('auto: one shard per 256 MiB of input, at most one per file for CSV', async () => {
  // Sparse files: their listed sizes count, nothing is read.
  const sized = (file: string, mib: number) => {
    write(file, '');
    fs.truncateSync(file, mib * 2 ** 20);
  };
  sized(path.join(tmp.dir, 'pq', 'a.parquet'), 600);
  expect(await exampleGenAutoShards(ExampleGenParameters.parse({ input_base: path.join(tmp.dir, 'pq') }))).toBe(3);
  sized(path.join(tmp.dir, 'csv', 'a.csv'), 600);
  sized(path.join(tmp.dir, 'csv', 'b.csv'), 600);
  expect(await exampleGenAutoShards(ExampleGenParameters.parse({ input_base: path.join(tmp.dir, 'csv') }))).toBe(2);
  write(path.join(tmp.dir, 'small', 'a.csv'), 'id\n1\n');
  expect(await exampleGenAutoShards(ExampleGenParameters.parse({ input_base: path.join(tmp.dir, 'small') }))).toBe(1);
});
