// The ML Metadata (google/ml-metadata) relational schema, version 10, for SQLite and PostgreSQL: the
// CREATE TABLE / CREATE INDEX statements, MLMD's upgrade steps from older versions, and the code that
// creates or upgrades a database on open. Table, column and index names follow MLMD's
// metadata_source_query_config.cc so MLMD clients and SQL consoles find what they know.
import { SchemaVersionError, UserError } from '../core/errors';
import type { Connection, Dialect, Tx } from './sql';

export const SCHEMA_VERSION = 10;

/** Column types that differ between the two dialects (MLMD's SQLite vs PostgreSQL query configs). */
interface ColumnTypes {
  id: string;
  flag: string;
  kind: string;
  bool: string;
  bigint: string;
  /** PostgreSQL uses BIGINT where MLMD has INT: JS integers (e.g. ms timestamps) exceed 32 bits. */
  int: string;
  double: string;
  blob: string;
}

const COLUMN_TYPES: Record<Dialect['name'], ColumnTypes> = {
  sqlite: { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', flag: 'TINYINT(1)', kind: 'TINYINT(1)', bool: 'BOOLEAN', bigint: 'INT', int: 'INT', double: 'DOUBLE', blob: 'BLOB' },
  postgres: { id: 'SERIAL PRIMARY KEY', flag: 'BOOLEAN', kind: 'SMALLINT', bool: 'BOOLEAN', bigint: 'BIGINT', int: 'BIGINT', double: 'DOUBLE PRECISION', blob: 'BYTEA' },
};

/** The three property tables share one layout; `owner` is artifact_id, execution_id or context_id. */
function propertyTable(t: ColumnTypes, table: string, owner: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    ${owner} INT NOT NULL, name VARCHAR(255) NOT NULL, is_custom_property ${t.flag} NOT NULL,
    int_value ${t.int}, double_value ${t.double}, string_value TEXT, byte_value ${t.blob},
    proto_value ${t.blob}, bool_value ${t.bool},
    PRIMARY KEY (${owner}, name, is_custom_property))`;
}

/**
 * Artifact, Execution and Context share the node columns: external id and the two timestamps. The unique
 * (type_id, name) key is named as MLMD's MySQL/PostgreSQL sources name it for Artifact and Execution.
 */
function nodeTable(t: ColumnTypes, table: string, columns: string, nameNullable: boolean): string {
  const uniqueName = table === 'Context' ? '' : `CONSTRAINT Unique${table}TypeName `;
  return `CREATE TABLE IF NOT EXISTS ${table} (
    id ${t.id}, type_id INT NOT NULL, ${columns}
    name VARCHAR(255)${nameNullable ? '' : ' NOT NULL'}, external_id VARCHAR(255) UNIQUE,
    create_time_since_epoch ${t.bigint} NOT NULL DEFAULT 0,
    last_update_time_since_epoch ${t.bigint} NOT NULL DEFAULT 0,
    ${uniqueName}UNIQUE (type_id, name))`;
}

function tables(t: ColumnTypes): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS Type (
      id ${t.id}, name VARCHAR(255) NOT NULL, version VARCHAR(255), type_kind ${t.kind} NOT NULL,
      description TEXT, input_type TEXT, output_type TEXT, external_id VARCHAR(255) UNIQUE)`,
    `CREATE TABLE IF NOT EXISTS ParentType (
      type_id INT NOT NULL, parent_type_id INT NOT NULL, PRIMARY KEY (type_id, parent_type_id))`,
    `CREATE TABLE IF NOT EXISTS TypeProperty (
      type_id INT NOT NULL, name VARCHAR(255) NOT NULL, data_type INT NULL, PRIMARY KEY (type_id, name))`,
    nodeTable(t, 'Artifact', 'uri TEXT, state INT,', true),
    propertyTable(t, 'ArtifactProperty', 'artifact_id'),
    nodeTable(t, 'Execution', 'last_known_state INT,', true),
    propertyTable(t, 'ExecutionProperty', 'execution_id'),
    nodeTable(t, 'Context', '', false),
    propertyTable(t, 'ContextProperty', 'context_id'),
    `CREATE TABLE IF NOT EXISTS ParentContext (
      context_id INT NOT NULL, parent_context_id INT NOT NULL, PRIMARY KEY (context_id, parent_context_id))`,
    `CREATE TABLE IF NOT EXISTS Event (
      id ${t.id}, artifact_id INT NOT NULL, execution_id INT NOT NULL, type INT NOT NULL,
      milliseconds_since_epoch ${t.bigint}, CONSTRAINT UniqueEvent UNIQUE (artifact_id, execution_id, type))`,
    `CREATE TABLE IF NOT EXISTS EventPath (
      event_id INT NOT NULL, is_index_step ${t.flag} NOT NULL, step_index INT, step_key TEXT)`,
    `CREATE TABLE IF NOT EXISTS Association (
      id ${t.id}, context_id INT NOT NULL, execution_id INT NOT NULL, UNIQUE (context_id, execution_id))`,
    `CREATE TABLE IF NOT EXISTS Attribution (
      id ${t.id}, context_id INT NOT NULL, artifact_id INT NOT NULL, UNIQUE (context_id, artifact_id))`,
    // INTEGER as MLMD declares it (on SQLite the rowid alias); stores made with INT before open all the same.
    `CREATE TABLE IF NOT EXISTS MLMDEnv (schema_version INTEGER PRIMARY KEY)`,
  ];
}

