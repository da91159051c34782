// Issue 5's rollout and observability features over HTTP with a real penguins model: a 90/10 canary split
// (sticky per x-request-key, bypassed by explicit versions and labels), request ids and :feedback, a Thompson
// bandit converging on the version with the better reward, hybrid static serving from a BulkInferrer-shaped
// Parquet table with its hit/miss metrics, and sampled request logging to JSON Lines files DuckDB reads.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { DEFAULT_POLICY, type ModelConfig } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../../runtime/serving/model-server';
import { createRng } from '../../../runtime/core/prng';
import { sqlRows } from '../ml/helpers';
import { memoryLogger, penguinRows, publishVersion, request, trainPenguinsModel } from './helpers';

let root: string;
let base: string;
const servers: ModelServer[] = [];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-routing-'));
  const modelDir = await trainPenguinsModel(path.join(root, 'training'));
  base = path.join(root, 'base');
  await publishVersion(modelDir, base, 1);
  await publishVersion(modelDir, base, 2);
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

function penguins(extra: Partial<ModelConfig>): ModelConfig {
  return { name: 'penguins', basePath: base, policy: { kind: 'all' }, labels: { stable: 1, canary: 2 }, ...extra };
}

async function serve(model: ModelConfig, opts: Partial<ModelServerOptions> = {}) {
  const log = memoryLogger();
  const server = await startModelServer({ models: [model], port: 0, pollSeconds: 0, logger: log.logger, randomSeed: 11, ...opts });
  servers.push(server);
  return { server, url: server.url, logs: log.lines };
}

const INSTANCE = { Island: 'Dream', Sex: 'FEMALE', 'Beak Length (mm)': 40, 'Beak Depth (mm)': 18, 'Flipper Length (mm)': 190, 'Body Mass (g)': 3500 };
const predictBody = { instances: [INSTANCE] };

describe('a 90/10 canary split', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await serve(
      penguins({
        traffic: {
          kind: 'split',
          arms: [
            { arm: { label: 'stable' }, weight: 90 },
            { arm: { label: 'canary' }, weight: 10 },
          ],
        },
      }),
    ));
  });

  test('sends about a tenth of the requests to the canary, each answer naming its version and request id', async () => {
    const versions: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(Array.from({ length: 40 }, () => request(`${url}/v1/models/penguins:predict`, { body: predictBody })));
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
        versions.push(r.headers.get('x-model-version')!);
      }
    }
    const canary = versions.filter((v) => v === '2').length;
    expect(versions.filter((v) => v === '1').length + canary).toBe(400);
    // Expected 40; the seeded draw is within a wide statistical margin.
    expect(canary).toBeGreaterThan(15);
    expect(canary).toBeLessThan(70);
  });

  test('x-request-key makes the choice sticky; explicit versions and labels bypass the split', async () => {
    for (const key of ['alice', 'bob', 'carol']) {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) seen.add((await request(`${url}/v1/models/penguins:predict`, { body: predictBody, headers: { 'x-request-key': key } })).headers.get('x-model-version')!);
      expect(seen.size).toBe(1);
    }
    for (let i = 0; i < 10; i++) {
      expect((await request(`${url}/v1/models/penguins/versions/2:predict`, { body: predictBody })).headers.get('x-model-version')).toBe('2');
      expect((await request(`${url}/v1/models/penguins/labels/stable:predict`, { body: predictBody })).headers.get('x-model-version')).toBe('1');
    }
  });

  test('a client request id is echoed, and answered by OIP infer as its id; :feedback takes it once', async () => {
    const r = await request(`${url}/v1/models/penguins:predict`, { body: predictBody, headers: { 'x-request-id': 'client-42' } });
    expect(r.headers.get('x-request-id')).toBe('client-42');
    const infer = await request(`${url}/v2/models/penguins/infer`, {
      body: { inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1], data: ['Dream'] }] },
      headers: { 'x-request-id': 'client-43' },
    });
    expect(infer.json.id).toBe('client-43');
    const feedback = (body: unknown) => request(`${url}/v1/models/penguins:feedback`, { body });
    expect(await feedback({ request_id: 'client-42', reward: 1 })).toMatchObject({ status: 200, json: { request_id: 'client-42', model_version: r.headers.get('x-model-version') } });
    expect(await feedback({ request_id: 'client-42', reward: 1 })).toMatchObject({
      status: 404,
      json: { error: 'model penguins has no record of request id "client-42" (unknown, already rewarded, or too old)' },
    });
    expect(await feedback({ request_id: 'nope', reward: 0.5 })).toMatchObject({ status: 404 });
    expect(await feedback({ request_id: 'client-43', reward: 1.5 })).toMatchObject({ status: 400, json: { error: '"reward" must be a number in [0, 1], got number 1.5' } });
    expect(await feedback({ request_id: 'client-43', reward: -0.1 })).toMatchObject({ status: 400 });
    expect(await feedback({ reward: 1 })).toMatchObject({ status: 400, json: { error: '"request_id" must be the x-request-id of a predict response, got none' } });
    expect(await feedback({ request_id: 'client-43', reward: 0 })).toMatchObject({ status: 200 });
    expect(await request(`${url}/v1/models/penguins/versions/1:feedback`, { body: { request_id: 'x', reward: 1 } })).toMatchObject({ status: 400 });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: predictBody, headers: { 'x-request-id': 'x'.repeat(200) } })).toMatchObject({ status: 400 });
    const metrics = (await request(`${url}/metrics`)).text;
    const rewarded = [...metrics.matchAll(/^mlp_serving_feedback_total\{model="penguins",version="\d"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(rewarded).toBe(2);
    expect(metrics).toMatch(/mlp_serving_requests_total\{model="penguins",version="",api="feedback",code="404"\} 2/);
  });
});

