// `mlp run` and `mlp ui` against a real PostgreSQL metadata store that checks passwords: the run summary, the
// UI's ready line and its /api/info name the store with its password masked, and nothing the run prints or logs
// holds the password; a password-less address logs in with PGPASSWORD (what a Kubernetes secretKeyRef sets in
// Argo and Composer pods).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli, startCli } from '../../support/cli';
import { startPostgres, type StartedPostgres } from '../../support/postgres';

let server: StartedPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-run-pw-'));
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every file under a folder, as text. */
function allText(folder: string): string {
  return fs.readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

test('the run summary masks the password, and neither output nor logs contain it', async () => {
  const password = decodeURIComponent(new URL(server.url).password);
  const root = path.join(dir, 'root');
  const r = await runCli(['run', 'spine-demo', '--root', root, '--metadata', server.url, '--param', 'count=5']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^ {2}metadata: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres$/m);
  expect(r.stdout + r.stderr).not.toContain(password);
  expect(allText(root)).not.toContain(password);
});

test('an address without a password logs in with PGPASSWORD; without it the error names the store masked', async () => {
  const url = new URL(server.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const root = path.join(dir, 'pgpassword');
  const ok = await runCli(['run', 'spine-demo', '--root', root, '--metadata', url.toString(), '--param', 'count=5'], { env: { PGPASSWORD: password } });
  expect(ok.code).toBe(0);
  const refused = await runCli(['runs', '--root', root, '--metadata', server.url.replace(password, 'wrong-password')], { env: { PGPASSWORD: '' } });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/^mlp: error: cannot connect to metadata store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres: /);
  expect(refused.stderr).not.toContain('wrong-password');
});

test('mlp ui shows the store with its password masked, in its ready line and /api/info', async () => {
  const password = decodeURIComponent(new URL(server.url).password);
  const ui = startCli(['ui', '--root', path.join(dir, 'root'), '--metadata', server.url, '--port', '0']);
  try {
    const ready = await new Promise<string>((resolve, reject) => {
      let out = '';
      ui.child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out);
      });
      void ui.done.then((r) => reject(new Error(`mlp ui exited ${r.code}: ${r.stderr}`)));
    });
    expect(ready).toMatch(/^mlp ui: http:\/\/127\.0\.0\.1:\d+ \(metadata postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\)\n$/);
    const url = /^mlp ui: (\S+)/.exec(ready)![1];
    const info = await (await fetch(`${url}/api/info`)).text();
    expect(JSON.parse(info).metadata).toMatch(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres$/);
    expect(info).not.toContain(password);
  } finally {
    ui.child.kill('SIGTERM');
  }
  expect((await ui.done).stdout).not.toContain(password);
});
