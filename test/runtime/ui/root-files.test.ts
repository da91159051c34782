// The UI reads no file outside the pipeline root it serves, whatever the metadata store says (in the cloud
// every pipeline step can write to it) and whatever symlinks are planted in the root: an execution's
// log_uri pointing at a secret, a symlinked run log, a symlinked run folder, a FeatureStats.json symlinked
// to a secret, an artifact recorded outside the root, a FIFO (must not hang) — each is the 404 a missing
// file gets, and no answer carries a byte of the secret. A symlink that stays inside the root is followed.
// On a gs:// root (the real GCS API emulator) only objects under the root's prefix are read.

import * as child from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { STANDARD_ARTIFACT_TYPES } from '../../../runtime/core/artifact-types';
import { ProduceNumbers } from '../../../runtime/components';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, TypeKind, type Artifact } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { storageFor } from '../../../runtime/storage';
import { RootFiles } from '../../../runtime/ui/root-files';
import { useGcsEmulator } from '../../support/gcs-emulator';
import { startUi, type Ui } from './helpers';

const SECRET = 'root:x:0:0:SECRET-CONTENT-THAT-MUST-NOT-LEAK';

let dir: string;
let root: string;
let secret: string;
let ui: Ui;
let run: RunSummary;
const ids: Record<string, number> = {};

/** A statistics artifact at `uri` (split train) as StatisticsGen records it. */
function statisticsArtifact(uri: string): Artifact {
  return { type: 'ExampleStatistics', uri, state: ArtifactState.LIVE, customProperties: { split_names: '["train"]' } };
}

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-confined-'));
  root = path.join(dir, 'root');
  await fs.promises.mkdir(root);
  // The secret lives next to the root, not in it: what a symlink or a recorded path could point at.
  secret = path.join(dir, 'secret.txt');
  await fs.promises.writeFile(secret, `${SECRET}\n`);
  const metadata = `sqlite:${path.join(root, 'metadata.sqlite')}`;
  const store = await openMetadataStore(metadata);
  try {
    const p = new Pipeline({ name: 'ui-confined' });
    p.add('produce', ProduceNumbers, { parameters: { count: 4 } });
    run = await runPipeline(p, { root, store });
    for (const t of STANDARD_ARTIFACT_TYPES) await store.putType({ kind: TypeKind.ARTIFACT, name: t.name, properties: { ...t.properties } });
    [ids.symlinked, ids.outside, ids.inside, ids.broken, ids.fifo] = await store.putArtifacts([
      statisticsArtifact(path.join(root, 'stats-symlinked')),
      statisticsArtifact(path.join(dir, 'stats-outside')),
      statisticsArtifact(path.join(root, 'stats-inside')),
      statisticsArtifact(path.join(root, 'stats-broken')),
      statisticsArtifact(path.join(root, 'stats-fifo')),
    ]);
  } finally {
    await store.close();
  }
  const stats = JSON.stringify({ datasets: [{ name: 'train', numExamples: '3', features: [] }] });
  for (const name of ['stats-symlinked', 'stats-inside', 'stats-broken', 'stats-fifo']) await fs.promises.mkdir(path.join(root, name, 'Split-train'), { recursive: true });
  await fs.promises.mkdir(path.join(dir, 'stats-outside', 'Split-train'), { recursive: true });
  await fs.promises.writeFile(path.join(dir, 'stats-outside', 'Split-train', 'FeatureStats.json'), stats);
  await fs.promises.symlink(secret, path.join(root, 'stats-symlinked', 'Split-train', 'FeatureStats.json'));
  // Inside the root a symlink is fine: this one points at another file in the root.
  await fs.promises.writeFile(path.join(root, 'real-stats.json'), stats);
  await fs.promises.symlink(path.join(root, 'real-stats.json'), path.join(root, 'stats-inside', 'Split-train', 'FeatureStats.json'));
  await fs.promises.writeFile(path.join(root, 'stats-broken', 'Split-train', 'FeatureStats.json'), SECRET);
  child.execFileSync('mkfifo', [path.join(root, 'stats-fifo', 'Split-train', 'FeatureStats.json')]);
  ui = await startUi(metadata, {}, { root });
}, 120_000);

