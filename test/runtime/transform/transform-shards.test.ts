// Transform sharded (issue 20 §3): partial ×N then merge writes the same transform graph, byte for byte, as the
// unsharded executor (N = 1, 2, 3, 7), with the same properties and materialized examples — on the real
// penguins examples and on generated examples spread over several part files with missing values, NaN, a
// categorical column whose counts tie, integer, boolean, timestamp and DOUBLE columns; the shards' example
// counts must add up to the split's; a shard that left no accumulator is named; auto picks one shard per 5M rows.

import * as fs from 'fs';
import * as path from 'path';
import { ACCUMULATOR_FILE, Transform } from '../../../runtime/components/transform';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { TRANSFORM_GRAPH_FILE } from '../../../runtime/transform/graph';
import { buildPenguinsUpstream, fresh, outputRef, PENGUINS_SPEC, publish, run, sqlRows, useTempDir, type ArtifactRef } from '../ml/helpers';
import { filesBelow, localContext, runShardPhases } from '../ml/shard-phases';

const tmp = useTempDir('mlp-transform-shards-');

/** Examples with train split over three part files (2000, 1000, 2000 rows) and eval (1000 rows). */
async function generatedExamples(): Promise<ArtifactRef> {
  const src = fresh(tmp.dir, 'generated-src');
  const conn = await duckdb();
  const rows = (from: number, to: number) => `SELECT
      -- four tokens with equal counts (ties ordered reverse-lexicographically), a rare one, missing and empty values
      CASE WHEN i % 17 = 0 THEN NULL WHEN i % 23 = 0 THEN '' WHEN i % 101 = 0 THEN 'rare' ELSE ['ant', 'bee', 'cat', 'dog'][1 + i % 4] END AS cat,
      CASE WHEN i % 13 = 0 THEN NULL WHEN i % 29 = 0 THEN 'NaN'::DOUBLE ELSE (hash(i) % 100000) / 7.0 - 3000 + (i % 3) * 1e-9 END AS num,
      CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919) % 1000 - 250 END::BIGINT AS small_int,
      i % 3 = 0 AS flag,
      TIMESTAMP '2020-01-01' + to_seconds(((i * 104729) % 86400000)::BIGINT) AS ts,
      round(((i * 31) % 200) / 8.0, 1) AS price
    FROM range(${from}, ${to}) t(i)`;
  for (const [split, part, from, to] of [['train', 0, 0, 2000], ['train', 1, 2000, 3000], ['train', 2, 3000, 5000], ['eval', 0, 5000, 6000]] as const) {
    const dir = path.join(src, `Split-${split}`);
    fs.mkdirSync(dir, { recursive: true });
    await conn.run(`COPY (${rows(from, to)}) TO ${sqlString(path.join(dir, `part-0000${part}.parquet`))} (FORMAT parquet, ROW_GROUP_SIZE 700)`);
  }
  conn.closeSync();
  return publish(src, fresh(tmp.dir, 'generated'), { split_names: '["train","eval"]', span: 4, version: 1 });
}

const GENERATED_SPEC = [
  { kind: 'vocabulary', feature: 'cat', num_oov_buckets: 1 },
  { kind: 'vocabulary', feature: 'cat', output: 'cat_top2', top_k: 2 },
  { kind: 'vocabulary', feature: 'price', output: 'price_vocab', frequency_threshold: 3 },
  { kind: 'z_score', feature: 'num' },
  { kind: 'min_max', feature: 'small_int' },
  { kind: 'bucketize', feature: 'num', num_buckets: 7, output: 'num_bucket' },
  { kind: 'bucketize', feature: 'ts', num_buckets: 4 },
  { kind: 'bucketize', feature: 'price', num_buckets: 5, output: 'price_bucket' },
  { kind: 'identity', feature: 'flag' },
  { kind: 'z_score', feature: 'ts', output: 'ts_z' },
  { kind: 'hash', feature: 'cat', hash_buckets: 5 },
  { kind: 'cross', features: ['cat', 'flag'], hash_buckets: 9 },
];

const PENGUINS_SHARDED_SPEC = [
  ...PENGUINS_SPEC,
  { kind: 'bucketize', feature: 'Flipper Length (mm)', num_buckets: 4, output: 'flipper' },
  { kind: 'vocabulary', feature: 'Species', num_oov_buckets: 0, output: 'label' },
];

const materializedRows = async (dir: string) =>
  Object.fromEntries(await Promise.all(['train', 'eval'].map(async (s) => [s, await sqlRows(`SELECT * FROM read_parquet(${sqlString(path.join(dir, `Split-${s}`, '*.parquet'))})`)] as const)));

