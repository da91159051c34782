// Every transform kind on every column type (INTEGER, BIGINT beyond 2^53, FLOAT, DOUBLE, DECIMAL, BOOLEAN,
// DATE, TIMESTAMP, VARCHAR), through every path that feeds raw values into apply: the training input
// pipeline, BulkInferrer, the Evaluator and the model server (JSON requests as a client writes them). Each
// path's numbers are checked against the analyzer's own view of the same rows: vocabulary ids from the
// analyzed counts (value j of a column is seen 6, 4, 2 times, so its id is j), hashes and crosses of the
// analyzer's tokens, and numeric outputs of the analyzer's SQL numeric view. The model is an "echo": its
// outputs are its inputs (ids through an identity embedding, numeric columns as they are), so a prediction
// shows the transformed row. A vocabulary whose eval values are all unseen is flagged by the Transform and
// is the Evaluator's failure reason.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BulkInferrer, Evaluator, Transform } from '../../../runtime/components';
import { duckdb, sqlIdent, sqlString } from '../../../runtime/data/duckdb';
import { selectBackend } from '../../../runtime/ml/backend';
import { InputPipeline } from '../../../runtime/ml/input-pipeline';
import { writeServingBundle } from '../../../runtime/ml/serving-bundle';
import { NUMERIC_INPUT, SIGNATURE_FORMAT, SIGNATURE_VERSION, type ModelInput, type RawType, type Signature, type Task } from '../../../runtime/ml/signature';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { applyTransform, checkGraph, type RawRow } from '../../../runtime/transform/apply';
import { TRANSFORM_GRAPH_FILE, type TransformGraph } from '../../../runtime/transform/graph';
import { hashToBucket } from '../../../runtime/transform/hashing';
import { numericSql, type ValueKind } from '../../../runtime/transform/raw-values';
import { outputName, TransformSpec } from '../../../runtime/transform/spec';
import { outputRef, publish, run, sqlRows, useTempDir, type ArtifactRef } from '../ml/helpers';
import { memoryLogger, publishVersion, request } from '../serving/helpers';

const tmp = useTempDir('mlp-column-types-');

/**
 * Per column: its DuckDB type, three distinct values (SQL literals; value j is row group j), and the raw type
 * a JSON client sends (the schema's: dates and booleans are INT; the timestamp is declared float here so its
 * milliseconds fit in epoch seconds — the Trainer's signature would say int).
 */
const COLUMNS: { name: string; type: string; kind: ValueKind; values: string[]; raw: RawType }[] = [
  { name: 'i', type: 'INTEGER', kind: 'integer', values: ['3', '-7', '120'], raw: 'int' },
  { name: 'big', type: 'BIGINT', kind: 'integer', values: ['9007199254740993', '-5', '42'], raw: 'int' },
  { name: 'f', type: 'FLOAT', kind: 'float', values: ['0.1', '2.5', '-3.75'], raw: 'float' },
  { name: 'd', type: 'DOUBLE', kind: 'double', values: ['32.0', '0.1', '1e21'], raw: 'float' },
  { name: 'dec', type: 'DECIMAL(10,2)', kind: 'double', values: ['1.50', '2.25', '-0.10'], raw: 'float' },
  { name: 'b', type: 'BOOLEAN', kind: 'boolean', values: ['true', 'false', 'NULL'], raw: 'int' },
  { name: 'dt', type: 'DATE', kind: 'date', values: [`'2024-01-02'`, `'1969-12-31'`, `'2000-02-29'`], raw: 'int' },
  { name: 'ts', type: 'TIMESTAMP', kind: 'timestamp', values: [`'2024-01-02 03:04:05.123'`, `'1969-12-31 23:59:59.5'`, `'2000-02-29 12:00:00'`], raw: 'float' },
  { name: 's', type: 'VARCHAR', kind: 'string', values: [`'a'`, `'B b'`, `'ü'`], raw: 'string' },
];
const NUMERIC = COLUMNS.filter((c) => c.kind !== 'string');