afterAll(async () => {
  await ui?.server.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** Rewrites the produce execution's log_uri, as any process with access to the store could. */
async function setLogUri(logUri: string): Promise<void> {
  const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
  try {
    const [execution] = await store.getExecutions({ ids: [run.nodes.find((n) => n.id === 'produce')!.executionId!] });
    await store.putExecutions([{ ...execution, customProperties: { ...execution.customProperties, log_uri: logUri } }]);
  } finally {
    await store.close();
  }
}

const nodeLogPath = () => `/api/runs/${run.runId}/nodes/produce/log`;

function expectNoSecret(answer: { body: unknown }): void {
  expect(JSON.stringify(answer.body)).not.toContain('SECRET');
}

describe('logs', () => {
  const logFile = () => path.join(root, '.runs', run.runId, 'produce.log');

  test('the run log and the node log inside the root are read', async () => {
    expect((await ui.get(`/api/runs/${run.runId}/log`)).body).toContain('"msg":"run started"');
    expect((await ui.get(nodeLogPath())).body).toContain('wrote 4 numbers');
  });

  test("an execution's log_uri outside the root is not read: the log in the root answers, and without it a 404", async () => {
    await setLogUri(secret);
    const fallback = await ui.get(nodeLogPath());
    expect(fallback.status).toBe(200);
    expect(fallback.body).toContain('wrote 4 numbers');
    expectNoSecret(fallback);

    const saved = await fs.promises.readFile(logFile());
    await fs.promises.rm(logFile());
    try {
      for (const uri of [secret, '/etc/passwd', `file://${secret}`, path.join(root, '..', 'secret.txt')]) {
        await setLogUri(uri);
        const answer = await ui.get(nodeLogPath());
        expect(answer.status).toBe(404);
        expect(answer.body).toEqual({ error: `no log for node produce of run ${run.runId} in the pipeline root this UI serves (it ran no executor here, or the log is elsewhere)` });
        expect((await ui.get(`/api/runs/${run.runId}/nodes/produce`)).body.logAvailable).toBe(false);
      }
    } finally {
      await fs.promises.writeFile(logFile(), saved);
      await setLogUri(logFile());
    }
  });

  test('a symlink planted in the run folder, or the run folder itself symlinked out, is a 404', async () => {
    const saved = await fs.promises.readFile(logFile());
    await fs.promises.rm(logFile());
    await fs.promises.symlink(secret, logFile());
    try {
      const answer = await ui.get(nodeLogPath());
      expect(answer.status).toBe(404);
      expectNoSecret(answer);
    } finally {
      await fs.promises.rm(logFile());
      await fs.promises.writeFile(logFile(), saved);
    }

    // The whole run folder moved outside and a symlink left in its place.
    const runFolder = path.dirname(logFile());
    const moved = path.join(dir, 'moved-run-folder');
    await fs.promises.rename(runFolder, moved);
    await fs.promises.writeFile(path.join(moved, 'produce.log'), SECRET);
    await fs.promises.symlink(moved, runFolder);
    try {
      const answer = await ui.get(nodeLogPath());
      expect(answer.status).toBe(404);
      expectNoSecret(answer);
      const runLog = await ui.get(`/api/runs/${run.runId}/log`);
      expect(runLog).toMatchObject({ status: 404, body: { error: `no run log for run ${run.runId} in the pipeline root this UI serves` } });
      expect((await ui.get(`/api/runs/${run.runId}`)).body.logAvailable).toBe(false);
    } finally {
      await fs.promises.rm(runFolder);
      await fs.promises.rename(moved, runFolder);
      await fs.promises.writeFile(logFile(), saved);
    }
  });
});

describe('artifact files', () => {
  const statsOf = (id: number) => ui.get(`/api/artifacts/${id}/statistics`);
  const missing = (id: number) => ({ error: `ExampleStatistics artifact ${id} has no Split-train/FeatureStats.json in the pipeline root this UI serves` });

  test('a FeatureStats.json symlinked to a secret is the 404 of a missing file, quoting none of it', async () => {
    const answer = await statsOf(ids.symlinked);
    expect(answer).toMatchObject({ status: 404, body: missing(ids.symlinked) });
    expectNoSecret(answer);
  });

  test('an artifact recorded outside the root is not read', async () => {
    expect(await statsOf(ids.outside)).toMatchObject({ status: 404, body: missing(ids.outside) });
  });

  test('a symlink that stays inside the root is followed', async () => {
    expect(await statsOf(ids.inside)).toMatchObject({ status: 200, body: { split: 'train', dataset: { numExamples: '3' } } });
  });

  test('a file that is not JSON is a 500 that quotes none of the file', async () => {
    const answer = await statsOf(ids.broken);
    expect(answer).toMatchObject({ status: 500, body: { error: `Split-train/FeatureStats.json of ExampleStatistics artifact ${ids.broken} is not valid JSON` } });
    expectNoSecret(answer);
  });

  test('a FIFO is not a file: a 404, not a hung request', async () => {
    expect(await statsOf(ids.fifo)).toMatchObject({ status: 404, body: missing(ids.fifo) });
  });
});

describe('a gs:// root', () => {
  useGcsEmulator();
  const ROOT = 'gs://mlp-ui-confined/pipelines/root';

  test('reads objects under the root prefix only', async () => {
    for (const uri of [`${ROOT}/a/file.json`, 'gs://mlp-ui-confined/pipelines/root-other/file.json', 'gs://mlp-ui-confined/pipelines/file.json', 'gs://mlp-ui-elsewhere/pipelines/root/a/file.json']) {
      await storageFor(uri).writeFile(uri, Buffer.from(uri));
    }
    const files = new RootFiles(ROOT);
    expect((await files.read(`${ROOT}/a/file.json`))?.toString()).toBe(`${ROOT}/a/file.json`);
    expect(await files.readEnd(`${ROOT}/a/file.json`, 9)).toEqual({ start: `${ROOT}/a/file.json`.length - 9, end: Buffer.from('file.json') });
    expect(await files.exists(`${ROOT}/a/file.json`)).toBe(true);
    for (const outside of [
      'gs://mlp-ui-confined/pipelines/root-other/file.json',
      'gs://mlp-ui-confined/pipelines/file.json',
      `${ROOT}/../file.json`,
      `${ROOT}/a/../../file.json`,
      'gs://mlp-ui-elsewhere/pipelines/root/a/file.json',
      ROOT,
      secret,
      '/etc/passwd',
    ]) {
      expect(await files.exists(outside)).toBe(false);
      expect(await files.read(outside)).toBeUndefined();
    }
    expect(await files.exists(`${ROOT}/a/no-such.json`)).toBe(false);
  });
});
