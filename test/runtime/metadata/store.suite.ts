// The metadata store behaviour suite, written once and run against every backend (sqlite-store.test.ts,
// postgres-store.test.ts): types, CRUD, filters, latest-artifact queries, putExecution atomicity, events,
// lineage, contexts, pagination, schema creation/upgrade/refusal and concurrent writer processes.
import { fork } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { SchemaVersionError, UserError } from '../../../runtime/core/errors';
import {
  ArtifactState,
  EventType,
  ExecutionState,
  MetadataStore,
  NoMetadataStoreError,
  openMetadataStore,
  PropertyType,
  TypeKind,
} from '../../../runtime/metadata';
import { ProtoValue } from '../../../runtime/metadata/mlmd-values';

export interface SuiteBackend {
  /** The address of a new, empty database. */
  freshAddress(): Promise<string>;
  /** Runs a SQL script on the database directly, without the store. */
  exec(address: string, script: string): Promise<void>;
  query(address: string, sql: string): Promise<Record<string, unknown>[]>;
  /** How the store names this database in messages. */
  where(address: string): string;
  /** Suffix of the fixture files written in this backend's SQL dialect. */
  dialect: 'sqlite' | 'postgres';
}

const FIXTURES = path.join(__dirname, '../../fixtures/metadata');
const MLMD_TABLES = [
  'type', 'parenttype', 'typeproperty', 'artifact', 'artifactproperty', 'execution', 'executionproperty', 'context',
  'contextproperty', 'parentcontext', 'event', 'eventpath', 'association', 'attribution', 'mlmdenv',
];

/** Registers the types of a small TFX-like pipeline. */
async function putPipelineTypes(store: MetadataStore): Promise<void> {
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'Examples', properties: { span: PropertyType.INT, split_names: PropertyType.STRING } });
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'ExampleStatistics', properties: { span: PropertyType.INT } });
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'HyperParameters' });
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE, config: PropertyType.STRUCT } });
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'ModelBlessing' });
  for (const name of ['ExampleGen', 'Tuner', 'Trainer', 'Evaluator', 'Pusher']) await store.putType({ kind: TypeKind.EXECUTION, name });
  await store.putType({ kind: TypeKind.CONTEXT, name: 'pipeline' });
  await store.putType({ kind: TypeKind.CONTEXT, name: 'pipeline_run', properties: { runtime_version: PropertyType.STRING } });
}

const live = ArtifactState.LIVE;

// Produced by Python's google.protobuf 7.36 (the test venv), not by the store under test: a Struct serialized
// with SerializeToString(deterministic=True), base64 behind MLMD's prefix, as ml_metadata's StructToString
// writes it; and an Any packing StringValue("hello"), base64 as MLMD's EncodeBytes writes proto_value.
const PY_STRUCT_LAYERS = 'mlmd-struct::CiIKBmxheWVycxIYMhYKCREAAAAAAABQQAoJEQAAAAAAAFBA'; // {"layers": [64, 64]}
const PY_STRUCT_TAGS = 'mlmd-struct::ChkKCV9fdmFsdWVfXxIMMgoKAxoBYQoDGgFi'; // {"__value__": ["a", "b"]}, TFX's list wrapping
const PY_ANY_HELLO = 'Ci90eXBlLmdvb2dsZWFwaXMuY29tL2dvb2dsZS5wcm90b2J1Zi5TdHJpbmdWYWx1ZRIHCgVoZWxsbw==';
const STRING_VALUE_URL = 'type.googleapis.com/google.protobuf.StringValue';
/** google.protobuf.StringValue{value: "hello"}: field 1, length 5. */
const HELLO_BYTES = Buffer.from([0x0a, 0x05, ...Buffer.from('hello')]);

