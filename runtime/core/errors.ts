// User-facing errors: a UserError is printed by the CLI as one line (no stack trace unless --verbose) and
// exits non-zero. Throw it for anything the user can fix: bad input, bad config, missing files, wrong versions.

export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Raised when a database's stored schema version is newer than this runtime understands. */
export class SchemaVersionError extends UserError {
  constructor(readonly databaseVersion: number, readonly supportedVersion: number, where: string) {
    super(
      `metadata store ${where} has schema version ${databaseVersion}, newer than version ${supportedVersion} supported by this runtime; upgrade gcp-ml-platform or point --metadata at another database`,
    );
    this.name = 'SchemaVersionError';
  }
}
