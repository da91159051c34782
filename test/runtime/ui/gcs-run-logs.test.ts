// A run on a gs:// root (the real GCS API emulator on loopback) writes its logs in the runner's temp dir and
// uploads the run folder to <root>/.runs/<run id>/ when it ends — also when it fails — so the UI reads the
// run log and the executor logs from the bucket once the runner's temp copy is gone.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, ScaleNumbers } from '../../../runtime/components';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { storageFor } from '../../../runtime/storage';
import { FlakyCount } from '../../fixtures/pipelines/test-components';
import { pointStorageAt, startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator';
import { uiAfterRuns, type Ui } from './helpers';

const COMPONENTS_MODULE = path.join(__dirname, '../../fixtures/pipelines/test-components.ts');
const ROOT = 'gs://mlp-ui-run-logs/root';

function failingPipeline(): Pipeline {
  const p = new Pipeline({ name: 'ui-gcs-logs' });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: 4 } });
  p.add('only-if-big', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, condition: when(produce.outputs.numbers.property('row_count'), '>=', 10) });
  p.add('flaky', FlakyCount, { inputs: { numbers: produce.outputs.numbers }, parameters: { failAttempts: 99 } });
  return p;
}

let emulator: GcsEmulator;
let dir: string;
let ui: Ui;
let run: RunSummary;
let restore: (() => void) | undefined;

beforeAll(async () => {
  emulator = await startGcsEmulator();
  // Worker processes inherit the environment, so they reach the same emulator.
  restore = pointStorageAt(emulator);
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-gcs-logs-'));
  ui = await uiAfterRuns(dir, async (store) => {
    run = await runPipeline(failingPipeline(), { root: ROOT, store, modules: [COMPONENTS_MODULE] });
  }, ROOT);
}, 120_000);

afterAll(async () => {
  await ui?.server.close();
  await emulator?.stop();
  restore?.();
  await fs.promises.rm(dir, { recursive: true, force: true });
  if (run) await fs.promises.rm(run.logDir, { recursive: true, force: true });
});

test('a failed run on a gs:// root leaves its run folder in the bucket, read by the UI after the local copy is gone', async () => {
  expect(run.state).toBe('FAILED');
  const runFolder = `${ROOT}/.runs/${run.runId}`;
  const uploaded = (await storageFor(ROOT).list(runFolder)).map((e) => e.uri.slice(runFolder.length + 1));
  expect(uploaded).toEqual(expect.arrayContaining(['run.log', 'produce.log', 'flaky.log', 'produce/executor-input.json', 'produce/executor-output.json']));

  // The run wrote its logs in the runner's temp dir; without them, only the bucket can answer.
  expect(run.logDir.startsWith(os.tmpdir())).toBe(true);
  await fs.promises.rm(run.logDir, { recursive: true });

  const runLog = await ui.get(`/api/runs/${run.runId}/log`);
  expect(runLog.status).toBe(200);
  expect(runLog.body.split('\n')[0]).toContain('"msg":"run started"');
  expect(runLog.body).toContain('"msg":"run finished"');

  const detail = (await ui.get(`/api/runs/${run.runId}`)).body;
  expect(detail).toMatchObject({ root: ROOT, state: 'FAILED', logAvailable: true });
  // Known from the log only: the skipped node, why it was skipped, and its edge.
  expect(detail.nodes.find((n: { id: string }) => n.id === 'only-if-big')).toMatchObject({ state: 'skipped', reason: 'condition produce.outputs.numbers.row_count >= 10 is false (value 4)' });
  expect(detail.edges).toContainEqual({ from: 'produce', to: 'only-if-big' });

  expect((await ui.get(`/api/runs/${run.runId}/nodes/produce`)).body).toMatchObject({ logAvailable: true, execution: { customProperties: { log_uri: `${runFolder}/produce.log` } } });
  expect((await ui.get(`/api/runs/${run.runId}/nodes/produce/log`)).body).toContain('wrote 4 numbers');
  expect((await ui.get(`/api/runs/${run.runId}/nodes/flaky/log`)).body).toContain('deliberate failure on attempt 1');
});
