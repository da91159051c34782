// The one implementation of MetadataStore over SQL, shared by the SQLite and PostgreSQL backends. Queries
// are written once with `?` placeholders; a small Dialect covers what differs (placeholders, integer
// lists, the schema lock), and each backend supplies a Connection that runs statements and transactions.
import { UserError } from '../core/errors';
import { decodeProto, decodeStruct, encodeStruct, isEncodedStruct, ProtoValue } from './mlmd-values';
import { encodeProperty, type ValueColumns } from './property-encoding';
import { ensureSchema, SCHEMA_VERSION } from './schema';
import { MetadataStoreError, NodeConflictError } from './store-error';
import {
  Artifact,
  ArtifactAndEvent,
  ArtifactFilter,
  ArtifactState,
  ClaimResult,
  Context,
  ContextFilter,
  Event,
  EventStep,
  EventType,
  Execution,
  ExecutionClaim,
  ExecutionFilter,
  ExecutionState,
  LineageDirection,
  LineageGraph,
  MetadataStore,
  Properties,
  PropertyType,
  PropertyValue,
  PutExecutionResult,
  StoredType,
  SYSTEM_TYPE_PREFIX,
  SystemBaseType,
  TypeDefinition,
  TypeKind,
} from './types';

export type Row = Record<string, unknown>;

