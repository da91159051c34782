// The runs and artifacts API over a store the real runner filled: a small pipeline run twice whose nodes end
// in every state a node can have — executed, cached (second run), skipped (false condition), failed and
// upstream_failed — with paging, each node's execution, artifacts and log, and lineage between artifacts.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { FlakyCount } from '../../fixtures/pipelines/test-components';
import { uiAfterRuns, type Ui } from './helpers';

const COMPONENTS_MODULE = path.join(__dirname, '../../fixtures/pipelines/test-components.ts');

function statesPipeline(): Pipeline {
  const p = new Pipeline({ name: 'ui-states', parameters: z.object({ count: z.number().int().default(4) }) });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: p.param('count') } });
  const scale = p.add('scale', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, parameters: { factor: 3 } });
  p.add('summarize', SummarizeNumbers, { inputs: { numbers: scale.outputs.scaled } });
  p.add('only-if-big', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, condition: when(produce.outputs.numbers.property('row_count'), '>=', 10) });
  const flaky = p.add('flaky', FlakyCount, { inputs: { numbers: produce.outputs.numbers }, parameters: { failAttempts: 99 } });
  p.add('after-flaky', SummarizeNumbers, { inputs: { numbers: produce.outputs.numbers }, after: [flaky] });
  return p;
}

let root: string;
let ui: Ui;
let first: RunSummary;
let second: RunSummary;
const nodeOf = (s: RunSummary, id: string) => s.nodes.find((n) => n.id === id)!;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-runs-'));
  ui = await uiAfterRuns(root, async (store) => {
    first = await runPipeline(statesPipeline(), { root, store, modules: [COMPONENTS_MODULE] });
    second = await runPipeline(statesPipeline(), { root, store, modules: [COMPONENTS_MODULE] });
  });
}, 120_000);

