// A store of many runs stays browsable: every run is reached exactly once through the pages, a run's DAG and
// pushed models come from the generated lineage, and a lineage that chains back through every run is cut at
// the hop bound and says so.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { generateStore, GENERATED_PIPELINE, NODES_PER_RUN, type GeneratedStore } from './generated-store';
import { startUi, type Ui } from './helpers';

const RUNS = 60;
let dir: string;
let ui: Ui;
let generated: GeneratedStore;

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-large-'));
  const address = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  const store = await openMetadataStore(address);
  try {
    generated = await generateStore(store, RUNS);
    expect(await store.countExecutions()).toBe(RUNS * NODES_PER_RUN);
  } finally {
    await store.close();
  }
  ui = await startUi(address);
}, 60_000);

afterAll(async () => {
  await ui?.server.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('paging through the runs reaches each run once, newest first', async () => {
  const seen: string[] = [];
  let url: string | undefined = '/api/runs?limit=25';
  while (url) {
    const page: { items: { runId: string }[]; next?: number } = (await ui.get(url)).body;
    expect(page.items.length).toBeLessThanOrEqual(25);
    seen.push(...page.items.map((r) => r.runId));
    url = page.next === undefined ? undefined : `/api/runs?limit=25&offset=${page.next}`;
  }
  expect(seen).toEqual([...generated.runIds].reverse());
});

test("a generated run's DAG has its ten nodes and their edges", async () => {
  const run = (await ui.get(`/api/runs/${generated.runIds[5]}`)).body;
  expect(run).toMatchObject({ pipeline: GENERATED_PIPELINE, state: 'COMPLETE', duration: '1m0s', logAvailable: false });
  expect(run.nodes).toHaveLength(NODES_PER_RUN);
  expect(run.nodes.every((n: { state: string }) => n.state === 'executed')).toBe(true);
  expect(run.edges).toEqual(expect.arrayContaining([{ from: 'trainer', to: 'evaluator' }, { from: 'evaluator', to: 'pusher' }]));
});

test('pushed versions are paged and each links to its model, blessing and evaluation', async () => {
  const page = (await ui.get('/api/models?limit=50')).body;
  expect(page.next).toBe(50);
  expect(page.items).toHaveLength(1);
  const [model] = page.items;
  expect(model).toMatchObject({ name: 'generated', basePath: '/nonexistent/generated-root/serving/generated' });
  expect(model.versions).toHaveLength(50);
  expect(model.versions[0]).toMatchObject({
    version: String(RUNS),
    runId: generated.runIds[RUNS - 1],
    blessing: { blessed: true },
    infraBlessing: { blessed: true },
    model: { artifactId: expect.any(Number) },
    evaluation: { artifactId: expect.any(Number) },
  });
});

test('a lineage through every run is cut at the hop bound, and says so', async () => {
  const bounded = (await ui.get(`/api/artifacts/${generated.lastPushedModelId}/lineage?direction=upstream`)).body;
  expect(bounded).toMatchObject({ hops: 10, truncated: true });
  const whole = (await ui.get(`/api/artifacts/${generated.lastPushedModelId}/lineage?direction=upstream&hops=100`)).body;
  expect(whole.truncated).toBe(false);
  expect(whole.nodes.length).toBeGreaterThan(bounded.nodes.length);
  const firstRunTrainer = whole.nodes.find((n: { runId?: string; nodeId?: string }) => n.runId === generated.runIds[0] && n.nodeId === 'trainer');
  expect(firstRunTrainer).toBeDefined();
});