const SPEC = TransformSpec.parse([
  ...COLUMNS.flatMap((c) => [
    { kind: 'vocabulary', feature: c.name, num_oov_buckets: 1 },
    { kind: 'hash', feature: c.name, hash_buckets: 5 },
  ]),
  ...NUMERIC.flatMap((c) => [
    { kind: 'z_score', feature: c.name },
    { kind: 'min_max', feature: c.name },
    { kind: 'bucketize', feature: c.name, num_buckets: 3 },
    { kind: 'identity', feature: c.name, output: `${c.name}_identity` },
  ]),
  { kind: 'cross', features: COLUMNS.map((c) => c.name), hash_buckets: 97, output: 'all_cross' },
  // Seen in training, never in eval: the dead feature the Transform must flag.
  { kind: 'vocabulary', feature: 'area', num_oov_buckets: 1 },
]);
const OUTPUTS = SPEC.map(outputName);
const TRAIN_ROWS = 12; // groups j = 0 (6 rows), 1 (4 rows), 2 (2 rows)
const EVAL_ROWS = 6; // j = rid % 3

function columnSql(c: (typeof COLUMNS)[number], j: string): string {
  return `([${c.values.map((v) => `${v}::${c.type}`).join(', ')}])[${j} + 1] AS ${sqlIdent(c.name)}`;
}

async function writeSplit(file: string, rows: number, group: string, area: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const select = `SELECT range::INTEGER AS rid, ${group} AS j FROM range(${rows})`;
  await (await duckdb()).run(
    `COPY (SELECT rid, ${COLUMNS.map((c) => columnSql(c, 'j')).join(', ')}, ${area} AS area, 'i_id' AS label FROM (${select}) ORDER BY rid) TO ${sqlString(file)} (FORMAT parquet)`,
  );
}

let graph: TransformGraph;
let examples: ArtifactRef;
let transformLog: string[];
let transformProperties: Record<string, unknown>;
/** Expected outputs per rid, per split, from the analyzer's view. */
const expected: Record<string, Map<number, Record<string, number>>> = {};

/** The group of a row (value j of every column). */
function groupOf(split: string, rid: number): number {
  return split === 'train' ? (rid < 6 ? 0 : rid < 10 ? 1 : 2) : rid % 3;
}

/** What the analyzer says each output of each row is. */
async function analyzerView(split: string): Promise<Map<number, Record<string, number>>> {
  const file = path.join(examples.uri, `Split-${split}`, 'part-00000.parquet');
  // The analyzer's numeric view of each column (its SQL), fed to apply as plain numbers (epoch seconds, 0/1).
  const numeric = await sqlRows(`SELECT rid, area, ${NUMERIC.map((c) => `${numericSql(c.kind, sqlIdent(c.name))} AS ${sqlIdent(c.name)}`).join(', ')} FROM read_parquet(${sqlString(file)})`);
  const vocab = (feature: string) => (graph.outputs.find((o) => o.name === `${feature}_id`)!.analyzer as { vocabulary: string[] }).vocabulary;
  const numericGraph = { ...graph, outputs: graph.outputs.filter((o) => ['z_score', 'min_max', 'bucketize', 'identity'].includes(o.analyzer.kind)) };
  const out = new Map<number, Record<string, number>>();
  for (const row of numeric) {
    const rid = Number(row.rid);
    const j = groupOf(split, rid);
    const numbers = applyTransform(numericGraph, [row]);
    const e: Record<string, number> = {};
    const tokens = COLUMNS.map((c) => vocab(c.name)[j] ?? ''); // the boolean's group 2 is NULL: the fill ''
    COLUMNS.forEach((c, k) => {
      const v = vocab(c.name);
      e[`${c.name}_id`] = j < v.length ? j : v.length + hashToBucket('', 1);
      e[`${c.name}_hashed`] = hashToBucket(tokens[k], 5);
    });
    for (const c of NUMERIC) for (const suffix of ['_z', '_scaled', '_bucket', '_identity']) e[c.name + suffix] = numbers[c.name + suffix][0];
    e.all_cross = hashToBucket(tokens.join('_X_'), 97);
    const areaVocab = vocab('area');
    const areaIndex = areaVocab.indexOf(String(row.area));
    e.area_id = areaIndex >= 0 ? areaIndex : areaVocab.length + hashToBucket(String(row.area), 1);
    out.set(rid, e);
  }
  return out;
}

/** Model inputs of an echo model: one id input per int32 output, the float32 outputs side by side. */
function echoInputs(): ModelInput[] {
  const ints = graph.outputs.filter((o) => o.dtype === 'int32');
  const floats = graph.outputs.filter((o) => o.dtype === 'float32').map((o) => o.name);
  return [...ints.map((o): ModelInput => ({ name: o.name, dtype: 'int32', columns: [o.name], cardinality: o.cardinality })), { name: NUMERIC_INPUT, dtype: 'float32', columns: floats }];
}