test.each([
  ['generated examples', generatedExamples, GENERATED_SPEC, ['cat', 'num']],
  ['penguins', async () => (await buildPenguinsUpstream(fresh(tmp.dir, 'penguins'))).examples, PENGUINS_SHARDED_SPEC, ['Species']],
])('%s: partial ×N then merge writes the unsharded graph, properties and materialized examples', async (_, examplesOf, spec, keep) => {
  const examples = await examplesOf();
  const parameters = { spec, materialize: true, keep_columns: keep };
  const unsharded = await run(Transform, { examples }, { transform_graph: fresh(tmp.dir, 'graph'), transformed_examples: fresh(tmp.dir, 'transformed') }, parameters);
  const graph = outputRef(unsharded, 'transform_graph');
  const transformed = outputRef(unsharded, 'transformed_examples');
  const graphBytes = fs.readFileSync(path.join(graph.uri, TRANSFORM_GRAPH_FILE), 'utf8');
  const expectedRows = await materializedRows(transformed.uri);
  const withoutFingerprint = ({ mlp_fingerprint: _, ...p }: Record<string, unknown>) => p;
  for (const shards of [1, 2, 3, 7]) {
    const out = { transform_graph: fresh(tmp.dir, `graph-${shards}`), transformed_examples: fresh(tmp.dir, `transformed-${shards}`) };
    const { outputs, partialDirs } = await runShardPhases(Transform, tmp.dir, { examples }, out, parameters, shards);
    expect(fs.readFileSync(path.join(out.transform_graph, TRANSFORM_GRAPH_FILE), 'utf8')).toBe(graphBytes);
    expect(outputs.transform_graph.properties).toEqual(withoutFingerprint(graph.properties));
    expect(outputs.transformed_examples.properties).toEqual(withoutFingerprint(transformed.properties));
    expect(filesBelow(out.transformed_examples)).toEqual(filesBelow(transformed.uri).filter((f) => !f.startsWith('_MLP')));
    expect(await materializedRows(out.transformed_examples)).toEqual(expectedRows);
    // Each shard analyzed its own part: the counts add up to the split's.
    const counts = partialDirs.map((d) => JSON.parse(fs.readFileSync(path.join(d, ACCUMULATOR_FILE), 'utf8')).examples as number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(graph.properties.analyzed_examples);
    expect(counts.every((c) => c > 0)).toBe(true);
  }
  // The graph does not say how it was computed (no shard count).
  expect(graphBytes).not.toMatch(/shard/i);
}, 300_000);

test('the merge refuses shards whose example counts do not add up, and names a shard that left nothing', async () => {
  const examples = await generatedExamples();
  const parameters = { spec: GENERATED_SPEC };
  const out = () => ({ transform_graph: fresh(tmp.dir, 'g'), transformed_examples: fresh(tmp.dir, 't') });
  const { partialDirs } = await runShardPhases(Transform, tmp.dir, { examples }, out(), parameters, 3);
  const file = path.join(partialDirs[1], ACCUMULATOR_FILE);
  const acc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const [a, b, c] = partialDirs.map((d) => JSON.parse(fs.readFileSync(path.join(d, ACCUMULATOR_FILE), 'utf8')).examples as number);
  fs.writeFileSync(file, JSON.stringify({ ...acc, examples: b - 1 }));
  const outputs = out();
  await expect(Transform.sharding!.merge(localContext(Transform, { examples }, outputs, parameters), partialDirs)).rejects.toThrow(
    `Transform merge: the 3 shards analyzed ${a + b + c - 1} examples (${a} + ${b - 1} + ${c}) but split train has 5000`,
  );
  expect(fs.readdirSync(outputs.transform_graph)).toEqual([]);
  fs.rmSync(file);
  await expect(Transform.sharding!.merge(localContext(Transform, { examples }, out(), parameters), partialDirs)).rejects.toThrow(`Transform merge: shard 1 of 3 left no accumulator (${file} is missing)`);
}, 120_000);

test('auto: one shard per 5M rows of the analyzed split, at least one', async () => {
  const small = await generatedExamples();
  const ctx = (examples: ArtifactRef) => localContext(Transform, { examples }, { transform_graph: fresh(tmp.dir, 'g'), transformed_examples: fresh(tmp.dir, 't') }, { spec: GENERATED_SPEC });
  expect(await Transform.sharding!.autoShards(ctx(small))).toBe(1);
  const src = fresh(tmp.dir, 'big');
  fs.mkdirSync(path.join(src, 'Split-train'), { recursive: true });
  await (await duckdb()).run(`COPY (SELECT range AS x FROM range(5000001)) TO ${sqlString(path.join(src, 'Split-train', 'part-00000.parquet'))} (FORMAT parquet)`);
  expect(await Transform.sharding!.autoShards(ctx({ uri: src, properties: { split_names: '["train"]' } }))).toBe(2);
}, 60_000);

test('more shards than rows: the empty shards add nothing and the graph is the unsharded one', async () => {
  const src = fresh(tmp.dir, 'tiny-src');
  fs.mkdirSync(path.join(src, 'Split-train'), { recursive: true });
  await (await duckdb()).run(`COPY (SELECT * FROM (VALUES ('a', 1.5), ('b', NULL), ('a', 4.0)) t(s, x)) TO ${sqlString(path.join(src, 'Split-train', 'part-00000.parquet'))} (FORMAT parquet)`);
  const examples = await publish(src, fresh(tmp.dir, 'tiny'), { split_names: '["train"]' });
  const parameters = { spec: [{ kind: 'vocabulary', feature: 's' }, { kind: 'z_score', feature: 'x' }, { kind: 'bucketize', feature: 'x', num_buckets: 3 }] };
  const graph = outputRef(await run(Transform, { examples }, { transform_graph: fresh(tmp.dir, 'g'), transformed_examples: fresh(tmp.dir, 't') }, parameters), 'transform_graph');
  const out = { transform_graph: fresh(tmp.dir, 'g'), transformed_examples: fresh(tmp.dir, 't') };
  const { partialDirs } = await runShardPhases(Transform, tmp.dir, { examples }, out, parameters, 7);
  expect(partialDirs.map((d) => JSON.parse(fs.readFileSync(path.join(d, ACCUMULATOR_FILE), 'utf8')).examples)).toEqual([0, 0, 1, 0, 1, 0, 1]);
  expect(fs.readFileSync(path.join(out.transform_graph, TRANSFORM_GRAPH_FILE), 'utf8')).toBe(fs.readFileSync(path.join(graph.uri, TRANSFORM_GRAPH_FILE), 'utf8'));
});
