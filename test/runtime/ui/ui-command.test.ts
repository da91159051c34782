// `mlp ui` as a user starts it: one ready line with the URL (port 0 picks a free one), loopback by default,
// configured by flags or environment variables, stopped cleanly by SIGTERM; bad flags are one-line errors.
// With --auth-token-file and --allowed-hosts: the ready line says where the token is (never the token), and
// the flags reach the server (a listed Host is answered, others refused; no token, no answer).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli, startCli } from '../../support/cli';
import { getWithHost } from '../../support/host-request';

let root: string;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-cli-'));
});

afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

/** Starts `mlp ui`, waits for its ready line and returns the URL it printed. */
async function startUiCommand(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = startCli(['ui', ...args], { env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    cli.child.stdout!.on('data', (d) => {
      out += d;
      const m = /^mlp ui: (http:\/\/\S+)/m.exec(out);
      if (m) resolve(m[1]);
    });
    cli.done.then((r) => reject(new Error(`mlp ui exited ${r.code}: ${r.stderr}`)));
  });
  return { ...cli, url };
}

test('prints the URL it listens on (loopback, a free port), answers, and stops on SIGTERM', async () => {
  const ui = await startUiCommand(['--root', root, '--port', '0']);
  try {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(ui.url).port)).toBeGreaterThan(0);
    const runs = await fetch(`${ui.url}/api/runs`);
    expect(await runs.json()).toEqual({ items: [], limit: 50, offset: 0 });
    expect((await fetch(`${ui.url}/api/runs`, { method: 'POST' })).status).toBe(405);
  } finally {
    ui.child.kill('SIGTERM');
  }
  const result = await ui.done;
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(`mlp ui: ${ui.url} (metadata sqlite:${path.join(root, 'metadata.sqlite')}, empty until the first run creates it)\n`);
  // Read-only: not even the empty store was created.
  expect(fs.existsSync(path.join(root, 'metadata.sqlite'))).toBe(false);
});

test('takes its configuration from environment variables', async () => {
  const ui = await startUiCommand([], { MLP_ROOT: root, MLP_UI_PORT: '0', MLP_UI_HOST: '127.0.0.1', MLP_SERVER_URL: 'http://127.0.0.1:9' });
  try {
    const info = await (await fetch(`${ui.url}/api/info`)).json();
    expect(info).toMatchObject({ metadata: `sqlite:${path.join(root, 'metadata.sqlite')}`, modelServer: 'http://127.0.0.1:9' });
  } finally {
    ui.child.kill('SIGTERM');
  }
  expect((await ui.done).code).toBe(0);
});

test('--auth-token-file and --allowed-hosts (also as MLP_UI_* variables): the token is asked for and never printed; listed Hosts are answered', async () => {
  const tokenFile = path.join(root, 'ui-token');
  await fs.promises.writeFile(tokenFile, 'cli-token-7d2e\n');
  const ui = await startUiCommand(['--root', root, '--port', '0', '--auth-token-file', tokenFile], { MLP_UI_ALLOWED_HOSTS: 'mlp-ui.example.com' });
  const port = Number(new URL(ui.url).port);
  try {
    expect((await getWithHost(port, '/api/runs')).status).toBe(401);
    const authorization = 'Bearer cli-token-7d2e';
    expect((await getWithHost(port, '/api/runs', { authorization })).status).toBe(200);
    expect((await getWithHost(port, '/api/runs', { authorization, host: 'mlp-ui.example.com' })).status).toBe(200);
    expect((await getWithHost(port, '/api/runs', { authorization, host: 'attacker.example' })).status).toBe(403);
  } finally {
    ui.child.kill('SIGTERM');
  }
  const result = await ui.done;
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(
    `mlp ui: ${ui.url} (metadata sqlite:${path.join(root, 'metadata.sqlite')}, empty until the first run creates it; token required: open ${ui.url}/?token=<content of ${tokenFile}> once)\n`,
  );
  expect(result.stdout + result.stderr).not.toContain('cli-token-7d2e');
});

test('bad flags are one-line errors', async () => {
  const cases: [string[], string][] = [
    [['--port', 'eighty'], '--port "eighty": expected a port number from 0 to 65535'],
    [['--server-url', 'localhost:8501'], '--server-url "localhost:8501": expected an http:// or https:// URL of a model server'],
    [['--allowed-hosts', 'mlp-ui.example.com:8080'], '--allowed-hosts: "mlp-ui.example.com:8080" is not a host name, a .domain, an IP address or *; list names without scheme or port, comma-separated'],
    [['--auth-token-file', path.join(root, 'no-token')], `cannot read --auth-token-file ${path.join(root, 'no-token')}: ENOENT: no such file or directory, open '${path.join(root, 'no-token')}'`],
    [['--root', 's3://bucket/root', '--metadata', `sqlite:${path.join(root, 'elsewhere.sqlite')}`], 'pipeline root s3://bucket/root: use a local folder, file:// or gs://'],
    [['--server-auth-token-file', path.join(root, 'no-token')], `cannot read --server-auth-token-file ${path.join(root, 'no-token')}: ENOENT: no such file or directory, open '${path.join(root, 'no-token')}'`],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(['ui', '--root', root, ...args])));
  results.forEach((result, i) => {
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`mlp: error: ${cases[i][1]}\n`);
  });
});
