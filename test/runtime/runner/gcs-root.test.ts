// A pipeline whose root is a gs:// bucket (the real GCS API emulator on loopback): every executor reads its
// inputs by downloading them and publishes its outputs with a commit marker object, exactly as a container
// step on GKE would; the rerun is cached by checking the markers in the bucket, and a deleted output prefix
// reruns its node and dependents.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import type { MetadataStore } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { storageFor } from '../../../runtime/storage';
import { pipeline } from '../../../pipelines/spine-demo';
import { pointStorageAt, startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator';

let emulator: GcsEmulator;
let dir: string;
let store: MetadataStore;
let restore: (() => void) | undefined;

beforeAll(async () => {
  emulator = await startGcsEmulator();
  // Worker processes inherit the environment, so they reach the same emulator.
  restore = pointStorageAt(emulator);
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-gcs-root-'));
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.sqlite')}`);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await emulator?.stop();
  restore?.();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('runs, reruns from cache and recovers a deleted output with a gs:// pipeline root', async () => {
  const root = 'gs://mlp-pipeline-root/runs';
  const first = await runPipeline(pipeline, { root, store, parameters: { count: 30 } });
  expect(first.state).toBe('COMPLETE');
  const summaryUri = first.nodes.find((n) => n.id === 'summarize-scaled')!.outputs.summary;
  expect(summaryUri).toMatch(/^gs:\/\/mlp-pipeline-root\/runs\/spine-demo\/summarize-scaled\/summary\/\d+$/);
  const gcs = storageFor(summaryUri);
  const summary = JSON.parse((await gcs.readFile(`${summaryUri}/summary.json`)).toString());
  expect(summary).toMatchObject({ count: 30, mean: expect.any(Number) });
  expect(await gcs.readCommit(summaryUri)).toMatchObject({ files: [{ path: 'summary.json' }] });

  const second = await runPipeline(pipeline, { root, store, parameters: { count: 30 } });
  expect(second.nodes.map((n) => n.state)).toEqual(['cached', 'cached', 'cached', 'cached']);

  const scaled = first.nodes.find((n) => n.id === 'scale')!.outputs.scaled;
  await gcs.delete(scaled, { recursive: true });
  const third = await runPipeline(pipeline, { root, store, parameters: { count: 30 } });
  expect(Object.fromEntries(third.nodes.map((n) => [n.id, n.state]))).toEqual({
    produce: 'cached',
    scale: 'executed',
    'summarize-raw': 'cached',
    'summarize-scaled': 'executed',
  });
});
