// mlp ui on a PostgreSQL database writes nothing there: a database without the MLMD schema is shown as an empty
// store and no table is created, until a run creates the schema and the next request reads it; a database with
// an older schema is refused in one line rather than upgraded.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { openMetadataStore } from '../../../runtime/metadata';
import { TypeKind } from '../../../runtime/metadata/types';
import { CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';
import { usePostgres } from '../../support/postgres';
import { startUi } from './helpers';

const freshDatabase = usePostgres('ui_store');
let root: string;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-pg-'));
});
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const tables = (url: string) => query(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");

test('a database without the MLMD schema is shown empty, gets no table, and is read once a run creates the schema', async () => {
  const url = await freshDatabase();
  const ui = await startUi(url, {}, { root });
  try {
    expect(ui.server.waitingForStore).toBe(true);
    expect((await ui.get('/api/runs')).body).toEqual({ items: [], limit: 50, offset: 0 });
    expect((await ui.get('/api/pipelines')).body).toEqual([]);
    expect((await ui.get('/api/artifacts?type=Examples')).body).toEqual({ items: [], limit: 50, offset: 0, total: 0 });
    expect((await ui.get('/api/runs/no-such-run')).body).toEqual({ error: 'no run "no-such-run"' });
    expect(await tables(url)).toEqual([]);

    const store = await openMetadataStore(url);
    try {
      await store.putType({ kind: TypeKind.CONTEXT, name: CONTEXT_RUN });
      await store.putContexts([{ type: CONTEXT_RUN, name: 'first-run', customProperties: { pipeline_name: 'p', state: 'RUNNING' } }]);
    } finally {
      await store.close();
    }
    expect((await ui.get('/api/runs')).body.items).toEqual([{ runId: 'first-run', pipeline: 'p', state: 'RUNNING' }]);
    expect(ui.server.waitingForStore).toBe(false);
  } finally {
    await ui.server.close();
  }
}, 60_000);

test('a database with an older schema is refused in one line naming the upgrade, and stays at its version', async () => {
  const url = await freshDatabase();
  await query(url, await fs.promises.readFile(path.join(__dirname, '../../fixtures/metadata/mlmd-v9.postgres.sql'), 'utf8'));
  await expect(startUi(url, {}, { root })).rejects.toThrow(
    `metadata store ${url.replace(':mlp-test@', ':***@')} has schema version 9, older than version 10; a read-only command does not upgrade it: run a pipeline on it (mlp run) to upgrade it first`,
  );
  expect(await query(url, 'SELECT schema_version FROM MLMDEnv')).toEqual([{ schema_version: 9 }]);
}, 60_000);
