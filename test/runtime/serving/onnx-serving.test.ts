/** @jest-environment ./test/support/onnx-environment.js */
// The model server on ONNX models, with onnxruntime's Python predictions as the reference (to 1e-5): a
// <base>/<version>/model.onnx folder (Triton's and KServe's layout: no commit marker, no signature.json) is
// served with its signature read from the graph — named raw inputs (a scikit-learn classifier, one [batch, 1]
// tensor per feature; class names from its metadata_props), one [batch, 4] feature tensor (a torch export
// without metadata) and an int64 [batch] input (a regression) — under TF Serving REST (status, metadata,
// predict row and columnar) and OIP v2 (metadata, infer with JSON and binary tensors); request values are
// checked against the graph's inputs (a missing float is NaN, ONNX's missing value; other inputs are
// required); a new version folder is picked up (hot reload) while a version label keeps naming the old one; `mlp serve --model-base-path --model-name` serves the folder as a process.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ChildProcess } from 'child_process';
import { loadServingBundle, predictRows } from '../../../runtime/ml/serving-bundle';
import { DEFAULT_POLICY, type ModelConfig } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import type { RawRow } from '../../../runtime/transform/apply';
import { buildOnnxModels, expectAllClose, MEASUREMENTS, SPECIES, type OnnxModels } from '../ml/onnx-models';
import { memoryLogger, penguinRows, request, startServeCli, until } from './helpers';

let root: string;
let models: OnnxModels;
let rows: RawRow[];
const servers: ModelServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-onnx-serving-'));
  rows = penguinRows(6);
  models = buildOnnxModels(path.join(root, 'models'), rows);
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.promises.rm(root, { recursive: true, force: true });
});

/** <root>/<name>/<version>/model.onnx for each version given, copied as another tool would put it there. */
async function tritonBase(name: string, versions: Record<number, string>): Promise<string> {
  const base = path.join(root, name);
  for (const [version, dir] of Object.entries(versions)) {
    const staging = path.join(root, `${name}-${version}.staging`);
    await fs.promises.cp(dir, staging, { recursive: true });
    await fs.promises.mkdir(base, { recursive: true });
    await fs.promises.rename(staging, path.join(base, version));
  }
  return base;
}

async function serve(configs: ModelConfig[], pollSeconds = 0) {
  const log = memoryLogger();
  const server = await startModelServer({ models: configs, port: 0, pollSeconds, logger: log.logger });
  servers.push(server);
  return server.url;
}

function config(name: string, basePath: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { name, basePath, policy: DEFAULT_POLICY, labels: {}, ...extra };
}

const measurements = (r: RawRow) => Object.fromEntries(MEASUREMENTS.map((m) => [m, r[m]]));

