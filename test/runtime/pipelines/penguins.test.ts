// The penguins quick start (what `npm start` runs) from raw JSON to a pushed model, through the real CLI: every
// node completes, eval accuracy ≥ 0.95 with the pipeline's fixed seeds, the model is blessed, infra-validated
// by a real model server process and pushed in TensorFlow Serving's layout, batch predictions cover the eval
// split, the backend is recorded on the ModelRun, the summary tells where everything is — and a rerun is
// fully cached.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { readEvaluation } from '../../../runtime/evaluation';
import { openMetadataStore } from '../../../runtime/metadata';
import { runCli } from '../../support/cli';

let root: string;
beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-penguins-'));
});
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

test('npm start: penguins from raw data to a blessed, pushed, servable model; the rerun is cached', async () => {
  const first = await runCli(['run', 'penguins', '--root', root, '--json']);
  expect(first.stderr).not.toMatch(/FAILED|✗/);
  expect(first.code).toBe(0);
  const summary = JSON.parse(first.stdout);
  const byId = Object.fromEntries(summary.nodes.map((n: { id: string }) => [n.id, n]));
  expect(summary.nodes.filter((n: { state: string }) => n.state !== 'executed').map((n: { id: string }) => n.id)).toEqual(['latest-blessed-model']);

  const evaluation = readEvaluation(fs.readFileSync(path.join(byId.evaluator.outputs.evaluation, 'evaluation.json'), 'utf8'), 'evaluation');
  const overall = evaluation.slices.find((s) => s.slice === 'Overall')!;
  expect(overall.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  expect(evaluation.slices.map((s) => s.slice)).toEqual(expect.arrayContaining(['Island:Biscoe', 'Island:Dream', 'Island:Torgersen', 'Sex:MALE', 'Sex:FEMALE']));
  expect(evaluation.validation.blessed).toBe(true);
  expect(fs.existsSync(path.join(byId.evaluator.outputs.blessing, 'BLESSED'))).toBe(true);
  expect(fs.existsSync(path.join(byId['infra-validator'].outputs.blessing, 'INFRA_BLESSED'))).toBe(true);

  const pushed = JSON.parse(fs.readFileSync(path.join(byId.pusher.outputs.pushed_model, 'pushed.json'), 'utf8'));
  expect(pushed).toMatchObject({ pushed: true, destination: path.join(root, 'serving', 'penguins', String(pushed.version)) });
  for (const f of ['model.json', 'weights.bin', 'signature.json', 'transform_graph.json', '_MLP_COMMITTED.json']) {
    expect(fs.existsSync(path.join(pushed.destination, f))).toBe(true);
  }

  const conn = await duckdb();
  const predictions = path.join(byId['bulk-inferrer'].outputs.inference_result, 'Split-eval', 'predictions.parquet');
  const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT predicted_class) AS classes FROM read_parquet(${sqlString(predictions)})`)).getRowObjectsJson();
  // Every eval example, including the ones without a label the evaluator could not score.
  expect(Number(row.n)).toBeGreaterThanOrEqual(overall.example_count);
  expect(Number(row.classes)).toBe(3);

  const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
  try {
    const [run] = await store.getArtifacts({ type: 'ModelRun' });
    expect(['node-gpu', 'node', 'wasm', 'cpu']).toContain(run.properties?.backend ?? run.customProperties?.backend);
  } finally {
    await store.close();
  }

  // The human summary of the same outputs (what `npm start` prints).
  const again = await runCli(['run', 'penguins', '--root', root]);
  expect(again.code).toBe(0);
  expect(again.stderr).toMatch(/COMPLETE .*12 cached, 1 resolved/);
  expect(again.stdout).toContain('blessing: BLESSED');
  expect(again.stdout).toContain(`pushed version ${pushed.version} to ${pushed.destination}`);
  expect(again.stdout).toContain(`npx mlp serve --model-base-path ${path.join(root, 'serving', 'penguins')} --model-name penguins`);
  expect(again.stdout).toMatch(/data report: .*index\.html/);
  expect(again.stdout).toContain(`metadata: sqlite:${path.join(root, 'metadata.sqlite')}`);
}, 240_000);
