// Concurrent pushes (issue 15, item 1): 20 Pusher cloud steps pushing 20 distinct models to one destination
// at the same moment, from several processes against one SQLite metadata store, locally and on gs:// (the GCS
// emulator, made to honour generation preconditions). Every push must land in its own version folder holding
// its own model, and each PushedModel record in MLMD must name the folder that holds its model's content.

import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Model, ModelBlessing, PushedModel } from '../../../../runtime/core/artifact-types';
import type { ExecutorInput } from '../../../../runtime/core/executor-io';
import { Pusher } from '../../../../runtime/components/pusher';
import { ArtifactState, EventType, ExecutionState, type MetadataStore } from '../../../../runtime/metadata/types';
import { registerTypes } from '../../../../runtime/runner/mlmd-types';
import { committedVersions } from '../../../../runtime/ml/model-location';
import { joinUri, storageFor, type CommitManifest } from '../../../../runtime/storage';
import { startGcsEmulator, type GcsEmulator } from '../../../support/gcs-emulator';
import { useTempStore } from '../../../support/temp-store';
import type { PushJob, PushOutcome } from './push-child';

const PUSHES = 20;
const CHILDREN = 4;
const CHILD = path.join(__dirname, 'push-child.ts');

const t = useTempStore('mlp-concurrent-push-');

