// SchemaGen and ImportSchemaGen end to end through the launcher: a schema inferred from StatisticsGen's
// output (penguins with missing values), and a curated schema file imported, or rejected with its problems.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImportSchemaGen } from '../../../../runtime/components/import-schema-gen';
import { SchemaGen } from '../../../../runtime/components/schema-gen';
import { StatisticsGen } from '../../../../runtime/components/statistics-gen';
import { sqlString } from '../../../../runtime/data/duckdb';
import type { Schema } from '../../../../runtime/tfdv/schema-proto';
import { PENGUINS, outputRef, run, writeExamples } from '../../tfdv/helpers';

let root: string;
beforeEach(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'schema-gen-'));
});
afterEach(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

const readSchema = (dir: string): Schema => JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8'));

it('infers a schema from the statistics of every split', async () => {
  const penguins = `SELECT * FROM read_json(${sqlString(PENGUINS)})`;
  const examples = await writeExamples(path.join(root, 'examples'), {
    train: `${penguins} WHERE Island <> 'Torgersen'`,
    eval: `${penguins} WHERE Island = 'Torgersen'`,
  });
  const stats = outputRef(await run(StatisticsGen, { examples }, { statistics: path.join(root, 'statistics') }), 'statistics');
  await run(SchemaGen, { statistics: stats }, { schema: path.join(root, 'schema') });
  const schema = readSchema(path.join(root, 'schema'));
  const byName = Object.fromEntries(schema.feature.map((f) => [f.name, f]));
  expect(byName.Species).toMatchObject({ type: 'BYTES', domain: 'Species', presence: { minFraction: 1, minCount: '1' } });
  // Train and eval islands differ; the merged domain holds all three.
  expect(schema.stringDomain!.find((d) => d.name === 'Island')!.value).toEqual(['Biscoe', 'Dream', 'Torgersen']);
  expect(byName['Body Mass (g)']).toMatchObject({ type: 'INT', presence: { minCount: '1' }, valueCount: { min: '1', max: '1' } });
  expect(byName['Beak Length (mm)'].type).toBe('FLOAT');

  await run(SchemaGen, { statistics: stats }, { schema: path.join(root, 'schema-noshape') }, { infer_feature_shape: false, exclude_splits: ['eval'] });
  const noShape = readSchema(path.join(root, 'schema-noshape'));
  expect(noShape.feature.find((f) => f.name === 'Species')!.shape).toBeUndefined();
  expect(noShape.stringDomain!.find((d) => d.name === 'Island')!.value).toEqual(['Biscoe', 'Dream']);
});

it('imports a curated schema file, and rejects a broken one with its problems', async () => {
  const good: Schema = {
    feature: [{ name: 'color', type: 'BYTES', domain: 'color', driftComparator: { infinityNorm: { threshold: 0.05 } } }],
    stringDomain: [{ name: 'color', value: ['red', 'green'] }],
    datasetConstraints: { minExamplesCount: '100' },
  };
  const goodFile = path.join(root, 'good.json');
  fs.writeFileSync(goodFile, JSON.stringify(good));
  await run(ImportSchemaGen, {}, { schema: path.join(root, 'imported') }, { schema_file: goodFile });
  expect(readSchema(path.join(root, 'imported'))).toEqual(good);

  const badFile = path.join(root, 'bad.json');
  fs.writeFileSync(badFile, JSON.stringify({ feature: [{ name: 'x', type: 'TEXT' }, { name: 'y', type: 'INT', domain: 'nope' }] }));
  await expect(run(ImportSchemaGen, {}, { schema: path.join(root, 'bad') }, { schema_file: badFile })).rejects.toThrow(/is not a valid schema: feature\.0\.type: /);
  fs.writeFileSync(badFile, JSON.stringify({ feature: [{ name: 'y', type: 'INT', domain: 'nope' }] }));
  await expect(run(ImportSchemaGen, {}, { schema: path.join(root, 'bad') }, { schema_file: badFile })).rejects.toThrow(
    'feature "y" refers to domain "nope", which the schema does not define',
  );
  await expect(run(ImportSchemaGen, {}, { schema: path.join(root, 'bad') }, { schema_file: path.join(root, 'absent.json') })).rejects.toThrow(/does not exist/);
  fs.writeFileSync(badFile, '{ "feature": [');
  await expect(run(ImportSchemaGen, {}, { schema: path.join(root, 'bad') }, { schema_file: badFile })).rejects.toThrow(/bad\.json is not valid JSON: /);
});
