// BulkInferrer on a real penguins model: with a blessed model, <inference_result>/Split-<split>/
// predictions.parquet holds one row per example of the split, in order, with the key columns in their
// original types (default: the model's raw inputs) and predicted_class / predicted_class_id / probabilities
// equal to the serving path's predictRows on the same rows; chosen key_columns replace the default; a model
// that is not blessed (property or marker file) is not loaded and nothing is inferred.

import * as fs from 'fs';
import * as path from 'path';
import { BulkInferrer, PREDICTIONS_FILE } from '../../../../runtime/components/bulk-inferrer';
import { splitParquetFiles, sqlString, sqlStringList } from '../../../../runtime/data/duckdb';
import { selectBackend } from '../../../../runtime/ml/backend';
import { loadServingBundle, predictRows } from '../../../../runtime/ml/serving-bundle';
import { blessingArtifact, buildPenguinsUpstream, fresh, LABEL, outputRef, publishedCopy, QUICK_HP, run, sqlRows, train, useTempDir, type ArtifactRef, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-bulk-inferrer-');

let up: Upstream;
let model: ArtifactRef;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
  model = (await train(tmp.dir, up, { hyperparameters: { ...QUICK_HP, epochs: 4 } })).model;
}, 120_000);

const blessing = (blessed: boolean, markerOnly = false) => blessingArtifact(tmp.dir, blessed, markerOnly);

async function infer(parameters: Record<string, unknown>, modelBlessing?: ArtifactRef, candidate: ArtifactRef = model) {
  const log: string[] = [];
  const out = await run(BulkInferrer, { examples: up.examples, model: candidate, model_blessing: modelBlessing }, { inference_result: fresh(tmp.dir, 'inference') }, parameters, log);
  return { result: outputRef(out, 'inference_result'), log };
}

test('a blessed model predicts every example of the split, with key columns and the serving predictions', async () => {
  await selectBackend();
  const { result } = await infer({ split: 'eval' }, await blessing(true));
  const file = path.join(result.uri, 'Split-eval', PREDICTIONS_FILE);
  const sourceFiles = splitParquetFiles(up.examples.uri, 'eval');
  const source = await sqlRows(`SELECT * FROM read_parquet(${sqlStringList(sourceFiles)})`);
  expect(result.properties).toMatchObject({ inferred: 1, rows: source.length, split: 'eval', split_names: '["eval"]' });

  // Key columns are the model's raw inputs with their source types, then the outputs.
  const bundle = await loadServingBundle(model.uri);
  const inputs = bundle.signature.inputs.map((i) => i.name);
  const described = (await sqlRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map((r) => [r.column_name, r.column_type]);
  const sourceTypes = new Map((await sqlRows(`DESCRIBE SELECT * FROM read_parquet(${sqlStringList(sourceFiles)})`)).map((r) => [r.column_name, r.column_type]));
  expect(described).toEqual([
    ...inputs.map((c) => [c, sourceTypes.get(c)]),
    ['predicted_class', 'VARCHAR'],
    ['predicted_class_id', 'INTEGER'],
    ['probabilities', 'DOUBLE[]'],
  ]);

  // One row per example, in the split's order, with exactly the serving path's predictions.
  const rows = await sqlRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
  expect(rows).toHaveLength(source.length);
  const expected = await predictRows(bundle, source);
  rows.forEach((row, i) => {
    for (const c of inputs) expect(row[c]).toEqual(source[i][c]);
    const p = expected[i];
    if (!('probabilities' in p)) throw new Error('expected a classification prediction');
    expect(row).toMatchObject({ predicted_class: p.classes[0], predicted_class_id: p.class_ids[0], probabilities: p.probabilities });
  });
  // The rows with missing values (penguins has them) are predicted too, and the model is right most of the time.
  const right = rows.filter((row, i) => row.predicted_class === source[i][LABEL]).length;
  expect(right / rows.length).toBeGreaterThan(0.9);
  bundle.model.dispose();
});

test('key_columns choose the columns copied next to the predictions; the train split works alike', async () => {
  const { result } = await infer({ split: 'train', key_columns: [LABEL, 'Island'] }, await blessing(true, true));
  const file = path.join(result.uri, 'Split-train', PREDICTIONS_FILE);
  const columns = (await sqlRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map((r) => r.column_name);
  expect(columns).toEqual([LABEL, 'Island', 'predicted_class', 'predicted_class_id', 'probabilities']);
  const [counts] = await sqlRows(
    `SELECT count(*) AS n, count(*) FILTER (WHERE predicted_class = ${LABEL}) AS right, min(len(probabilities)) AS k FROM read_parquet(${sqlString(file)})`,
  );
  const trainRows = JSON.parse(String(up.examples.properties.split_row_counts)).train;
  expect(Number(counts.n)).toBe(trainRows);
  expect(Number(counts.k)).toBe(3);
  expect(Number(counts.right) / trainRows).toBeGreaterThan(0.9);
  expect(result.properties).toMatchObject({ inferred: 1, rows: trainRows, split: 'train' });
});

test('a model that is not blessed is not loaded and nothing is inferred', async () => {
  // Even a corrupt model is fine: it is never loaded.
  const corrupt = await publishedCopy(model, fresh(tmp.dir, 'corrupt'), (dir) => fs.writeFileSync(path.join(dir, 'model.json'), 'garbage'));
  for (const notBlessed of [await blessing(false), await blessing(false, true)]) {
    const { result, log } = await infer({ split: 'eval' }, notBlessed, corrupt);
    expect(result.properties).toMatchObject({ inferred: 0 });
    expect(result.properties).not.toHaveProperty('rows');
    expect(fs.readdirSync(result.uri).filter((f) => !f.startsWith('_'))).toEqual([]);
    expect(log).toContain(`model ${corrupt.uri} is not blessed: no inference`);
  }
});