/** The echo outputs' names, in output order. */
function echoColumns(): string[] {
  return echoInputs().flatMap((m) => m.columns);
}

/** The signature of an echo model: every raw column as a JSON client sends it; the label classes are the outputs' names (the data's label is the first). */
function echoSignature(task: Task, modelInputs = echoInputs()): Signature {
  return {
    format: SIGNATURE_FORMAT,
    version: SIGNATURE_VERSION,
    task,
    inputs: [...COLUMNS.map((c) => ({ name: c.name, dtype: c.raw, required: false })), { name: 'area', dtype: 'float', required: false }],
    modelInputs,
    label: task === 'regression' ? { key: 'target' } : { key: 'label', classes: echoColumns() },
    outputs: task === 'regression' ? ['predictions'] : ['probabilities', 'class_ids', 'classes'],
  };
}

/** A bundle whose outputs are its transformed inputs (multiclass: "probabilities"), or their weighted sum (regression). */
async function writeEchoBundle(dir: string, task: Task, weights?: number[]): Promise<void> {
  const modelInputs = echoInputs();
  const inputs = modelInputs.map((m) => tf.input({ shape: [m.dtype === 'int32' ? 1 : m.columns.length], dtype: m.dtype }));
  const parts = modelInputs.map((m, k) => {
    if (m.dtype === 'float32') return inputs[k];
    const ids = tf.tensor2d(Array.from({ length: m.cardinality! }, (_, i) => i), [m.cardinality!, 1]);
    const embedded = tf.layers.embedding({ inputDim: m.cardinality!, outputDim: 1, weights: [ids] }).apply(inputs[k]) as tf.SymbolicTensor;
    return tf.layers.flatten().apply(embedded) as tf.SymbolicTensor;
  });
  let output = tf.layers.concatenate().apply(parts) as tf.SymbolicTensor;
  if (weights) output = tf.layers.dense({ units: 1, useBias: false, weights: [tf.tensor2d(weights, [weights.length, 1])] }).apply(output) as tf.SymbolicTensor;
  const model = tf.model({ inputs, outputs: output });
  const signature = echoSignature(task, modelInputs);
  await writeServingBundle(dir, model, graph, signature);
  model.dispose();
}

/** Published model artifact of a bundle. */
async function modelArtifact(name: string, task: Task, weights?: number[]): Promise<ArtifactRef> {
  const staging = path.join(tmp.dir, `${name}-staging`);
  await fs.promises.mkdir(staging, { recursive: true });
  await writeEchoBundle(staging, task, weights);
  return publish(staging, path.join(tmp.dir, name));
}

function expectRow(actual: ArrayLike<number>, e: Record<string, number>, where: string): void {
  const got = Object.fromEntries(echoColumns().map((name, k) => [name, actual[k]]));
  const want = Object.fromEntries(echoColumns().map((name) => [name, Math.fround(e[name])]));
  expect({ where, ...got }).toEqual({ where, ...want });
}

beforeAll(async () => {
  await selectBackend();
  const staged = path.join(tmp.dir, 'examples-staging');
  await writeSplit(path.join(staged, 'Split-train', 'part-00000.parquet'), TRAIN_ROWS, `CASE WHEN range < 6 THEN 0 WHEN range < 10 THEN 1 ELSE 2 END`, `(1 + rid % 2)::DOUBLE`);
  await writeSplit(path.join(staged, 'Split-eval', 'part-00000.parquet'), EVAL_ROWS, 'range % 3', `(100 + rid)::DOUBLE`);
  examples = await publish(staged, path.join(tmp.dir, 'examples'), { split_names: '["train","eval"]' });
  transformLog = [];
  const out = await run(Transform, { examples }, { transform_graph: path.join(tmp.dir, 'graph'), transformed_examples: path.join(tmp.dir, 'transformed') }, { spec: SPEC }, transformLog);
  transformProperties = outputRef(out, 'transform_graph').properties;
  const file = path.join(tmp.dir, 'graph', TRANSFORM_GRAPH_FILE);
  graph = checkGraph(JSON.parse(await fs.promises.readFile(file, 'utf8')), file);
  for (const split of ['train', 'eval']) expected[split] = await analyzerView(split);
}, 60_000);