/** A place to run statements: a connection outside a transaction, or an open transaction. */
export interface Tx {
  /** Runs one statement with `?` placeholders; returns its rows (none for statements without RETURNING). */
  all(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Returns a row when the table named by the parameter (lower case) exists. */
  readonly tableExistsSql: string;
  /** Run first in the schema transaction to keep concurrent creators apart (SQLite's BEGIN IMMEDIATE already does). */
  readonly schemaLockSql?: string;
  /**
   * Run in a transaction with a key (a claimed context, a type name) to keep writers of that key apart, for
   * the same reason (SQLite's BEGIN IMMEDIATE already serialises all writers).
   */
  readonly keyLockSql?: string;
  /** `column` is one of a list of integers bound as a single parameter (see integerList). */
  inIntegers(column: string): string;
  integerList(values: number[]): unknown;
  /** LIMIT parameter meaning "no limit" (for an offset without a limit). */
  readonly noLimit: unknown;
  /** Orders rows of a keyless table (EventPath) by insertion. */
  readonly insertionOrder: string;
  /**
   * The proto_value parameter for MLMD's base64 text of a serialized Any: SQLite keeps the text as MLMD's
   * string literal leaves it; PostgreSQL's BYTEA holds the bytes of that text.
   */
  protoColumn(base64: string): unknown;
}

export const SQLITE_DIALECT: Dialect = {
  name: 'sqlite',
  tableExistsSql: "SELECT name FROM sqlite_master WHERE type = 'table' AND lower(name) = ?",
  inIntegers: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  integerList: (values) => JSON.stringify(values),
  noLimit: -1,
  insertionOrder: 'rowid',
  protoColumn: (base64) => base64,
};

export const POSTGRES_DIALECT: Dialect = {
  name: 'postgres',
  tableExistsSql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
  // Any constant key works; this one spells "MLMD" so it is recognisable in pg_locks.
  schemaLockSql: 'SELECT pg_advisory_xact_lock(1296842052)',
  // The two-key form is a separate lock space from the schema lock's one-key form; keys that collide under
  // hashtext only make unrelated writers wait for each other's (short) transaction.
  keyLockSql: 'SELECT pg_advisory_xact_lock(1296842052, hashtext(?))',
  inIntegers: (column) => `${column} = ANY(?::bigint[])`,
  integerList: (values) => values,
  noLimit: null,
  insertionOrder: 'ctid',
  protoColumn: (base64) => Buffer.from(base64, 'latin1'),
};

/** `?` → `$1, $2, ...` (no statement here has a `?` inside a string literal). */
export function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** What a backend provides: statements outside a transaction (`read`) and serialisable units of work. */
export interface Connection {
  readonly dialect: Dialect;
  /** How the database is named in messages (path, or URL without password). */
  readonly where: string;
  readonly read: Tx;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const INPUT_EVENTS = [EventType.INPUT, EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT].join(', ');
const OUTPUT_EVENTS = [EventType.OUTPUT, EventType.DECLARED_OUTPUT, EventType.INTERNAL_OUTPUT].join(', ');

type Node = Artifact | Execution | Context;
type Encoded = [name: string, isCustom: boolean, ...values: ValueColumns];

/** The part of a node table that properties and filters need. */
interface PropertyOwner {
  label: 'artifact' | 'execution' | 'context';
  kind: TypeKind;
  propertyTable: string;
  owner: string;
  /** Column filtered by `state`, and the link table filtered by `contextId` (artifacts and executions). */
  stateColumn?: string;
  contextLink?: string;
}

/** What differs between Artifact, Execution and Context tables. */
interface NodeTable<N extends Node> extends PropertyOwner {
  table: string;
  /** Inserts without id are get-or-create by (type_id, name). */
  getOrCreate: boolean;
  /** Columns between type_id and name, and their values. */
  columns: string[];
  values(node: N): unknown[];
  fromRow(row: Row): Omit<N, 'type' | 'properties' | 'customProperties'>;
}

const optional = <K extends string>(key: K, value: unknown): { [P in K]?: string } =>
  (value == null ? {} : { [key]: String(value) }) as { [P in K]?: string };

const ARTIFACTS: NodeTable<Artifact> = {
  label: 'artifact',
  kind: TypeKind.ARTIFACT,
  table: 'Artifact',
  propertyTable: 'ArtifactProperty',
  owner: 'artifact_id',
  stateColumn: 'state',
  contextLink: 'Attribution',
  getOrCreate: false,
  columns: ['uri', 'state'],
  values: (a) => [a.uri, a.state],
  fromRow: (r) => ({ uri: String(r.uri ?? ''), state: Number(r.state ?? ArtifactState.UNKNOWN) as ArtifactState }),
};

const EXECUTIONS: NodeTable<Execution> = {
  label: 'execution',
  kind: TypeKind.EXECUTION,
  table: 'Execution',
  propertyTable: 'ExecutionProperty',
  owner: 'execution_id',
  stateColumn: 'last_known_state',
  contextLink: 'Association',
  getOrCreate: false,
  columns: ['last_known_state'],
  values: (e) => [e.lastKnownState],
  fromRow: (r) => ({ lastKnownState: Number(r.last_known_state ?? ExecutionState.UNKNOWN) as ExecutionState }),
};

const CONTEXTS: NodeTable<Context> = {
  label: 'context',
  kind: TypeKind.CONTEXT,
  table: 'Context',
  propertyTable: 'ContextProperty',
  owner: 'context_id',
  getOrCreate: true,
  columns: [],
  values: () => [],
  fromRow: (r) => ({ name: String(r.name) }),
};

const KIND_LABEL: Record<TypeKind, string> = { [TypeKind.ARTIFACT]: 'artifact', [TypeKind.EXECUTION]: 'execution', [TypeKind.CONTEXT]: 'context' };

/** A flag column: BOOLEAN on PostgreSQL, TINYINT(1) on SQLite. */
const isSet = (flag: unknown): boolean => flag === true || Number(flag) === 1;

/**
 * A stored property back to JS, reading the columns in MLMD's order. A string_value with MLMD's struct prefix
 * is a struct; proto_value is a serialized Any. Declared STRUCT properties that runtimes before MLMD's
 * encoding stored as JSON text still read as their structure.
 */
function decodeProperty(row: Row, declared: PropertyType | undefined, where: () => string): PropertyValue {
  if (row.int_value != null) return Number(row.int_value);
  if (row.double_value != null) return Number(row.double_value);
  if (row.string_value != null) {
    const text = String(row.string_value);
    if (isEncodedStruct(text)) return decodeStruct(text, where) as PropertyValue;
    if (declared === PropertyType.STRUCT) {
      try {
        return JSON.parse(text) as PropertyValue;
      } catch {
        throw new UserError(`${where()} is declared STRUCT but holds neither an MLMD struct nor JSON`);
      }
    }
    return text;
  }
  if (row.proto_value != null) return decodeProto(row.proto_value as string | Uint8Array, where);
  if (row.bool_value != null) return Boolean(row.bool_value);
  throw new UserError(`${where()} has no value in any value column`);
}

/** The condition matching one property value, whichever column it was stored in. */
function propertyCondition(value: PropertyValue): [string, unknown[]] {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? ['(P.int_value = ? OR P.double_value = ?)', [value, value]] : ['P.double_value = ?', [value]];
  }
  if (typeof value === 'boolean') return ['P.bool_value = ?', [value]];
  if (typeof value === 'string') return ['P.string_value = ?', [value]];
  if (value instanceof ProtoValue) throw new UserError('filtering on a proto property value is not supported');
  return ['P.string_value = ?', [encodeStruct(value, () => 'a property filter')]];
}

/** WHERE clauses and their parameters, kept in placeholder order. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  add(clause: string, ...params: unknown[]): void {
    this.clauses.push(clause);
    this.params.push(...params);
  }
  get sql(): string {
    return this.clauses.length ? ` WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

interface NodeFilter {
  ids?: number[];
  type?: string;
  state?: number | number[];
  contextId?: number;
  properties?: Properties;
  newestFirst?: boolean;
  limit?: number;
  offset?: number;
}

const asList = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);
const unique = (values: number[]): number[] => [...new Set(values)];

export class SqlMetadataStore implements MetadataStore {
  private readonly typesById = new Map<number, StoredType>();
  private readonly typeIdsByName = new Map<string, number>();

  private constructor(private readonly conn: Connection) {}

  /** Creates (when `create`) or upgrades the schema (see schema.ts) and returns the store. */
  static async open(conn: Connection, opts: { create: boolean } = { create: true }): Promise<SqlMetadataStore> {
    try {
      await ensureSchema(conn, opts);
    } catch (error) {
      await conn.close();
      // Not a database, a failed upgrade step, no permission to create tables: all for the user to fix.
      if (error instanceof UserError) throw error;
      const cause = error instanceof MetadataStoreError ? error.cause : (error as Error);
      throw new UserError(`cannot open metadata store ${conn.where}: ${cause.message}`);
    }
    return new SqlMetadataStore(conn);
  }

