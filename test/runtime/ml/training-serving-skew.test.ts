// Training/serving skew: the same raw penguin rows go through the real training input path (InputPipeline's
// worker thread: DuckDB streaming Parquet → applyTransform → packed batches, no shuffle) and through the
// serving path (applyTransform → packModelInputs → model, as predictScores does) of a bundle written and
// loaded back from disk. Rows include missing values (null and absent keys), unknown categories (OOV),
// empty strings, integer features as DuckDB hands them over (bigint) and as a JSON request carries them
// (numbers), and an unlabelled row the training path drops. The packed tensors must be bit-identical, and a
// model trained on the real train split must give bit-identical scores on both paths (through tfjs; the
// bundle's inference plan agrees to float rounding).

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runtime/ml/backend';
import { InputPipeline, type Batch } from '../../../runtime/ml/input-pipeline';
import { encodeLabel, packModelInputs, toTensors, type PackedInput } from '../../../runtime/ml/model-inputs';
import { loadServingBundle, predictRows, predictScores, writeServingBundle, type TfjsBundle } from '../../../runtime/ml/serving-bundle';
import type { Signature } from '../../../runtime/ml/signature';
import { trainLoop } from '../../../runtime/ml/train-loop';
import { buildWideDeep, compileFor, WideDeepHyperparameters } from '../../../runtime/ml/wide-deep';
import { duckdb, splitParquetFiles, sqlIdent, sqlString } from '../../../runtime/data/duckdb';
import { applyTransform, type RawRow } from '../../../runtime/transform/apply';
import type { TransformGraph } from '../../../runtime/transform/graph';
import { buildPenguinsUpstream, LABEL, loadUpstream, PENGUINS_FILE, sqlRows, useTempDir } from './helpers';

const tmp = useTempDir('mlp-skew-');

const BEAK_L = 'Beak Length (mm)';
const BEAK_D = 'Beak Depth (mm)';
const FLIPPER = 'Flipper Length (mm)';
const MASS = 'Body Mass (g)';

/** Raw rows as a JSON request carries them: numbers, null or absent for missing, any string for categories. */
function requestRows(): RawRow[] {
  const real = (JSON.parse(fs.readFileSync(PENGUINS_FILE, 'utf8')) as RawRow[]).filter((_, i) => i % 9 === 0);
  const crafted: RawRow[] = [
    // Unknown island and sex: both vocabularies' OOV bucket.
    { Species: 'Gentoo', Island: 'Atlantis', [BEAK_L]: 47.5, [BEAK_D]: 15, [FLIPPER]: 217, [MASS]: 5200, Sex: 'UNKNOWN' },
    // Every feature absent (a request that leaves them out): fill values.
    { Species: 'Adelie' },
    // Every feature explicitly null.
    { Species: 'Chinstrap', Island: null, [BEAK_L]: null, [BEAK_D]: null, [FLIPPER]: null, [MASS]: null, Sex: null },
    // Empty strings, an integer-valued double, a negative and a value far outside int32 in the BIGINT columns.
    { Species: 'Adelie', Island: '', [BEAK_L]: 40, [BEAK_D]: 18.25, [FLIPPER]: -5, [MASS]: 123456789012, Sex: '' },
    { Species: 'Gentoo', Island: 'Biscoe', [BEAK_L]: 0.1, [BEAK_D]: 1e-3, [FLIPPER]: 0, [MASS]: 1, Sex: 'FEMALE' },
  ];
  return [...real, ...crafted];
}

let signature: Signature;
let graph: TransformGraph;
let served: RawRow[]; // labelled rows as JSON numbers / missing keys, in file order
let fromDuckDb: RawRow[]; // the same rows as DuckDB returns them from the Parquet file
let parquetFile: string;
let bundle: TfjsBundle;
let model: tf.LayersModel;

