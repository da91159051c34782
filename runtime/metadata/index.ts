// Entry point of the metadata store: parses a store address (`sqlite:PATH`, a .sqlite/.db path, or
// `postgres://...`) and opens the matching backend, creating or upgrading the MLMD schema on first use.
import { UserError } from '../core/errors';
import { redactUrl } from '../core/redact-url';
import type { MetadataStore } from './types';

export * from './types';
export { MetadataStoreError, NodeConflictError } from './store-error';
export { NoMetadataStoreError, SCHEMA_VERSION } from './schema';

export type MetadataAddress = { backend: 'sqlite'; path: string } | { backend: 'postgres'; url: string };

export interface OpenMetadataStoreOptions {
  /** SQLite: how long a writer waits for another process's write transaction (default 60 s). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connection pool size (default 10). */
  maxConnections?: number;
  /**
   * For readers (`mlp ui`, `runs`, `artifacts`, `lineage`): nothing is written. A store that does not exist (no
   * SQLite file, no MLMD schema in the database) is a NoMetadataStoreError, never created, and an older schema
   * is refused rather than upgraded (a pipeline run upgrades it).
   */
  mustExist?: boolean;
}

/**
 * `sqlite:PATH` (also `sqlite:///abs/path` and `sqlite::memory:`), a path ending in .sqlite, .sqlite3 or .db,
 * or a `postgres://` / `postgresql://` URL. Anything else is a UserError naming the address.
 */
export function parseMetadataAddress(address: string): MetadataAddress {
  if (/^postgres(ql)?:\/\//i.test(address)) return { backend: 'postgres', url: address };
  if (/^sqlite:/i.test(address)) {
    const rest = address.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (rest) return { backend: 'sqlite', path: rest };
  } else if (/\.(sqlite3?|db)$/i.test(address) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    return { backend: 'sqlite', path: address };
  }
  throw new UserError(
    `unknown metadata store address "${redactUrl(address)}": use sqlite:PATH, a path ending in .sqlite or .db, or a postgres://user:password@host/db URL`,
  );
}

/** Opens the store at `address`, creating the MLMD schema (version 10) or upgrading an older one, unless `mustExist`. */
export function openMetadataStore(address: string, opts: OpenMetadataStoreOptions = {}): Promise<MetadataStore> {
  const parsed = parseMetadataAddress(address);
  // Each backend (and its driver) is loaded when first opened: importing this module stays cheap for the
  // commands that never open a store, and a SQLite user never loads pg.
  if (parsed.backend === 'sqlite') {
    const { openSqliteStore } = require('./sqlite-store') as typeof import('./sqlite-store');
    return openSqliteStore(parsed.path, { busyTimeoutMs: opts.busyTimeoutMs, mustExist: opts.mustExist });
  }
  const { openPostgresStore } = require('./postgres-store') as typeof import('./postgres-store');
  return openPostgresStore(parsed.url, { maxConnections: opts.maxConnections, mustExist: opts.mustExist });
}