  get backend(): 'sqlite' | 'postgres' {
    return this.conn.dialect.name;
  }

  private get d(): Dialect {
    return this.conn.dialect;
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.conn.read.all('SELECT MAX(schema_version) AS v FROM MLMDEnv');
    return Number(rows[0]?.v ?? SCHEMA_VERSION);
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  // ---- types ----

  private async loadTypes(db: Tx, clause: string, params: unknown[]): Promise<StoredType[]> {
    const rows = await db.all(`SELECT id, name, version, type_kind, description FROM Type WHERE ${clause} ORDER BY id`, params);
    if (rows.length === 0) return [];
    const ids = this.d.integerList(rows.map((r) => Number(r.id)));
    const [props, parents] = await Promise.all([
      db.all(`SELECT type_id, name, data_type FROM TypeProperty WHERE ${this.d.inIntegers('type_id')}`, [ids]),
      db.all(`SELECT P.type_id, T.name FROM ParentType P JOIN Type T ON T.id = P.parent_type_id WHERE ${this.d.inIntegers('P.type_id')}`, [ids]),
    ]);
    return rows.map((r) => {
      const parent = parents.find((p) => Number(p.type_id) === Number(r.id) && String(p.name).startsWith(SYSTEM_TYPE_PREFIX));
      const type: StoredType = {
        id: Number(r.id),
        kind: Number(r.type_kind) as TypeKind,
        name: String(r.name),
        ...optional('version', r.version),
        ...optional('description', r.description),
        ...(parent ? { baseType: String(parent.name).slice(SYSTEM_TYPE_PREFIX.length) as SystemBaseType } : {}),
        properties: Object.fromEntries(props.filter((p) => Number(p.type_id) === Number(r.id)).map((p) => [String(p.name), Number(p.data_type) as PropertyType])),
      };
      this.typesById.set(type.id, type);
      if (type.version === undefined) this.typeIdsByName.set(`${type.kind}:${type.name}`, type.id);
      return type;
    });
  }

  /** The unversioned type of that name if there is one, else its first version. */
  private async findType(db: Tx, kind: TypeKind, name: string, refresh = false): Promise<StoredType | undefined> {
    const cached = this.typesById.get(this.typeIdsByName.get(`${kind}:${name}`) ?? -1);
    if (cached && !refresh) return cached;
    const types = await this.loadTypes(db, 'type_kind = ? AND name = ?', [kind, name]);
    return types.find((t) => t.version === undefined) ?? types[0];
  }

  private async typesFor(db: Tx, ids: number[]): Promise<Map<number, StoredType>> {
    const missing = unique(ids).filter((id) => !this.typesById.has(id));
    if (missing.length) await this.loadTypes(db, this.d.inIntegers('id'), [this.d.integerList(missing)]);
    return this.typesById;
  }

  /**
   * Find, then insert: a store MLMD created has no unique key on Type (only our own schema adds one), so an
   * INSERT ... ON CONFLICT would add a row per call there. Writers of one type are serialised by the
   * transaction (SQLite's BEGIN IMMEDIATE) or the key lock (PostgreSQL). Where duplicates already exist, the
   * oldest row is the one, as MLMD's lookup by name takes it.
   */
  private async findOrInsertType(tx: Tx, def: TypeDefinition): Promise<number> {
    if (this.d.keyLockSql) await tx.all(this.d.keyLockSql, [`Type/${def.kind}/${def.name}`]);
    const found = await tx.all("SELECT id FROM Type WHERE name = ? AND COALESCE(version, '') = ? AND type_kind = ? ORDER BY id LIMIT 1", [
      def.name,
      def.version ?? '',
      def.kind,
    ]);
    const rows = found.length
      ? found
      : await tx.all('INSERT INTO Type (name, version, type_kind, description) VALUES (?, ?, ?, ?) RETURNING id', [
          def.name,
          def.version ?? null,
          def.kind,
          def.description ?? null,
        ]);
    return Number(rows[0].id);
  }

  /**
   * MLMD's base_type: a ParentType row from the type to the system type `mlmd.<Base>` (created when missing,
   * as MLMD creates its simple types). Like MLMD, a type keeps the parent it has; a different one is an error.
   */
  private async linkBaseType(tx: Tx, def: TypeDefinition, typeId: number): Promise<void> {
    if (def.baseType === undefined) return;
    const parentName = `${SYSTEM_TYPE_PREFIX}${def.baseType}`;
    const parentId = await this.findOrInsertType(tx, { kind: def.kind, name: parentName });
    const parents = await tx.all('SELECT P.parent_type_id AS id, T.name FROM ParentType P JOIN Type T ON T.id = P.parent_type_id WHERE P.type_id = ?', [typeId]);
    const other = parents.find((p) => Number(p.id) !== parentId);
    if (other) {
      throw new UserError(`${KIND_LABEL[def.kind]} type "${def.name}" already has the base type ${String(other.name)}; it cannot change to ${parentName}`);
    }
    if (parents.length === 0) await tx.all('INSERT INTO ParentType (type_id, parent_type_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [typeId, parentId]);
  }

  async putType(def: TypeDefinition): Promise<number> {
    const id = await this.conn.transaction(async (tx) => {
      const typeId = await this.findOrInsertType(tx, def);
      const existing = new Map((await tx.all('SELECT name, data_type FROM TypeProperty WHERE type_id = ?', [typeId])).map((r) => [String(r.name), Number(r.data_type)]));
      const added: unknown[] = [];
      for (const [name, dataType] of Object.entries(def.properties ?? {})) {
        const current = existing.get(name);
        if (current === undefined) added.push(typeId, name, dataType);
        else if (current !== dataType) {
          throw new UserError(
            `${KIND_LABEL[def.kind]} type "${def.name}" already declares property "${name}" as ${PropertyType[current]}; it cannot change to ${PropertyType[dataType]}`,
          );
        }
      }
      if (added.length) {
        const values = Array.from({ length: added.length / 3 }, () => '(?, ?, ?)').join(', ');
        await tx.all(`INSERT INTO TypeProperty (type_id, name, data_type) VALUES ${values} ON CONFLICT DO NOTHING`, added);
      }
      await this.linkBaseType(tx, def, typeId);
      return typeId;
    });
    this.typesById.delete(id);
    return id;
  }

  getType(kind: TypeKind, name: string): Promise<StoredType | undefined> {
    return this.findType(this.conn.read, kind, name, true);
  }

  getTypes(kind: TypeKind): Promise<StoredType[]> {
    return this.loadTypes(this.conn.read, 'type_kind = ?', [kind]);
  }

  // ---- writes ----

  private async requireType(db: Tx, kind: TypeKind, name: string): Promise<StoredType> {
    const type = await this.findType(db, kind, name);
    if (!type) throw new UserError(`${KIND_LABEL[kind]} type "${name}" is not registered; put the type before its ${KIND_LABEL[kind]}s`);
    return type;
  }

  /** Validates and encodes a node's properties before anything is written. */
  private async encodeProperties(db: Tx, table: PropertyOwner, type: StoredType, node: Node): Promise<Encoded[]> {
    const encoded: Encoded[] = [];
    for (const [name, value] of Object.entries(node.properties ?? {})) {
      // Another process may have added the property to the type since we cached it.
      const declared = type.properties[name] ?? (await this.findType(db, type.kind, type.name, true))?.properties[name];
      if (declared === undefined) {
        throw new UserError(`property "${name}" is not declared by ${table.label} type "${type.name}" (declare it in the type, or pass it as a custom property)`);
      }
      encoded.push([name, false, ...encodeProperty(name, value, declared, () => `property "${name}" of ${table.label} type "${type.name}"`)]);
    }
    for (const [name, value] of Object.entries(node.customProperties ?? {})) {
      encoded.push([name, true, ...encodeProperty(name, value, undefined, () => `custom property "${name}" of ${table.label} type "${type.name}"`)]);
    }
    return encoded;
  }

  private async writeProperties(tx: Tx, table: PropertyOwner, ownerId: number, encoded: Encoded[]): Promise<void> {
    if (encoded.length === 0) return;
    const values = encoded.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    await tx.all(
      `INSERT INTO ${table.propertyTable} (${table.owner}, name, is_custom_property, int_value, double_value, string_value, bool_value, proto_value)
       VALUES ${values}
       ON CONFLICT (${table.owner}, name, is_custom_property) DO UPDATE SET int_value = excluded.int_value,
         double_value = excluded.double_value, string_value = excluded.string_value, bool_value = excluded.bool_value,
         proto_value = excluded.proto_value`,
      encoded.flatMap(([name, isCustom, int, double, text, bool, proto]) => [ownerId, name, isCustom, int, double, text, bool, proto === null ? null : this.d.protoColumn(proto)]),
    );
  }

  /**
   * Inserts (no id) or updates (id) one node. Properties given are set; others are kept. Contexts without an
   * id are get-or-create by (type, name): the unique key decides, so concurrent writers agree on one row.
   */
  private async putNode<N extends Node>(tx: Tx, table: NodeTable<N>, node: N): Promise<number> {
    const type = await this.requireType(tx, table.kind, node.type);
    const encoded = await this.encodeProperties(tx, table, type, node);
    const now = Date.now();
    const columns = ['type_id', ...table.columns, 'name', 'external_id'];
    const values = [type.id, ...table.values(node), node.name ?? null, node.externalId ?? null];
    let id: number;
    try {
      if (node.id !== undefined) {
        const set = columns.map((c) => `${c} = ?`).join(', ');
        const rows = await tx.all(`UPDATE ${table.table} SET ${set}, last_update_time_since_epoch = ? WHERE id = ? RETURNING id`, [...values, now, node.id]);
        if (rows.length === 0) throw new UserError(`${table.label} ${node.id} does not exist`);
        id = node.id;
      } else {
        const placeholders = [...columns, 'c', 'u'].map(() => '?').join(', ');
        const onConflict = table.getOrCreate ? ' ON CONFLICT (type_id, name) DO NOTHING' : '';
        const rows = await tx.all(
          `INSERT INTO ${table.table} (${columns.join(', ')}, create_time_since_epoch, last_update_time_since_epoch) VALUES (${placeholders})${onConflict} RETURNING id`,
          [...values, now, now],
        );
        if (rows.length) id = Number(rows[0].id);
        else {
          const existing = await tx.all(`SELECT id FROM ${table.table} WHERE type_id = ? AND name = ?`, [type.id, node.name]);
          id = Number(existing[0].id);
          // Only touch an existing context when there is something to set: concurrent runs share contexts.
          if (encoded.length) await tx.all(`UPDATE ${table.table} SET last_update_time_since_epoch = ? WHERE id = ?`, [now, id]);
        }
      }
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new NodeConflictError(table.label, node.type, node.name, node.externalId);
    }
    await this.writeProperties(tx, table, id, encoded);
    return id;
  }

  private async putNodes<N extends Node>(tx: Tx, table: NodeTable<N>, nodes: N[]): Promise<number[]> {
    const ids: number[] = [];
    for (const node of nodes) ids.push(await this.putNode(tx, table, node));
    return ids;
  }

  putArtifacts(artifacts: Artifact[]): Promise<number[]> {
    return this.conn.transaction((tx) => this.putNodes(tx, ARTIFACTS, artifacts));
  }

  putExecutions(executions: Execution[]): Promise<number[]> {
    return this.conn.transaction((tx) => this.putNodes(tx, EXECUTIONS, executions));
  }

  putContexts(contexts: Context[]): Promise<number[]> {
    return this.conn.transaction((tx) => this.putNodes(tx, CONTEXTS, contexts));
  }

  private async insertEvents(tx: Tx, events: Event[]): Promise<void> {
    const now = Date.now();
    for (const event of events) {
      // An identical event (same artifact, execution and type) is already recorded: MLMD's unique key.
      const rows = await tx.all(
        'INSERT INTO Event (artifact_id, execution_id, type, milliseconds_since_epoch) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
        [event.artifactId, event.executionId, event.type, event.millisecondsSinceEpoch ?? now],
      );
      const steps = event.path ?? [];
      if (rows.length === 0 || steps.length === 0) continue;
      const eventId = Number(rows[0].id);
      await tx.all(
        `INSERT INTO EventPath (event_id, is_index_step, step_index, step_key) VALUES ${steps.map(() => '(?, ?, ?, ?)').join(', ')}`,
        steps.flatMap((s) => ('index' in s ? [eventId, true, s.index, null] : [eventId, false, null, s.key])),
      );
    }
  }

  putEvents(events: Event[]): Promise<void> {
    return this.conn.transaction((tx) => this.insertEvents(tx, events));
  }

  /** Inserts (a, b) pairs into a link table, ignoring pairs already there. */
  private async link(tx: Tx, table: string, columns: [string, string], pairs: [number, number][]): Promise<void> {
    if (pairs.length === 0) return;
    await tx.all(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${pairs.map(() => '(?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
      pairs.flat(),
    );
  }

  putAttributions(pairs: { contextId: number; artifactId: number }[]): Promise<void> {
    return this.conn.transaction((tx) => this.link(tx, 'Attribution', ['context_id', 'artifact_id'], pairs.map((p) => [p.contextId, p.artifactId])));
  }

  putAssociations(pairs: { contextId: number; executionId: number }[]): Promise<void> {
    return this.conn.transaction((tx) => this.link(tx, 'Association', ['context_id', 'execution_id'], pairs.map((p) => [p.contextId, p.executionId])));
  }

  putParentContexts(pairs: { parentId: number; childId: number }[]): Promise<void> {
    const self = pairs.find((p) => p.parentId === p.childId);
    if (self) return Promise.reject(new UserError(`context ${self.childId} cannot be its own parent`));
    return this.conn.transaction((tx) => this.link(tx, 'ParentContext', ['context_id', 'parent_context_id'], pairs.map((p) => [p.childId, p.parentId])));
  }

  private async writeExecution(tx: Tx, execution: Execution, artifacts: ArtifactAndEvent[], contexts: Context[]): Promise<PutExecutionResult> {
    const executionId = await this.putNode(tx, EXECUTIONS, execution);
    const artifactIds = await this.putNodes(tx, ARTIFACTS, artifacts.map((a) => a.artifact));
    const events: Event[] = [];
    artifacts.forEach(({ event }, i) => {
      if (event) events.push({ artifactId: artifactIds[i], executionId, type: event.type, path: event.path });
    });
    await this.insertEvents(tx, events);
    const contextIds = await this.putNodes(tx, CONTEXTS, contexts);
    await this.link(tx, 'Association', ['context_id', 'execution_id'], contextIds.map((c) => [c, executionId]));
    await this.link(tx, 'Attribution', ['context_id', 'artifact_id'], contextIds.flatMap((c) => artifactIds.map((a): [number, number] => [c, a])));
    return { executionId, artifactIds, contextIds };
  }

  putExecution(execution: Execution, artifacts: ArtifactAndEvent[], contexts: Context[]): Promise<PutExecutionResult> {
    return this.conn.transaction((tx) => this.writeExecution(tx, execution, artifacts, contexts));
  }

  claimExecution(execution: Execution, artifacts: ArtifactAndEvent[], contexts: Context[], claim: ExecutionClaim): Promise<ClaimResult> {
    return this.conn.transaction(async (tx): Promise<ClaimResult> => {
      const { type, name } = claim.context;
      if (this.d.keyLockSql) await tx.all(this.d.keyLockSql, [`${type}/${name}`]);
      const where = new Conditions();
      where.add(
        'N.id IN (SELECT A.execution_id FROM Association A JOIN Context C ON C.id = A.context_id JOIN Type T ON T.id = C.type_id WHERE T.type_kind = ? AND T.name = ? AND C.name = ?)',
        TypeKind.CONTEXT,
        type,
        name,
      );
      where.add(
        `(N.last_known_state = ? OR (${this.d.inIntegers('N.last_known_state')} AND NOT ${this.d.inIntegers('N.id')}))`,
        ExecutionState.RUNNING,
        this.d.integerList([ExecutionState.COMPLETE, ExecutionState.CACHED]),
        this.d.integerList(claim.judged),
      );
      const blockedBy = await this.selectNodes(tx, EXECUTIONS, where, {});
      if (blockedBy.length) return { blockedBy };
      return { claimed: await this.writeExecution(tx, execution, artifacts, contexts) };
    });
  }

  endExecution(execution: Execution & { id: number }, artifacts: ArtifactAndEvent[], contexts: Context[], lastUpdate?: number): Promise<PutExecutionResult | undefined> {
    return this.conn.transaction(async (tx) => {
      // The compare-and-set: the UPDATE takes the row (PostgreSQL re-checks its WHERE once a concurrent
      // writer commits; SQLite's BEGIN IMMEDIATE serialises writers), so of a holder and a taker one wins.
      const unchanged = lastUpdate === undefined ? '' : ' AND last_update_time_since_epoch = ?';
      const rows = await tx.all(`UPDATE Execution SET last_known_state = last_known_state WHERE id = ? AND last_known_state = ?${unchanged} RETURNING id`, [
        execution.id,
        ExecutionState.RUNNING,
        ...(lastUpdate === undefined ? [] : [lastUpdate]),
      ]);
      return rows.length ? this.writeExecution(tx, execution, artifacts, contexts) : undefined;
    });
  }

  touchExecution(id: number, state: ExecutionState): Promise<boolean> {
    return this.conn.transaction(async (tx) => {
      const rows = await tx.all('UPDATE Execution SET last_update_time_since_epoch = ? WHERE id = ? AND last_known_state = ? RETURNING id', [Date.now(), id, state]);
      return rows.length > 0;
    });
  }

  async updateArtifactStates(ids: number[], state: ArtifactState): Promise<void> {
    if (ids.length === 0) return;
    await this.conn.transaction((tx) =>
      tx.all(`UPDATE Artifact SET state = ?, last_update_time_since_epoch = ? WHERE ${this.d.inIntegers('id')}`, [state, Date.now(), this.d.integerList(ids)]),
    );
  }

  async updateExecutionState(id: number, state: ExecutionState, customProperties?: Properties): Promise<void> {
    await this.conn.transaction(async (tx) => {
      const rows = await tx.all('UPDATE Execution SET last_known_state = ?, last_update_time_since_epoch = ? WHERE id = ? RETURNING id', [state, Date.now(), id]);
      if (rows.length === 0) throw new UserError(`execution ${id} does not exist`);
      const encoded = Object.entries(customProperties ?? {}).map(
        ([name, value]): Encoded => [name, true, ...encodeProperty(name, value, undefined, () => `custom property "${name}" of execution ${id}`)],
      );
      await this.writeProperties(tx, EXECUTIONS, id, encoded);
    });
  }

  // ---- reads ----

  private nodeConditions(table: PropertyOwner, filter: NodeFilter): Conditions {
    const where = new Conditions();
    if (filter.ids) where.add(this.d.inIntegers('N.id'), this.d.integerList(filter.ids));
    if (filter.type !== undefined) where.add('N.type_id IN (SELECT id FROM Type WHERE name = ? AND type_kind = ?)', filter.type, table.kind);
    for (const [name, value] of Object.entries(filter.properties ?? {})) {
      const [condition, params] = propertyCondition(value);
      where.add(`EXISTS (SELECT 1 FROM ${table.propertyTable} P WHERE P.${table.owner} = N.id AND P.name = ? AND ${condition})`, name, ...params);
    }
    const states = asList(filter.state);
    if (states && table.stateColumn) where.add(this.d.inIntegers(`N.${table.stateColumn}`), this.d.integerList(states));
    if (filter.contextId !== undefined && table.contextLink) {
      where.add(`N.id IN (SELECT ${table.owner} FROM ${table.contextLink} WHERE context_id = ?)`, filter.contextId);
    }
    return where;
  }

  private artifactConditions(filter: ArtifactFilter): Conditions {
    const where = this.nodeConditions(ARTIFACTS, filter);
    if (filter.uri !== undefined) where.add('N.uri = ?', filter.uri);
    return where;
  }

  private contextConditions(filter: ContextFilter): Conditions {
    const where = this.nodeConditions(CONTEXTS, filter);
    if (filter.name !== undefined) where.add('N.name = ?', filter.name);
    if (filter.executionId !== undefined) where.add('N.id IN (SELECT context_id FROM Association WHERE execution_id = ?)', filter.executionId);
    if (filter.artifactId !== undefined) where.add('N.id IN (SELECT context_id FROM Attribution WHERE artifact_id = ?)', filter.artifactId);
    return where;
  }

  /** Rows of one node table with their type names and properties, in create-time order. */
  private async selectNodes<N extends Node>(db: Tx, table: NodeTable<N>, where: Conditions, filter: NodeFilter): Promise<N[]> {
    if (filter.ids?.length === 0) return [];
    const direction = filter.newestFirst ? 'DESC' : 'ASC';
    let sql = `SELECT N.*, T.name AS type_name FROM ${table.table} N JOIN Type T ON T.id = N.type_id${where.sql}
      ORDER BY N.create_time_since_epoch ${direction}, N.id ${direction}`;
    const params = [...where.params];
    if (filter.limit !== undefined || filter.offset !== undefined) {
      sql += ' LIMIT ? OFFSET ?';
      params.push(filter.limit ?? this.d.noLimit, filter.offset ?? 0);
    }
    const rows = await db.all(sql, params);
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.id));
    const [properties, types] = await Promise.all([
      db.all(
        `SELECT ${table.owner} AS owner_id, name, is_custom_property, int_value, double_value, string_value, bool_value, proto_value
         FROM ${table.propertyTable} WHERE ${this.d.inIntegers(table.owner)}`,
        [this.d.integerList(ids)],
      ),
      this.typesFor(db, rows.map((r) => Number(r.type_id))),
    ]);
    const byOwner = new Map<number, Row[]>();
    for (const p of properties) byOwner.set(Number(p.owner_id), [...(byOwner.get(Number(p.owner_id)) ?? []), p]);
    return rows.map((r) => {
      const declared = types.get(Number(r.type_id))?.properties ?? {};
      const node = {
        id: Number(r.id),
        type: String(r.type_name),
        ...optional('name', r.name),
        ...optional('externalId', r.external_id),
        ...table.fromRow(r),
        properties: {} as Properties,
        customProperties: {} as Properties,
        createTimeSinceEpoch: Number(r.create_time_since_epoch),
        lastUpdateTimeSinceEpoch: Number(r.last_update_time_since_epoch),
      };
      for (const p of byOwner.get(node.id) ?? []) {
        const name = String(p.name);
        const custom = isSet(p.is_custom_property);
        const where = () => `${custom ? 'custom property' : 'property'} "${name}" of ${table.label} ${node.id}`;
        if (custom) node.customProperties[name] = decodeProperty(p, undefined, where);
        else node.properties[name] = decodeProperty(p, declared[name], where);
      }
      return node as unknown as N;
    });
  }

  private async count(table: string, where: Conditions): Promise<number> {
    const rows = await this.conn.read.all(`SELECT COUNT(*) AS n FROM ${table} N${where.sql}`, where.params);
    return Number(rows[0].n);
  }

  getArtifacts(filter: ArtifactFilter = {}): Promise<Artifact[]> {
    return this.selectNodes(this.conn.read, ARTIFACTS, this.artifactConditions(filter), filter);
  }

  getExecutions(filter: ExecutionFilter = {}): Promise<Execution[]> {
    return this.selectNodes(this.conn.read, EXECUTIONS, this.nodeConditions(EXECUTIONS, filter), filter);
  }

  getContexts(filter: ContextFilter = {}): Promise<Context[]> {
    return this.selectNodes(this.conn.read, CONTEXTS, this.contextConditions(filter), filter);
  }

  countArtifacts(filter: ArtifactFilter = {}): Promise<number> {
    return filter.ids?.length === 0 ? Promise.resolve(0) : this.count('Artifact', this.artifactConditions(filter));
  }

  countExecutions(filter: ExecutionFilter = {}): Promise<number> {
    return filter.ids?.length === 0 ? Promise.resolve(0) : this.count('Execution', this.nodeConditions(EXECUTIONS, filter));
  }

  async getLatestArtifact(type: string, filter: Omit<ArtifactFilter, 'type' | 'newestFirst' | 'limit'> = {}): Promise<Artifact | undefined> {
    const [latest] = await this.getArtifacts({ ...filter, type, newestFirst: true, limit: 1 });
    return latest;
  }

  private relatedContexts(where: string, id: number): Promise<Context[]> {
    const conditions = new Conditions();
    conditions.add(where, id);
    return this.selectNodes(this.conn.read, CONTEXTS, conditions, {});
  }

  getParentContexts(childId: number): Promise<Context[]> {
    return this.relatedContexts('N.id IN (SELECT parent_context_id FROM ParentContext WHERE context_id = ?)', childId);
  }

  getChildContexts(parentId: number): Promise<Context[]> {
    return this.relatedContexts('N.id IN (SELECT context_id FROM ParentContext WHERE parent_context_id = ?)', parentId);
  }

  /** Events matching a condition, with their paths (one query each, whatever the number of events). */
  private async selectEvents(db: Tx, where: Conditions): Promise<Event[]> {
    const rows = await db.all(`SELECT id, artifact_id, execution_id, type, milliseconds_since_epoch FROM Event${where.sql} ORDER BY id`, where.params);
    if (rows.length === 0) return [];
    const steps = await db.all(
      `SELECT event_id, is_index_step, step_index, step_key FROM EventPath WHERE ${this.d.inIntegers('event_id')} ORDER BY event_id, ${this.d.insertionOrder}`,
      [this.d.integerList(rows.map((r) => Number(r.id)))],
    );
    const paths = new Map<number, EventStep[]>();
    for (const s of steps) {
      const step: EventStep = isSet(s.is_index_step) ? { index: Number(s.step_index) } : { key: String(s.step_key) };
      paths.set(Number(s.event_id), [...(paths.get(Number(s.event_id)) ?? []), step]);
    }
    return rows.map((r) => ({
      id: Number(r.id),
      artifactId: Number(r.artifact_id),
      executionId: Number(r.execution_id),
      type: Number(r.type) as EventType,
      path: paths.get(Number(r.id)) ?? [],
      millisecondsSinceEpoch: Number(r.milliseconds_since_epoch),
    }));
  }

  getEvents(filter: { artifactIds?: number[]; executionIds?: number[] }): Promise<Event[]> {
    const where = new Conditions();
    if (filter.artifactIds) where.add(this.d.inIntegers('artifact_id'), this.d.integerList(filter.artifactIds));
    if (filter.executionIds) where.add(this.d.inIntegers('execution_id'), this.d.integerList(filter.executionIds));
    return this.selectEvents(this.conn.read, where);
  }

  /**
   * Breadth-first over events, one hop = artifacts → the executions that produced (upstream) or consumed
   * (downstream) them → those executions' inputs (upstream) or outputs (downstream). Each hop costs a fixed
   * number of queries whatever its width.
   */
  async getLineage(artifactId: number, direction: LineageDirection, maxHops = Number.POSITIVE_INFINITY): Promise<LineageGraph> {
    const db = this.conn.read;
    const [towardExecution, fromExecution] = direction === 'upstream' ? [OUTPUT_EVENTS, INPUT_EVENTS] : [INPUT_EVENTS, OUTPUT_EVENTS];
    const artifactIds = new Set([artifactId]);
    const executionIds = new Set<number>();
    const events = new Map<number, Event>();
    const step = async (column: string, ids: number[], types: string): Promise<Event[]> => {
      const where = new Conditions();
      where.add(`${this.d.inIntegers(column)} AND type IN (${types})`, this.d.integerList(ids));
      const found = await this.selectEvents(db, where);
      for (const e of found) events.set(e.id!, e);
      return found;
    };
    let frontier = [artifactId];
    for (let hops = 0; frontier.length > 0 && hops < maxHops; hops++) {
      const executions = unique((await step('artifact_id', frontier, towardExecution)).map((e) => e.executionId)).filter((id) => !executionIds.has(id));
      if (executions.length === 0) break;
      executions.forEach((id) => executionIds.add(id));
      frontier = unique((await step('execution_id', executions, fromExecution)).map((e) => e.artifactId)).filter((id) => !artifactIds.has(id));
      frontier.forEach((id) => artifactIds.add(id));
    }
    const [artifacts, executions] = await Promise.all([
      this.getArtifacts({ ids: [...artifactIds] }),
      executionIds.size ? this.getExecutions({ ids: [...executionIds] }) : Promise.resolve([]),
    ]);
    return { artifacts, executions, events: [...events.values()].sort((a, b) => a.id! - b.id!) };
  }
}
