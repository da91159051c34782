// Sharded nodes (runtime/core/sharding.ts): the DSL refuses shards where they cannot apply; the local runner runs
// a node with `shards: 3` as plan, three shard workers and a merge, recording ONE execution with shards=3 and the
// unsharded statistics; the shard count is not part of the cache key; a failing shard fails the node with its
// message and stops the others; the CLI phases (`mlp component shard plan|run|merge`) run as cloud steps under a
// SQLite metadata store, and a cached plan plans no shards.

import * as fs from 'fs';
import * as path from 'path';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, StatisticsGen } from '../../../runtime/components';
import { ExecutionState } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { EchoShards, failingPipeline, statisticsPipeline } from '../../fixtures/pipelines/sharded-pipeline';
import type { AnyComponent } from '../../../runtime/core/component';
import { parseShardItem } from '../../../runtime/core/sharding';
import { mergeShards, planShards, runShard } from '../../../runtime/runner/shard-steps';
import { spawnShardedExecutor } from '../../../runtime/runner/local-shards';
import { runCli } from '../../support/cli';
import { useTempStore } from '../../support/temp-store';
import { expectStatisticsClose } from '../tfdv/helpers';

const FIXTURE = path.join(__dirname, '../../fixtures/pipelines/sharded-pipeline.ts');
const t = useTempStore('mlp-sharded-');

const statsFile = (uri: string, split: string) => JSON.parse(fs.readFileSync(path.join(uri, `Split-${split}`, 'FeatureStats.json'), 'utf8'));

describe('the shards node option', () => {
  test('a component without sharding is refused naming the node and component; bad counts are refused', () => {
    const p = new Pipeline({ name: 'dsl' });
    expect(() => p.add('numbers', ProduceNumbers, { parameters: { count: 3 }, shards: 2 })).toThrow(/node numbers: component ProduceNumbers cannot be sharded/);
    const numbers = p.add('n2', ProduceNumbers, { parameters: { count: 3 } });
    for (const [i, bad] of [0, 1.5, 257, 'many'].entries()) {
      expect(() => p.add(`s${i}`, StatisticsGen, { inputs: { examples: numbers.outputs.numbers }, shards: bad as never })).toThrow(`node s${i}: shards must be a whole number from 1 to 256 or "auto", got ${JSON.stringify(bad)}`);
    }
  });
});

