// StatisticsGen as a sharded step (plan → run ×N → merge, runtime/runner/shard-steps.ts) against the unsharded
// executor on the same Examples: generated part files with missing values, an infinity (its range is not in the
// Parquet footers, so the merge rescans it), a list column, a date, a high-cardinality string, weights, and a
// split with fewer rows than shards. Exact fields are equal, moments within float rounding, the sketch-based
// fields of the high-cardinality column within the value counts' bounds; the partial state's JSON round trip
// keeps every sketch.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StatisticsGen } from '../../../../runtime/components/statistics-gen';
import type { AnyComponent } from '../../../../runtime/core/component';
import type { ExecutorInput } from '../../../../runtime/core/executor-io';
import { mergeShards, planShards, readShardPlan, runShard, shardDir } from '../../../../runtime/runner/shard-steps';
import { parseShardItem } from '../../../../runtime/core/sharding';
import { fromTaggedJson, toTaggedJson } from '../../../../runtime/tfdv/accumulator-json';
import { shardFiles, accumulateShards } from '../../../../runtime/tfdv/generate-statistics';
import type { DatasetFeatureStatisticsList } from '../../../../runtime/tfdv/statistics-proto';
import { joinUri, storageFor } from '../../../../runtime/storage';
import { expectStatisticsClose, run, writeExamples, type ArtifactRef } from '../../tfdv/helpers';
import { useGcsEmulator } from '../../../support/gcs-emulator';

const component = StatisticsGen as unknown as AnyComponent;
let root: string;
let examples: ArtifactRef;

/** Rows lo..hi of the generated data: deterministic, with NULLs, an infinity, a list, a date and weights. */
const rows = (lo: number, hi: number) => `
  SELECT i AS id,
    CASE WHEN i % 7 = 0 THEN NULL WHEN i = 4321 THEN 'inf'::DOUBLE ELSE (i % 997) / 10.0 - 20 END AS x,
    CASE WHEN i % 11 = 0 THEN NULL ELSE exp(((i * 7919) % 1000) / 100.0) END AS y,
    CASE WHEN i % 13 = 0 THEN NULL ELSE 'c' || (i % 8) END AS cat,
    CASE WHEN i % 10 = 0 THEN 'hot' || ((i // 10) % 5) ELSE 'v' || ((i * 31) % 3000) END AS hc,
    CASE WHEN i % 5 = 0 THEN NULL ELSE [i % 3, i % 4, i % 9][1:(i % 3) + 1] END AS tags,
    DATE '2024-01-01' + CAST(i % 400 AS INTEGER) AS d,
    1 + i % 3 AS w
  FROM range(${lo}, ${hi}) t(i)`;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'statistics-sharded-'));
  examples = await writeExamples(path.join(root, 'examples'), {
    train: [rows(0, 1500), rows(1500, 1600), rows(1600, 4400), rows(4400, 6000)],
    eval: rows(6000, 6700),
    tiny: rows(6700, 6705),
  }, 2);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function input(outDir: string, parameters: Record<string, unknown>): ExecutorInput {
  return {
    inputs: { parameterValues: parameters, artifacts: { examples: { artifacts: [{ uri: examples.uri, metadata: examples.properties }] } } },
    outputs: { artifacts: { statistics: { artifacts: [{ uri: outDir }] } } },
  };
}

async function sharded(name: string, shards: number | 'auto', parameters: Record<string, unknown>, base = root) {
  const shardsDir = joinUri(base, `${name}-shards`);
  const out = joinUri(base, name);
  const items = await planShards(component, input(out, parameters), { shardsDir, shards });
  // Shards run in any order, as parallel pods would.
  for (const item of [...items].reverse()) await runShard(component, input(out, parameters), { shardsDir, shard: parseShardItem(item, 'item'), launch: { log: () => undefined } });
  const output = await mergeShards(component, input(out, parameters), { shardsDir, launch: { log: () => undefined } });
  return { items, out, output, shardsDir };
}

function stats(dir: string, split: string): DatasetFeatureStatisticsList {
  return JSON.parse(fs.readFileSync(path.join(dir, `Split-${split}`, 'FeatureStats.json'), 'utf8')) as DatasetFeatureStatisticsList;
}

