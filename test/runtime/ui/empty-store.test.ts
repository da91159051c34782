// mlp ui on a store with nothing in it: a SQLite file (or its schema) that does not exist yet is not created (the
// UI writes nothing), every list is empty, every id is a 404 with a message, writes are refused with 405, malformed
// parameters are 400s — and once a run creates the file, the next request reads it.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { openMetadataStore } from '../../../runtime/metadata';
import { CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';
import { TypeKind } from '../../../runtime/metadata/types';
import { startUi, type Ui } from './helpers';

let dir: string;
let file: string;
let ui: Ui;

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-empty-'));
  file = path.join(dir, 'metadata.sqlite');
  ui = await startUi(`sqlite:${file}`);
});

afterAll(async () => {
  await ui.server.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('a store that does not exist yet is shown empty and not created', async () => {
  expect(ui.server.waitingForStore).toBe(true);
  expect((await ui.get('/api/info')).body).toMatchObject({ metadata: `sqlite:${file}`, backend: 'sqlite', schemaVersion: 10, modelServer: null });
  expect((await ui.get('/api/runs')).body).toEqual({ items: [], limit: 50, offset: 0 });
  expect((await ui.get('/api/pipelines')).body).toEqual([]);
  expect((await ui.get('/api/artifact-types')).body).toEqual([]);
  expect((await ui.get('/api/artifacts?type=Examples')).body).toEqual({ items: [], limit: 50, offset: 0, total: 0 });
  expect((await ui.get('/api/models')).body).toEqual({ items: [], limit: 50, offset: 0 });
  expect(fs.existsSync(file)).toBe(false);
});

test.each([
  ['/api/runs/no-such-run', 'no run "no-such-run"'],
  ['/api/runs/no-such-run/log', 'no run "no-such-run"'],
  ['/api/runs/no-such-run/nodes/trainer', 'no run "no-such-run"'],
  ['/api/runs/no-such-run/nodes/trainer/log', 'no run "no-such-run"'],
  ['/api/artifacts/42', 'no artifact with id 42'],
  ['/api/artifacts/abc', 'no artifact with id "abc"'],
  ['/api/artifacts/42/lineage', 'no artifact with id 42'],
  ['/api/artifacts/42/statistics', 'no artifact with id 42'],
  ['/api/artifacts/42/anomalies', 'no artifact with id 42'],
  ['/api/artifacts/42/evaluation', 'no artifact with id 42'],
  ['/api/artifacts/42/tuning', 'no artifact with id 42'],
  ['/api/statistics/compare?left=1:train&right=2:train', 'no artifact with id 1'],
  ['/api/nothing-here', 'no API endpoint /api/nothing-here'],
])('GET %s is a 404 with a message', async (url, message) => {
  const answer = await ui.get(url);
  expect(answer.status).toBe(404);
  expect(answer.type).toMatch(/^application\/json/);
  expect(answer.body).toEqual({ error: message });
});

test.each([
  ['/api/runs?limit=0', 'limit=0: expected a whole number from 1 to 500'],
  ['/api/runs?limit=100000', 'limit=100000: expected a whole number from 1 to 500'],
  ['/api/artifacts?offset=-1', expect.stringContaining('offset=-1')],
  ['/api/artifacts?state=ALIVE', expect.stringContaining('state=ALIVE: expected one of UNKNOWN, PENDING, LIVE')],
  ['/api/statistics/compare?left=7', expect.stringContaining('left=7: expected <statistics artifact id>:<split>')],
  ['/api/runs/%E0%A4%A', expect.stringContaining('malformed URL escape')],
])('GET %s is a 400 naming the parameter', async (url, message) => {
  const answer = await ui.get(url);
  expect(answer.status).toBe(400);
  expect(answer.body).toEqual({ error: message });
});

test.each(['POST', 'PUT', 'PATCH', 'DELETE'])('%s is refused: the UI is read-only', async (method) => {
  for (const url of ['/api/runs', '/api/artifacts/1', '/']) {
    const answer = await ui.request(url, method);
    expect(answer.status).toBe(405);
    expect(answer.body.error).toContain('read-only');
  }
  const res = await fetch(`${ui.server.url}/api/runs`, { method });
  expect(res.headers.get('allow')).toBe('GET, HEAD');
});

test('the front end and its chart library are served by the app itself', async () => {
  const page = await ui.get('/');
  expect(page.status).toBe(200);
  expect(page.type).toMatch(/^text\/html/);
  expect(page.body).toContain('<script src="/static/app.js"');
  expect(page.body).not.toMatch(/https?:\/\//);
  const chart = await ui.get('/static/chart.umd.min.js');
  expect(chart.status).toBe(200);
  expect(chart.body).toContain('Chart.js v4.6.1');
  for (const asset of ['/static/app.js', '/static/app.css']) expect((await ui.get(asset)).status).toBe(200);
  const missing = await ui.get('/static/../../package.json');
  expect(missing.status).toBe(404);
  const head = await fetch(`${ui.server.url}/`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-security-policy')).toContain("default-src 'self'");
});

test('once a run creates the store, the next request reads it', async () => {
  const store = await openMetadataStore(`sqlite:${file}`);
  try {
    await store.putType({ kind: TypeKind.CONTEXT, name: CONTEXT_RUN });
    await store.putContexts([{ type: CONTEXT_RUN, name: 'first-run', customProperties: { pipeline_name: 'p', state: 'RUNNING' } }]);
  } finally {
    await store.close();
  }
  expect((await ui.get('/api/runs')).body.items).toEqual([{ runId: 'first-run', pipeline: 'p', state: 'RUNNING' }]);
  expect(ui.server.waitingForStore).toBe(false);
});

test('a SQLite file without the MLMD schema is shown empty too, and gets no table', async () => {
  const empty = path.join(dir, 'empty.sqlite');
  new Database(empty).close();
  const other = await startUi(`sqlite:${empty}`);
  try {
    expect(other.server.waitingForStore).toBe(true);
    expect((await other.get('/api/runs')).body).toEqual({ items: [], limit: 50, offset: 0 });
  } finally {
    await other.server.close();
  }
  const db = new Database(empty, { readonly: true });
  try {
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([]);
  } finally {
    db.close();
  }
});