test('the analyzer reads every column type: three tokens per vocabulary, in count order', () => {
  const vocab = (name: string) => (graph.outputs.find((o) => o.name === `${name}_id`)!.analyzer as { vocabulary: string[] }).vocabulary;
  expect(Object.fromEntries(COLUMNS.map((c) => [c.name, vocab(c.name)]))).toEqual({
    i: ['3', '-7', '120'],
    big: ['9007199254740993', '-5', '42'],
    f: ['0.1', '2.5', '-3.75'],
    d: ['32', '0.1', '1e+21'],
    dec: ['1.5', '2.25', '-0.1'],
    b: ['true', 'false'],
    dt: ['2024-01-02', '1969-12-31', '2000-02-29'],
    ts: ['2024-01-02T03:04:05.123Z', '1969-12-31T23:59:59.500Z', '2000-02-29T12:00:00.000Z'],
    s: ['a', 'B b', 'ü'],
  });
  expect(OUTPUTS).toEqual(graph.outputs.map((o) => o.name));
});

test('the training input pipeline transforms every row as the analyzer sees it', async () => {
  const signature = echoSignature('multiclass');
  for (const split of ['train', 'eval']) {
    const files = [path.join(examples.uri, `Split-${split}`, 'part-00000.parquet')];
    const pipeline = new InputPipeline({ files, graph, signature, batchSize: 5, shuffleBuffer: 0 });
    try {
      let rid = 0;
      const it = pipeline.epoch(0);
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const batch = r.value;
        for (let row = 0; row < batch.size; row++, rid++) {
          const values = signature.modelInputs.flatMap((m, k) => Array.from(batch.inputs[k].subarray(row * m.columns.length, (row + 1) * m.columns.length)));
          expectRow(values, expected[split].get(rid)!, `input pipeline ${split} row ${rid}`);
        }
      }
      expect(rid).toBe(split === 'train' ? TRAIN_ROWS : EVAL_ROWS);
    } finally {
      await pipeline.close();
    }
  }
}, 60_000);

test('BulkInferrer predicts every eval row from the values the analyzer saw', async () => {
  const model = await modelArtifact('echo-bulk', 'multiclass');
  const out = await run(BulkInferrer, { examples, model }, { inference_result: path.join(tmp.dir, 'inference') }, { split: 'eval', key_columns: ['rid'] });
  expect(outputRef(out, 'inference_result').properties).toMatchObject({ inferred: 1 });
  const rows = await sqlRows(`SELECT rid, probabilities FROM read_parquet(${sqlString(path.join(tmp.dir, 'inference', 'Split-eval', 'predictions.parquet'))}) ORDER BY rid`);
  expect(rows).toHaveLength(EVAL_ROWS);
  for (const r of rows) expectRow(r.probabilities as number[], expected.eval.get(Number(r.rid))!, `BulkInferrer row ${r.rid}`);
}, 60_000);

test('the Evaluator predicts the analyzer\'s numbers and does not bless a model behind a flagged vocabulary', async () => {
  // A regression echo: prediction = Σ w_k · output_k with weights scaling each output to at most 1, and the
  // eval rows' target the same sum of the analyzer's numbers; any id or hash that differs moves the error.
  const columns = echoColumns();
  const scale = columns.map((name) => 1 + Math.max(...[...expected.eval.values()].map((e) => Math.abs(e[name]))));
  const weights = columns.map((_, k) => (1 + (k % 7) / 10) / scale[k]);
  const staged = path.join(tmp.dir, 'eval-target-staging');
  const jsonl = path.join(tmp.dir, 'targets.jsonl');
  fs.writeFileSync(jsonl, [...expected.eval].map(([rid, e]) => JSON.stringify({ rid, target: columns.reduce((s, name, k) => s + weights[k] * Math.fround(e[name]), 0) })).join('\n') + '\n');
  await fs.promises.mkdir(path.join(staged, 'Split-eval'), { recursive: true });
  await (await duckdb()).run(
    `COPY (SELECT e.*, t.target FROM read_parquet(${sqlString(path.join(examples.uri, 'Split-eval', 'part-00000.parquet'))}) e JOIN read_json_auto(${sqlString(jsonl)}) t USING (rid)) TO ${sqlString(path.join(staged, 'Split-eval', 'part-00000.parquet'))} (FORMAT parquet)`,
  );
  const evalExamples = await publish(staged, path.join(tmp.dir, 'eval-examples'), { split_names: '["eval"]' });
  const model = await modelArtifact('echo-sum', 'regression', weights);
  const log: string[] = [];
  const out = await run(
    Evaluator,
    { examples: evalExamples, model },
    { evaluation: path.join(tmp.dir, 'evaluation'), blessing: path.join(tmp.dir, 'blessing') },
    { eval_config: { label_key: 'target', task: 'regression', thresholds: { mae: { value_threshold: { upper_bound: 1e-4 } } } } },
    log,
  );
  const evaluation = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'evaluation', 'evaluation.json'), 'utf8'));
  expect(evaluation.slices[0].example_count).toBe(EVAL_ROWS);
  expect(evaluation.validation.results).toEqual([expect.objectContaining({ metric: 'mae', passed: true })]);
  expect(evaluation.validation.failures).toEqual([
    'vocabulary "area_id" of feature "area": 6 of 6 values (100.0%) of split eval are out of vocabulary, over the Transform\'s max_oov_rate 0.5',
  ]);
  expect(outputRef(out, 'blessing').properties).toMatchObject({ blessed: 0 });
  expect(fs.existsSync(path.join(tmp.dir, 'blessing', 'NOT_BLESSED'))).toBe(true);
}, 60_000);

