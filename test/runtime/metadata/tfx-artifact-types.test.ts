// The standard artifact types land in the store as TFX declares them (tfx/types/standard_artifacts.py):
// declared properties per type, and TYPE_ANNOTATION recorded as MLMD does base_type, a ParentType row to the
// system type mlmd.Dataset / mlmd.Statistics / mlmd.Model. Checked on a store made by MLMD's own DDL, where
// registering twice must still leave one row per type.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { openMetadataStore, PropertyType } from '../../../runtime/metadata';
import { registerTypes } from '../../../runtime/runner/mlmd-types';
import { REPO_ROOT } from '../../support/cli';

const MLMD_DDL = path.join(REPO_ROOT, '..', 'shared', 'reference', 'mlmd', 'sqlite-schema-v10.sql');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-tfx-types-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('declared properties and base types as TFX records them, one Type row each after two registrations', async () => {
  const file = path.join(dir, 'metadata.sqlite');
  const ddl = new Database(file);
  ddl.exec(await fs.readFile(MLMD_DDL, 'utf8'));
  ddl.close();
  for (let i = 0; i < 2; i++) {
    const store = await openMetadataStore(`sqlite:${file}`);
    await registerTypes(store, []);
    await store.close();
  }
  const db = new Database(file, { readonly: true });
  try {
    const declared = (name: string) =>
      Object.fromEntries((db.prepare('SELECT P.name, P.data_type FROM TypeProperty P JOIN Type T ON T.id = P.type_id WHERE T.name = ? AND T.type_kind = 1').all(name) as { name: string; data_type: number }[]).map((r) => [r.name, r.data_type]));
    expect(declared('Examples')).toEqual({ span: PropertyType.INT, version: PropertyType.INT, split_names: PropertyType.STRING });
    expect(declared('ExampleStatistics')).toEqual({ span: PropertyType.INT, split_names: PropertyType.STRING });
    expect(declared('ExampleAnomalies')).toEqual({ span: PropertyType.INT, split_names: PropertyType.STRING });
    const parents = db.prepare('SELECT T.name AS type, P.name AS parent FROM ParentType L JOIN Type T ON T.id = L.type_id JOIN Type P ON P.id = L.parent_type_id ORDER BY T.name').all();
    expect(parents).toEqual([
      { type: 'ExampleStatistics', parent: 'mlmd.Statistics' },
      { type: 'Examples', parent: 'mlmd.Dataset' },
      { type: 'Model', parent: 'mlmd.Model' },
      { type: 'PushedModel', parent: 'mlmd.Model' },
    ]);
    expect(db.prepare('SELECT name, COUNT(*) AS n FROM Type GROUP BY name, type_kind HAVING n > 1').all()).toEqual([]);
  } finally {
    db.close();
  }
});
