// The data-health API over the bundled data-validation pipeline run on two spans of real data (US flights
// from vega-datasets), the second with one airport's share jumped to 30%: each split's TFDV statistics with
// the anomalies found in it, the anomalies artifact with types, codes, descriptions and the drift measurement
// against its threshold, and the two spans side by side with TFDV's distances.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipeline } from '../../../pipelines/data-validation';
import { openMetadataStore } from '../../../runtime/metadata';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import { inferSchema } from '../../../runtime/tfdv/infer-schema';
import { REPO_ROOT } from '../../support/cli';
import { writeFlightsSpan } from '../../support/flights-spans';
import { startUi, type Ui } from './helpers';

const MODULE = path.join(REPO_ROOT, 'pipelines', 'data-validation.ts');
const ROWS = 3000;

let root: string;
let ui: Ui;
let spans: RunSummary[];
const output = (s: RunSummary, node: string, port: string) => s.nodes.find((n) => n.id === node)!.outputs[port];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-data-'));
  const base = path.join(root, 'incoming');
  const schemaFile = path.join(root, 'schema.json');
  await writeFlightsSpan(base, 1, 1, ROWS);
  const schema = inferSchema(await generateStatistics('all', [path.join(base, 'span-1', 'part.parquet')]));
  schema.feature.find((f) => f.name === 'origin')!.driftComparator = { infinityNorm: { threshold: 0.1 } };
  await fs.promises.writeFile(schemaFile, JSON.stringify(schema));
  const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
  const run = () => runPipeline(pipeline, { root: path.join(root, 'root'), store, modules: [MODULE], parameters: { input_base: base, schema_file: schemaFile } });
  try {
    // ExampleGen takes the latest span: the second arrives after the first run.
    spans = [await run()];
    await writeFlightsSpan(base, 2, 2, ROWS, 'BTV');
    spans.push(await run());
  } finally {
    await store.close();
  }
  expect(spans.map((s) => s.state)).toEqual(['COMPLETE', 'COMPLETE']);
  ui = await startUi(`sqlite:${path.join(root, 'metadata.sqlite')}`);
}, 120_000);

afterAll(async () => {
  await ui?.server.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function artifactAt(uri: string): Promise<{ id: number; type: string }> {
  const page = (await ui.get('/api/artifacts?limit=500')).body;
  return page.items.find((a: { uri: string }) => a.uri === uri);
}

test("a split's statistics, with the anomalies the validator found in it", async () => {
  const stats = await artifactAt(output(spans[1], 'statistics-gen', 'statistics'));
  const view = (await ui.get(`/api/artifacts/${stats.id}/statistics`)).body;
  expect(view).toMatchObject({ span: 2, splits: ['train', 'eval'], split: 'train', dataset: { name: 'train' } });
  expect(view.dataset.features.map((f: { name: string }) => f.name).sort()).toEqual(['date', 'delay', 'destination', 'distance', 'origin']);
  const origin = view.dataset.features.find((f: { name: string }) => f.name === 'origin');
  expect(origin.stringStats.topValues[0]).toMatchObject({ value: 'BTV' });
  const delay = view.dataset.features.find((f: { name: string }) => f.name === 'delay');
  expect(delay.numStats.histograms.find((h: { type: string }) => h.type === 'STANDARD').buckets).toHaveLength(10);
  expect(view.anomaliesArtifactId).toBe((await artifactAt(output(spans[1], 'example-validator', 'anomalies'))).id);
  expect(view.anomalies).toContainEqual(expect.objectContaining({ feature: 'origin', type: 'COMPARATOR_L_INFTY_HIGH', code: 42 }));

  const evalSplit = (await ui.get(`/api/artifacts/${stats.id}/statistics?split=eval`)).body;
  expect(evalSplit.dataset.name).toBe('eval');
  expect((await ui.get(`/api/artifacts/${stats.id}/statistics?split=test`)).body).toEqual({ error: `ExampleStatistics artifact ${stats.id} has no split "test" (splits: train, eval)` });
});

test('anomalies per split: type, code, description, and drift measured against its threshold', async () => {
  const clean = (await ui.get(`/api/artifacts/${(await artifactAt(output(spans[0], 'example-validator', 'anomalies'))).id}/anomalies`)).body;
  expect(clean.splits.map((s: { split: string; anomalies: unknown[] }) => [s.split, s.anomalies])).toEqual([['train', []], ['eval', []]]);

  const flagged = (await ui.get(`/api/artifacts/${(await artifactAt(output(spans[1], 'example-validator', 'anomalies'))).id}/anomalies`)).body;
  const train = flagged.splits.find((s: { split: string }) => s.split === 'train');
  const drift = train.anomalies.find((a: { type: string }) => a.type === 'COMPARATOR_L_INFTY_HIGH');
  expect(drift).toMatchObject({ feature: 'origin', code: 42, shortDescription: expect.any(String) });
  expect(drift.description).toMatch(/BTV/);
  const measured = train.driftSkew.find((d: { path: { step: string[] } }) => d.path.step[0] === 'origin');
  expect(measured.driftMeasurements[0]).toMatchObject({ type: 'L_INFTY', threshold: 0.1 });
  expect(measured.driftMeasurements[0].value).toBeGreaterThan(0.25);
});

test('two spans side by side, with the distances per feature', async () => {
  const a = await artifactAt(output(spans[0], 'statistics-gen', 'statistics'));
  const b = await artifactAt(output(spans[1], 'statistics-gen', 'statistics'));
  const cmp = (await ui.get(`/api/statistics/compare?left=${b.id}:train&right=${a.id}:train`)).body;
  expect(cmp.left).toMatchObject({ split: 'train', artifact: { id: b.id } });
  expect(cmp.right).toMatchObject({ split: 'train', artifact: { id: a.id } });
  const origin = cmp.features.find((f: { name: string }) => f.name === 'origin');
  expect(origin.left.stringStats.topValues[0].value).toBe('BTV');
  expect(origin.distances.lInfinity.value).toBeGreaterThan(0.25);
  expect(origin.distances.lInfinity.worst).toBe('BTV');
  expect(origin.distances.jensenShannonDivergence.value).toBeGreaterThan(0);
  const delay = cmp.features.find((f: { name: string }) => f.name === 'delay');
  expect(delay.distances.lInfinity).toBeUndefined();
  expect(delay.distances.jensenShannonDivergence.value).toBeGreaterThanOrEqual(0);
  expect(delay.distances.jensenShannonDivergence.value).toBeLessThanOrEqual(1);

  // Splits of one artifact compare too; a split that is not there is named.
  expect((await ui.get(`/api/statistics/compare?left=${a.id}:train&right=${a.id}:eval`)).status).toBe(200);
  expect((await ui.get(`/api/statistics/compare?left=${a.id}:train&right=${a.id}:serving`)).body.error).toContain('has no split "serving"');
});
