// The error a metadata store operation fails with when the database itself refuses or cannot run a statement
// (disk full, I/O error, lost connection, constraint): one line naming the store and the database's cause and
// code, e.g. "metadata store /r/metadata.sqlite: database or disk is full (SQLITE_FULL)".

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
