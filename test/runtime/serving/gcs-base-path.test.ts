// A gs:// model base path through the GCS emulator: versions are found by listing the prefix and reading
// their commit markers, downloaded whole into the local cache folder, served, replaced by a newer push
// (hot reload by polling) and removed from the cache when unloaded; request logs go to gs:// too.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { joinUri, storageFor } from '../../../runtime/storage';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer } from '../../../runtime/serving/model-server';
import { pointStorageAt, startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator';
import { memoryLogger, request, trainPenguinsModel, until } from './helpers';

let emulator: GcsEmulator;
let restore: () => void;
let root: string;
let modelDir: string;

/** Publishes the model as <base>/<version>/ on GCS, as the Pusher does (files first, commit marker last). */
async function publish(base: string, version: number): Promise<void> {
  const staging = await fs.promises.mkdtemp(path.join(root, 'push-'));
  await fs.promises.cp(modelDir, staging, { recursive: true });
  await storageFor(base).publishDirectory(staging, joinUri(base, String(version)));
}

beforeAll(async () => {
  emulator = await startGcsEmulator();
  restore = pointStorageAt(emulator);
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-gcs-'));
  modelDir = await trainPenguinsModel(path.join(root, 'training'));
}, 120_000);

afterAll(async () => {
  restore();
  await emulator.stop();
  await fs.promises.rm(root, { recursive: true, force: true });
});

test('a gs:// base path is served from a local cache and hot-reloads a new push', async () => {
  const base = 'gs://mlp-serving-test/models/penguins';
  await publish(base, 1);
  // An uncommitted version (no marker) and a stray object are not versions.
  await storageFor(base).writeFile(`${base}/7/model.json`, '{}');
  await storageFor(base).writeFile(`${base}/README`, 'models');
  const cacheDir = path.join(root, 'cache');
  const logDir = 'gs://mlp-serving-test/request-logs';
  const server = await startModelServer({
    models: [{ name: 'penguins', basePath: base, policy: DEFAULT_POLICY, labels: {} }],
    port: 0,
    pollSeconds: 0.2,
    modelCacheDir: cacheDir,
    requestLog: { dir: logDir, sample: 1 },
    logger: memoryLogger().logger,
  });
  try {
    const body = { instances: [{ Island: 'Dream', 'Body Mass (g)': 3500 }] };
    const first = await request(`${server.url}/v1/models/penguins:predict`, { body });
    expect(first).toMatchObject({ status: 200, json: { predictions: [{ classes: [expect.any(String)] }] } });
    expect(first.headers.get('x-model-version')).toBe('1');
    expect(fs.existsSync(path.join(cacheDir, 'penguins', '1', 'signature.json'))).toBe(true);

    await publish(base, 2);
    await until('version 2 answers', async () => (await request(`${server.url}/v1/models/penguins:predict`, { body })).headers.get('x-model-version') === '2', 30_000);
    await until('version 1 leaves the cache', () => !fs.existsSync(path.join(cacheDir, 'penguins', '1')));
    const status = await request(`${server.url}/v1/models/penguins`);
    expect(status.json.model_version_status.map((s: { version: string; state: string }) => [s.version, s.state])).toEqual([
      ['2', 'AVAILABLE'],
      ['1', 'END'],
    ]);
  } finally {
    await server.close();
  }
  const logs = await storageFor(logDir).list(logDir);
  expect(logs.length).toBe(1);
  const lines = (await storageFor(logDir).readFile(logs[0].uri)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.length).toBeGreaterThanOrEqual(2);
  expect(lines[0]).toMatchObject({ Island: 'Dream', _model_version: 1 });
}, 60_000);