describe('StatisticsGen sharded', () => {
  it.each([
    [3, {}],
    [7, { weight_feature: 'w' }],
  ])('%i shards give the unsharded statistics (params %j)', async (count, parameters) => {
    const unsharded = path.join(root, `unsharded-${count}`);
    const plain = await run(StatisticsGen, { examples }, { statistics: unsharded }, parameters);
    const { items, out, output } = await sharded(`sharded-${count}`, count, parameters);
    expect(items).toEqual(Array.from({ length: count }, (_, i) => `${i}/${count}`));
    const { mlp_fingerprint: _a, ...props } = output.artifacts!.statistics.artifacts[0].metadata!;
    const { mlp_fingerprint: _b, ...plainProps } = plain.artifacts!.statistics.artifacts[0].metadata!;
    expect(props).toEqual(plainProps);
    for (const split of ['train', 'eval', 'tiny']) {
      const want = stats(unsharded, split).datasets[0];
      const got = stats(out, split).datasets[0];
      expect(got.numExamples).toBe(want.numExamples);
      expect(got.features.map((f) => f.name)).toEqual(want.features.map((f) => f.name));
      for (const f of want.features) {
        const g = got.features.find((x) => x.name === f.name)!;
        if (f.name !== 'hc') {
          expectStatisticsClose(g, f, `${split}.${f.name}`);
          continue;
        }
        // 3000 distinct values: each shard keeps its 1000 most frequent (value-counts.ts), so only what the bounds
        // promise is equal: the distinct count (exact below the sketch's K = 4096), lengths, the heavy hitters.
        const [gs, fs_] = [g.stringStats!, f.stringStats!];
        expect(gs.unique).toBe(fs_.unique);
        expect(gs.avgLength).toBeCloseTo(fs_.avgLength!, 9);
        expectStatisticsClose(g.stringStats!.commonStats, f.stringStats!.commonStats, `${split}.hc.commonStats`);
        if (split !== 'tiny') expect(gs.topValues!.slice(0, 5)).toEqual(fs_.topValues!.slice(0, 5));
      }
    }
  });

  it('the partial state round-trips through JSON with every sketch intact', async () => {
    const files = fs.readdirSync(path.join(examples.uri, 'Split-train')).filter((f) => f.endsWith('.parquet')).map((f) => path.join(examples.uri, 'Split-train', f));
    const acc = await accumulateShards(shardFiles(files, 2), { weightFeature: 'w' });
    const back = fromTaggedJson<typeof acc>(toTaggedJson(acc));
    expect(back).toEqual(acc);
    const x = back.features.get('x')!.numeric!;
    expect(x.max).toBe(Infinity);
    expect(x.posInf).toBe(1);
    expect(back.features.get('hc')!.string!.distinct[0]).toEqual(expect.any(BigInt));
    expect(back.features.get('y')!.numeric!.sketch.size).toBeGreaterThan(10);
    // An empty feature keeps its ±Infinity bounds (no rows of a shard with fewer rows than shards).
    expect(fromTaggedJson(toTaggedJson({ a: -Infinity, b: NaN, c: new Map([[1, 2n]]) }))).toEqual({ a: -Infinity, b: NaN, c: new Map([[1, 2n]]) });
  });

  it('auto plans one shard for a small input; a missing shard or a shard on another grid fails the merge naming it', async () => {
    const { items } = await sharded('auto', 'auto', {});
    expect(items).toEqual(['0/1']);
    const shardsDir = path.join(root, 'missing-shards');
    const out = path.join(root, 'missing');
    const items3 = await planShards(component, input(out, {}), { shardsDir, shards: 3 });
    for (const item of items3.filter((i) => i !== '1/3')) await runShard(component, input(out, {}), { shardsDir, shard: parseShardItem(item, 'item'), launch: { log: () => undefined } });
    const plan = await readShardPlan(shardsDir, 'StatisticsGen');
    await expect(mergeShards(component, input(out, {}), { shardsDir, launch: { log: () => undefined } })).rejects.toThrow(`StatisticsGen: shard 1/3 has no partial state at ${shardDir(shardsDir, plan, 1)}`);
    expect(fs.existsSync(out)).toBe(false);
    // Shards whose histograms were taken on different grids cannot be merged as one pass: the merge refuses.
    await runShard(component, input(out, {}), { shardsDir, shard: { index: 1, count: 3 }, launch: { log: () => undefined } });
    const partialFile = path.join(shardDir(shardsDir, plan, 2), 'statistics-partial.json');
    const partial = fromTaggedJson<{ splits: Record<string, { ranges: Map<string, { min: number; max: number }> }> }>(fs.readFileSync(partialFile, 'utf8'));
    partial.splits.train.ranges.set('y', { min: 0, max: 1 });
    fs.writeFileSync(partialFile, toTaggedJson(partial));
    await expect(mergeShards(component, input(out, {}), { shardsDir, launch: { log: () => undefined } })).rejects.toThrow('StatisticsGen merge, split train: shard 2/3 took its histograms on other grid ranges than shard 0/3');
    // A shard of another count does not belong to the plan.
    await expect(runShard(component, input(out, {}), { shardsDir, shard: { index: 0, count: 2 } })).rejects.toThrow('shard 0/2 does not belong to the plan');
  });
});

describe('StatisticsGen sharded with gs:// shard states and output (GCS emulator)', () => {
  useGcsEmulator();

  it('stores each shard under <shards-dir>/<plan id>/<i>/ in Cloud Storage and merges them into the unsharded statistics', async () => {
    const base = 'gs://mlp-shards-test/root';
    const unsharded = path.join(root, 'unsharded-gcs');
    await run(StatisticsGen, { examples }, { statistics: unsharded });
    const { out, shardsDir } = await sharded('gcs', 2, {}, base);
    const { id } = await readShardPlan(shardsDir, 'StatisticsGen');
    const listed = (await storageFor(shardsDir).list(shardsDir)).map((e) => e.uri.slice(shardsDir.length + 1)).sort();
    expect(listed).toEqual([`${id}/0/_MLP_COMMITTED.json`, `${id}/0/statistics-partial.json`, `${id}/1/_MLP_COMMITTED.json`, `${id}/1/statistics-partial.json`, 'plan.json']);
    const got = JSON.parse((await storageFor(out).readFile(joinUri(out, 'Split-eval', 'FeatureStats.json'))).toString('utf8'));
    expectStatisticsClose(got, stats(unsharded, 'eval'), 'eval');
  });
});
