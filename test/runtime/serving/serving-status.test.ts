// The serving status extension (GET /mlp/v1/models[/{name}/serving]) over HTTP on real servers with a tiny
// linear model: a split's weights and the shares they give with the versions loaded now, a bandit's pulls
// and reward tallies after real predicts and :feedback calls, every label, a model without a policy, an
// unknown model, and the bearer token.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ModelConfig } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../../runtime/serving/model-server';
import { memoryLogger, publishVersion, request, writeLinearBundle } from './helpers';

let root: string;
let base: string;
const servers: ModelServer[] = [];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-status-'));
  const bundle = path.join(root, 'bundle');
  await writeLinearBundle(bundle);
  base = path.join(root, 'base');
  for (const v of [1, 2, 3]) await publishVersion(bundle, base, v);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

function linear(extra: Partial<ModelConfig>): ModelConfig {
  return { name: 'linear', basePath: base, policy: { kind: 'specific', versions: [1, 2] }, labels: { stable: 1, canary: 2, next: 3 }, ...extra };
}

async function serve(models: ModelConfig[], opts: Partial<ModelServerOptions> = {}): Promise<string> {
  const server = await startModelServer({ models, port: 0, pollSeconds: 0, logger: memoryLogger().logger, randomSeed: 7, ...opts });
  servers.push(server);
  return server.url;
}

const predict = (url: string, headers?: Record<string, string>) => request(`${url}/v1/models/linear:predict`, { body: { instances: [{ x: 1 }] }, headers });

describe('a split', () => {
  let url: string;
  beforeAll(async () => {
    const split = linear({
      traffic: {
        kind: 'split',
        arms: [
          { arm: { label: 'stable' }, weight: 3 },
          { arm: { version: 2 }, weight: 1 },
          { arm: { label: 'next' }, weight: 4 },
        ],
      },
    });
    url = await serve([split, { name: 'plain', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }]);
  });

  test("reports every label, each arm's weight and its share over the arms whose version is loaded", async () => {
    const status = await request(`${url}/mlp/v1/models/linear/serving`);
    expect(status.status).toBe(200);
    expect(status.json).toEqual({
      model: 'linear',
      versions: [
        { version: '2', state: 'AVAILABLE' },
        { version: '1', state: 'AVAILABLE' },
      ],
      labels: { stable: 1, canary: 2, next: 3 },
      traffic: {
        kind: 'split',
        sticky_header: 'x-request-key',
        arms: [
          { arm: 'stable', version: 1, weight: 3, share: 0.75 },
          { arm: '2', version: 2, weight: 1, share: 0.25 },
          // Version 3 is not loaded (the version policy keeps 1 and 2): its weight goes to the others.
          { arm: 'next', version: 3, weight: 4, share: 0 },
        ],
      },
    });
    // The shares are what requests get: nothing reaches version 3.
    const versions = await Promise.all(Array.from({ length: 40 }, async () => (await predict(url)).headers.get('x-model-version')));
    expect(new Set(versions)).toEqual(new Set(['1', '2']));
  });

  test('a model without a policy has traffic null; /mlp/v1/models lists every model', async () => {
    const all = await request(`${url}/mlp/v1/models`);
    expect(all.status).toBe(200);
    expect(all.json.models.map((m: { model: string }) => m.model)).toEqual(['linear', 'plain']);
    expect(all.json.models[1]).toEqual({ model: 'plain', versions: [{ version: '3', state: 'AVAILABLE' }], labels: {}, traffic: null });
    expect(all.json.models[0]).toEqual((await request(`${url}/mlp/v1/models/linear/serving`)).json);
  });

  test("an unknown model is a 404 naming it; TF Serving's own answers are unchanged", async () => {
    expect(await request(`${url}/mlp/v1/models/nope/serving`)).toMatchObject({ status: 404, json: { error: 'model "nope" is not served here' } });
    expect(await request(`${url}/mlp/v1/models/linear`)).toMatchObject({ status: 404, json: { error: 'Malformed request: GET /mlp/v1/models/linear' } });
    expect(await request(`${url}/mlp/v1/models/linear/serving`, { method: 'POST', body: {} })).toMatchObject({ status: 405 });
    expect((await request(`${url}/v1/models/linear`)).json).toEqual({
      model_version_status: ['2', '1'].map((version) => ({ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })),
    });
  });
});

test('a bandit reports pulls (times chosen), rewards (feedback count), their sum and mean per arm', async () => {
  const url = await serve([linear({ traffic: { kind: 'bandit', algorithm: 'thompson', arms: [{ version: 1 }, { label: 'canary' }] } })]);
  const pulls: Record<string, number> = { '1': 0, '2': 0 };
  let rewardSum = 0;
  let rewards = 0;
  for (let i = 0; i < 12; i++) {
    const r = await predict(url);
    const version = r.headers.get('x-model-version')!;
    pulls[version]++;
    // Only version 1's answers are rewarded (1, 0, 1, ...), so the canary arm has no mean yet.
    if (version === '1') {
      const reward = rewards % 2 === 0 ? 1 : 0;
      expect((await request(`${url}/v1/models/linear:feedback`, { body: { request_id: r.headers.get('x-request-id'), reward } })).status).toBe(200);
      rewards++;
      rewardSum += reward;
    }
  }
  // A request naming a version bypasses the bandit: no pull.
  expect((await request(`${url}/v1/models/linear/versions/2:predict`, { body: { instances: [{ x: 1 }] } })).status).toBe(200);
  expect(pulls['1']).toBeGreaterThan(0);
  const status = await request(`${url}/mlp/v1/models/linear/serving`);
  expect(status.json.traffic).toEqual({
    kind: 'bandit',
    algorithm: 'thompson',
    arms: [
      { arm: '1', version: 1, pulls: pulls['1'], rewards, reward_sum: rewardSum, mean_reward: rewardSum / rewards },
      { arm: 'canary', version: 2, pulls: pulls['2'], rewards: 0, reward_sum: 0, mean_reward: null },
    ],
  });
});

test('with a bearer token configured, the extension needs it', async () => {
  const url = await serve([linear({})], { authToken: 's3cret' });
  const none = await request(`${url}/mlp/v1/models/linear/serving`);
  expect(none).toMatchObject({ status: 401, json: { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' } });
  expect((await request(`${url}/mlp/v1/models`)).status).toBe(401);
  const withToken = await request(`${url}/mlp/v1/models/linear/serving`, { headers: { authorization: 'Bearer s3cret' } });
  expect(withToken).toMatchObject({ status: 200, json: { model: 'linear', traffic: null } });
});
