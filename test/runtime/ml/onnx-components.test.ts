/** @jest-environment ./test/support/onnx-environment.js */
// ONNX Model artifacts through the components that load models (the one prediction path, predictRows): a
// scikit-learn penguins classifier exported to ONNX (model.onnx only; model_format and framework recorded on the artifact) on
// real penguins Examples. The BulkInferrer's probabilities equal onnxruntime's in Python to 1e-5 (rows
// missing a measurement get NaN, ONNX's missing value, and no class); the Evaluator refuses a NaN prediction
// and, on the eval rows with every measurement, blesses it against an accuracy threshold and not against an
// impossible one; the InfraValidator serves it in `mlp serve` and infra-blesses it, and refuses it on the eval
// rows missing a measurement, naming the NaN prediction and the missing inputs; the Pusher pushes it to a new
// committed version folder.

import * as fs from 'fs';
import * as path from 'path';
import { BulkInferrer, PREDICTIONS_FILE } from '../../../runtime/components/bulk-inferrer';
import { Evaluator } from '../../../runtime/components/evaluator';
import { InfraValidator } from '../../../runtime/components/infra-validator';
import { Pusher } from '../../../runtime/components/pusher';
import { duckdb, sqlIdent, splitParquetFiles, sqlString, sqlStringList } from '../../../runtime/data/duckdb';
import { storageFor } from '../../../runtime/storage';
import { buildOnnxModels, expectAllClose, MEASUREMENTS, type OnnxModels } from './onnx-models';
import { buildPenguinsUpstream, fresh, LABEL, outputRef, publish, publishedCopy, run, sqlRows, useTempDir, type ArtifactRef, type Upstream } from './helpers';

const tmp = useTempDir('mlp-onnx-components-');

let up: Upstream;
let evalRows: Record<string, unknown>[];
let complete: Record<string, unknown>[];
let models: OnnxModels;
let model: ArtifactRef;
/** The Examples with only the eval rows that have every measurement (the model answers NaN for the others). */
let completeExamples: ArtifactRef;

beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
  evalRows = await sqlRows(`SELECT * FROM read_parquet(${sqlStringList(splitParquetFiles(up.examples.uri, 'eval'))})`);
  complete = evalRows.filter((r) => MEASUREMENTS.every((m) => r[m] !== null));
  models = buildOnnxModels(path.join(tmp.dir, 'onnx'), complete);
  model = await publish(models.dirs.tabular, path.join(tmp.dir, 'trainer', 'model', '1'), { framework: 'scikit-learn', model_format: 'onnx' });
  completeExamples = await publishedCopy(up.examples, path.join(tmp.dir, 'complete-examples'), async (dir) => {
    const conn = await duckdb();
    try {
      for (const file of splitParquetFiles(dir, 'eval')) {
        const kept = MEASUREMENTS.map((m) => `${sqlIdent(m)} IS NOT NULL`).join(' AND ');
        await conn.run(`COPY (SELECT * FROM read_parquet(${sqlString(file)}) WHERE ${kept}) TO ${sqlString(`${file}.kept`)} (FORMAT parquet)`);
        await fs.promises.rename(`${file}.kept`, file);
      }
    } finally {
      conn.closeSync();
    }
  });
}, 180_000);

test('BulkInferrer: the predictions of every eval example are onnxruntime’s (Python) to 1e-5', async () => {
  const out = await run(BulkInferrer, { examples: up.examples, model }, { inference_result: fresh(tmp.dir, 'inference') }, { split: 'eval' });
  const result = outputRef(out, 'inference_result');
  expect(result.properties).toMatchObject({ inferred: 1, rows: evalRows.length });
  const written = await sqlRows(`SELECT * FROM read_parquet(${sqlString(path.join(result.uri, 'Split-eval', PREDICTIONS_FILE))})`);
  expect(written).toHaveLength(evalRows.length);
  const known = written.filter((w) => MEASUREMENTS.every((m) => w[m] !== null));
  expect(known).toHaveLength(complete.length);
  expectAllClose(known.map((w) => Array.from(w.probabilities as number[])), models.expected.tabular.probabilities);
  expect(known.map((w) => w.predicted_class_id)).toEqual(models.expected.tabular.label);
  // A row missing a measurement gets no class (its probabilities are NaN), never class 0.
  for (const w of written.filter((x) => !known.includes(x))) expect(w).toMatchObject({ predicted_class_id: -1, predicted_class: '' });
}, 60_000);

