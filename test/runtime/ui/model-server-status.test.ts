// The Models API and page with a live model server: real `mlp serve` servers (startModelServer) serving the
// pushed versions of a generated store with a 90/10 split or a bandit — every label and the traffic from the
// status extension — and a stand-in plain TF Serving server, which does not have the extension: versions and
// the asked-about labels, with a note that the traffic weights are not reported; and a server that requires a
// bearer token (the UI sends --server-auth-token-file's). The page is checked in
// Chromium (playwright-core); screenshots go to test-output/ui-screenshots/ (not committed).

import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { openBrowser } from '../../support/browser';
import { REPO_ROOT } from '../../support/cli';
import type { ModelConfig } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { memoryLogger, publishVersion, request, writeLinearBundle } from '../serving/helpers';
import { generateStore } from './generated-store';
import { startUi, type Ui } from './helpers';

let root: string;
let metadata: string;
let base: string;
let splitUrl: string;
let banditUrl: string;
let tfServing: http.Server;
let tfServingUrl: string;
const servers: ModelServer[] = [];
const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'ui-screenshots');
const uis: Ui[] = [];

async function serve(model: Partial<ModelConfig>): Promise<string> {
  const config: ModelConfig = { name: 'generated', basePath: base, policy: { kind: 'all' }, labels: { stable: 2, canary: 3 }, ...model };
  const server = await startModelServer({ models: [config], port: 0, pollSeconds: 0, logger: memoryLogger().logger, randomSeed: 3 });
  servers.push(server);
  return server.url;
}

