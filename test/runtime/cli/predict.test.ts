// `mlp predict`: batch predictions from a model base path (newest committed version) over CSV and JSON input,
// with the BulkInferrer's code — the same predictions the serving bundle gives in process — plus its errors:
// a missing required column is named, and a failed run leaves no output file.

import * as fs from 'fs';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { selectBackend } from '../../../runtime/ml/backend';
import { loadServingBundle, predictRows } from '../../../runtime/ml/serving-bundle';
import { storageFor } from '../../../runtime/storage';
import { runCli } from '../../support/cli';
import { PENGUINS_FILE, useTempDir } from '../ml/helpers';
import { trainPenguinsModel } from '../serving/helpers';

const t = useTempDir('mlp-predict-');
let base: string;

beforeAll(async () => {
  await selectBackend();
  const model = await trainPenguinsModel(t.dir);
  base = path.join(t.dir, 'serving', 'penguins');
  // Two versions; the newer one is what --model <base> means. An uncommitted higher folder is ignored.
  for (const v of ['1', '2']) {
    const staging = path.join(t.dir, `stage-${v}`);
    await fs.promises.cp(model, staging, { recursive: true });
    await fs.promises.rm(path.join(staging, '_MLP_COMMITTED.json'));
    await storageFor(base).publishDirectory(staging, path.join(base, v));
  }
  await fs.promises.mkdir(path.join(base, '3'));
}, 120_000);

test('predicts every row of a CSV with the newest committed version, as the bundle does in process', async () => {
  const csv = path.join(t.dir, 'penguins.csv');
  await (await duckdb()).run(`COPY (SELECT * FROM read_json_auto(${sqlString(PENGUINS_FILE)})) TO ${sqlString(csv)} (HEADER)`);
  const out = path.join(t.dir, 'predictions.parquet');
  const r = await runCli(['predict', '--model', base, '--input', csv, '--output', out, '--keys', 'Island,Species', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ model: path.join(base, '2'), rows: 344, output: out });

  const written = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_parquet(${sqlString(out)})`)).getRowObjectsJS();
  expect(written).toHaveLength(344);
  expect(Object.keys(written[0])).toEqual(['Island', 'Species', 'predicted_class', 'predicted_class_id', 'probabilities']);
  const rows = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_csv_auto(${sqlString(csv)})`)).getRowObjectsJS();
  const expected = await predictRows(await loadServingBundle(path.join(base, '2')), rows);
  expect(written.map((w) => w.predicted_class)).toEqual(expected.map((p) => ('classes' in p ? p.classes[0] : undefined)));
  const agree = written.filter((w) => w.predicted_class === w.Species).length / written.length;
  expect(agree).toBeGreaterThan(0.9);
}, 60_000);

test('a JSON array input works; an input lacking a key column is named and nothing is written', async () => {
  const out = path.join(t.dir, 'from-json.parquet');
  const ok = await runCli(['predict', '--model', path.join(base, '1'), '--input', PENGUINS_FILE, '--output', out]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^predicted 344 rows with .*\/1 \(\w+[-\w]*\) in [\d.]+ s → /);

  const bad = path.join(t.dir, 'bad.parquet');
  const r = await runCli(['predict', '--model', base, '--input', PENGUINS_FILE, '--output', bad, '--keys', 'penguin_id']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^mlp: error: --input .*penguins\.json lacks column\(s\) "penguin_id" \(columns: Species, Island/);
  expect(fs.readdirSync(t.dir).filter((f) => f.startsWith('bad.parquet'))).toEqual([]);

  const missing = await runCli(['predict', '--model', path.join(t.dir, 'nowhere'), '--input', PENGUINS_FILE, '--output', bad]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('is neither a model bundle (no signature.json or model.onnx) nor a model base path');
}, 60_000);
