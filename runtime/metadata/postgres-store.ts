// PostgreSQL backend of the metadata store (pg Pool): what Cloud SQL runs. Each transaction gets its own
// pooled client; deadlocks between concurrent writers are retried rather than surfaced.
import { Client, Pool, PoolClient, types as pgTypes } from 'pg';
import { UserError } from '../core/errors';
import { redactUrl } from '../core/redact-url';
import { metadataPassword } from './postgres-auth';
import { Connection, POSTGRES_DIALECT, Row, SqlMetadataStore, toPostgresPlaceholders, Tx } from './sql';
import { MetadataStoreError } from './store-error';
import type { MetadataStore } from './types';

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /** The password of each new connection when the URL has none. @default - as MLP_METADATA_AUTH says (postgres-auth.ts) */
  password?: () => Promise<string>;
  /** No MLMD schema is created or upgraded: a database without one is NoMetadataStoreError (masked URL). */
  mustExist?: boolean;
}

const INT8_OID = 20;
// Timestamps and COUNT(*) are BIGINT; as JS numbers they are exact up to 2^53, far beyond any ms timestamp.
const parseTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pgTypes.getTypeParser(oid, format as 'text')) as typeof pgTypes.getTypeParser,
};

/** deadlock_detected, serialization_failure: safe to run the whole transaction again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/** The server's or the connection's failures name the store (SQLSTATE kept as the error's code). */
const runner = (client: Pool | PoolClient, where: string): Tx => ({
  all: async (sql, params) => {
    try {
      return (await client.query(toPostgresPlaceholders(sql), params)).rows as Row[];
    } catch (error) {
      throw new MetadataStoreError(where, error as Error);
    }
  },
});

class PostgresConnection implements Connection {
  readonly dialect = POSTGRES_DIALECT;
  readonly read: Tx;

  constructor(
    private readonly pool: Pool,
    readonly where: string,
  ) {
    this.read = runner(pool, where);
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect().catch((error: Error) => {
        throw new MetadataStoreError(this.where, error);
      });
      const tx = runner(client, this.where);
      let broken: Error | undefined;
      try {
        await tx.all('BEGIN');
        const result = await fn(tx);
        await tx.all('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * pg's Client asking `password` for each connection's password. pg lets a connection string's missing password
 * override a `password` option, so the source is set on the client once it is built.
 */
function clientWithPassword(password: () => Promise<string>): typeof Client {
  return class extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config);
      (this as { password?: unknown }).password = password;
    }
  };
}

/** Connects to the PostgreSQL database at `url` and creates or upgrades its MLMD schema (unless `mustExist`). */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<MetadataStore> {
  const where = redactUrl(url);
  const password = options.password ?? metadataPassword(url);
  const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 10, types: parseTypes, ...(password ? { Client: clientWithPassword(password) } : {}) });
  // An idle client losing its server must not crash the process; the next query reports the problem.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new UserError(`cannot connect to metadata store ${where}: ${(error as Error).message}`);
  }
  return SqlMetadataStore.open(new PostgresConnection(pool, where), { create: !options.mustExist });
}