test('a Thompson bandit shifts traffic to the version with the better reward', async () => {
  const { url } = await serve(penguins({ traffic: { kind: 'bandit', algorithm: 'thompson', arms: [{ version: 1 }, { version: 2 }] } }));
  const random = createRng(5);
  const successRate: Record<string, number> = { '1': 0.2, '2': 0.8 };
  const late: Record<string, number> = { '1': 0, '2': 0 };
  for (let i = 0; i < 300; i++) {
    const r = await request(`${url}/v1/models/penguins:predict`, { body: predictBody });
    const version = r.headers.get('x-model-version')!;
    if (i >= 200) late[version]++;
    const reward = random() < successRate[version] ? 1 : 0;
    expect((await request(`${url}/v1/models/penguins:feedback`, { body: { request_id: r.headers.get('x-request-id'), reward } })).status).toBe(200);
  }
  // Of the last 100 requests, most go to version 2 (50 would mean no learning).
  expect(late['2']).toBeGreaterThan(75);
});

describe('hybrid static serving', () => {
  let url: string;
  let table: string;
  beforeAll(async () => {
    // BulkInferrer's columns and types (runtime/ml/write-predictions.ts), with answers the model would not give.
    table = path.join(root, 'predictions.parquet');
    const staging = path.join(root, 'predictions.jsonl');
    const entry = (id: string, cls: string, k: number) => ({ penguin_id: id, predicted_class: cls, predicted_class_id: k, probabilities: [0, 1, 2].map((j) => (j === k ? 1 : 0)) });
    await fs.promises.writeFile(staging, [entry('p-1', 'Chinstrap', 1), entry('p-2', 'Gentoo', 2)].map((e) => JSON.stringify(e)).join('\n'));
    const conn = await duckdb();
    await conn.run(
      `COPY (SELECT * FROM read_json(${sqlString(staging)}, columns = {penguin_id: 'VARCHAR', predicted_class: 'VARCHAR', predicted_class_id: 'INTEGER', probabilities: 'DOUBLE[]'})) TO ${sqlString(table)} (FORMAT parquet)`,
    );
    conn.closeSync();
    ({ url } = await serve(penguins({ policy: DEFAULT_POLICY, labels: {}, staticTable: { path: table, key: 'penguin_id' } })));
  });

  test('instances whose key the table holds are answered from it, the others by the model; hits and misses are counted', async () => {
    const r = await request(`${url}/v1/models/penguins:predict`, {
      body: { instances: [{ ...INSTANCE, penguin_id: 'p-2' }, { ...INSTANCE, penguin_id: 'unknown' }, INSTANCE, { ...INSTANCE, penguin_id: 'p-1' }] },
    });
    expect(r.status).toBe(200);
    const [fromTable, missed, noKey, fromTable2] = r.json.predictions;
    expect(fromTable).toEqual({ probabilities: [0, 0, 1], class_ids: [2], classes: ['Gentoo'] });
    expect(fromTable2).toEqual({ probabilities: [0, 1, 0], class_ids: [1], classes: ['Chinstrap'] });
    // The model's own answers: probabilities strictly between 0 and 1, the same for the same features.
    expect(missed.probabilities.every((p: number) => p > 0 && p < 1)).toBe(true);
    expect(noKey).toEqual(missed);
    // Columnar input and OIP carry the key as a column / tensor; a versioned request asks that version, not the table.
    const columnar = await request(`${url}/v1/models/penguins:predict`, { body: { inputs: { Island: ['Dream'], penguin_id: ['p-1'] } } });
    expect(columnar.json.outputs.classes).toEqual([['Chinstrap']]);
    const infer = await request(`${url}/v2/models/penguins/infer`, {
      body: { inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1], data: ['Dream'] }, { name: 'penguin_id', datatype: 'BYTES', shape: [1], data: ['p-2'] }] },
    });
    expect(infer.json.outputs.find((o: { name: string }) => o.name === 'classes').data).toEqual(['Gentoo']);
    const versioned = await request(`${url}/v1/models/penguins/versions/2:predict`, { body: { instances: [{ ...INSTANCE, penguin_id: 'p-1' }] } });
    expect(versioned.json.predictions[0].probabilities.every((p: number) => p > 0 && p < 1)).toBe(true);
    expect(await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ ...INSTANCE, penguin_id: { id: 1 } }] } })).toMatchObject({
      status: 400,
      json: { error: 'instances[0]: "penguin_id" must be a string or a number, got an object' },
    });
    const metrics = (await request(`${url}/metrics`)).text;
    expect(metrics).toContain('mlp_serving_static_table_hits_total{model="penguins"} 4');
    expect(metrics).toContain('mlp_serving_static_table_misses_total{model="penguins"} 2');
  });

  test('a table without the key column or predictions stops the start with the reason', async () => {
    await expect(serve(penguins({ staticTable: { path: table, key: 'entity' } }))).rejects.toThrow(`static table ${table} has no key column "entity"`);
  });
});