beforeAll(async () => {
  await selectBackend();
  const up = await buildPenguinsUpstream(tmp.dir);
  ({ graph, signature } = await loadUpstream(up));

  // The rows stored with the examples' own column types (integers are BIGINT, as ExampleGen writes them).
  const trainFiles = splitParquetFiles(up.examples.uri, 'train');
  const types = (await sqlRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(trainFiles[0])})`)).map((r) => [String(r.column_name), String(r.column_type)]);
  expect(Object.fromEntries(types)).toMatchObject({ [MASS]: 'BIGINT', [FLIPPER]: 'BIGINT', [BEAK_L]: 'DOUBLE', Island: 'VARCHAR' });
  const labelled = requestRows();
  // An unlabelled row in the middle: training drops it, serving never sees a label.
  const stored = [...labelled.slice(0, 10), { Island: 'Dream', [BEAK_L]: 50, [MASS]: 3800 }, ...labelled.slice(10)];
  const jsonl = path.join(tmp.dir, 'rows.jsonl');
  fs.writeFileSync(jsonl, stored.map((r, rid) => JSON.stringify({ rid, ...r })).join('\n') + '\n');
  parquetFile = path.join(tmp.dir, 'rows.parquet');
  const columns = `{'rid': 'INTEGER', ${types.map(([n, t]) => `${sqlString(n)}: ${sqlString(t)}`).join(', ')}}`;
  const conn = await duckdb();
  await conn.run(`COPY (SELECT * FROM read_json(${sqlString(jsonl)}, format='newline_delimited', columns=${columns}) ORDER BY rid) TO ${sqlString(parquetFile)} (FORMAT parquet)`);
  conn.closeSync();
  fromDuckDb = (await sqlRows(`SELECT * EXCLUDE (rid) FROM read_parquet(${sqlString(parquetFile)}) WHERE ${sqlIdent(LABEL)} IS NOT NULL ORDER BY rid`)) as RawRow[];
  served = labelled;
  expect(fromDuckDb).toHaveLength(served.length);
  expect(typeof fromDuckDb[0][MASS]).toBe('bigint');

  // A small model trained with the real loop on the real train split (shuffled), saved and loaded back.
  const hp = WideDeepHyperparameters.parse({ epochs: 3, batch_size: 16, learning_rate: 0.05, hidden_units: [8], dropout: 0 });
  model = buildWideDeep(signature, hp);
  compileFor(model, signature, hp.learning_rate);
  const train = new InputPipeline({ files: trainFiles, graph, signature, batchSize: hp.batch_size, shuffleBuffer: 64, seed: 1 });
  try {
    await trainLoop({ model, signature, train, epochs: hp.epochs, stepsPerEpoch: Math.ceil(Number(JSON.parse(String(up.examples.properties.split_row_counts)).train) / hp.batch_size) });
  } finally {
    await train.close();
  }
  const dir = path.join(tmp.dir, 'bundle');
  await writeServingBundle(dir, model, graph, signature);
  const loaded = await loadServingBundle(dir);
  if (loaded.framework !== 'tfjs') throw new Error('expected a tfjs bundle');
  bundle = loaded;
}, 120_000);

afterAll(() => {
  bundle?.model.dispose();
  model?.dispose();
});

/** Every batch of one unshuffled pass of the training input pipeline over the rows' Parquet file. */
async function trainingBatches(batchSize: number): Promise<{ batches: Batch[]; rows: number; droppedLabels: number }> {
  const pipeline = new InputPipeline({ files: [parquetFile], graph, signature, batchSize, shuffleBuffer: 0 });
  try {
    const batches: Batch[] = [];
    const it = pipeline.epoch(0);
    for (let r = await it.next(); ; r = await it.next()) {
      if (r.done) return { batches, ...r.value };
      batches.push(r.value);
    }
  } finally {
    await pipeline.close();
  }
}

/** "Int32Array" or "Float32Array" (by tag: arrays from the worker thread belong to another realm than jest's). */
function kind(a: PackedInput): string {
  return Object.prototype.toString.call(a).slice(8, -1);
}

function concat(parts: PackedInput[]): PackedInput {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = kind(parts[0]) === 'Int32Array' ? new Int32Array(n) : new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes of a typed array: equal bytes means equal values, NaN payloads and -0 included. */
function bytes(a: Int32Array | Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

test('the training input pipeline and the serving path pack identical tensors for the same raw rows', async () => {
  const { batches, rows, droppedLabels } = await trainingBatches(7);
  expect(rows).toBe(served.length);
  expect(droppedLabels).toBe(1);
  expect(batches.map((b) => b.size)).toEqual([...Array(Math.floor(served.length / 7)).fill(7), ...(served.length % 7 ? [served.length % 7] : [])]);

  const n = served.length;
  const training = signature.modelInputs.map((_, i) => concat(batches.map((b) => b.inputs[i])));
  const fromJson = packModelInputs(bundle.signature.modelInputs, applyTransform(bundle.graph, served), n);
  const fromParquet = packModelInputs(bundle.signature.modelInputs, applyTransform(bundle.graph, fromDuckDb), n);
  expect(bundle.signature.modelInputs).toEqual(signature.modelInputs);
  signature.modelInputs.forEach((m, i) => {
    expect(kind(batches[0].inputs[i])).toBe(m.dtype === 'int32' ? 'Int32Array' : 'Float32Array');
    expect(kind(fromJson[i])).toBe(kind(batches[0].inputs[i]));
    expect(bytes(fromJson[i])).toEqual(bytes(training[i]));
    expect(bytes(fromParquet[i])).toEqual(bytes(training[i]));
  });
  // The labels are the class indexes of the same rows.
  const labels = Float32Array.from(served.map((r) => encodeLabel(signature, r[LABEL])!));
  expect(bytes(concat(batches.map((b) => b.labels)) as Float32Array)).toEqual(bytes(labels));

  // The rows did exercise the OOV and fill paths: the unknown island got an OOV id, missing numbers the mean.
  const island = signature.modelInputs.findIndex((m) => m.name === 'island');
  const vocab = graph.outputs.find((o) => o.name === 'island')!;
  const atlantis = served.findIndex((r) => r.Island === 'Atlantis');
  expect(training[island][atlantis]).toBeGreaterThanOrEqual((vocab.analyzer as { vocabulary: string[] }).vocabulary.length);
  expect(training[island][atlantis]).toBeLessThan(vocab.cardinality!);
  const numeric = signature.modelInputs.findIndex((m) => m.dtype === 'float32');
  const k = signature.modelInputs[numeric].columns.length;
  const absent = served.findIndex((r) => Object.keys(r).length === 1);
  expect(Array.from(training[numeric].subarray(absent * k, absent * k + k))).toEqual(new Array(k).fill(0));
});

test('the trained model scores the training tensors exactly as the loaded bundle scores the raw rows', async () => {
  const batchSize = 8;
  const { batches } = await trainingBatches(batchSize);
  // The loaded bundle predicts through its inference plan; without it, through tfjs (bit-identical to the
  // trained model); the plan computes the same function up to float rounding.
  expect(bundle.plan).toBeDefined();
  const viaTfjs: TfjsBundle = { ...bundle, plan: undefined };
  let offset = 0;
  for (const b of batches) {
    const inMemory = tf.tidy(() => (model.predict(toTensors(signature.modelInputs, b.inputs, b.size)) as tf.Tensor).dataSync() as Float32Array);
    const rows = served.slice(offset, offset + b.size);
    expect(bytes(predictScores(viaTfjs, rows))).toEqual(bytes(inMemory));
    expect(bytes(predictScores(viaTfjs, fromDuckDb.slice(offset, offset + b.size)))).toEqual(bytes(inMemory));
    for (const planned of [predictScores(bundle, rows), predictScores(bundle, fromDuckDb.slice(offset, offset + b.size))]) {
      expect(planned).toHaveLength(inMemory.length);
      planned.forEach((v, i) => expect(Math.abs(v - inMemory[i])).toBeLessThan(1e-6));
    }
    offset += b.size;
  }
  expect(offset).toBe(served.length);

  // predictRows reads the same scores: probabilities per class, the argmax as class id and name.
  const all = predictScores(bundle, served);
  const classes = signature.label.classes!;
  (await predictRows(bundle, served)).forEach((p, r) => {
    if (!('probabilities' in p)) throw new Error('expected a classification prediction');
    expect(p.probabilities).toEqual(Array.from(all.subarray(r * classes.length, (r + 1) * classes.length)));
    expect(p.classes[0]).toBe(classes[p.class_ids[0]]);
    expect(Math.max(...p.probabilities)).toBe(p.probabilities[p.class_ids[0]]);
  });
  // And the model did learn: the real penguins among the rows are mostly classified right.
  const realRows = served.slice(0, served.length - 5);
  const right = (await predictRows(bundle, realRows)).filter((p, r) => 'classes' in p && p.classes[0] === realRows[r][LABEL]).length;
  expect(right / realRows.length).toBeGreaterThan(0.8);
});
