// mlp serve answers only Host names it serves (DNS rebinding: a page on attacker.example resolving to the
// server's address sends `Host: attacker.example`): a generic 403 before routing, for every path including
// the health checks. IP literals are answered, so Kubernetes probes (Host: the pod IP) work on a server
// bound to 0.0.0.0; in-cluster callers use the Service's names, which ModelServing passes as
// --allowed-hosts. As a process: the flag is parsed, and a bad entry is a one-line error. The base path
// holds no version yet: the server is live (what the Host check guards is the same for every route).

import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HOST_REFUSED_MESSAGE } from '../../../runtime/core/allowed-hosts';
import type { ModelConfig } from '../../../runtime/serving/config';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { runCli } from '../../support/cli';
import { getWithHost } from '../../support/host-request';
import { memoryLogger, startServeCli } from './helpers';

let root: string;
let base: string;
const servers: ModelServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-hosts-'));
  base = path.join(root, 'base');
  await fs.promises.mkdir(base);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.promises.rm(root, { recursive: true, force: true });
});

const linear: ModelConfig = { name: 'linear', basePath: '', policy: DEFAULT_POLICY, labels: {} };

async function serve(allowedHosts?: string[]): Promise<number> {
  const server = await startModelServer({ models: [{ ...linear, basePath: base }], port: 0, pollSeconds: 0, logger: memoryLogger().logger, allowedHosts });
  servers.push(server);
  return server.port;
}

const PATHS = ['/v1/models/linear', '/v2/health/live', '/v2/health/ready', '/metrics', '/no-such-path'];

test('a Host it does not serve gets a generic 403 on every path, health checks included', async () => {
  const port = await serve();
  for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', '']) {
    for (const urlPath of PATHS) {
      const answer = await getWithHost(port, urlPath, { host });
      expect({ host, urlPath, status: answer.status, body: JSON.parse(answer.body) }).toEqual({ host, urlPath, status: 403, body: { error: HOST_REFUSED_MESSAGE } });
    }
  }
});

test('localhost names and IP literals are answered — a kubelet probe sends the pod IP', async () => {
  const port = await serve();
  for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, '10.52.3.17:8501', '[fd00:10:52::3]:8501']) {
    expect({ host, status: (await getWithHost(port, '/v2/health/live', { host })).status }).toEqual({ host, status: 200 });
  }
});

test('allowedHosts adds the names in-cluster callers use; * answers any Host', async () => {
  const port = await serve(['models', 'models.serving', 'models.serving.svc', 'models.serving.svc.cluster.local']);
  for (const host of ['models:8501', 'models.serving:8501', 'models.serving.svc.cluster.local:8501', 'MODELS.SERVING.SVC.CLUSTER.LOCAL.']) {
    expect({ host, status: (await getWithHost(port, '/v2/health/live', { host })).status }).toEqual({ host, status: 200 });
  }
  expect((await getWithHost(port, '/v2/health/live', { host: 'other.serving.svc.cluster.local' })).status).toBe(403);
  const any = await serve(['*']);
  expect((await getWithHost(any, '/v2/health/live', { host: 'attacker.example' })).status).toBe(200);
});

test('mlp serve --allowed-hosts: listed names are answered, others refused; a bad entry is a one-line error', async () => {
  const { child, done, ready } = await startServeCli(['--model-base-path', base, '--model-name', 'linear', '--port', '0', '--poll-seconds', '0', '--allowed-hosts', 'models.example.com, .corp.example']);
  children.push(child);
  const port = Number(/:(\d+)$/.exec(ready)![1]);
  try {
    expect((await getWithHost(port, '/v2/health/live', { host: 'models.example.com' })).status).toBe(200);
    expect((await getWithHost(port, '/v2/health/live', { host: 'ml.corp.example:8501' })).status).toBe(200);
    expect((await getWithHost(port, '/v2/health/live', { host: 'attacker.example' })).status).toBe(403);
  } finally {
    child.kill('SIGTERM');
  }
  expect((await done).code).toBe(0);

  const bad = await runCli(['serve', '--model-base-path', base, '--model-name', 'linear', '--allowed-hosts', 'https://models.example.com']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toBe('mlp: error: --allowed-hosts: "https://models.example.com" is not a host name, a .domain, an IP address or *; list names without scheme or port, comma-separated\n');
});