describe('sharded nodes in the local runner', () => {
  test('shards: 3 records one execution with shards=3 and the unsharded statistics; the shard count is not in the cache key', async () => {
    const plain = await runPipeline(statisticsPipeline(), { root: t.root, store: t.store });
    expect(plain.state).toBe('COMPLETE');
    // Same node, now sharded: same cache key, so the unsharded run's statistics are reused.
    const reused = await runPipeline(statisticsPipeline(3), { root: t.root, store: t.store });
    expect(reused.nodes.find((n) => n.id === 'statistics-gen')!.state).toBe('cached');

    const sharded = await runPipeline(statisticsPipeline(3), { root: t.root, store: t.store, noCache: true });
    expect(sharded.state).toBe('COMPLETE');
    const node = sharded.nodes.find((n) => n.id === 'statistics-gen')!;
    expect(node.state).toBe('executed');
    const executions = (await t.store.getExecutions({ type: 'StatisticsGen' })).filter((e) => e.customProperties?.run_id === sharded.runId);
    expect(executions).toHaveLength(1);
    expect(executions[0].lastKnownState).toBe(ExecutionState.COMPLETE);
    expect(executions[0].customProperties?.shards).toBe(3);
    const plainUri = plain.nodes.find((n) => n.id === 'statistics-gen')!.outputs.statistics;
    for (const split of ['train', 'eval']) expectStatisticsClose(statsFile(node.outputs.statistics, split), statsFile(plainUri, split), split);

    const log = fs.readFileSync(node.logFile!, 'utf8');
    for (const i of [0, 1, 2]) expect(log).toMatch(new RegExp(`^\\[shard ${i}/3\\] shard ${i}/3, split train: \\d+ rows$`, 'm'));
    expect(log).toMatch(/^merging 3 shards$/m);
    // The shard states are gone once the node ends.
    expect(fs.existsSync(path.join(sharded.logDir, 'statistics-gen', 'shards'))).toBe(false);
  });

  test('a failing shard fails the node with its message and stops the shards still running, which leave nothing behind', async () => {
    const release = path.join(t.root, 'never-created');
    // The workers' TMPDIR, so what the stopped shards left in it shows.
    const tmp = path.join(t.root, 'tmp');
    fs.mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let summary: Awaited<ReturnType<typeof runPipeline>>;
    try {
      summary = await runPipeline(failingPipeline(release), { root: t.root, store: t.store, modules: [FIXTURE] });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(summary.state).toBe('FAILED');
    const node = summary.nodes.find((n) => n.id === 'fails')!;
    expect(node.error).toBe('shard 1/3: shard one broke');
    const [execution] = await t.store.getExecutions({ type: 'test.ShardOneFails' });
    expect(execution.lastKnownState).toBe(ExecutionState.FAILED);
    expect(execution.customProperties?.shards).toBe(3);
    // Shards 0 and 2 were stopped (SIGTERM) mid-partial: neither their work folders nor their output scratch folders remain.
    expect(fs.readdirSync(tmp)).toEqual([]);
    const [event] = await t.store.getEvents({ executionIds: [execution.id!] });
    const [output] = await t.store.getArtifacts({ ids: [event.artifactId] });
    expect(fs.readdirSync(path.dirname(output.uri)).filter((f) => f.includes('.scratch-'))).toEqual([]);
    expect(fs.existsSync(path.join(summary.logDir, 'fails', 'shards'))).toBe(false);
  });
});

describe('the local sharded worker', () => {
  test('a shards folder that cannot be made fails the attempt with a one-line error (the result never rejects)', async () => {
    const file = path.join(t.root, 'a-file');
    fs.writeFileSync(file, '');
    const inputFile = path.join(t.root, 'executor-input.json');
    fs.writeFileSync(inputFile, JSON.stringify({ inputs: { parameterValues: { source: file } }, outputs: { artifacts: { out: { artifacts: [{ uri: path.join(t.root, 'out') }] } } } }));
    const shardsDir = path.join(file, 'shards');
    const job = { component: EchoShards.name, modules: [FIXTURE], executorInputPath: inputFile, step: { pipeline: 'p', node: 'n' } };
    const r = await spawnShardedExecutor(job, { shards: 2, shardsDir }, path.join(t.root, 'n.log')).result;
    expect(r.ok).toBe(false);
    // The system's one-line reason after the folder (its wording is Node's).
    expect(r.error!.startsWith(`shards folder ${shardsDir}: ENOTDIR: `)).toBe(true);
    expect(r.error).not.toContain('\n');
  });
});

describe('shard states belong to one plan', () => {
  test('a shard folder an earlier plan of the same shards folder left is never merged: the merge names the shard of this plan that did not run', async () => {
    const source = path.join(t.root, 'source.txt');
    const shardsDir = path.join(t.root, 'replanned-shards');
    const out = path.join(t.root, 'replanned-out');
    const input = { inputs: { parameterValues: { source } }, outputs: { artifacts: { out: { artifacts: [{ uri: out }] } } } };
    const component = EchoShards as unknown as AnyComponent;
    const launch = { log: () => undefined };
    fs.writeFileSync(source, 'old');
    for (const item of await planShards(component, input, { shardsDir, shards: 2 })) await runShard(component, input, { shardsDir, shard: parseShardItem(item, 'item'), launch });
    // The engine plans again (the plan step re-ran; its input changed) and only shard 0 of the new plan has run.
    fs.writeFileSync(source, 'new');
    expect(await planShards(component, input, { shardsDir, shards: 2 })).toEqual(['0/2', '1/2']);
    await runShard(component, input, { shardsDir, shard: { index: 0, count: 2 }, launch });
    await expect(mergeShards(component, input, { shardsDir, launch })).rejects.toThrow(/^test\.EchoShards: shard 1\/2 has no partial state at \S+ \(it did not run or did not finish\)$/);
    expect(fs.existsSync(path.join(out, 'merged.txt'))).toBe(false);
    // Once it has run, the merge reads this plan's shard states only.
    await runShard(component, input, { shardsDir, shard: { index: 1, count: 2 }, launch });
    await mergeShards(component, input, { shardsDir, launch });
    expect(fs.readFileSync(path.join(out, 'merged.txt'), 'utf8')).toBe('0:new\n1:new\n');
  });

  test("a count autoShards gives outside 1…256 is refused naming the component, and nothing is planned", async () => {
    const component = EchoShards as unknown as AnyComponent;
    for (const auto of [0, 257, 1.5]) {
      const shardsDir = path.join(t.root, `auto-${auto}`);
      const input = { inputs: { parameterValues: { source: 'unused', auto } }, outputs: { artifacts: { out: { artifacts: [{ uri: path.join(t.root, 'unused') }] } } } };
      await expect(planShards(component, input, { shardsDir, shards: 'auto' })).rejects.toThrow(new RegExp(`^test\\.EchoShards: autoShards must give a whole number from 1 to 256, got ${auto}$`));
      expect(fs.existsSync(shardsDir)).toBe(false);
    }
  });
});

describe('mlp component shard <phase> as cloud steps', () => {
  test('plan → run ×N → merge records one StatisticsGen execution with the shard count; a cached plan plans no shards', async () => {
    // Examples LIVE in the store, as an upstream cloud step leaves them.
    const upstream = await runPipeline(statisticsPipeline(), { root: t.root, store: t.store });
    const examples = upstream.nodes.find((n) => n.id === 'example-gen')!.outputs.examples;
    const [examplesArtifact] = await t.store.getArtifacts({ uri: examples });
    const metadata = `sqlite:${path.join(t.root, 'metadata.sqlite')}`;
    const phases = async (runId: string, cache: boolean) => {
      const dir = path.join(t.root, runId);
      const input = JSON.stringify({
        inputs: { parameterValues: {}, artifacts: { examples: { artifacts: [{ uri: examples, metadata: { ...examplesArtifact.customProperties, ...examplesArtifact.properties } }] } } },
        outputs: { artifacts: { statistics: { artifacts: [{ uri: path.join(dir, 'statistics') }] } }, outputFile: path.join(dir, 'output.json') },
      });
      const shardsDir = path.join(dir, 'shards');
      const common = ['StatisticsGen', '--executor-input', input, '--shards-dir', shardsDir];
      const cloud = ['--metadata', metadata, '--pipeline', 'cli', '--run-id', runId, '--node', 'stats', ...(cache ? [] : ['--no-cache'])];
      const plan = await runCli(['component', 'shard', 'plan', ...common, '--out', path.join(dir, 'items.json'), '--shards', '2', ...cloud]);
      expect(plan.stderr).not.toMatch(/Error|error/);
      expect(plan.code).toBe(0);
      const items = JSON.parse(fs.readFileSync(path.join(dir, 'items.json'), 'utf8')) as string[];
      for (const item of items) {
        const r = await runCli(['component', 'shard', 'run', ...common, '--shard', item]);
        expect([r.code, r.stderr]).toEqual([0, expect.stringContaining(`shard ${item}, split train: `)]);
      }
      const merge = await runCli(['component', 'shard', 'merge', ...common, ...cloud]);
      expect(merge.code).toBe(0);
      return { items, dir, output: JSON.parse(fs.readFileSync(path.join(dir, 'output.json'), 'utf8')) };
    };

    const first = await phases('run-1', false);
    expect(first.items).toEqual(['0/2', '1/2']);
    const [execution] = (await t.store.getExecutions({ type: 'StatisticsGen' })).filter((e) => e.customProperties?.run_id === 'run-1');
    expect(execution.lastKnownState).toBe(ExecutionState.COMPLETE);
    expect(execution.customProperties?.shards).toBe(2);
    const plainUri = upstream.nodes.find((n) => n.id === 'statistics-gen')!.outputs.statistics;
    expectStatisticsClose(statsFile(path.join(first.dir, 'statistics'), 'train'), statsFile(plainUri, 'train'), 'train');

    const second = await phases('run-2', true);
    expect(second.items).toEqual([]);
    const [cached] = (await t.store.getExecutions({ type: 'StatisticsGen' })).filter((e) => e.customProperties?.run_id === 'run-2');
    expect(cached.lastKnownState).toBe(ExecutionState.CACHED);
    expect(fs.existsSync(path.join(second.dir, 'statistics'))).toBe(false);
    expect([plainUri, path.join(first.dir, 'statistics')]).toContain(second.output.artifacts.statistics.artifacts[0].uri);
  });

  test('a bad phase, shard or component is a one-line error', async () => {
    const input = JSON.stringify({ inputs: {}, outputs: { artifacts: {} } });
    const bad = await runCli(['component', 'shard', 'split', 'StatisticsGen', '--executor-input', input, '--shards-dir', t.root]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/phase must be plan, run or merge, got "split"$/);
    const shard = await runCli(['component', 'shard', 'run', 'StatisticsGen', '--executor-input', input, '--shards-dir', t.root, '--shard', '3/3']);
    expect(shard.stderr.trim()).toMatch(/--shard: "3\/3" is not a shard "i\/N"/);
    // A count that is not digits is named as given (not as NaN's null or ""'s 0).
    for (const bad of ['abc', '2.5', '']) {
      const count = await runCli(['component', 'shard', 'plan', 'StatisticsGen', '--executor-input', input, '--shards-dir', t.root, '--out', path.join(t.root, 'x.json'), '--shards', bad]);
      const expected = `--shards: shards must be a whole number from 1 to 256 or "auto", got ${JSON.stringify(bad)}`;
      expect(count.code).not.toBe(0);
      expect(count.stderr.trim().split('\n')).toHaveLength(1);
      expect(count.stderr.trim().slice(-expected.length)).toBe(expected);
    }
    const plain = await runCli(['component', 'shard', 'plan', 'ProduceNumbers', '--executor-input', input, '--shards-dir', t.root, '--out', path.join(t.root, 'x.json')]);
    expect(plain.stderr.trim()).toMatch(/component ProduceNumbers cannot be sharded/);
    expect(fs.existsSync(path.join(t.root, 'x.json'))).toBe(false);
  });
});