describe('named raw inputs (scikit-learn classifier, metadata_props)', () => {
  let url: string;
  beforeAll(async () => {
    url = await serve([config('penguins', await tritonBase('tabular', { 1: models.dirs.tabular }))]);
  });

  test('the signature is read from the graph: one float input per feature, class names from mlp.classes', async () => {
    const bundle = await loadServingBundle(models.dirs.tabular);
    expect(bundle.framework).toBe('onnx');
    expect(bundle.signature).toMatchObject({
      framework: 'onnx',
      task: 'multiclass',
      inputs: MEASUREMENTS.map((name) => ({ name, dtype: 'float', required: false })),
      label: { key: 'Species', classes: SPECIES },
      outputs: ['probabilities', 'class_ids', 'classes'],
    });
    bundle.model.dispose();
    const status = await request(`${url}/v1/models/penguins`);
    expect(status.json).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    const metadata = await request(`${url}/v1/models/penguins/metadata`);
    const def = metadata.json.metadata.signature_def.signature_def.serving_default;
    expect(Object.keys(def.inputs)).toEqual(MEASUREMENTS);
    expect(def.inputs['Body Mass (g)']).toMatchObject({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1' }] } });
    expect(def.outputs.probabilities).toMatchObject({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1' }, { size: '3' }] } });
    const v2 = await request(`${url}/v2/models/penguins`);
    expect(v2.json).toMatchObject({ name: 'penguins', versions: ['1'], platform: 'onnxruntime_onnx' });
    expect(v2.json.inputs).toEqual(MEASUREMENTS.map((name) => ({ name, datatype: 'FP32', shape: [-1] })));
  });

  test(':predict (row and columnar) answers what onnxruntime answers in Python', async () => {
    const expected = models.expected.tabular;
    const classes = expected.label.map((l) => SPECIES[l]);
    // Rows straight from the data set: the label field is accepted and ignored, Island and Sex are not inputs.
    const row = await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows.map(measurements) } });
    expect(row.status).toBe(200);
    expectAllClose(row.json.predictions.map((p: { probabilities: number[] }) => p.probabilities), expected.probabilities);
    expect(row.json.predictions.map((p: { classes: string[] }) => p.classes[0])).toEqual(classes);
    expect(row.json.predictions.map((p: { class_ids: number[] }) => p.class_ids[0])).toEqual(expected.label);
    const columns = Object.fromEntries(MEASUREMENTS.map((m) => [m, rows.map((r) => r[m])]));
    const columnar = await request(`${url}/v1/models/penguins:predict`, { body: { inputs: { ...columns, Species: rows.map((r) => r.Species) } } });
    expect(columnar.status).toBe(200);
    expectAllClose(columnar.json.outputs.probabilities, expected.probabilities);
    expect(columnar.json.outputs.classes).toEqual(classes.map((c) => [c]));
  });

  test('/v2/models/…/infer (JSON and binary tensors) answers what onnxruntime answers in Python', async () => {
    const inputs = MEASUREMENTS.map((name) => ({ name, datatype: 'FP32', shape: [rows.length, 1], data: rows.map((r) => r[name]) }));
    const r = await request(`${url}/v2/models/penguins/infer`, { body: { inputs } });
    expect(r.status).toBe(200);
    const out = Object.fromEntries(r.json.outputs.map((o: { name: string }) => [o.name, o]));
    expect(out.probabilities).toMatchObject({ datatype: 'FP32', shape: [rows.length, 3] });
    expectAllClose(out.probabilities.data, models.expected.tabular.probabilities.flat());
    expect(out.classes.data).toEqual(models.expected.tabular.label.map((l) => SPECIES[l]));
    // The same tensors as binary data (little-endian FP32 after the JSON header).
    const header = Buffer.from(JSON.stringify({ inputs: inputs.map(({ data, ...t }) => ({ ...t, parameters: { binary_data_size: data.length * 4 } })) }));
    const bytes = inputs.map((t) => Buffer.from(new Float32Array(t.data as number[]).buffer));
    const binary = await request(`${url}/v2/models/penguins/infer`, {
      body: Buffer.concat([header, ...bytes]),
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    });
    expect(binary.status).toBe(200);
    expectAllClose(binary.json.outputs.find((o: { name: string }) => o.name === 'probabilities').data, models.expected.tabular.probabilities.flat());
  });

  test('values are checked against the graph inputs: numbers only; a missing float is NaN (ONNX’s missing value)', async () => {
    const [first] = rows.map(measurements);
    const missing = await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ ...first, 'Body Mass (g)': null }] } });
    expect(missing.status).toBe(200);
    // NaN probabilities rank no class; the reply writes NaN as TF Serving does (a bare token).
    expect(missing.text).toContain('"probabilities":[NaN,NaN,NaN]');
    expect(missing.text).toContain('"class_ids":[-1]');
    const text = await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ ...first, 'Beak Depth (mm)': 'deep' }] } });
    expect(text).toMatchObject({ status: 400, json: { error: 'instances[0]: "Beak Depth (mm)" expects a number, got string "deep"' } });
  });
});

