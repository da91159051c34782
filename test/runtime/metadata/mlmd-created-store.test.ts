// A metadata store created by ML Metadata itself (its own v10 SQLite DDL, which has no unique key on Type)
// stays one row per type and one pipeline context however many runs write to it, so MLMD clients, whose
// type lookup by name takes the first row, find every artifact. The standard artifact types land in it as TFX
// declares them (tfx/types/standard_artifacts.py): declared properties per type, and TYPE_ANNOTATION recorded
// as MLMD records base_type, a ParentType row to the system type mlmd.Dataset / mlmd.Statistics / mlmd.Model.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { openMetadataStore, PropertyType } from '../../../runtime/metadata';
import { registerTypes } from '../../../runtime/runner/mlmd-types';
import { REPO_ROOT, runCli } from '../../support/cli';

const MLMD_DDL = path.join(REPO_ROOT, '..', 'shared', 'reference', 'mlmd', 'sqlite-schema-v10.sql');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-mlmd-ddl-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const query = (file: string, sql: string): Record<string, unknown>[] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

test('two runs on a store made by MLMD’s own DDL: one Type row per name, one pipeline context, each run listed once', async () => {
  const root = path.join(dir, 'root');
  const file = path.join(root, 'metadata.sqlite');
  await fs.mkdir(root, { recursive: true });
  const db = new Database(file);
  db.exec(await fs.readFile(MLMD_DDL, 'utf8'));
  db.close();
  // The store really is MLMD's: no unique key on Type to lean on.
  expect(query(file, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Type' AND sql LIKE '%UNIQUE%'")).toEqual([]);

  for (let run = 0; run < 2; run++) {
    const result = await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=5']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  }

  const types = query(file, 'SELECT name, type_kind, COUNT(*) AS n FROM Type GROUP BY name, type_kind');
  expect(types.length).toBeGreaterThan(0);
  expect(types.filter((t) => Number(t.n) !== 1)).toEqual([]);
  const pipelines = query(file, "SELECT C.name FROM Context C JOIN Type T ON T.id = C.type_id WHERE T.name = 'pipeline'");
  expect(pipelines).toHaveLength(1);
  const runContexts = query(file, "SELECT C.name FROM Context C JOIN Type T ON T.id = C.type_id WHERE T.name = 'pipeline_run'");
  expect(runContexts).toHaveLength(2);

  const runs = await runCli(['runs', '--root', root, '--json']);
  expect(runs.code).toBe(0);
  const listed = (JSON.parse(runs.stdout) as { runId?: string; id?: string }[]).map((r) => r.runId ?? r.id);
  expect(listed).toHaveLength(2);
  expect(new Set(listed).size).toBe(2);
}, 240_000);

test('declared properties and base types as TFX records them, one Type row each after two registrations', async () => {
  const file = path.join(dir, 'types.sqlite');
  const ddl = new Database(file);
  ddl.exec(await fs.readFile(MLMD_DDL, 'utf8'));
  ddl.close();
  for (let i = 0; i < 2; i++) {
    const store = await openMetadataStore(`sqlite:${file}`);
    await registerTypes(store, []);
    await store.close();
  }
  const declared = (name: string) =>
    Object.fromEntries(query(file, `SELECT P.name, P.data_type FROM TypeProperty P JOIN Type T ON T.id = P.type_id WHERE T.name = '${name}' AND T.type_kind = 1`).map((r) => [r.name, r.data_type]));
  expect(declared('Examples')).toEqual({ span: PropertyType.INT, version: PropertyType.INT, split_names: PropertyType.STRING });
  expect(declared('ExampleStatistics')).toEqual({ span: PropertyType.INT, split_names: PropertyType.STRING });
  expect(declared('ExampleAnomalies')).toEqual({ span: PropertyType.INT, split_names: PropertyType.STRING });
  expect(query(file, 'SELECT T.name AS type, P.name AS parent FROM ParentType L JOIN Type T ON T.id = L.type_id JOIN Type P ON P.id = L.parent_type_id ORDER BY T.name')).toEqual([
    { type: 'ExampleStatistics', parent: 'mlmd.Statistics' },
    { type: 'Examples', parent: 'mlmd.Dataset' },
    { type: 'Model', parent: 'mlmd.Model' },
    { type: 'PushedModel', parent: 'mlmd.Model' },
  ]);
  expect(query(file, 'SELECT name, COUNT(*) AS n FROM Type GROUP BY name, type_kind HAVING n > 1')).toEqual([]);
});