/** MLMD's secondary indices (SQLite makes the property indices partial, as MLMD does). */
function indices(dialect: Dialect['name']): string[] {
  const partial = (column: string) => (dialect === 'sqlite' ? ` WHERE ${column} IS NOT NULL` : '');
  const list: [string, string, string][] = [
    ['idx_artifact_uri', 'Artifact', 'uri'],
    ['idx_artifact_create_time_since_epoch', 'Artifact', 'create_time_since_epoch'],
    ['idx_artifact_last_update_time_since_epoch', 'Artifact', 'last_update_time_since_epoch'],
    ['idx_event_execution_id', 'Event', 'execution_id'],
    ['idx_parentcontext_parent_context_id', 'ParentContext', 'parent_context_id'],
    ['idx_type_name', 'Type', 'name'],
    ['idx_execution_create_time_since_epoch', 'Execution', 'create_time_since_epoch'],
    ['idx_execution_last_update_time_since_epoch', 'Execution', 'last_update_time_since_epoch'],
    ['idx_context_create_time_since_epoch', 'Context', 'create_time_since_epoch'],
    ['idx_context_last_update_time_since_epoch', 'Context', 'last_update_time_since_epoch'],
    ['idx_eventpath_event_id', 'EventPath', 'event_id'],
    ['idx_type_external_id', 'Type', 'external_id'],
    ['idx_artifact_external_id', 'Artifact', 'external_id'],
    ['idx_execution_external_id', 'Execution', 'external_id'],
    ['idx_context_external_id', 'Context', 'external_id'],
  ];
  const statements = list.map(([name, table, column]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${column})`);
  for (const [prefix, table] of [['artifact', 'ArtifactProperty'], ['execution', 'ExecutionProperty'], ['context', 'ContextProperty']]) {
    for (const [suffix, column] of [['int', 'int_value'], ['double', 'double_value'], ['string', 'string_value']]) {
      statements.push(
        `CREATE INDEX IF NOT EXISTS idx_${prefix}_property_${suffix} ON ${table} (name, is_custom_property, ${column})${partial(column)}`,
      );
    }
  }
  // Not in MLMD (its C++ layer checks before inserting): makes get-or-create of types race-free across
  // processes. COALESCE because a NULL version would never collide in a plain unique index.
  statements.push(`CREATE UNIQUE INDEX IF NOT EXISTS idx_type_name_version_kind ON Type (name, COALESCE(version, ''), type_kind)`);
  return statements;
}

/** The statements that create an empty version-10 database. */
export function createSchemaStatements(dialect: Dialect['name']): string[] {
  return [...tables(COLUMN_TYPES[dialect]), ...indices(dialect), `INSERT INTO MLMDEnv (schema_version) VALUES (${SCHEMA_VERSION})`];
}

/**
 * MLMD's migration schemes: key N upgrades a version N-1 database to version N. v10 added proto_value and
 * bool_value to the three property tables (MLMD does exactly these ALTER TABLEs).
 */
const MIGRATIONS: Record<number, (t: ColumnTypes) => string[]> = {
  10: (t) =>
    ['ArtifactProperty', 'ExecutionProperty', 'ContextProperty'].flatMap((table) => [
      `ALTER TABLE ${table} ADD COLUMN proto_value ${t.blob}`,
      `ALTER TABLE ${table} ADD COLUMN bool_value ${t.bool}`,
    ]),
};

/** Oldest version this runtime can upgrade from. */
export const OLDEST_UPGRADABLE_VERSION = Math.min(...Object.keys(MIGRATIONS).map(Number)) - 1;

async function storedVersion(tx: Tx, dialect: Dialect): Promise<number | undefined> {
  if ((await tx.all(dialect.tableExistsSql, ['mlmdenv'])).length === 0) {
    if ((await tx.all(dialect.tableExistsSql, ['type'])).length > 0) return 0;
    return undefined;
  }
  const rows = await tx.all('SELECT MAX(schema_version) AS v FROM MLMDEnv');
  return rows[0]?.v == null ? 0 : Number(rows[0].v);
}

/** What a reader is told about a store that does not exist (a run creates it); the UI catches it to wait for one. */
export class NoMetadataStoreError extends UserError {
  constructor(where: string) {
    super(`no metadata store at ${where}: nothing has run there yet`);
    this.name = 'NoMetadataStoreError';
  }
}

function tooOldError(version: number, where: string): UserError {
  return new UserError(
    `metadata store ${where} has schema version ${version}; this runtime upgrades versions ${OLDEST_UPGRADABLE_VERSION} to ${SCHEMA_VERSION - 1} only (use an MLMD release to upgrade it first)`,
  );
}

/**
 * Creates the schema on first use or upgrades an older one, in one transaction under the dialect's schema lock
 * so that two processes opening a new database at once both succeed. A newer version is refused. With `create`
 * false (a reader's open: mlp ui, runs, artifacts, lineage) nothing is written: no schema is
 * NoMetadataStoreError and an older one is refused, since the version is for the pipelines writing there to choose.
 */
export async function ensureSchema(conn: Connection, opts: { create: boolean } = { create: true }): Promise<void> {
  const current = await storedVersion(conn.read, conn.dialect);
  if (current === SCHEMA_VERSION) return;
  if (current !== undefined && current > SCHEMA_VERSION) throw new SchemaVersionError(current, SCHEMA_VERSION, conn.where);
  if (!opts.create) {
    if (current === undefined) throw new NoMetadataStoreError(conn.where);
    if (current < OLDEST_UPGRADABLE_VERSION) throw tooOldError(current, conn.where);
    throw new UserError(
      `metadata store ${conn.where} has schema version ${current}, older than version ${SCHEMA_VERSION}; a read-only command does not upgrade it: run a pipeline on it (mlp run) to upgrade it first`,
    );
  }
  await conn.transaction(async (tx) => {
    if (conn.dialect.schemaLockSql) await tx.all(conn.dialect.schemaLockSql);
    // Re-read under the lock: another process may have created or upgraded the schema meanwhile.
    const version = await storedVersion(tx, conn.dialect);
    if (version === undefined) {
      for (const statement of createSchemaStatements(conn.dialect.name)) await tx.all(statement);
      return;
    }
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) throw new SchemaVersionError(version, SCHEMA_VERSION, conn.where);
    if (version < OLDEST_UPGRADABLE_VERSION) throw tooOldError(version, conn.where);
    for (let target = version + 1; target <= SCHEMA_VERSION; target++) {
      for (const statement of MIGRATIONS[target](COLUMN_TYPES[conn.dialect.name])) await tx.all(statement);
    }
    for (const statement of indices(conn.dialect.name)) await tx.all(statement);
    await tx.all('UPDATE MLMDEnv SET schema_version = ?', [SCHEMA_VERSION]);
  });
}