export function describeStoreSuite(name: string, backend: () => SuiteBackend): void {
  describe(`metadata store on ${name}`, () => {
    let address: string;
    let store: MetadataStore;

    beforeEach(async () => {
      address = await backend().freshAddress();
      store = await openMetadataStore(address);
    });
    afterEach(async () => {
      await store?.close();
    });

    describe('schema', () => {
      it('creates the MLMD v10 tables and indices on first use', async () => {
        expect(store.backend).toBe(name);
        expect(await store.schemaVersion()).toBe(10);
        const tables = await backend().query(address, backend().dialect === 'sqlite'
          ? "SELECT lower(name) AS name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
          : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
        expect(tables.map((t) => t.name).sort()).toEqual([...MLMD_TABLES].sort());
        expect(await backend().query(address, 'SELECT schema_version FROM MLMDEnv')).toEqual([{ schema_version: 10 }]);
        await expect(backend().query(address, 'SELECT artifact_id, name, is_custom_property, int_value, double_value, string_value, byte_value, proto_value, bool_value FROM ArtifactProperty')).resolves.toEqual([]);
      });

      it('declares MLMDEnv.schema_version INTEGER PRIMARY KEY as MLMD does, and still opens a store declared INT PRIMARY KEY', async () => {
        const columnType = async () => (await backend().query(address, backend().dialect === 'sqlite'
          ? "SELECT type FROM pragma_table_info('MLMDEnv')"
          : "SELECT upper(data_type) AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'mlmdenv'"))[0].type;
        expect(await columnType()).toBe('INTEGER');
        await store.close();
        // A store this runtime created before it followed MLMD's declaration.
        await backend().exec(address, 'DROP TABLE MLMDEnv; CREATE TABLE MLMDEnv (schema_version INT PRIMARY KEY); INSERT INTO MLMDEnv (schema_version) VALUES (10);');
        store = await openMetadataStore(address);
        expect(await store.schemaVersion()).toBe(10);
        await putPipelineTypes(store);
        expect(await backend().query(address, 'SELECT schema_version FROM MLMDEnv')).toEqual([{ schema_version: 10 }]);
      });

      it('opens an existing database again without changing it', async () => {
        await putPipelineTypes(store);
        await store.close();
        store = await openMetadataStore(address);
        expect((await store.getTypes(TypeKind.EXECUTION)).map((t) => t.name)).toEqual(['ExampleGen', 'Tuner', 'Trainer', 'Evaluator', 'Pusher']);
      });

      it('upgrades a version 9 database in place, keeping its data', async () => {
        await store.close();
        address = await backend().freshAddress();
        await backend().exec(address, await fs.readFile(path.join(FIXTURES, `mlmd-v9.${backend().dialect}.sql`), 'utf8'));
        store = await openMetadataStore(address);
        expect(await store.schemaVersion()).toBe(10);
        const [examples] = await store.getArtifacts({ type: 'Examples' });
        expect(examples).toMatchObject({ uri: '/data/examples/7', state: live, properties: { span: 7 }, customProperties: { note: 'written by v9' } });
        const lineage = await store.getLineage((await store.getLatestArtifact('Model'))!.id!, 'upstream');
        expect(lineage.artifacts.map((a) => a.uri).sort()).toEqual(['/data/examples/7', '/models/1']);
        expect(lineage.events.map((e) => e.path)).toEqual([[{ key: 'examples' }], [{ key: 'model' }]]);
        // The v10 columns exist: booleans can be stored now.
        await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE, blessed: PropertyType.BOOLEAN } });
        const [id] = await store.putArtifacts([{ type: 'Model', uri: '/models/2', state: live, properties: { accuracy: 0.95, blessed: true } }]);
        expect((await store.getLatestArtifact('Model', { properties: { blessed: true } }))?.id).toBe(id);
      });

      it('rolls the whole upgrade back when a step fails', async () => {
        await store.close();
        address = await backend().freshAddress();
        await backend().exec(address, await fs.readFile(path.join(FIXTURES, `mlmd-v9.${backend().dialect}.sql`), 'utf8'));
        // The last upgrade step (ContextProperty.bool_value) will collide with this column.
        await backend().exec(address, 'ALTER TABLE ContextProperty ADD COLUMN bool_value BOOLEAN');
        await expect(openMetadataStore(address)).rejects.toThrow(/bool_value/);
        expect(await backend().query(address, 'SELECT schema_version FROM MLMDEnv')).toEqual([{ schema_version: 9 }]);
        // Asks for the columns rather than expecting `SELECT proto_value` to reject: better-sqlite3's native
        // addon keeps the SqliteError class of the first jest test file that opened a database, which is not
        // an Error of this file's realm, and `rejects.toThrow()` then reports "did not throw".
        const columns = await backend().query(address, backend().dialect === 'sqlite'
          ? "SELECT name FROM pragma_table_info('ArtifactProperty')"
          : "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'artifactproperty'");
        expect(columns.map((c) => c.name)).toContain('byte_value');
        expect(columns.map((c) => c.name)).not.toContain('proto_value');
        store = undefined as unknown as MetadataStore;
      });

      it('refuses a database with a newer schema version, naming both versions', async () => {
        await store.close();
        store = undefined as unknown as MetadataStore;
        await backend().exec(address, 'UPDATE MLMDEnv SET schema_version = 11');
        const where = backend().where(address);
        const opening = openMetadataStore(address);
        await expect(opening).rejects.toBeInstanceOf(SchemaVersionError);
        await expect(opening).rejects.toThrow(
          `metadata store ${where} has schema version 11, newer than version 10 supported by this runtime; upgrade gcp-ml-platform or point --metadata at another database`,
        );
      });

      it("a reader's open (mustExist) of a version 9 database refuses it, saying a pipeline run upgrades it, and leaves it at version 9", async () => {
        await store.close();
        store = undefined as unknown as MetadataStore;
        address = await backend().freshAddress();
        await backend().exec(address, await fs.readFile(path.join(FIXTURES, `mlmd-v9.${backend().dialect}.sql`), 'utf8'));
        await expect(openMetadataStore(address, { mustExist: true })).rejects.toThrow(
          `metadata store ${backend().where(address)} has schema version 9, older than version 10; a read-only command does not upgrade it: run a pipeline on it (mlp run) to upgrade it first`,
        );
        expect(await backend().query(address, 'SELECT schema_version FROM MLMDEnv')).toEqual([{ schema_version: 9 }]);
      });

      it("a reader's open (mustExist) of a newer schema is the same SchemaVersionError, and of a current one reads it", async () => {
        await putPipelineTypes(store);
        await store.close();
        const reader = await openMetadataStore(address, { mustExist: true });
        try {
          expect((await reader.getTypes(TypeKind.EXECUTION)).map((t) => t.name)).toContain('Trainer');
        } finally {
          await reader.close();
        }
        store = undefined as unknown as MetadataStore;
        await backend().exec(address, 'UPDATE MLMDEnv SET schema_version = 11');
        await expect(openMetadataStore(address, { mustExist: true })).rejects.toBeInstanceOf(SchemaVersionError);
      });

      it("a reader's open (mustExist) of a database without the schema is NoMetadataStoreError", async () => {
        await store.close();
        store = undefined as unknown as MetadataStore;
        address = await backend().freshAddress();
        const opening = openMetadataStore(address, { mustExist: true });
        await expect(opening).rejects.toBeInstanceOf(NoMetadataStoreError);
        await expect(opening).rejects.toThrow(`no metadata store at ${backend().where(address)}: nothing has run there yet`);
      });
    });

    describe('types', () => {
      it('puts a type once, returns the same id again and adds new properties', async () => {
        const id = await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE } });
        expect(await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE } })).toBe(id);
        expect(await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { blessed: PropertyType.BOOLEAN } })).toBe(id);
        expect(await store.getType(TypeKind.ARTIFACT, 'Model')).toEqual({
          id, kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE, blessed: PropertyType.BOOLEAN },
        });
        // Same name, other kind or version: other types.
        expect(await store.putType({ kind: TypeKind.EXECUTION, name: 'Model' })).not.toBe(id);
        expect(await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', version: '2' })).not.toBe(id);
        expect(await store.getType(TypeKind.CONTEXT, 'Model')).toBeUndefined();
      });

      it('puts one Type row under concurrent writers without a unique key on Type, as in a store MLMD created', async () => {
        await backend().exec(address, 'DROP INDEX idx_type_name_version_kind');
        // PostgreSQL runs these on separate pooled connections at once (opened beforehand, so that the writers
        // really overlap); SQLite queues them on its connection.
        await Promise.all(Array.from({ length: 8 }, () => store.getTypes(TypeKind.ARTIFACT)));
        const ids = await Promise.all(
          Array.from({ length: 8 }, () => store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE } })),
        );
        expect(new Set(ids).size).toBe(1);
        expect(await backend().query(address, "SELECT id FROM Type WHERE name = 'Model'")).toEqual([{ id: ids[0] }]);
      });

      it('refuses to change the type of a declared property', async () => {
        await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.DOUBLE } });
        await expect(store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { accuracy: PropertyType.STRING } })).rejects.toThrow(
          new UserError('artifact type "Model" already declares property "accuracy" as DOUBLE; it cannot change to STRING'),
        );
      });

      it('checks declared property values against their types, naming the type and property', async () => {
        await putPipelineTypes(store);
        const put = (properties: Record<string, unknown>) =>
          store.putArtifacts([{ type: 'Model', uri: '/m', state: live, properties: properties as never }]);
        await expect(put({ accuracy: 'high' })).rejects.toThrow(new UserError('property "accuracy" of artifact type "Model" is declared DOUBLE, got the string "high"'));
        await expect(put({ config: 3 })).rejects.toThrow(/property "config" of artifact type "Model" is declared STRUCT, got the integer 3/);
        await expect(store.putArtifacts([{ type: 'Examples', uri: '/e', state: live, properties: { span: 1.5 } }])).rejects.toThrow(
          /property "span" of artifact type "Examples" is declared INT, got the number 1.5/,
        );
        await expect(put({ loss: 0.1 })).rejects.toThrow(/property "loss" is not declared by artifact type "Model"/);
        await expect(store.putArtifacts([{ type: 'Nope', uri: '/n', state: live }])).rejects.toThrow(/artifact type "Nope" is not registered/);
        expect(await store.countArtifacts()).toBe(0);
      });

      it('stores values in the MLMD columns of their type', async () => {
        await putPipelineTypes(store);
        const [id] = await store.putArtifacts([{
          type: 'Model', uri: '/m', state: live,
          properties: { accuracy: 1, config: { layers: [64, 64] } },
          customProperties: { epochs: 3, lr: 0.01, auc: 1, row_count: 3, name: 'm', blessed: true, tags: ['a', 'b'] },
        }]);
        const rows = await backend().query(address,
          `SELECT name, int_value, double_value, string_value, bool_value FROM ArtifactProperty WHERE artifact_id = ${id} ORDER BY name`);
        // Raw drivers return BIGINT as text (pg) and booleans as 0/1 (SQLite).
        const norm = rows.map((r) => ({ ...r, int_value: r.int_value === null ? null : Number(r.int_value), bool_value: r.bool_value === null ? null : Boolean(r.bool_value) }));
        // Custom numbers are doubles, whole or not (a metric equal to 1 too), except known integer names.
        expect(norm).toEqual([
          { name: 'accuracy', int_value: null, double_value: 1, string_value: null, bool_value: null },
          { name: 'auc', int_value: null, double_value: 1, string_value: null, bool_value: null },
          { name: 'blessed', int_value: null, double_value: null, string_value: null, bool_value: true },
          { name: 'config', int_value: null, double_value: null, string_value: PY_STRUCT_LAYERS, bool_value: null },
          { name: 'epochs', int_value: null, double_value: 3, string_value: null, bool_value: null },
          { name: 'lr', int_value: null, double_value: 0.01, string_value: null, bool_value: null },
          { name: 'name', int_value: null, double_value: null, string_value: 'm', bool_value: null },
          { name: 'row_count', int_value: 3, double_value: null, string_value: null, bool_value: null },
          { name: 'tags', int_value: null, double_value: null, string_value: PY_STRUCT_TAGS, bool_value: null },
        ]);
        const [artifact] = await store.getArtifacts({ ids: [id] });
        expect(artifact.properties).toEqual({ accuracy: 1, config: { layers: [64, 64] } });
        expect(artifact.customProperties).toEqual({ epochs: 3, lr: 0.01, auc: 1, row_count: 3, name: 'm', blessed: true, tags: ['a', 'b'] });
        expect(await store.getArtifacts({ properties: { auc: 1, row_count: 3 } })).toHaveLength(1);
        await expect(store.putArtifacts([{ type: 'Model', uri: '/m2', state: live, customProperties: { row_count: 2.5 } }])).rejects.toThrow(
          new UserError('custom property "row_count" of artifact type "Model" is an integer custom property, got the number 2.5'),
        );
      });

      it('reads struct and proto properties an MLMD client wrote as values, not raw strings, and writes protos as MLMD does', async () => {
        await putPipelineTypes(store);
        const [id] = await store.putArtifacts([{ type: 'Model', uri: '/m', state: live }]);
        // The rows exactly as MLMD's query templates insert them: string literals in string_value / proto_value.
        await backend().exec(address, `INSERT INTO ArtifactProperty (artifact_id, name, is_custom_property, string_value, proto_value) VALUES
          (${id}, 'config', ${backend().dialect === 'sqlite' ? 0 : false}, '${PY_STRUCT_LAYERS}', NULL),
          (${id}, 'tags', ${backend().dialect === 'sqlite' ? 1 : true}, '${PY_STRUCT_TAGS}', NULL),
          (${id}, 'greeting', ${backend().dialect === 'sqlite' ? 1 : true}, NULL, '${PY_ANY_HELLO}')`);
        const [artifact] = await store.getArtifacts({ ids: [id] });
        expect(artifact.properties).toEqual({ config: { layers: [64, 64] } });
        expect(artifact.customProperties).toEqual({ tags: ['a', 'b'], greeting: expect.any(ProtoValue) });
        const greeting = artifact.customProperties!.greeting as ProtoValue;
        expect({ typeUrl: greeting.typeUrl, value: Buffer.from(greeting.value) }).toEqual({ typeUrl: STRING_VALUE_URL, value: HELLO_BYTES });

        // Written back through the store: the same columns, byte for byte.
        const [copy] = await store.putArtifacts([{ type: 'Model', uri: '/m2', state: live, properties: artifact.properties, customProperties: artifact.customProperties }]);
        const rows = await backend().query(address, `SELECT name, string_value, proto_value FROM ArtifactProperty WHERE artifact_id = ${copy} ORDER BY name`);
        // SQLite keeps MLMD's base64 text; PostgreSQL's BYTEA holds the bytes of that text.
        const text = (v: unknown) => (v == null ? null : Buffer.isBuffer(v) ? v.toString('latin1') : String(v));
        expect(rows.map((r) => ({ name: r.name, string_value: r.string_value, proto_value: text(r.proto_value) }))).toEqual([
          { name: 'config', string_value: PY_STRUCT_LAYERS, proto_value: null },
          { name: 'greeting', string_value: null, proto_value: PY_ANY_HELLO },
          { name: 'tags', string_value: PY_STRUCT_TAGS, proto_value: null },
        ]);
        expect(await store.getArtifacts({ properties: { config: { layers: [64, 64] } } })).toHaveLength(2);
      });

      it('names the property when a stored struct or proto cannot be decoded', async () => {
        await putPipelineTypes(store);
        const [id] = await store.putArtifacts([{ type: 'Model', uri: '/m', state: live }]);
        await backend().exec(address, `INSERT INTO ArtifactProperty (artifact_id, name, is_custom_property, proto_value) VALUES (${id}, 'broken', ${backend().dialect === 'sqlite' ? 1 : true}, 'not base64!')`);
        await expect(store.getArtifacts({ ids: [id] })).rejects.toThrow(
          new UserError(`custom property "broken" of artifact ${id} is not a valid base64 serialized google.protobuf.Any: not base64`),
        );
      });

      it('records a base type as a ParentType row to the MLMD system type, as TFX records its TYPE_ANNOTATION', async () => {
        const examples = await store.putType({ kind: TypeKind.ARTIFACT, name: 'Examples', baseType: 'Dataset' });
        expect(await store.putType({ kind: TypeKind.ARTIFACT, name: 'Examples', baseType: 'Dataset' })).toBe(examples);
        await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', baseType: 'Model' });
        await store.putType({ kind: TypeKind.ARTIFACT, name: 'PushedModel', baseType: 'Model' });
        const links = await backend().query(address, `SELECT T.name AS type, P.name AS parent, P.type_kind AS kind FROM ParentType L
          JOIN Type T ON T.id = L.type_id JOIN Type P ON P.id = L.parent_type_id ORDER BY T.name`);
        expect(links.map((l) => ({ ...l, kind: Number(l.kind) }))).toEqual([
          { type: 'Examples', parent: 'mlmd.Dataset', kind: TypeKind.ARTIFACT },
          { type: 'Model', parent: 'mlmd.Model', kind: TypeKind.ARTIFACT },
          { type: 'PushedModel', parent: 'mlmd.Model', kind: TypeKind.ARTIFACT },
        ]);
        expect(await backend().query(address, "SELECT name FROM Type WHERE name LIKE 'mlmd.%' ORDER BY name")).toEqual([{ name: 'mlmd.Dataset' }, { name: 'mlmd.Model' }]);
        expect(await store.getType(TypeKind.ARTIFACT, 'Examples')).toMatchObject({ name: 'Examples', baseType: 'Dataset' });
        await expect(store.putType({ kind: TypeKind.ARTIFACT, name: 'Examples', baseType: 'Statistics' })).rejects.toThrow(
          new UserError('artifact type "Examples" already has the base type mlmd.Dataset; it cannot change to mlmd.Statistics'),
        );
      });
    });

    describe('artifacts, executions and contexts', () => {
      beforeEach(() => putPipelineTypes(store));

      it('inserts, reads and updates artifacts, keeping properties not given', async () => {
        const before = Date.now();
        const [a, b] = await store.putArtifacts([
          { type: 'Examples', uri: '/e/1', state: ArtifactState.PENDING, name: 'examples-1', externalId: 'ext-1', properties: { span: 1 } },
          { type: 'Examples', uri: '/e/2', state: live },
        ]);
        const [first] = await store.getArtifacts({ ids: [a] });
        expect(first).toMatchObject({ id: a, type: 'Examples', uri: '/e/1', state: ArtifactState.PENDING, name: 'examples-1', externalId: 'ext-1', properties: { span: 1 } });
        expect(first.createTimeSinceEpoch).toBeGreaterThanOrEqual(before);
        expect(first.lastUpdateTimeSinceEpoch).toBe(first.createTimeSinceEpoch);
        await store.putArtifacts([{ id: a, type: 'Examples', uri: '/e/1', state: live, name: 'examples-1', customProperties: { rows: 10 } }]);
        const [updated] = await store.getArtifacts({ ids: [a] });
        expect(updated).toMatchObject({ state: live, properties: { span: 1 }, customProperties: { rows: 10 }, createTimeSinceEpoch: first.createTimeSinceEpoch });
        expect(updated.lastUpdateTimeSinceEpoch).toBeGreaterThanOrEqual(first.lastUpdateTimeSinceEpoch!);
        await store.updateArtifactStates([a, b], ArtifactState.DELETED);
        expect((await store.getArtifacts({ state: ArtifactState.DELETED })).map((x) => x.id)).toEqual([a, b]);
        await expect(store.putArtifacts([{ id: 999, type: 'Examples', uri: '/x', state: live }])).rejects.toThrow(new UserError('artifact 999 does not exist'));
      });

      it('reports a duplicate artifact name of one type as a UserError', async () => {
        await store.putArtifacts([{ type: 'Model', uri: '/m/1', state: live, name: 'model' }]);
        await expect(store.putArtifacts([{ type: 'Model', uri: '/m/2', state: live, name: 'model' }])).rejects.toBeInstanceOf(UserError);
      });

      it('records and updates executions', async () => {
        const [id] = await store.putExecutions([{ type: 'Trainer', lastKnownState: ExecutionState.RUNNING, customProperties: { attempt: 1 } }]);
        await store.updateExecutionState(id, ExecutionState.FAILED, { error: 'out of memory' });
        const [execution] = await store.getExecutions({ ids: [id] });
        expect(execution).toMatchObject({ type: 'Trainer', lastKnownState: ExecutionState.FAILED, customProperties: { attempt: 1, error: 'out of memory' } });
        expect(await store.countExecutions({ state: [ExecutionState.FAILED, ExecutionState.CANCELED] })).toBe(1);
        expect(await store.countExecutions({ state: ExecutionState.COMPLETE })).toBe(0);
        await expect(store.updateExecutionState(12345, ExecutionState.COMPLETE)).rejects.toThrow(new UserError('execution 12345 does not exist'));
      });

      it('gets or creates contexts by type and name, updating their properties', async () => {
        const [run] = await store.putContexts([{ type: 'pipeline_run', name: 'run-1', properties: { runtime_version: '0.1.0' } }]);
        const [again, other] = await store.putContexts([
          { type: 'pipeline_run', name: 'run-1', customProperties: { note: 'resumed' } },
          { type: 'pipeline', name: 'run-1' },
        ]);
        expect(again).toBe(run);
        expect(other).not.toBe(run);
        expect(await store.getContexts({ type: 'pipeline_run', name: 'run-1' })).toEqual([
          expect.objectContaining({ id: run, name: 'run-1', properties: { runtime_version: '0.1.0' }, customProperties: { note: 'resumed' } }),
        ]);
        expect(await store.getContexts({ properties: { runtime_version: '0.1.0' } })).toHaveLength(1);
      });

      it('links parent and child contexts', async () => {
        const [pipeline, run1, run2] = await store.putContexts([
          { type: 'pipeline', name: 'taxi' }, { type: 'pipeline_run', name: 'r1' }, { type: 'pipeline_run', name: 'r2' },
        ]);
        await store.putParentContexts([{ parentId: pipeline, childId: run1 }, { parentId: pipeline, childId: run2 }]);
        await store.putParentContexts([{ parentId: pipeline, childId: run1 }]);
        expect((await store.getParentContexts(run1)).map((c) => c.name)).toEqual(['taxi']);
        expect((await store.getChildContexts(pipeline)).map((c) => c.id)).toEqual([run1, run2]);
        await expect(store.putParentContexts([{ parentId: run1, childId: run1 }])).rejects.toBeInstanceOf(UserError);
      });

      it('filters artifacts by type, state, uri, context and declared or custom properties', async () => {
        const ids = await store.putArtifacts([
          { type: 'Examples', uri: '/e/1', state: live, properties: { span: 1, split_names: '["train","eval"]' }, customProperties: { verified: true } },
          { type: 'Examples', uri: '/e/2', state: live, properties: { span: 2 }, customProperties: { verified: false, source: 'bq' } },
          { type: 'Examples', uri: '/e/3', state: ArtifactState.DELETED, properties: { span: 2 } },
          { type: 'Model', uri: '/m/1', state: live, properties: { accuracy: 0.9, config: { depth: 3 } } },
        ]);
        const [run] = await store.putContexts([{ type: 'pipeline_run', name: 'r' }]);
        await store.putAttributions([{ contextId: run, artifactId: ids[1] }, { contextId: run, artifactId: ids[3] }]);
        const uris = async (filter: Parameters<MetadataStore['getArtifacts']>[0]) => (await store.getArtifacts(filter)).map((a) => a.uri);
        expect(await uris({ type: 'Examples' })).toEqual(['/e/1', '/e/2', '/e/3']);
        expect(await uris({ type: 'Examples', state: live })).toEqual(['/e/1', '/e/2']);
        expect(await uris({ properties: { span: 2 } })).toEqual(['/e/2', '/e/3']);
        expect(await uris({ properties: { span: 2 }, state: [live, ArtifactState.PENDING] })).toEqual(['/e/2']);
        expect(await uris({ properties: { verified: true } })).toEqual(['/e/1']);
        expect(await uris({ properties: { verified: false, source: 'bq' } })).toEqual(['/e/2']);
        expect(await uris({ properties: { accuracy: 0.9 } })).toEqual(['/m/1']);
        expect(await uris({ properties: { config: { depth: 3 } } })).toEqual(['/m/1']);
        expect(await uris({ properties: { span: 9 } })).toEqual([]);
        expect(await uris({ uri: '/e/3' })).toEqual(['/e/3']);
        expect(await uris({ contextId: run })).toEqual(['/e/2', '/m/1']);
        expect(await uris({ ids: [ids[3], ids[0]] })).toEqual(['/e/1', '/m/1']);
        expect(await uris({ ids: [] })).toEqual([]);
        expect(await uris({ type: 'NoSuchType' })).toEqual([]);
        expect(await store.countArtifacts({ type: 'Examples', properties: { span: 2 } })).toBe(2);
        expect((await store.getContexts({ artifactId: ids[1] })).map((c) => c.id)).toEqual([run]);
      });

      it('pages through artifacts oldest or newest first', async () => {
        const ids = await store.putArtifacts(Array.from({ length: 25 }, (_, i) => ({ type: 'Examples', uri: `/e/${i}`, state: live, properties: { span: i } })));
        expect((await store.getArtifacts({ type: 'Examples', limit: 10, offset: 10 })).map((a) => a.id)).toEqual(ids.slice(10, 20));
        expect((await store.getArtifacts({ type: 'Examples', offset: 20 })).map((a) => a.id)).toEqual(ids.slice(20));
        expect((await store.getArtifacts({ type: 'Examples', newestFirst: true, limit: 3 })).map((a) => a.id)).toEqual([ids[24], ids[23], ids[22]]);
        expect((await store.getExecutions({ limit: 5 }))).toEqual([]);
      });

      it('finds the latest artifact of a type with property filters', async () => {
        await store.putArtifacts([
          { type: 'ExampleStatistics', uri: '/s/1', state: live, properties: { span: 1 } },
          { type: 'ExampleStatistics', uri: '/s/2', state: live, properties: { span: 2 } },
          { type: 'ExampleStatistics', uri: '/s/2-rerun', state: live, properties: { span: 2 } },
          { type: 'ExampleStatistics', uri: '/s/3', state: live, properties: { span: 3 } },
          { type: 'Model', uri: '/m/1', state: live, customProperties: { blessed: 1 } },
          { type: 'Model', uri: '/m/2', state: live, customProperties: { blessed: 1 } },
          { type: 'Model', uri: '/m/3', state: live, customProperties: { blessed: 0 } },
          { type: 'Model', uri: '/m/4', state: ArtifactState.DELETED, customProperties: { blessed: 1 } },
        ]);
        // Statistics of the previous span (the current one being 3).
        expect((await store.getLatestArtifact('ExampleStatistics', { properties: { span: 2 } }))?.uri).toBe('/s/2-rerun');
        expect((await store.getLatestArtifact('Model', { state: live, properties: { blessed: 1 } }))?.uri).toBe('/m/2');
        expect((await store.getLatestArtifact('Model'))?.uri).toBe('/m/4');
        expect(await store.getLatestArtifact('Model', { properties: { blessed: 2 } })).toBeUndefined();
      });
    });

    describe('putExecution, events and lineage', () => {
      beforeEach(() => putPipelineTypes(store));

      /** examples ← ExampleGen; hparams ← Tuner; model ← Trainer(examples, hparams); blessing ← Evaluator(model); Pusher(model, blessing). */
      async function recordPipeline() {
        const contexts = [{ type: 'pipeline', name: 'taxi' }, { type: 'pipeline_run', name: 'run-1', properties: { runtime_version: '0.1.0' } }];
        const uris = new Map<number, [string, string]>();
        /** One completed component run: inputs by id (port key), outputs by [type, uri, port key]. */
        const record = async (type: string, inputs: [number, string][], outputs: [string, string, string][]) => {
          const result = await store.putExecution({ type, lastKnownState: ExecutionState.COMPLETE }, [
            ...inputs.map(([id, key]) => ({ artifact: { id, type: uris.get(id)![0], uri: uris.get(id)![1], state: live }, event: { type: EventType.INPUT, path: [{ key }] } })),
            ...outputs.map(([artifactType, uri, key]) => ({ artifact: { type: artifactType, uri, state: live }, event: { type: EventType.OUTPUT, path: [{ key }, { index: 0 }] } })),
          ], contexts);
          outputs.forEach(([artifactType, uri], i) => uris.set(result.artifactIds[inputs.length + i], [artifactType, uri]));
          return { ...result, outputs: result.artifactIds.slice(inputs.length) };
        };
        const exampleGen = await record('ExampleGen', [], [['Examples', '/e/1', 'examples']]);
        const [examples] = exampleGen.outputs;
        const [hparams] = (await record('Tuner', [], [['HyperParameters', '/h/1', 'best_hyperparameters']])).outputs;
        const trainer = await record('Trainer', [[examples, 'examples'], [hparams, 'hyperparameters']], [['Model', '/m/1', 'model']]);
        const [model] = trainer.outputs;
        const [blessing] = (await record('Evaluator', [[model, 'model']], [['ModelBlessing', '/b/1', 'blessing']])).outputs;
        const pusher = await record('Pusher', [[model, 'model'], [blessing, 'blessing']], []);
        return { pipeline: trainer.contextIds[0], run: trainer.contextIds[1], examples, hparams, model, exampleGen, trainer, pusher };
      }

      it('records an execution with its artifacts, events and contexts in one call', async () => {
        const p = await recordPipeline();
        expect(p.trainer.contextIds).toEqual(p.exampleGen.contextIds);
        expect((await store.getExecutions({ contextId: p.run })).map((e) => e.type)).toEqual(['ExampleGen', 'Tuner', 'Trainer', 'Evaluator', 'Pusher']);
        expect(await store.countArtifacts({ contextId: p.pipeline })).toBe(4);
        expect((await store.getContexts({ executionId: p.trainer.executionId })).map((c) => c.name)).toEqual(['taxi', 'run-1']);
        const events = await store.getEvents({ executionIds: [p.exampleGen.executionId, p.trainer.executionId] });
        expect(events.map((e) => [e.artifactId, e.executionId, e.type, e.path])).toEqual([
          [p.examples, p.exampleGen.executionId, EventType.OUTPUT, [{ key: 'examples' }, { index: 0 }]],
          [p.examples, p.trainer.executionId, EventType.INPUT, [{ key: 'examples' }]],
          [p.hparams, p.trainer.executionId, EventType.INPUT, [{ key: 'hyperparameters' }]],
          [p.model, p.trainer.executionId, EventType.OUTPUT, [{ key: 'model' }, { index: 0 }]],
        ]);
        expect(events.every((e) => typeof e.millisecondsSinceEpoch === 'number' && e.millisecondsSinceEpoch > 0)).toBe(true);
        expect((await store.getEvents({ artifactIds: [p.model], executionIds: [p.pusher.executionId] })).map((e) => e.type)).toEqual([EventType.INPUT]);
      });

      it('rolls back everything when any part of putExecution fails', async () => {
        await store.putContexts([{ type: 'pipeline', name: 'existing' }]);
        const attempt = (second: object, contexts = [{ type: 'pipeline_run', name: 'r' }]) =>
          store.putExecution({ type: 'Trainer', lastKnownState: ExecutionState.COMPLETE }, [
            { artifact: { type: 'Model', uri: '/m/ok', state: live }, event: { type: EventType.OUTPUT } },
            second as never,
          ], contexts);
        await expect(attempt({ artifact: { type: 'Model', uri: '/m/bad', state: live, properties: { accuracy: 'x' } } })).rejects.toBeInstanceOf(UserError);
        await expect(attempt({ artifact: { type: 'Model', uri: '/m/2', state: live } }, [{ type: 'no_such_context_type', name: 'r' }])).rejects.toThrow(/not registered/);
        await expect(attempt({ artifact: { id: 4242, type: 'Model', uri: '/m/2', state: live } })).rejects.toThrow(/does not exist/);
        expect(await store.countExecutions()).toBe(0);
        expect(await store.countArtifacts()).toBe(0);
        expect(await store.getEvents({})).toEqual([]);
        expect((await store.getContexts()).map((c) => c.name)).toEqual(['existing']);
      });

      it('walks lineage upstream: which examples and hyperparameters trained the model, in which run', async () => {
        const p = await recordPipeline();
        const upstream = await store.getLineage(p.model, 'upstream');
        expect(upstream.artifacts.map((a) => a.uri)).toEqual(['/e/1', '/h/1', '/m/1']);
        expect(upstream.executions.map((e) => e.type)).toEqual(['ExampleGen', 'Tuner', 'Trainer']);
        expect(upstream.events).toHaveLength(5);
        const oneHop = await store.getLineage(p.model, 'upstream', 1);
        expect(oneHop.executions.map((e) => e.type)).toEqual(['Trainer']);
        expect(oneHop.artifacts.map((a) => a.uri)).toEqual(['/e/1', '/h/1', '/m/1']);
        const [run] = await store.getContexts({ executionId: oneHop.executions[0].id, type: 'pipeline_run' });
        expect(run).toMatchObject({ name: 'run-1', properties: { runtime_version: '0.1.0' } });
        expect(await store.getLineage(p.examples, 'upstream', 0)).toEqual({ artifacts: [expect.objectContaining({ id: p.examples })], executions: [], events: [] });
      });

      it('walks lineage downstream: everything the examples fed', async () => {
        const p = await recordPipeline();
        const downstream = await store.getLineage(p.examples, 'downstream');
        expect(downstream.executions.map((e) => e.type)).toEqual(['Trainer', 'Evaluator', 'Pusher']);
        expect(downstream.artifacts.map((a) => a.uri)).toEqual(['/e/1', '/m/1', '/b/1']);
        expect((await store.getLineage(p.examples, 'downstream', 1)).artifacts.map((a) => a.uri)).toEqual(['/e/1', '/m/1']);
      });

      it('walks a wide lineage with a bounded number of queries per hop', async () => {
        const inputs = await store.putArtifacts(Array.from({ length: 1500 }, (_, i) => ({ type: 'Examples', uri: `/e/${i}`, state: live })));
        const [trainer] = await store.putExecutions([{ type: 'Trainer', lastKnownState: ExecutionState.COMPLETE }]);
        const [model] = await store.putArtifacts([{ type: 'Model', uri: '/m/wide', state: live }]);
        await store.putEvents([
          ...inputs.map((artifactId) => ({ artifactId, executionId: trainer, type: EventType.INPUT })),
          { artifactId: model, executionId: trainer, type: EventType.OUTPUT },
        ]);
        const started = Date.now();
        const lineage = await store.getLineage(model, 'upstream');
        expect(lineage.artifacts).toHaveLength(1501);
        expect(lineage.events).toHaveLength(1501);
        expect(Date.now() - started).toBeLessThan(3000);
      });

      it('claimExecution: of concurrent claims on one context exactly one writes; RUNNING and unjudged finished executions block', async () => {
        const claimContext = { type: 'pipeline_run', name: 'key-1' };
        const claim = (worker: number, judged: number[] = []) =>
          store.claimExecution(
            { type: 'Trainer', lastKnownState: ExecutionState.RUNNING, customProperties: { worker } },
            [{ artifact: { type: 'Model', uri: `/m/claim-${worker}`, state: ArtifactState.PENDING }, event: { type: EventType.PENDING_OUTPUT } }],
            [{ type: 'pipeline', name: 'taxi' }, claimContext],
            { context: claimContext, judged },
          );
        // PostgreSQL runs these on separate pooled connections at once; SQLite queues them on its connection.
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(i)));
        const winners = results.filter((r) => r.claimed);
        expect(winners).toHaveLength(1);
        const winner = winners[0].claimed!.executionId;
        for (const r of results.filter((x) => !x.claimed)) expect(r.blockedBy!.map((e) => e.id)).toEqual([winner]);
        expect(await store.countExecutions()).toBe(1);
        expect(await store.countArtifacts()).toBe(1);

        // A claim on another context is independent.
        const other = await store.claimExecution({ type: 'Trainer', lastKnownState: ExecutionState.RUNNING }, [], [{ type: 'pipeline_run', name: 'key-2' }], {
          context: { type: 'pipeline_run', name: 'key-2' },
          judged: [],
        });
        expect(other.claimed).toBeDefined();

        // Renewal touches a RUNNING execution only.
        expect(await store.touchExecution(winner, ExecutionState.RUNNING)).toBe(true);
        await store.updateExecutionState(winner, ExecutionState.COMPLETE);
        expect(await store.touchExecution(winner, ExecutionState.RUNNING)).toBe(false);
        // A finished execution the caller has not judged is news: it blocks; once judged it does not.
        expect((await claim(20)).blockedBy?.map((e) => e.id)).toEqual([winner]);
        expect((await claim(21, [winner])).claimed).toBeDefined();
        // Nor does a FAILED or CANCELED one block.
        const third = await claim(22, [winner]);
        expect(third.blockedBy).toHaveLength(1);
        await store.updateExecutionState(third.blockedBy![0].id!, ExecutionState.CANCELED);
        expect((await claim(23, [winner])).claimed).toBeDefined();
      });

      it('endExecution: of a holder completing and takers ending one RUNNING execution at once exactly one writes; a renewed execution is not taken', async () => {
        const context = { type: 'pipeline_run', name: 'key-end' };
        const { claimed } = await store.claimExecution(
          { type: 'Trainer', lastKnownState: ExecutionState.RUNNING },
          [{ artifact: { type: 'Model', uri: '/m/end', state: ArtifactState.PENDING }, event: { type: EventType.PENDING_OUTPUT } }],
          [context],
          { context, judged: [] },
        );
        const id = claimed!.executionId;
        const [read] = await store.getExecutions({ ids: [id] });
        const artifactId = claimed!.artifactIds[0];
        // A taker that read the execution before its holder renewed is refused; nothing changes.
        while (Date.now() <= read.lastUpdateTimeSinceEpoch!) await new Promise((r) => setImmediate(r));
        expect(await store.touchExecution(id, ExecutionState.RUNNING)).toBe(true);
        const stale = { ...read, id, lastKnownState: ExecutionState.CANCELED };
        expect(await store.endExecution(stale, [], [], read.lastUpdateTimeSinceEpoch)).toBeUndefined();
        expect((await store.getExecutions({ ids: [id] }))[0].lastKnownState).toBe(ExecutionState.RUNNING);
        // PostgreSQL runs these on separate pooled connections at once; SQLite queues them on its connection.
        const [current] = await store.getExecutions({ ids: [id] });
        const complete = () =>
          store.endExecution({ ...read, id, lastKnownState: ExecutionState.COMPLETE }, [{ artifact: { id: artifactId, type: 'Model', uri: '/m/end', state: ArtifactState.LIVE }, event: { type: EventType.OUTPUT } }], []);
        const cancel = () =>
          store.endExecution({ ...read, id, lastKnownState: ExecutionState.CANCELED, customProperties: { error: 'taken over' } }, [{ artifact: { id: artifactId, type: 'Model', uri: '/m/end', state: ArtifactState.ABANDONED } }], [], current.lastUpdateTimeSinceEpoch);
        const results = await Promise.all([complete(), cancel(), cancel(), complete()]);
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        const [after] = await store.getExecutions({ ids: [id] });
        const [artifact] = await store.getArtifacts({ ids: [artifactId] });
        const won = results.findIndex((r) => r !== undefined);
        expect([ExecutionState[after.lastKnownState], ArtifactState[artifact.state]]).toEqual(won === 0 || won === 3 ? ['COMPLETE', 'LIVE'] : ['CANCELED', 'ABANDONED']);
        expect((await store.getEvents({ executionIds: [id] })).filter((e) => e.type === EventType.OUTPUT)).toHaveLength(won === 0 || won === 3 ? 1 : 0);
      });

      it('keeps two writer processes from losing anything, including creating the schema at once', async () => {
        await store.close();
        store = undefined as unknown as MetadataStore;
        const fresh = await backend().freshAddress();
        const count = 200;
        const writers = ['a', 'b'].map((worker) => {
          const child = fork(path.join(__dirname, 'concurrent-writer.ts'), [fresh, worker, String(count)], {
            execArgv: ['-r', 'sucrase/register/ts'],
            stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
          });
          let stderr = '';
          child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
        });
        expect(await Promise.all(writers)).toEqual([{ code: 0, stderr: '' }, { code: 0, stderr: '' }]);
        store = await openMetadataStore(fresh);
        expect(await store.countExecutions()).toBe(2 * count);
        expect(await store.countArtifacts({ type: 'Model' })).toBe(2 * count);
        expect(await store.getEvents({})).toHaveLength(2 * count);
        const contexts = await store.getContexts();
        expect(contexts.map((c) => c.name).sort()).toEqual(['run-a', 'run-b', 'shared']);
        const shared = contexts.find((c) => c.name === 'shared')!;
        expect(await store.countExecutions({ contextId: shared.id })).toBe(2 * count);
        expect(await store.countArtifacts({ contextId: shared.id })).toBe(2 * count);
        expect(await store.getTypes(TypeKind.CONTEXT)).toHaveLength(2);
      });
    });
  });
}
