// Runs the metadata store suite on SQLite files in a temp dir.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { describeStoreSuite, SuiteBackend } from './store.suite';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-mlmd-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const withDb = <T>(address: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(address.slice('sqlite:'.length));
  try {
    return fn(db);
  } finally {
    db.close();
  }
};

const sqlite: SuiteBackend = {
  dialect: 'sqlite',
  freshAddress: async () => `sqlite:${path.join(dir, `store-${++n}`, 'metadata.sqlite')}`,
  exec: async (address, script) => {
    await fs.mkdir(path.dirname(address.slice('sqlite:'.length)), { recursive: true });
    withDb(address, (db) => db.exec(script));
  },
  query: async (address, sql) => withDb(address, (db) => db.prepare(sql).all() as Record<string, unknown>[]),
  where: (address) => address.slice('sqlite:'.length),
};

describeStoreSuite('sqlite', () => sqlite);