test('the Transform records each vocabulary\'s out-of-vocabulary rate on the eval split and flags the dead one', () => {
  const rates = Object.fromEntries(graph.outputs.filter((o) => o.outOfVocabulary).map((o) => [o.name, o.outOfVocabulary!.rate]));
  // The boolean's eval rows of group 2 are missing (not counted); every other value was seen in training.
  expect(rates).toEqual({ ...Object.fromEntries(COLUMNS.map((c) => [`${c.name}_id`, 0])), area_id: 1 });
  expect(graph.outputs.find((o) => o.name === 'area_id')!.outOfVocabulary).toEqual({ split: 'eval', values: 6, oov: 0 + 6, rate: 1, maxRate: 0.5 });
  expect(graph.outputs.find((o) => o.name === 'b_id')!.outOfVocabulary).toMatchObject({ values: 4, oov: 0 });
  expect(transformProperties).toMatchObject({ oov_split: 'eval', oov_flagged: 1, oov_rates: JSON.stringify(rates) });
  expect(transformLog).toContain('flagged: vocabulary "area_id" of feature "area": 6 of 6 values (100.0%) of split eval are out of vocabulary, over the Transform\'s max_oov_rate 0.5');
});

describe('mlp serve', () => {
  let server: ModelServer;
  beforeAll(async () => {
    const base = path.join(tmp.dir, 'serving');
    const bundle = path.join(tmp.dir, 'echo-serve');
    await fs.promises.mkdir(bundle, { recursive: true });
    await writeEchoBundle(bundle, 'multiclass');
    await publishVersion(bundle, base, 1);
    server = await startModelServer({ models: [{ name: 'echo', basePath: base, policy: DEFAULT_POLICY, labels: {} }], port: 0, pollSeconds: 0, logger: memoryLogger().logger });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** An eval row as a JSON client sends it: numbers for int and float inputs (dates as epoch seconds, booleans 0/1). */
  function jsonInstance(row: RawRow): RawRow {
    const out: RawRow = {};
    for (const c of [...COLUMNS, { name: 'area' }]) {
      const v = row[c.name];
      out[c.name] = v instanceof Date ? v.getTime() / 1000 : typeof v === 'boolean' ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
    }
    return out;
  }

  test('a JSON request of every eval row gets the analyzer\'s numbers; a BIGINT a JSON number cannot carry is a 400 naming it', async () => {
    const rows = await sqlRows(`SELECT * FROM read_parquet(${sqlString(path.join(examples.uri, 'Split-eval', 'part-00000.parquet'))}) ORDER BY rid`);
    const exact = rows.filter((r) => typeof r.big !== 'bigint' || Number.isSafeInteger(Number(r.big)));
    expect(exact.length).toBeLessThan(rows.length);
    const res = await request(`${server.url}/v1/models/echo:predict`, { body: { instances: exact.map(jsonInstance) } });
    expect([res.status, res.json.error]).toEqual([200, undefined]);
    exact.forEach((r, i) => expectRow(res.json.predictions[i].probabilities, expected.eval.get(Number(r.rid))!, `mlp serve row ${r.rid}`));

    const unsafe = rows.find((r) => !exact.includes(r))!;
    const refused = await request(`${server.url}/v1/models/echo:predict`, { body: { instances: [jsonInstance(unsafe)] } });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toContain('feature "big" (integer in the training data): number 9007199254740992 is not an integer value (beyond 2^53 a number is not exact: send it as a string)');
  }, 60_000);
});