afterAll(async () => {
  await ui?.server.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

test('runs are listed newest first, a page at a time, optionally for one pipeline', async () => {
  const page1 = (await ui.get('/api/runs?limit=1')).body;
  expect(page1).toEqual({
    items: [expect.objectContaining({ runId: second.runId, pipeline: 'ui-states', state: 'FAILED', startedAt: second.startedAt, durationMs: expect.any(Number), duration: expect.any(String) })],
    limit: 1,
    offset: 0,
    next: 1,
  });
  const page2 = (await ui.get('/api/runs?limit=1&offset=1')).body;
  expect(page2.items.map((r: { runId: string }) => r.runId)).toEqual([first.runId]);
  expect(page2.next).toBeUndefined();
  expect((await ui.get('/api/runs?pipeline=ui-states')).body.items).toHaveLength(2);
  expect((await ui.get('/api/runs?pipeline=other')).body.items).toEqual([]);
  expect((await ui.get('/api/pipelines')).body).toEqual(['ui-states']);
});

test("a run's DAG has every node with its state, duration, parameters, artifacts and the edges between them", async () => {
  const run = (await ui.get(`/api/runs/${first.runId}`)).body;
  expect(run).toMatchObject({ runId: first.runId, state: 'FAILED', pipeline: 'ui-states', root, logAvailable: true, parameters: { count: 4 } });
  const byId = Object.fromEntries(run.nodes.map((n: { id: string }) => [n.id, n]));
  expect(Object.fromEntries(run.nodes.map((n: { id: string; state: string }) => [n.id, n.state]))).toEqual({
    produce: 'executed',
    scale: 'executed',
    summarize: 'executed',
    'only-if-big': 'skipped',
    flaky: 'failed',
    'after-flaky': 'upstream_failed',
  });
  expect(byId.scale).toMatchObject({
    component: 'ScaleNumbers',
    executionId: nodeOf(first, 'scale').executionId,
    durationMs: nodeOf(first, 'scale').durationMs,
    attempts: 1,
    parameters: { factor: 3 },
    inputs: [{ port: 'numbers', type: 'Examples', state: 'LIVE', uri: nodeOf(first, 'produce').outputs.numbers }],
    outputs: [{ port: 'scaled', type: 'Examples', state: 'LIVE', uri: nodeOf(first, 'scale').outputs.scaled }],
  });
  expect(byId['only-if-big']).toMatchObject({ reason: 'condition produce.outputs.numbers.row_count >= 10 is false (value 4)', inputs: [], outputs: [] });
  expect(byId['only-if-big'].component).toBeUndefined();
  expect(byId.flaky.error).toContain('deliberate failure on attempt 1');
  expect(byId.flaky.outputs).toEqual([expect.objectContaining({ port: 'count', state: 'ABANDONED' })]);
  expect(run.edges).toEqual(
    expect.arrayContaining([
      { from: 'produce', to: 'scale' },
      { from: 'scale', to: 'summarize' },
      { from: 'produce', to: 'flaky' },
    ]),
  );
  expect([byId.produce.layer, byId.scale.layer, byId.summarize.layer]).toEqual([0, 1, 2]);
});

test('the rerun shows what was cached, from which execution, and why', async () => {
  const run = (await ui.get(`/api/runs/${second.runId}`)).body;
  const byId = Object.fromEntries(run.nodes.map((n: { id: string }) => [n.id, n]));
  for (const id of ['produce', 'scale', 'summarize']) {
    expect(byId[id]).toMatchObject({ state: 'cached', cachedFromExecution: nodeOf(first, id).executionId, reason: nodeOf(second, id).reason });
  }
  expect(byId.scale.outputs.map((o: { uri: string }) => o.uri)).toEqual([nodeOf(first, 'scale').outputs.scaled]);
  expect(run.edges).toEqual(expect.arrayContaining([{ from: 'produce', to: 'scale' }, { from: 'scale', to: 'summarize' }]));
});

test('a node shows its execution and its executor log; a cached or skipped node has no log of its own', async () => {
  const node = (await ui.get(`/api/runs/${first.runId}/nodes/scale`)).body;
  expect(node).toMatchObject({
    run: { runId: first.runId, state: 'FAILED' },
    node: { id: 'scale', state: 'executed' },
    execution: { id: nodeOf(first, 'scale').executionId, type: 'ScaleNumbers', state: 'COMPLETE', runId: first.runId, nodeId: 'scale' },
    logAvailable: true,
  });
  const log = await ui.get(`/api/runs/${first.runId}/nodes/produce/log`);
  expect(log.type).toMatch(/^text\/plain/);
  expect(log.body).toContain('wrote 4 numbers');
  expect((await ui.get(`/api/runs/${first.runId}/nodes/flaky/log`)).body).toContain('deliberate failure on attempt 1');

  expect((await ui.get(`/api/runs/${second.runId}/nodes/scale`)).body).toMatchObject({
    node: { state: 'cached' },
    cachedFrom: { executionId: nodeOf(first, 'scale').executionId, runId: first.runId, nodeId: 'scale' },
    logAvailable: false,
  });
  const cached = await ui.get(`/api/runs/${second.runId}/nodes/scale/log`);
  expect(cached.status).toBe(404);
  expect(cached.body.error).toBe(`node scale of run ${second.runId} was cached: it reused the outputs of execution ${nodeOf(first, 'scale').executionId}, whose run has the log`);
  const skipped = (await ui.get(`/api/runs/${first.runId}/nodes/only-if-big`)).body;
  expect(skipped).toMatchObject({ node: { state: 'skipped' }, logAvailable: false });
  expect(skipped.execution).toBeUndefined();
  expect((await ui.get(`/api/runs/${first.runId}/nodes/only-if-big/log`)).status).toBe(404);
  expect((await ui.get(`/api/runs/${first.runId}/nodes/nope`)).body).toEqual({ error: `run ${first.runId} has no node "nope"` });

  const runLog = await ui.get(`/api/runs/${first.runId}/log`);
  expect(runLog.body.split('\n')[0]).toContain('"msg":"run started"');
});

test('artifacts by type and state, each with the execution that made it and those that used it', async () => {
  const types = (await ui.get('/api/artifact-types')).body;
  expect(types).toEqual(expect.arrayContaining([{ name: 'Examples', count: 2 }, { name: 'Artifact', count: 3 }]));
  const page = (await ui.get('/api/artifacts?type=Examples&limit=1')).body;
  expect(page).toMatchObject({ total: 2, limit: 1, next: 1, items: [{ type: 'Examples', uri: nodeOf(first, 'scale').outputs.scaled, state: 'LIVE' }] });
  const abandoned = (await ui.get('/api/artifacts?state=abandoned')).body;
  expect(abandoned.items.map((a: { uri: string }) => a.uri)).toHaveLength(2);

  const scaled = page.items[0];
  const detail = (await ui.get(`/api/artifacts/${scaled.id}`)).body;
  // The second run's cache hits are folded into the executions whose outputs they reused, as in the lineage.
  const reusedBy = (node: string) => [{ executionId: nodeOf(second, node).executionId, runId: second.runId, nodeId: node }];
  expect(detail.producer).toMatchObject({ port: 'scaled', execution: { runId: first.runId, nodeId: 'scale', state: 'COMPLETE' }, reusedBy: reusedBy('scale') });
  expect(detail.consumers.map((c: { execution: { runId: string; state: string }; port: string; reusedBy: unknown }) => [c.execution.runId, c.execution.state, c.port, c.reusedBy])).toEqual([
    [first.runId, 'COMPLETE', 'numbers', reusedBy('summarize')],
  ]);
});

test("lineage of an artifact: its producers upstream, its consumers downstream, bounded by hops", async () => {
  const numbers = (await ui.get('/api/artifacts?type=Examples')).body.items.find((a: { uri: string }) => a.uri === nodeOf(first, 'produce').outputs.numbers);
  const down = (await ui.get(`/api/artifacts/${numbers.id}/lineage?direction=downstream`)).body;
  expect(down).toMatchObject({ root: numbers.id, direction: 'downstream', truncated: false });
  const key = (kind: string, id: number) => `${kind === 'artifact' ? 'a' : 'e'}${id}`;
  const nodes = new Map(down.nodes.map((n: { key: string }) => [n.key, n]));
  const scaleExecution = key('execution', nodeOf(first, 'scale').executionId!);
  expect(nodes.get(scaleExecution)).toMatchObject({ kind: 'execution', type: 'ScaleNumbers', state: 'COMPLETE', runId: first.runId, nodeId: 'scale' });
  expect(down.edges).toContainEqual({ from: key('artifact', numbers.id), to: scaleExecution, port: 'numbers' });
  for (const e of down.edges as { from: string; to: string }[]) expect((nodes.get(e.to) as { layer: number }).layer).toBeGreaterThan((nodes.get(e.from) as { layer: number }).layer);

  const oneHop = (await ui.get(`/api/artifacts/${numbers.id}/lineage?direction=downstream&hops=1`)).body;
  expect(oneHop.truncated).toBe(true);
  const up = (await ui.get(`/api/artifacts/${numbers.id}/lineage?direction=upstream`)).body;
  // The second run's cache hit is folded into the execution that produced the numbers.
  expect(up.nodes.filter((n: { kind: string }) => n.kind === 'execution').map((n: { nodeId: string; state: string; reusedBy: unknown }) => [n.nodeId, n.state, n.reusedBy])).toEqual([
    ['produce', 'COMPLETE', [{ executionId: nodeOf(second, 'produce').executionId, runId: second.runId, nodeId: 'produce' }]],
  ]);
  expect((await ui.get(`/api/artifacts/${numbers.id}/lineage?direction=sideways`)).body).toEqual({ error: 'direction=sideways: expected upstream, downstream or both' });
  expect((await ui.get(`/api/artifacts/${numbers.id}/lineage?hops=0`)).status).toBe(400);
});

test('a page for the wrong kind of artifact is a 404 saying what the artifact is', async () => {
  const numbers = (await ui.get('/api/artifacts?type=Examples&limit=1')).body.items[0];
  for (const view of ['statistics', 'anomalies', 'evaluation', 'tuning']) {
    const answer = await ui.get(`/api/artifacts/${numbers.id}/${view}`);
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatch(new RegExp(`^artifact ${numbers.id} is of type Examples, not [A-Za-z]+$`));
  }
});
