// The error a metadata store operation fails with when the database itself refuses or cannot run a statement
// (disk full, I/O error, lost connection, constraint): one line naming the store and the database's cause and
// code, e.g. "metadata store /r/metadata.sqlite: database or disk is full (SQLITE_FULL)"; and the refusal of a
// node whose unique key another already holds, typed so that callers deciding between concurrent writers need not
// read its message.

import { UserError } from '../core/errors';

export class MetadataStoreError extends Error {
  /** The database's own code (SQLITE_FULL, PostgreSQL's SQLSTATE such as 53100), kept for retry decisions. */
  readonly code?: string;

  constructor(
    /** How the store is named in messages (path, or URL without password). */
    readonly where: string,
    /** The database's message, without the store's name. */
    override readonly cause: Error,
  ) {
    const code = (cause as { code?: unknown }).code;
    super(`metadata store ${where}: ${cause.message.split('\n')[0]}${typeof code === 'string' ? ` (${code})` : ''}`);
    this.name = 'MetadataStoreError';
    if (typeof code === 'string') this.code = code;
  }
}

/** A context or execution refused because one of its type already has its name (or external id): another writer won. */
export class NodeConflictError extends UserError {
  constructor(
    /** 'execution' or 'context'. */
    readonly label: string,
    readonly nodeType: string,
    readonly nodeName: string | undefined,
    externalId: string | undefined,
  ) {
    super(`${label} of type "${nodeType}" conflicts with an existing one (same name "${nodeName}" or external id "${externalId}")`);
    this.name = 'NodeConflictError';
  }
}
