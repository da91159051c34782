// The read-only commands (`mlp runs`, `artifacts`, `lineage`) never create a metadata store: a missing SQLite
// file, a SQLite database or a PostgreSQL database without the MLMD schema is "no metadata store at …" with
// exit 1 and nothing written. `mlp artifacts --type` with a type that is neither standard nor in the store is an
// error listing the known types, not an empty table.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { runCli } from '../../support/cli';
import { startPostgres, type StartedPostgres } from '../../support/postgres';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-read-only-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

function expectNoStore(r: { code: number | null; stderr: string; stdout: string }, where: string): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`mlp: error: no metadata store at ${where}: nothing has run there yet\n`);
}

test('runs, artifacts and lineage on a root that does not exist: one line, exit 1, no folder created', async () => {
  const root = path.join(dir, 'nonexistent');
  for (const args of [['runs'], ['artifacts'], ['lineage', '1']]) {
    expectNoStore(await runCli([...args, '--root', root]), path.join(root, 'metadata.sqlite'));
  }
  expect(fs.existsSync(root)).toBe(false);
}, 60_000);

test('a SQLite database without the MLMD schema is no store, and stays without one', async () => {
  const file = path.join(dir, 'empty.sqlite');
  new Database(file).close();
  expectNoStore(await runCli(['runs', '--metadata', `sqlite:${file}`]), file);
  const db = new Database(file, { readonly: true });
  expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([]);
  db.close();
}, 60_000);

describe('PostgreSQL', () => {
  let pg: StartedPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });

  test('a database without the MLMD schema is "no metadata store at <masked URL>", and no table is created', async () => {
    const r = await runCli(['artifacts', '--metadata', pg.url]);
    expectNoStore(r, pg.url.replace(':mlp-test@', ':***@'));
    expect(r.stderr).not.toContain('mlp-test');
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      expect((await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows).toEqual([]);
    } finally {
      await client.end();
    }
  }, 60_000);
});

test('artifacts --type: a misspelt type lists the known ones; a standard type with no artifacts yet is an empty list', async () => {
  const root = path.join(dir, 'root');
  expect((await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=5'])).code).toBe(0);
  const typo = await runCli(['artifacts', '--root', root, '--type', 'Modle']);
  expect(typo.code).toBe(1);
  expect(typo.stderr).toMatch(/^mlp: error: --type Modle: unknown artifact type \(known: [^)]*\bExamples\b[^)]*\bModel\b[^)]*\)\n$/);
  const model = await runCli(['artifacts', '--root', root, '--type', 'Model', '--json']);
  expect(model.code).toBe(0);
  expect(JSON.parse(model.stdout)).toEqual([]);
  const examples = await runCli(['artifacts', '--root', root, '--type', 'Examples', '--json']);
  expect(JSON.parse(examples.stdout).length).toBeGreaterThan(0);
}, 120_000);
