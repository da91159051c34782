// The SQLite connection's transactions stay all-or-nothing even when the unit of work misbehaves: no
// statement runs outside its transaction after SQLite rolled it back by itself or after it ended.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { SqliteConnection } from '../../../runtime/metadata/sqlite-store';

let dir: string;
let db: Database.Database;
let conn: SqliteConnection;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-sqlite-conn-'));
  db = new Database(path.join(dir, 'metadata.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x BLOB)');
  conn = new SqliteConnection(db, path.join(dir, 'metadata.sqlite'));
});
afterEach(async () => {
  await conn.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const count = () => db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number };

it('refuses statements after SQLite rolled the transaction back by itself, so none autocommits', async () => {
  // A full database makes SQLite roll back the whole transaction (not only the failing statement).
  db.pragma('cache_size = 2');
  db.pragma('max_page_count = 30');
  const blob = Buffer.alloc(10_000);
  let full: unknown;
  const work = conn.transaction(async (tx) => {
    await tx.all('INSERT INTO t VALUES (?)', [blob]);
    try {
      for (let i = 0; i < 100; i++) await tx.all('INSERT INTO t VALUES (?)', [blob]);
    } catch (error) {
      full = error; // a careless caller that carries on
    }
    await tx.all('INSERT INTO t VALUES (?)', [Buffer.alloc(1)]);
  });
  await expect(work).rejects.toThrow(/transaction already ended/);
  expect(full).toMatchObject({ code: 'SQLITE_FULL' });
  expect(db.inTransaction).toBe(false);
  expect(count()).toEqual({ n: 0 });
});

it('refuses statements of a transaction that already ended, e.g. from a straggling async branch', async () => {
  let kept: Parameters<Parameters<SqliteConnection['transaction']>[0]>[0] | undefined;
  await expect(
    conn.transaction(async (tx) => {
      kept = tx;
      await tx.all('INSERT INTO t VALUES (1)');
      throw new Error('step failed');
    }),
  ).rejects.toThrow('step failed');
  await expect(kept!.all('INSERT INTO t VALUES (2)')).rejects.toThrow(/transaction already ended/);
  // Nor does it slip into the next caller's transaction.
  await conn.transaction(async (tx) => {
    await expect(kept!.all('INSERT INTO t VALUES (3)')).rejects.toThrow(/transaction already ended/);
    await tx.all('INSERT INTO t VALUES (4)');
  });
  expect(db.prepare('SELECT x FROM t').all()).toEqual([{ x: 4 }]);
});