let emulator: GcsEmulator;
beforeAll(async () => {
  emulator = await startGcsEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

interface Pushable {
  runId: string;
  modelUri: string;
  manifest: CommitManifest;
  content: string;
}

/** A committed model folder with content unique to push i, and its blessing, both LIVE in the store. */
async function recordModel(store: MetadataStore, root: string, i: number): Promise<Pushable & { blessingUri: string }> {
  const modelUri = path.join(root, 'models', `model-${i}`);
  const blessingUri = path.join(root, 'blessings', `blessing-${i}`);
  const content = JSON.stringify({ model: i });
  const src = fs.mkdtempSync(path.join(root, 'src-'));
  fs.mkdirSync(path.join(src, 'weights'));
  fs.writeFileSync(path.join(src, 'model.json'), content);
  fs.writeFileSync(path.join(src, 'weights', 'group1.bin'), Buffer.alloc(4096 + i, i));
  const manifest = await storageFor(modelUri).publishDirectory(src, modelUri);
  const blessing = fs.mkdtempSync(path.join(root, 'src-'));
  fs.writeFileSync(path.join(blessing, 'BLESSED'), '');
  await storageFor(blessingUri).publishDirectory(blessing, blessingUri);
  await store.putArtifacts([
    { type: Model.name, uri: modelUri, state: ArtifactState.LIVE },
    { type: ModelBlessing.name, uri: blessingUri, state: ArtifactState.LIVE, customProperties: { blessed: 1 } },
  ]);
  return { runId: `push-${i}`, modelUri, blessingUri, manifest, content };
}

function pushInput(m: { modelUri: string; blessingUri: string }, destination: string, out: string): ExecutorInput {
  return {
    inputs: {
      parameterValues: { push_destination: destination },
      artifacts: { model: { artifacts: [{ uri: m.modelUri }] }, model_blessing: { artifacts: [{ uri: m.blessingUri, metadata: { blessed: 1 } }] } },
    },
    outputs: { artifacts: { pushed_model: { artifacts: [{ uri: out }] } } },
  };
}

/** Runs the jobs spread over CHILDREN processes, all released at once after every child has started. */
async function pushConcurrently(metadata: string, jobs: PushJob[], env: NodeJS.ProcessEnv): Promise<PushOutcome[]> {
  const children: ChildProcess[] = [];
  const results: Promise<PushOutcome[]>[] = [];
  const ready: Promise<void>[] = [];
  for (let c = 0; c < CHILDREN; c++) {
    const mine = jobs.filter((_, i) => i % CHILDREN === c);
    const child = fork(CHILD, [metadata, JSON.stringify(mine)], {
      env: { ...process.env, ...env },
      execArgv: ['-r', 'sucrase/register/ts'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`push child exited (${code}) without reporting: ${stderr}`))));
    ready.push(Promise.race([new Promise<void>((resolve) => child.once('message', () => resolve())), exited]));
    results.push(
      Promise.race([
        new Promise<PushOutcome[]>((resolve) => child.on('message', (m) => Array.isArray(m) && resolve(m as PushOutcome[]))),
        exited,
      ]),
    );
    children.push(child);
  }
  await Promise.all(ready);
  for (const child of children) child.send('go');
  return (await Promise.all(results)).flat();
}

/** Pushes 20 models at once and checks folders and MLMD; returns the versions pushed. */
async function pushTwentyModels(destination: string, env: NodeJS.ProcessEnv = {}): Promise<number[]> {
  const { root, store } = t;
  await registerTypes(store, [Pusher]);
  const models = [];
  for (let i = 0; i < PUSHES; i++) models.push(await recordModel(store, root, i));
  const jobs = models.map((m, i) => ({ runId: m.runId, input: pushInput(m, destination, path.join(root, 'pushed', `pushed-${i}`)) }));

  const outcomes = await pushConcurrently(`sqlite:${path.join(root, 'metadata.sqlite')}`, jobs, env);
  const byRun = (a: { runId: string }, b: { runId: string }) => a.runId.localeCompare(b.runId);
  expect(outcomes.map(({ runId, state, error }) => ({ runId, state, error })).sort(byRun)).toEqual(models.map((m) => ({ runId: m.runId, state: 'executed' })).sort(byRun));
  // The race was real: pushes picked versions another push took first, and moved on.
  expect(outcomes.reduce((n, o) => n + o.taken, 0)).toBeGreaterThan(0);

  // MLMD: one COMPLETE Pusher execution per push, whose LIVE PushedModel names a distinct version folder.
  const executions = await store.getExecutions({ type: Pusher.name });
  expect(executions.map((e) => e.lastKnownState)).toEqual(Array(PUSHES).fill(ExecutionState.COMPLETE));
  const versions: number[] = [];
  for (const m of models) {
    const [execution] = executions.filter((e) => e.customProperties?.run_id === m.runId);
    const events = await store.getEvents({ executionIds: [execution.id!] });
    const [input] = await store.getArtifacts({ ids: events.filter((e) => e.type === EventType.INPUT).map((e) => e.artifactId), type: Model.name });
    expect(input.uri).toBe(m.modelUri);
    const [pushed] = await store.getArtifacts({ ids: events.filter((e) => e.type === EventType.OUTPUT).map((e) => e.artifactId) });
    expect(pushed).toMatchObject({ type: PushedModel.name, state: ArtifactState.LIVE });
    // A string, as TFX's Pusher records pushed_version.
    expect(pushed.customProperties!.pushed_version).toEqual(expect.stringMatching(/^\d+$/));
    const version = Number(pushed.customProperties!.pushed_version);
    const folder = pushed.customProperties!.pushed_destination as string;
    expect(folder).toBe(joinUri(destination, String(version)));
    // The folder the record names holds this model's content: same files, same fingerprint.
    const storage = storageFor(folder);
    expect((await storage.readFile(joinUri(folder, 'model.json'))).toString()).toBe(m.content);
    expect((await storage.readCommit(folder))?.fingerprint).toBe(m.manifest.fingerprint);
    versions.push(version);
  }
  expect(new Set(versions).size).toBe(PUSHES);
  // Readers (model servers' version discovery) see exactly these versions, all committed.
  expect(await committedVersions(destination)).toEqual([...versions].sort((a, b) => a - b));
  return versions;
}

describe('20 concurrent pushes of 20 distinct models', () => {
  test('to a local folder: 20 distinct versions, each holding its own model, as MLMD records', async () => {
    const destination = path.join(t.root, 'serving', 'penguins');
    await pushTwentyModels(destination);
    // No staging folders are left next to the versions.
    expect(fs.readdirSync(destination).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 180_000);

  test('to gs:// (GCS emulator): 20 distinct versions, each holding its own model, as MLMD records; no claims left', async () => {
    const destination = `gs://mlp-push-test/serving/penguins-${Date.now()}`;
    const env = { STORAGE_EMULATOR_HOST: emulator.host };
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = emulator.host;
    try {
      await pushTwentyModels(destination, env);
      const objects = (await storageFor(destination).list(destination)).map((e) => path.posix.basename(e.uri));
      expect(objects.filter((n) => n.startsWith('_MLP_') && n !== '_MLP_COMMITTED.json')).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
  }, 180_000);
});