describe('sampled request logging', () => {
  test('sampled requests become JSON Lines records (features, prediction, _model_version, _request_id, _timestamp) in files written whole', async () => {
    const dir = path.join(root, 'request-log');
    const { server, url } = await serve(penguins({ policy: DEFAULT_POLICY, labels: {} }), { requestLog: { dir, sample: 1, maxFileBytes: 2000 } });
    const rows = penguinRows(12).map(({ Species: _, ...features }) => features);
    for (let i = 0; i < rows.length; i += 3) {
      expect((await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows.slice(i, i + 3) }, headers: { 'x-request-id': `r${i}` } })).status).toBe(200);
    }
    await server.close();
    const files = await fs.promises.readdir(dir);
    // 12 records of ~400 bytes over a 2000-byte limit: several files, none left aside.
    expect(files.length).toBeGreaterThan(1);
    expect(files.every((f) => /^requests-.*\.jsonl$/.test(f))).toBe(true);
    const logged = await sqlRows(`SELECT * FROM read_json_auto(${sqlString(path.join(dir, '*.jsonl'))}) ORDER BY _request_id, "Body Mass (g)"`);
    expect(logged).toHaveLength(12);
    expect(logged[0]).toMatchObject({ _model_version: 2n, _request_id: 'r0', predicted_class: expect.any(String), Island: rows[0].Island });
    expect(Object.keys(logged[0])).toEqual(expect.arrayContaining(['probabilities', 'predicted_class_id', '_timestamp', 'Beak Length (mm)']));
  });

  test('a sample of 0 writes nothing', async () => {
    const dir = path.join(root, 'request-log-none');
    const { server, url } = await serve(penguins({ policy: DEFAULT_POLICY, labels: {} }), { requestLog: { dir, sample: 0 } });
    await request(`${url}/v1/models/penguins:predict`, { body: predictBody });
    await server.close();
    expect(fs.existsSync(dir)).toBe(false);
  });
});