/** A stand-in TF Serving: its status endpoints for version 3 labelled stable, 404 for anything else (as TF Serving answers paths outside its API, such as the extension's). */
function startTfServing(): Promise<http.Server> {
  const status = { model_version_status: [{ version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
  const server = http.createServer((req, res) => {
    const known = req.url === '/v1/models/generated' || req.url === '/v1/models/generated/labels/stable';
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known ? status : { error: `Could not find ${req.url}` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-live-'));
  metadata = `sqlite:${path.join(root, 'metadata.sqlite')}`;
  const store = await openMetadataStore(metadata);
  try {
    // Runs 1-3 push versions 1-3 of model "generated" to <root>/serving/generated/<version>.
    await generateStore(store, 3, root);
  } finally {
    await store.close();
  }
  base = path.join(root, 'serving', 'generated');
  const bundle = path.join(root, 'bundle');
  await writeLinearBundle(bundle);
  for (const v of [2, 3]) await publishVersion(bundle, base, v);
  splitUrl = await serve({
    traffic: {
      kind: 'split',
      arms: [
        { arm: { label: 'stable' }, weight: 9 },
        { arm: { label: 'canary' }, weight: 1 },
      ],
    },
  });
  banditUrl = await serve({ traffic: { kind: 'bandit', algorithm: 'ucb1', arms: [{ label: 'stable' }, { label: 'canary' }] } });
  // UCB1 tries each arm once first; version 2's answer is rewarded 1, version 3's 0.
  for (let i = 0; i < 2; i++) {
    const r = await request(`${banditUrl}/v1/models/generated:predict`, { body: { instances: [{ x: 1 }] } });
    const reward = r.headers.get('x-model-version') === '2' ? 1 : 0;
    expect((await request(`${banditUrl}/v1/models/generated:feedback`, { body: { request_id: r.headers.get('x-request-id'), reward } })).status).toBe(200);
  }
  tfServing = await startTfServing();
  tfServingUrl = `http://127.0.0.1:${(tfServing.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const ui of uis) await ui.server.close();
  for (const s of servers) await s.close();
  await new Promise((resolve) => tfServing?.close(resolve));
  await fs.promises.rm(root, { recursive: true, force: true });
});

/** A UI asking the model server at `url` about `labels`. */
async function uiFor(url: string, labels: string[] = []): Promise<Ui> {
  const ui = await startUi(metadata, { url, labels });
  uis.push(ui);
  return ui;
}

/** The live part of the one model the UI lists. */
async function liveOf(url: string, labels: string[] = []) {
  const page = (await (await uiFor(url, labels)).get('/api/models')).body;
  expect(page.serverUrl).toBe(url);
  expect(page.items.map((m: { name: string }) => m.name)).toEqual(['generated']);
  return page.items[0].live;
}

describe('API', () => {
  test('mlp serve with a split: versions, every label, and each arm with its weight and share', async () => {
    // Only "stable" is asked about: the extension reports every label anyway.
    expect(await liveOf(splitUrl, ['stable'])).toEqual({
      versions: [
        { version: '3', state: 'AVAILABLE' },
        { version: '2', state: 'AVAILABLE' },
      ],
      labels: { stable: '2', canary: '3' },
      traffic: {
        kind: 'split',
        stickyHeader: 'x-request-key',
        arms: [
          { arm: 'stable', version: '2', weight: 9, share: 0.9 },
          { arm: 'canary', version: '3', weight: 1, share: 0.1 },
        ],
      },
    });
  });

  test('mlp serve with a bandit: pulls, rewards and mean reward per arm', async () => {
    expect((await liveOf(banditUrl)).traffic).toEqual({
      kind: 'bandit',
      algorithm: 'ucb1',
      arms: [
        { arm: 'stable', version: '2', pulls: 1, rewards: 1, rewardSum: 1, meanReward: 1 },
        { arm: 'canary', version: '3', pulls: 1, rewards: 1, rewardSum: 0, meanReward: 0 },
      ],
    });
  });

  test('mlp serve without the model: the error of its TF Serving status endpoint', async () => {
    const server = await startModelServer({
      models: [{ name: 'other', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      port: 0,
      pollSeconds: 0,
      logger: memoryLogger().logger,
    });
    servers.push(server);
    expect(await liveOf(server.url, ['stable'])).toEqual({ versions: [], labels: {}, error: 'Could not find any versions of model generated' });
  });

  test('a server that requires a bearer token: without it the UI shows its 401, with --server-auth-token-file the status', async () => {
    const server = await startModelServer({
      models: [{ name: 'generated', basePath: base, policy: { kind: 'all' }, labels: { stable: 2 } }],
      port: 0,
      pollSeconds: 0,
      authToken: 'ui-secret',
      logger: memoryLogger().logger,
    });
    servers.push(server);
    expect(await liveOf(server.url)).toEqual({ versions: [], labels: {}, error: 'missing or wrong bearer token (Authorization: Bearer <token>)' });
    const ui = await startUi(metadata, { url: server.url, authToken: 'ui-secret' });
    uis.push(ui);
    expect((await ui.get('/api/models')).body.items[0].live).toEqual({
      versions: [
        { version: '3', state: 'AVAILABLE' },
        { version: '2', state: 'AVAILABLE' },
      ],
      labels: { stable: '2' },
      traffic: null,
    });
  });

  test('a plain TF Serving server: versions and the asked-about labels it knows, with a note and no traffic', async () => {
    expect(await liveOf(tfServingUrl, ['stable', 'canary'])).toEqual({
      versions: [{ version: '3', state: 'AVAILABLE' }],
      labels: { stable: '3' },
      note: 'this server does not report traffic weights',
    });
  });
});

test('in Chromium: the labels and the traffic bar and table of a split and a bandit, and the note of plain TF Serving', async () => {
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width: 1400, height: 900 });
    await fs.promises.mkdir(SCREENSHOTS, { recursive: true });
    const section = async (url: string, shot: string) => {
      await page.goto(`${(await uiFor(url, ['stable'])).server.url}/#/models`);
      const model = page.locator('main section[data-model="generated"]');
      await model.locator('p', { hasText: /^Serving now/ }).waitFor();
      await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
      return model;
    };

    const split = await section(splitUrl, 'models-split');
    const text = await split.innerText();
    expect(text).toContain('Labels: stable → version 2, canary → version 3');
    expect(text).toContain('Traffic: weighted split (sticky per x-request-key header)');
    expect(await split.locator('.traffic-bar span').allInnerTexts()).toEqual(['stable 90%', 'canary 10%']);
    expect(await split.locator('.traffic table tbody tr').allInnerTexts()).toEqual(['stable\t2\t9\t90%', 'canary\t3\t1\t10%']);

    const bandit = await section(banditUrl, 'models-bandit');
    expect(await bandit.innerText()).toContain('Traffic: ucb1 bandit');
    expect(await bandit.locator('.traffic table tbody tr').allInnerTexts()).toEqual(['stable\t2\t1\t1\t1\t1', 'canary\t3\t1\t1\t0\t0']);

    const plain = await section(tfServingUrl, 'models-tf-serving');
    expect(await plain.innerText()).toContain('Traffic: this server does not report traffic weights.');
    expect(await plain.locator('.traffic').count()).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
});
