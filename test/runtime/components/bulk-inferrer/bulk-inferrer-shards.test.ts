// BulkInferrer sharded (issue 20 §3): partial ×N then merge writes the same predictions file as the unsharded
// executor — the same rows in the same order with the same values, for N = 1, 2, 3, 7 — with the same
// properties; an empty shard (more shards than rows) writes an empty part; shard row counts that do not add up
// to the split's are an error naming the numbers; an unblessed model is skipped exactly as unsharded, the shards
// doing nothing; auto picks one shard per million rows.

import * as fs from 'fs';
import * as path from 'path';
import { BulkInferrer, PREDICTIONS_FILE } from '../../../../runtime/components/bulk-inferrer';
import { duckdb, sqlString } from '../../../../runtime/data/duckdb';
import { blessingArtifact, buildPenguinsUpstream, fresh, outputRef, QUICK_HP, run, sqlRows, train, useTempDir, type ArtifactRef, type Upstream } from '../../ml/helpers';
import { localContext, runShardPhases } from '../../ml/shard-phases';

const tmp = useTempDir('mlp-bulk-inferrer-shards-');

let up: Upstream;
let model: ArtifactRef;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
  model = (await train(tmp.dir, up, { hyperparameters: { ...QUICK_HP, epochs: 2 } })).model;
}, 120_000);

const blessing = (blessed: boolean) => blessingArtifact(tmp.dir, blessed);

const predictionsOf = (dir: string, split: string) => sqlRows(`SELECT * FROM read_parquet(${sqlString(path.join(dir, `Split-${split}`, PREDICTIONS_FILE))})`);

test('partial ×N then merge writes the unsharded predictions: same rows, order and values, same properties', async () => {
  const inputs = { examples: up.examples, model, model_blessing: await blessing(true) };
  for (const split of ['train', 'eval']) {
    const unsharded = outputRef(await run(BulkInferrer, inputs, { inference_result: fresh(tmp.dir, 'inference') }, { split }), 'inference_result');
    const expected = await predictionsOf(unsharded.uri, split);
    expect(expected.length).toBe(JSON.parse(String(up.examples.properties.split_row_counts))[split]);
    const { mlp_fingerprint: _, ...properties } = unsharded.properties;
    for (const shards of [1, 2, 3, 7]) {
      const dir = fresh(tmp.dir, `sharded-${shards}`);
      const { outputs, partialDirs } = await runShardPhases(BulkInferrer, tmp.dir, inputs, { inference_result: dir }, { split }, shards);
      expect(outputs.inference_result.properties).toEqual(properties);
      expect(await predictionsOf(dir, split)).toEqual(expected);
      // Every shard predicted its own contiguous part.
      const parts = await Promise.all(partialDirs.map((p) => sqlRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(p, PREDICTIONS_FILE))})`)));
      expect(parts.map(([r]) => Number(r.n)).every((n) => n > 0)).toBe(true);
    }
  }
}, 300_000);

test('an empty shard writes an empty part with the columns; shard counts that do not add up are refused', async () => {
  const inputs = { examples: up.examples, model };
  const evalRows = JSON.parse(String(up.examples.properties.split_row_counts)).eval as number;
  const empty = fresh(tmp.dir, 'empty-shard');
  fs.mkdirSync(empty);
  // Shard 0 of 256 over ~100 rows selects none.
  await BulkInferrer.sharding!.partial(localContext(BulkInferrer, inputs, { inference_result: fresh(tmp.dir, 'unused') }, {}), { index: 0, count: 256 }, empty);
  expect(JSON.parse(fs.readFileSync(path.join(empty, 'shard.json'), 'utf8'))).toEqual({ rows: 0 });
  const columns = await sqlRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path.join(empty, PREDICTIONS_FILE))})`);
  expect(columns.map((c) => c.column_name)).toContain('predicted_class');

  const { partialDirs } = await runShardPhases(BulkInferrer, tmp.dir, inputs, { inference_result: fresh(tmp.dir, 'ok') }, {}, 2);
  fs.writeFileSync(path.join(partialDirs[1], 'shard.json'), JSON.stringify({ rows: 1 }));
  const first = JSON.parse(fs.readFileSync(path.join(partialDirs[0], 'shard.json'), 'utf8')).rows as number;
  const out = fresh(tmp.dir, 'bad');
  await expect(BulkInferrer.sharding!.merge(localContext(BulkInferrer, inputs, { inference_result: out }, {}), partialDirs)).rejects.toThrow(
    `BulkInferrer merge: the 2 shards predicted ${first + 1} rows (${first} + 1) but split eval has ${evalRows}`,
  );
  expect(fs.readdirSync(out)).toEqual([]);
  fs.rmSync(path.join(partialDirs[1], 'shard.json'));
  await expect(BulkInferrer.sharding!.merge(localContext(BulkInferrer, inputs, { inference_result: out }, {}), partialDirs)).rejects.toThrow(/shard 1 of 2 left no predictions/);
}, 120_000);

test('an unblessed model: the shards do nothing and the merge records the skip exactly as unsharded', async () => {
  const inputs = { examples: up.examples, model, model_blessing: await blessing(false) };
  const unsharded = outputRef(await run(BulkInferrer, inputs, { inference_result: fresh(tmp.dir, 'inference') }, {}), 'inference_result');
  const dir = fresh(tmp.dir, 'unblessed');
  const { outputs, partialDirs, log } = await runShardPhases(BulkInferrer, tmp.dir, inputs, { inference_result: dir }, {}, 3);
  const { mlp_fingerprint: _, ...properties } = unsharded.properties;
  expect(outputs.inference_result.properties).toEqual(properties);
  expect(properties).toEqual({ inferred: 0 });
  for (const p of partialDirs) expect(fs.readdirSync(p)).toEqual([]);
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(log).toEqual([`model ${model.uri} is not blessed: no inference`]);
});

test('auto: one shard per million rows of the split, at least one', async () => {
  const ctx = localContext(BulkInferrer, { examples: up.examples, model }, { inference_result: fresh(tmp.dir, 'unused') }, {});
  expect(await BulkInferrer.sharding!.autoShards(ctx)).toBe(1);
  // 2,000,001 rows (the Parquet footers are read, not the rows): three shards.
  const big = fresh(tmp.dir, 'big-examples');
  fs.mkdirSync(path.join(big, 'Split-eval'), { recursive: true });
  await (await duckdb()).run(`COPY (SELECT range AS x FROM range(2000001)) TO ${sqlString(path.join(big, 'Split-eval', 'part-00000.parquet'))} (FORMAT parquet)`);
  const bigCtx = localContext(BulkInferrer, { examples: { uri: big, properties: { split_names: '["eval"]' } }, model }, { inference_result: fresh(tmp.dir, 'unused') }, {});
  expect(await BulkInferrer.sharding!.autoShards(bigCtx)).toBe(3);
});