test('Evaluator: blessing and thresholds work unchanged on an ONNX model; a NaN prediction is refused, never scored', async () => {
  const evaluate = async (examples: ArtifactRef, lower: number) => {
    const out = await run(
      Evaluator,
      { examples, model },
      { evaluation: fresh(tmp.dir, 'evaluation'), blessing: fresh(tmp.dir, 'blessing') },
      { eval_config: { label_key: LABEL, task: 'multiclass', thresholds: { accuracy: { value_threshold: { lower_bound: lower } } } } },
    );
    return { blessing: outputRef(out, 'blessing'), evaluation: outputRef(out, 'evaluation') };
  };
  // The eval split holds a penguin with no measurements: its probabilities are NaN, which no metric may count.
  expect(evalRows.length).toBeGreaterThan(complete.length);
  await expect(evaluate(up.examples, 0.9)).rejects.toThrow(/a multiclass prediction must be 3 probabilities in \[0, 1\].*got \[null,null,null\]/);
  const good = await evaluate(completeExamples, 0.9);
  expect(good.blessing.properties.blessed).toBe(1);
  expect(fs.readdirSync(good.blessing.uri).filter((f) => !f.startsWith('_'))).toEqual(['BLESSED']);
  const right = complete.filter((r, i) => ['Adelie', 'Chinstrap', 'Gentoo'][models.expected.tabular.label[i]] === r[LABEL]).length;
  expect(good.evaluation.properties.accuracy).toBeCloseTo(right / complete.length, 10);
  expect(good.evaluation.properties.examples).toBe(complete.length);
  const impossible = await evaluate(completeExamples, 1.01);
  expect(impossible.blessing.properties.blessed).toBe(0);
}, 60_000);

test('InfraValidator: `mlp serve` loads the ONNX model and answers real requests', async () => {
  const out = await run(InfraValidator, { model, examples: completeExamples }, { blessing: fresh(tmp.dir, 'infra-blessing') }, { num_examples: 3 });
  const blessing = outputRef(out, 'blessing');
  const report = JSON.parse(fs.readFileSync(path.join(blessing.uri, 'infra_validation.json'), 'utf8'));
  expect(report).toMatchObject({ blessed: true, failures: [], requests: 3 });
  expect(blessing.properties.blessed).toBe(1);
}, 90_000);

test('InfraValidator: a NaN prediction for a penguin missing measurements is named as the cause, with the missing inputs', async () => {
  const out = await run(InfraValidator, { model, examples: up.examples }, { blessing: fresh(tmp.dir, 'infra-blessing') }, { num_examples: evalRows.length });
  const blessing = outputRef(out, 'blessing');
  const report = JSON.parse(fs.readFileSync(path.join(blessing.uri, 'infra_validation.json'), 'utf8'));
  // The server writes the NaN probabilities as TF Serving does (bare NaN, not JSON): read as such, not as "no predictions".
  const expected = evalRows.flatMap((r, i) => {
    const missing = MEASUREMENTS.filter((m) => r[m] === null);
    if (missing.length === 0) return [];
    return [`request ${i + 1}: prediction 0 "probabilities" is [NaN, NaN, NaN]: the model produced a non-finite value (NaN) for this instance; the instance has no value for ${missing.map((m) => JSON.stringify(m)).join(', ')}`];
  });
  expect(expected.length).toBeGreaterThan(0);
  expect(report).toMatchObject({ blessed: false, failures: expected, requests: evalRows.length });
  expect(blessing.properties.blessed).toBe(0);
}, 90_000);

test('Pusher: an ONNX model is pushed as <destination>/<version>/model.onnx, committed', async () => {
  const blessingSrc = path.join(tmp.dir, 'blessed-src');
  await fs.promises.mkdir(blessingSrc);
  await fs.promises.writeFile(path.join(blessingSrc, 'BLESSED'), '');
  const blessing = await publish(blessingSrc, path.join(tmp.dir, 'evaluator', 'blessing', '9'), { blessed: 1 });
  const dest = path.join(tmp.dir, 'serving', 'penguins');
  const out = await run(Pusher, { model, model_blessing: blessing }, { pushed_model: fresh(tmp.dir, 'pushed') }, { push_destination: dest });
  const pushed = outputRef(out, 'pushed_model');
  expect(pushed.properties).toMatchObject({ pushed: 1 });
  const folder = path.join(dest, String(pushed.properties.pushed_version));
  expect(fs.readFileSync(path.join(folder, 'model.onnx'))).toEqual(fs.readFileSync(path.join(model.uri, 'model.onnx')));
  expect(await storageFor(folder).readCommit(folder)).toMatchObject({ files: [expect.objectContaining({ path: 'model.onnx' })] });
}, 60_000);