describe('one feature tensor (torch export, no metadata) and an int64 input (regression)', () => {
  let url: string;
  beforeAll(async () => {
    url = await serve([config('mlp', await tritonBase('single', { 3: models.dirs.single })), config('linear', await tritonBase('regression', { 1: models.dirs.regression }))]);
  });

  test('a [batch, 4] input takes a list of 4 values per example; without metadata the classes are 0..k-1', async () => {
    const features = rows.map((r) => MEASUREMENTS.map((m) => r[m] as number));
    const metadata = await request(`${url}/v2/models/mlp`);
    expect(metadata.json.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 4] }]);
    const r = await request(`${url}/v1/models/mlp:predict`, { body: { instances: features } });
    expect(r.status).toBe(200);
    expectAllClose(r.json.predictions.map((p: { probabilities: number[] }) => p.probabilities), models.expected.single.probabilities);
    const argmax = models.expected.single.probabilities.map((p) => p.indexOf(Math.max(...p)));
    expect(r.json.predictions.map((p: { classes: string[] }) => p.classes[0])).toEqual(argmax.map(String));
    const infer = await request(`${url}/v2/models/mlp/infer`, { body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 4], data: features.flat() }] } });
    expect(infer.status).toBe(200);
    expectAllClose(infer.json.outputs[0].data, models.expected.single.probabilities.flat());
    const short = await request(`${url}/v1/models/mlp:predict`, { body: { instances: [[1, 2, 3]] } });
    expect(short).toMatchObject({ status: 400, json: { error: 'instances[0]: "features" takes a list of 4 values, got a list of 3 values' } });
    const shape = await request(`${url}/v2/models/mlp/infer`, { body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] } });
    expect(shape).toMatchObject({ status: 400, json: { error: 'input tensor "features": "shape" must be [n, 4]; got [1,3]' } });
  });

  test('an int64 [batch] input: integers only; the regression value is the graph output', async () => {
    const x = rows.map((r) => Math.trunc(r['Body Mass (g)'] as number));
    const r = await request(`${url}/v1/models/linear:predict`, { body: { instances: x.map((v) => ({ x: v })) } });
    expect(r.status).toBe(200);
    expectAllClose(r.json.predictions, models.expected.regression.variable.flat());
    const fraction = await request(`${url}/v1/models/linear:predict`, { body: { instances: [{ x: 1.5 }] } });
    expect(fraction).toMatchObject({ status: 400, json: { error: 'instances[0]: "x" expects an integer, got number 1.5' } });
    const missing = await request(`${url}/v1/models/linear:predict`, { body: { instances: [{ x: null }] } });
    expect(missing).toMatchObject({ status: 400, json: { error: 'instances[0]: required field "x" is missing' } });
    const infer = await request(`${url}/v2/models/linear/infer`, { body: { inputs: [{ name: 'x', datatype: 'INT64', shape: [x.length], data: x }] } });
    expectAllClose(infer.json.outputs[0].data, models.expected.regression.variable.flat());
  });
});

test('hot reload: a new version folder is loaded and answers; a label names the old one', async () => {
  const base = await tritonBase('reload', { 1: models.dirs.tabular });
  const url = await serve([config('penguins', base, { policy: { kind: 'all' }, labels: { stable: 1 } })], 0.05);
  await tritonBase('reload', { 2: models.dirs.tabular });
  await until('version 2 AVAILABLE', async () => (await request(`${url}/v1/models/penguins`)).json.model_version_status.some((s: { version: string; state: string }) => s.version === '2' && s.state === 'AVAILABLE'), 30_000);
  const latest = await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows.slice(0, 1).map(measurements) } });
  expect(latest.headers.get('x-model-version')).toBe('2');
  expectAllClose(latest.json.predictions[0].probabilities, models.expected.tabular.probabilities[0]);
  const stable = await request(`${url}/v1/models/penguins/labels/stable:predict`, { body: { instances: rows.slice(0, 1).map(measurements) } });
  expect(stable.headers.get('x-model-version')).toBe('1');
}, 60_000);

test('a base path that is itself a version folder holding model.onnx is refused, naming its parent', async () => {
  const base = await tritonBase('mistake', { 1: models.dirs.tabular });
  const version = path.join(base, '1');
  await expect(startModelServer({ models: [config('penguins', version)], port: 0, pollSeconds: 0, logger: memoryLogger().logger })).rejects.toThrow(
    `model penguins: base path ${version} is a model version folder (it has model.onnx); a base path is the folder holding the <version>/ folders: ${base}`,
  );
});

test('predictRows on an ONNX bundle is the served prediction (the one path the Evaluator and BulkInferrer use)', async () => {
  const bundle = await loadServingBundle(models.dirs.tabular);
  const predictions = await predictRows(bundle, rows);
  expectAllClose(predictions.map((p) => ('probabilities' in p ? p.probabilities : [])), models.expected.tabular.probabilities);
  bundle.model.dispose();
});

test('mlp serve --model-base-path <base> --model-name <name> serves <base>/<version>/model.onnx', async () => {
  const base = await tritonBase('cli', { 4: models.dirs.tabular });
  const { child, done, ready, url } = await startServeCli(['--model-base-path', base, '--model-name', 'penguins', '--port', '0']);
  children.push(child);
  expect(ready).toBe(`serving penguins versions [4] on ${url}`);
  const r = await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows.map(measurements) } });
  expectAllClose(r.json.predictions.map((p: { probabilities: number[] }) => p.probabilities), models.expected.tabular.probabilities);
  const infer = await request(`${url}/v2/models/penguins/versions/4/infer`, { body: { inputs: MEASUREMENTS.map((name) => ({ name, datatype: 'FP32', shape: [rows.length], data: rows.map((x) => x[name]) })) } });
  expectAllClose(infer.json.outputs.find((o: { name: string }) => o.name === 'probabilities').data, models.expected.tabular.probabilities.flat());
  child.kill('SIGTERM');
  expect((await done).code).toBe(0);
}, 60_000);
