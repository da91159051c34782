// SQLite backend of the metadata store (better-sqlite3, WAL): the embedded default, a file under the
// pipeline root. Several processes may write the same file: write transactions take the lock up front
// (BEGIN IMMEDIATE) and wait for it (busy_timeout) instead of failing.
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { UserError } from '../core/errors';
import { NoMetadataStoreError } from './schema';
import { Connection, Row, SQLITE_DIALECT, SqlMetadataStore, Tx } from './sql';
import { MetadataStoreError } from './store-error';
import type { MetadataStore } from './types';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write transaction (default 60 s). */
  busyTimeoutMs?: number;
  /** Neither the file nor its schema is created or upgraded: a missing one is NoMetadataStoreError. */
  mustExist?: boolean;
}

/** SQLite's own failures (SQLITE_FULL, SQLITE_IOERR, ...) name the store; anything else passes unchanged. */
function asStoreError(where: string, error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? new MetadataStoreError(where, error as Error) : error;
}

/** better-sqlite3 binds neither booleans nor undefined. */
const bindable = (value: unknown): unknown => (typeof value === 'boolean' ? (value ? 1 : 0) : value === undefined ? null : value);

export class SqliteConnection implements Connection {
  readonly dialect = SQLITE_DIALECT;
  readonly read: Tx = { all: (sql, params) => this.serialized(async () => this.run(sql, params)) };
  private readonly statements = new Map<string, Database.Statement>();
  // One connection serves every caller of this process: a transaction spans awaits, so all work on the
  // connection is queued to keep other callers' statements out of an open transaction.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    readonly where: string,
  ) {}

  private run(sql: string, params: unknown[] = []): Row[] {
    let statement = this.statements.get(sql);
    if (!statement) {
      // Multi-row inserts make many distinct texts; keep the cache bounded.
      if (this.statements.size > 500) this.statements.clear();
      try {
        statement = this.db.prepare(sql);
      } catch (error) {
        throw asStoreError(this.where, error);
      }
      this.statements.set(sql, statement);
    }
    const bound = params.map(bindable);
    try {
      if (statement.reader) return statement.all(...bound) as Row[];
      statement.run(...bound);
      return [];
    } catch (error) {
      throw asStoreError(this.where, error);
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      this.run('BEGIN IMMEDIATE');
      let ended = false;
      // A statement of this unit of work must never run outside its transaction, where it would autocommit
      // on its own: not after SQLite rolled the transaction back by itself (SQLITE_FULL, IOERR, NOMEM, ...)
      // while the caller went on, nor from an async branch still running after the transaction ended.
      const tx: Tx = {
        all: async (sql, params) => {
          if (ended || !this.db.inTransaction) {
            throw new Error(`metadata store ${this.where}: transaction already ended (rolled back or committed); statement not run`);
          }
          return this.run(sql, params);
        },
      };
      try {
        const result = await fn(tx);
        this.run('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.run('ROLLBACK');
        throw error;
      } finally {
        ended = true;
      }
    });
  }

  close(): Promise<void> {
    return this.serialized(async () => {
      if (this.db.open) this.db.close();
    });
  }
}

/** Opens the SQLite file at `file` (or `:memory:`) and its MLMD schema, creating or upgrading them unless `mustExist`. */
export async function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Promise<MetadataStore> {
  const memory = file === ':memory:';
  const resolved = memory ? file : path.resolve(file);
  let db: Database.Database;
  try {
    if (!memory && !options.mustExist) {
      fs.mkdirSync(path.dirname(resolved), { recursive: true });
      fs.accessSync(path.dirname(resolved), fs.constants.W_OK);
    }
    db = new Database(resolved, { fileMustExist: !!options.mustExist });
  } catch (error) {
    if (options.mustExist && !fs.existsSync(resolved)) throw new NoMetadataStoreError(resolved);
    throw new UserError(`cannot open metadata store ${resolved}: ${(error as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 60_000}`);
    if (!memory) {
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL loses no committed transaction on an application crash, only on power loss.
      db.pragma('synchronous = NORMAL');
    }
  } catch (error) {
    db.close();
    throw new UserError(`cannot open metadata store ${resolved}: ${(error as Error).message}`);
  }
  return SqlMetadataStore.open(new SqliteConnection(db, resolved), { create: !options.mustExist });
}
