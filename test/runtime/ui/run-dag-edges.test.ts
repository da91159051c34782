// A run's DAG edges come from the pipeline structure the run log records, so nodes that never ran (skipped by
// a condition or by a skipped upstream node) are drawn connected, and resolver nodes are linked to what they
// wait for and what uses them. A run whose log predates that record, or has no log, falls back to edges from
// the artifacts.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { pipeline as spanPipeline } from '../../fixtures/pipelines/span-pipeline';
import { uiAfterRuns, type Ui } from './helpers';

const SPAN_MODULE = path.join(__dirname, '../../fixtures/pipelines/span-pipeline.ts');

function gatedPipeline(): Pipeline {
  const p = new Pipeline({ name: 'ui-gated' });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: 4 } });
  const big = p.add('only-if-big', ScaleNumbers, {
    inputs: { numbers: produce.outputs.numbers },
    condition: when(produce.outputs.numbers.property('row_count'), '>=', 10),
  });
  p.add('after-big', SummarizeNumbers, { inputs: { numbers: big.outputs.scaled } });
  return p;
}

let root: string;
let ui: Ui;
let gated: RunSummary;
let spans: RunSummary[];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-dag-'));
  ui = await uiAfterRuns(root, async (store) => {
    gated = await runPipeline(gatedPipeline(), { root, store });
    spans = [];
    // Three span runs: the second and third resolve the span before theirs; their logs are altered below.
    for (const span of [1, 2, 3]) spans.push(await runPipeline(spanPipeline, { root, store, modules: [SPAN_MODULE], parameters: { span } }));
  });
}, 120_000);

afterAll(async () => {
  await ui?.server.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

const sortEdges = (edges: { from: string; to: string }[]) => [...edges].sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));

test('a node skipped by a condition, and the node skipped after it, keep their incoming and outgoing edges', async () => {
  const run = (await ui.get(`/api/runs/${gated.runId}`)).body;
  expect(Object.fromEntries(run.nodes.map((n: { id: string; state: string }) => [n.id, n.state]))).toEqual({ produce: 'executed', 'only-if-big': 'skipped', 'after-big': 'skipped' });
  expect(sortEdges(run.edges)).toEqual([
    { from: 'only-if-big', to: 'after-big' },
    { from: 'produce', to: 'only-if-big' },
  ]);
  expect(run.nodes.map((n: { id: string; layer: number }) => [n.id, n.layer])).toEqual([['produce', 0], ['only-if-big', 1], ['after-big', 2]]);
});

test('resolver nodes are linked to the node they wait for and to the node that uses what they picked', async () => {
  const run = (await ui.get(`/api/runs/${spans[0].runId}`)).body;
  // The first span's resolver picked nothing, yet it is still what compare waits for.
  expect(run.nodes.find((n: { id: string }) => n.id === 'previous')).toMatchObject({ state: 'resolved', inputs: [], outputs: [] });
  expect(sortEdges(run.edges)).toEqual([
    { from: 'gen', to: 'compare' },
    { from: 'gen', to: 'previous' },
    { from: 'previous', to: 'compare' },
  ]);
  expect(run.nodes.find((n: { id: string }) => n.id === 'span-one').layer).toBe(0);
});

test('a run logged without the structure gets edges from its artifacts, and one without a log from its executions', async () => {
  const logOf = (s: RunSummary) => path.join(s.logDir, 'run.log');
  const lines = fs.readFileSync(logOf(spans[1]), 'utf8').split('\n');
  const started = JSON.parse(lines[0]);
  expect(started).toMatchObject({ msg: 'run started', upstream: { gen: [], previous: ['gen'], compare: expect.arrayContaining(['gen', 'previous']), 'span-one': [] } });
  delete started.upstream;
  fs.writeFileSync(logOf(spans[1]), [JSON.stringify(started), ...lines.slice(1)].join('\n'));
  const oldLog = (await ui.get(`/api/runs/${spans[1].runId}`)).body;
  expect(oldLog.logAvailable).toBe(true);
  // The resolver's pick (span 1, from the first run) links it to compare; gen → previous has no artifact.
  expect(sortEdges(oldLog.edges)).toEqual([
    { from: 'gen', to: 'compare' },
    { from: 'previous', to: 'compare' },
  ]);

  fs.rmSync(logOf(spans[2]));
  const noLog = (await ui.get(`/api/runs/${spans[2].runId}`)).body;
  expect(noLog.logAvailable).toBe(false);
  expect(noLog.edges).toEqual([{ from: 'gen', to: 'compare' }]);
});
