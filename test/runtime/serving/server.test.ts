// The model server over HTTP on loopback with a real penguins model trained by the real Trainer (once, for
// the whole file): TF Serving REST (status, metadata, predict row/columnar, classify, regress), Open Inference
// Protocol v2, error statuses and messages, body limit, timeout, backpressure, bearer auth, metrics, fuzzed
// bodies, hot reload of new versions under load without a failed request — and `mlp serve` as a process:
// help and usage errors, the contract the InfraValidator relies on (start on a port, poll GET
// /v1/models/<name> until AVAILABLE, POST :predict with raw rows), the ready line with --port 0, a config
// file, a token file, JSON logs on stderr, and SIGTERM draining in-flight requests before exiting 0.

import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { ChildProcess } from 'child_process';
import fc from 'fast-check';
import { loadServingBundle, predictRows, type Prediction } from '../../../runtime/ml/serving-bundle';
import { DEFAULT_POLICY, type ModelConfig } from '../../../runtime/serving/config';
import { startModelServer, type ModelServerOptions, type ModelServer } from '../../../runtime/serving/model-server';
import { applyTransform, type RawRow } from '../../../runtime/transform/apply';
import { parseTolerantJson } from '../../../runtime/serving/tolerant-json';
import { runCli, startCli, type CliResult } from '../../support/cli';
import { freeLoopbackPort } from '../../support/ports';
import { publishedCopy } from '../ml/helpers';
import { memoryLogger, penguinRows, publishVersion, request, trainPenguinsModel, until, writeLinearBundle } from './helpers';

let root: string;
let modelDir: string;
const servers: ModelServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-'));
  modelDir = await trainPenguinsModel(path.join(root, 'training'));
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.promises.rm(root, { recursive: true, force: true });
});

let bases = 0;
/** A fresh base path holding the given versions of the trained model. */
async function basePath(...versions: number[]): Promise<string> {
  const base = path.join(root, `base-${bases++}`);
  await fs.promises.mkdir(base, { recursive: true });
  for (const v of versions) await publishVersion(modelDir, base, v);
  return base;
}

function penguins(base: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { name: 'penguins', basePath: base, policy: DEFAULT_POLICY, labels: {}, ...extra };
}

async function serve(models: ModelConfig[], opts: Partial<ModelServerOptions> = {}) {
  const log = memoryLogger();
  const server = await startModelServer({ models, port: 0, pollSeconds: 0, logger: log.logger, ...opts });
  servers.push(server);
  return { server, url: server.url, logs: log.lines };
}

function expectClose(actual: Prediction[], expected: Prediction[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expect(a).toMatchObject({ class_ids: (expected[i] as { class_ids: number[] }).class_ids, classes: (expected[i] as { classes: string[] }).classes });
    const p = (a as { probabilities: number[] }).probabilities;
    (expected[i] as { probabilities: number[] }).probabilities.forEach((e, k) => expect(p[k]).toBeCloseTo(e, 5));
  });
}

describe('a served penguins model', () => {
  let url: string;
  let rows: RawRow[];
  let expected: Prediction[];
  beforeAll(async () => {
    ({ url } = await serve([penguins(await basePath(1))]));
    rows = penguinRows(3);
    // The server's backend is selected now, so the bundle predicts with the same one.
    expected = await predictRows(await loadServingBundle(modelDir), rows);
  });

  test('status answers TF Serving\'s model_version_status for the model and for a version', async () => {
    const ok = { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
    expect(await request(`${url}/v1/models/penguins`)).toMatchObject({ status: 200, json: ok });
    expect(await request(`${url}/v1/models/penguins/versions/1`)).toMatchObject({ status: 200, json: ok });
    expect(await request(`${url}/v1/models/penguins/versions/7`)).toMatchObject({ status: 404, json: { error: 'Could not find version 7 of model penguins' } });
    expect(await request(`${url}/v1/models/nope`)).toMatchObject({ status: 404, json: { error: 'Could not find any versions of model nope' } });
    expect(await request(`${url}/v1/models/penguins/labels/stable`)).toMatchObject({ status: 404, json: { error: 'model penguins has no version label "stable"' } });
  });

  test('metadata gives the signature_def: raw features in, probabilities / class_ids / classes out', async () => {
    const r = await request(`${url}/v1/models/penguins/metadata`);
    expect(r.status).toBe(200);
    expect(r.json.model_spec).toEqual({ name: 'penguins', signature_name: '', version: '1' });
    const def = r.json.metadata.signature_def.signature_def.serving_default;
    expect(def.method_name).toBe('tensorflow/serving/predict');
    expect(Object.keys(def.inputs).sort()).toEqual(['Beak Depth (mm)', 'Beak Length (mm)', 'Body Mass (g)', 'Flipper Length (mm)', 'Island', 'Sex']);
    expect(def.inputs.Island).toEqual({ dtype: 'DT_STRING', tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false }, name: 'Island' });
    expect(def.inputs['Beak Length (mm)'].dtype).toBe('DT_FLOAT');
    expect(def.inputs['Body Mass (g)'].dtype).toBe('DT_INT64');
    expect(def.outputs.probabilities).toEqual({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '3', name: '' }], unknown_rank: false }, name: 'probabilities' });
    expect(def.outputs.class_ids.dtype).toBe('DT_INT64');
    expect(def.outputs.classes.dtype).toBe('DT_STRING');
    expect((await request(`${url}/v1/models/penguins/versions/1/metadata`)).json.model_spec.version).toBe('1');
  });

  test('predict with instances answers one prediction per raw row, as predictRows does, with the serving version', async () => {
    // Rows straight from the data set, label included: the label is not an input and is ignored.
    const r = await request(`${url}/v1/models/penguins:predict`, { body: { signature_name: 'serving_default', instances: rows } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(Object.keys(r.json)).toEqual(['predictions']);
    expectClose(r.json.predictions, expected);
    expect(r.json.predictions.map((p: { classes: string[] }) => p.classes[0])).toEqual(rows.map((x) => x.Species));
    // Versioned URL, missing optional features and an island the model never saw (out of vocabulary).
    const sparse = await request(`${url}/v1/models/penguins/versions/1:predict`, { body: { instances: [{ Island: 'Atlantis' }, { Island: 'Dream', Sex: null, 'Body Mass (g)': [4000] }] } });
    expect(sparse.status).toBe(200);
    expectClose(sparse.json.predictions, await predictRows(await loadServingBundle(modelDir), [{ Island: 'Atlantis' }, { Island: 'Dream', 'Body Mass (g)': 4000 }]));
  });

  test('predict with columnar inputs answers outputs by name', async () => {
    const columns = Object.fromEntries(['Island', 'Sex', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'].map((f) => [f, rows.map((x) => x[f])]));
    const r = await request(`${url}/v1/models/penguins:predict`, { body: { inputs: columns } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.outputs)).toEqual(['probabilities', 'class_ids', 'classes']);
    const { probabilities, class_ids, classes } = r.json.outputs;
    expectClose(
      rows.map((_, i) => ({ probabilities: probabilities[i], class_ids: class_ids[i], classes: classes[i] })),
      expected,
    );
    expect(classes).toEqual(rows.map((x) => [x.Species]));
  });

  test('classify answers [label, score] pairs per example, with context features; regress is refused for a classifier', async () => {
    const { Island, ...rest } = rows[0];
    const { Island: _second, ...secondRest } = rows[1]; // a context feature must not appear in an example
    const r = await request(`${url}/v1/models/penguins:classify`, { body: { context: { Island }, examples: [rest, secondRest] } });
    expect(r.status).toBe(200);
    expect(r.json.result).toHaveLength(2);
    const first = r.json.result[0] as [string, number][];
    expect(first.map(([label]) => label)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    first.forEach(([, score], k) => expect(score).toBeCloseTo((expected[0] as { probabilities: number[] }).probabilities[k], 5));
    const regress = await request(`${url}/v1/models/penguins:regress`, { body: { examples: [rows[0]] } });
    expect(regress).toMatchObject({ status: 400, json: { error: 'model penguins version 1 is a multiclass classification model: use :classify or :predict' } });
  });

  test('bad requests are 400 with a message naming the instance and the field', async () => {
    const cases: [unknown, string][] = [
      [{ instances: [{ Island: 'Dream' }, { Island: 'Dream', Wings: 2 }] }, 'instances[1]: unknown field "Wings"; the model\'s inputs are "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Island", "Sex"'],
      [{ instances: [{ Island: 'Dream' }, { Island: 'Dream', 'Body Mass (g)': 'heavy' }] }, 'instances[1]: "Body Mass (g)" expects a number, got string "heavy"'],
      [{ instances: [{ Island: 'Dream', 'Flipper Length (mm)': 181.5 }] }, 'instances[0]: "Flipper Length (mm)" expects an integer, got number 181.5'],
      [{ instances: [{ Island: 7 }] }, 'instances[0]: "Island" expects a string (or {"b64": ...}), got number 7'],
      [{ instances: [{ Island: ['Dream', 'Biscoe'] }] }, 'instances[0]: "Island" takes one value, got a list of 2 values'],
      [{ instances: [{ Island: 'Dream' }, { Sex: 'MALE' }] }, 'instances[1]: required field "Island" is missing'],
      [{ instances: ['Dream'] }, 'instances[0]: expected an object of named inputs, got string "Dream"'],
      [{ instances: [] }, '"instances" must be a non-empty list, got a list of 0 values'],
      [{ instances: [{ Island: 'Dream' }], inputs: {} }, 'Not allowed to have both "instances" and "inputs" in the request'],
      [{ instance: [{ Island: 'Dream' }] }, 'Missing "instances" or "inputs" key'],
      [{ signature_name: 'other', instances: [{ Island: 'Dream' }] }, 'Serving signature name: "other" not found in signature def'],
      [{ signature_name: { toString: 1 }, instances: [{ Island: 'Dream' }] }, '"signature_name" must be a string, got an object'],
      [{ signature_name: 7, instances: [{ Island: 'Dream' }] }, '"signature_name" must be a string, got number 7'],
      [{ inputs: { Island: ['Dream', 'Biscoe'], Sex: ['MALE'] } }, 'inputs["Sex"] has 1 values but inputs["Island"] has 2'],
      [{ inputs: { Island: ['Dream', null] } }, 'inputs["Island"][1]: required field "Island" is missing'],
      [{ inputs: { Sex: ['MALE'] } }, 'inputs: required field "Island" is missing'],
      [{ inputs: { Island: ['Dream'], Beak: [1] } }, 'inputs: unknown field "Beak"; the model\'s inputs are "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Island", "Sex"'],
      [{ inputs: { Island: ['Dream'], 'Beak Depth (mm)': [true] } }, 'inputs["Beak Depth (mm)"][0]: "Beak Depth (mm)" expects a number, got boolean true'],
      [{ inputs: ['Dream'] }, '"inputs" must be an object of named input columns, got a list of 1 values'],
      [[1, 2], 'request body must be a JSON object, got a list of 2 values'],
    ];
    for (const [body, error] of cases) {
      expect({ body, ...(await request(`${url}/v1/models/penguins:predict`, { body })).json }).toEqual({ body, error });
    }
    expect(await request(`${url}/v1/models/penguins:classify`, { body: { examples: [{ Island: 'Dream', Bill: 1 }] } })).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/^examples\[0\]: unknown field "Bill"/) },
    });
    // A missing key is named as missing (not "got undefined undefined"), as TF Serving's {"error": ...} body.
    expect(await request(`${url}/v1/models/penguins:classify`, { body: { context: { Island: 'Dream' } } })).toMatchObject({ status: 400, json: { error: '"examples" is missing; it must be a non-empty list' } });
    expect(await request(`${url}/v1/models/penguins:classify`, { body: { examples: null } })).toMatchObject({ status: 400, json: { error: '"examples" must be a non-empty list, got null' } });
    expect(await request(`${url}/v1/models/penguins:feedback`, { body: { request_id: 'r-1' } })).toMatchObject({ status: 400, json: { error: '"reward" is missing; it must be a number in [0, 1]' } });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: '{"instances": [' })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^request body is not valid JSON: /) } });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: ' ' })).toMatchObject({ status: 400, json: { error: 'request body is empty; expected a JSON object' } });
  });

  test('bare NaN / Infinity in the body and {"b64": ...} string values are accepted; NaN scores are written as TF Serving writes them, with no class', async () => {
    // NaN is a missing value (the transform's fill), as in training data.
    const nan = await request(`${url}/v1/models/penguins:predict`, { body: '{"instances": [{"Island": "Biscoe", "Beak Length (mm)": NaN}]}' });
    const missing = await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Biscoe' }] } });
    expect(nan.status).toBe(200);
    expect(nan.json).toEqual(missing.json);
    // Infinity reaches the model as it is and makes its scores NaN: written as the bare NaN token TF Serving's
    // REST API uses (not null), and no class is chosen from them (not class 0).
    const body = '{"instances": [{"Island": "Biscoe", "Beak Depth (mm)": -Infinity}]}';
    const inf = await request(`${url}/v1/models/penguins:predict`, { body });
    expect(inf.status).toBe(200);
    expect(inf.text).toBe('{"predictions":[{"probabilities":[NaN,NaN,NaN],"class_ids":[-1],"classes":[""]}]}');
    const direct = await predictRows(await loadServingBundle(modelDir), [{ Island: 'Biscoe', 'Beak Depth (mm)': -Infinity }]);
    expect(parseTolerantJson(inf.text)).toEqual({ predictions: direct });
    const classify = await request(`${url}/v1/models/penguins:classify`, { body: body.replace('instances', 'examples') });
    expect(classify.text).toBe('{"result":[[["Adelie",NaN],["Chinstrap",NaN],["Gentoo",NaN]]]}');
    const infer = await request(`${url}/v2/models/penguins/infer`, { body: '{"inputs": [{"name": "Island", "datatype": "BYTES", "shape": [1], "data": ["Biscoe"]}, {"name": "Beak Depth (mm)", "datatype": "FP32", "shape": [1], "data": [Infinity]}]}' });
    expect(infer.status).toBe(200);
    expect((parseTolerantJson(infer.text) as { outputs: unknown[] }).outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [NaN, NaN, NaN] },
      { name: 'class_ids', datatype: 'INT64', shape: [1, 1], data: [-1] },
      { name: 'classes', datatype: 'BYTES', shape: [1, 1], data: [''] },
    ]);
    const plain = await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Biscoe', Sex: 'FEMALE' }] } });
    const b64 = await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: { b64: Buffer.from('Biscoe').toString('base64') }, Sex: { b64: 'RkVNQUxF' } }] } });
    expect(b64.status).toBe(200);
    expect(b64.json).toEqual(plain.json);
    expect(await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: { b64: 'not base64!' } }] } })).toMatchObject({
      status: 400,
      json: { error: 'instances[0]: "Island" has a "b64" value that is not base64' },
    });
  });

  test('unknown models, versions and routes are 404, wrong methods 405', async () => {
    const body = { instances: [{ Island: 'Dream' }] };
    expect(await request(`${url}/v1/models/nope:predict`, { body })).toMatchObject({ status: 404, json: { error: 'Could not find any versions of model nope' } });
    expect(await request(`${url}/v1/models/penguins/versions/9:predict`, { body })).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Specific(penguins, 9)' } });
    expect(await request(`${url}/v1/models/penguins/labels/canary:predict`, { body })).toMatchObject({ status: 404, json: { error: 'model penguins has no version label "canary"' } });
    expect(await request(`${url}/v1/models/penguins:explain`, { body })).toMatchObject({ status: 404, json: { error: 'Malformed request: POST /v1/models/penguins:explain' } });
    expect(await request(`${url}/nothing/here`)).toMatchObject({ status: 404, json: { error: 'Malformed request: GET /nothing/here' } });
    const get = await request(`${url}/v1/models/penguins:predict`);
    expect(get).toMatchObject({ status: 405, json: { error: 'GET is not allowed on /v1/models/penguins:predict; use POST' } });
    expect(get.headers.get('allow')).toBe('POST');
    expect((await request(`${url}/v1/models/penguins:predict`, { method: 'HEAD' })).status).toBe(405);
    const post = await request(`${url}/v1/models/penguins`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  test('HEAD on a GET route is answered as GET, without the body', async () => {
    for (const target of ['/v1/models/penguins', '/v1/models/penguins/metadata', '/v2/health/ready', '/v2/models/penguins', '/metrics']) {
      const head = await request(`${url}${target}`, { method: 'HEAD' });
      expect({ target, status: head.status, text: head.text }).toEqual({ target, status: 200, text: '' });
      expect(head.headers.get('content-type')).toMatch(/^(application\/json|text\/plain)/);
      if (target !== '/metrics') expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength((await request(`${url}${target}`)).text)));
    }
  });

  test('a feature every training example had is required (400 naming it); one the schema lets be missing is filled as training filled it', async () => {
    const bundle = await loadServingBundle(modelDir);
    // The penguins data misses measurements in 2 rows and Sex in 10: only Island has min_fraction 1.
    expect(bundle.signature.inputs.filter((i) => i.required).map((i) => i.name)).toEqual(['Island']);
    const sex = { name: 'Sex', datatype: 'BYTES', shape: [1], data: ['MALE'] };
    expect(await request(`${url}/v2/models/penguins/infer`, { body: { inputs: [sex] } })).toMatchObject({ status: 400, json: { error: 'inputs: required field "Island" is missing' } });
    // The missing features take the transform's fill values, through the one apply function training used
    // for its examples that missed them: the train split's mean (a z-score of 0) for the measurements.
    const transformed = applyTransform(bundle.graph!, [{ Island: 'Dream' }]);
    for (const name of ['beak_length', 'beak_depth', 'flipper_length', 'body_mass']) expect({ name, z: transformed[name][0] }).toEqual({ name, z: 0 });
    const only = await request(`${url}/v2/models/penguins/infer`, { body: { inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1], data: ['Dream'] }] } });
    expect(only.status).toBe(200);
    const [probabilities, classIds, classes] = only.json.outputs;
    expectClose([{ probabilities: probabilities.data, class_ids: classIds.data, classes: classes.data } as Prediction], await predictRows(bundle, [{ Island: 'Dream' }]));
  });

  test('OIP v2: liveness, readiness, server metadata, model metadata and model readiness', async () => {
    expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200, json: { live: true } });
    expect(await request(`${url}/v2/health/ready`)).toMatchObject({ status: 200, json: { ready: true } });
    expect(await request(`${url}/v2`)).toMatchObject({ status: 200, json: { name: 'mlp-model-server', version: expect.any(String), extensions: ['binary_tensor_data'] } });
    const meta = await request(`${url}/v2/models/penguins`);
    expect(meta.status).toBe(200);
    expect(meta.json).toMatchObject({ name: 'penguins', versions: ['1'], platform: 'tensorflowjs_layers' });
    expect(meta.json.inputs).toContainEqual({ name: 'Island', datatype: 'BYTES', shape: [-1] });
    expect(meta.json.inputs).toContainEqual({ name: 'Beak Length (mm)', datatype: 'FP32', shape: [-1] });
    expect(meta.json.inputs).toContainEqual({ name: 'Body Mass (g)', datatype: 'INT64', shape: [-1] });
    expect(meta.json.outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      { name: 'class_ids', datatype: 'INT64', shape: [-1, 1] },
      { name: 'classes', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    expect((await request(`${url}/v2/models/penguins/versions/1`)).json.name).toBe('penguins');
    expect(await request(`${url}/v2/models/penguins/ready`)).toMatchObject({ status: 200, json: { name: 'penguins', ready: true } });
    // An unknown version is a 404 for readiness as for metadata and infer (503 is for a known model not ready).
    expect(await request(`${url}/v2/models/penguins/versions/2/ready`)).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Specific(penguins, 2)' } });
    expect(await request(`${url}/v2/models/penguins/versions/2`)).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Specific(penguins, 2)' } });
    expect(await request(`${url}/v2/models/nope`)).toMatchObject({ status: 404, json: { error: 'model "nope" is not served here' } });
    expect(await request(`${url}/v2/models/penguins/versions/x1`)).toMatchObject({ status: 404, json: { error: 'model "penguins" has no version "x1"' } });
  });

  test('OIP v2 infer takes one typed tensor per raw feature and answers typed output tensors', async () => {
    const col = (f: string) => rows.map((x) => x[f]);
    const inputs = [
      { name: 'Island', datatype: 'BYTES', shape: [3], data: col('Island') },
      { name: 'Sex', datatype: 'BYTES', shape: [3, 1], data: col('Sex').map((v) => [v]) },
      { name: 'Beak Length (mm)', datatype: 'FP32', shape: [3], data: col('Beak Length (mm)') },
      { name: 'Beak Depth (mm)', datatype: 'FP64', shape: [3, 1], data: col('Beak Depth (mm)') },
      { name: 'Flipper Length (mm)', datatype: 'INT64', shape: [3], data: col('Flipper Length (mm)') },
      { name: 'Body Mass (g)', datatype: 'INT64', shape: [3], data: col('Body Mass (g)') },
    ];
    const r = await request(`${url}/v2/models/penguins/infer`, { body: { id: 'req-7', inputs } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.json).toMatchObject({ model_name: 'penguins', model_version: '1', id: 'req-7' });
    const [probabilities, classIds, classes] = r.json.outputs;
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3] });
    expect(classIds).toEqual({ name: 'class_ids', datatype: 'INT64', shape: [3, 1], data: expected.map((p) => (p as { class_ids: number[] }).class_ids[0]) });
    expect(classes).toEqual({ name: 'classes', datatype: 'BYTES', shape: [3, 1], data: rows.map((x) => x.Species) });
    expectClose(
      rows.map((_, i) => ({ probabilities: probabilities.data.slice(i * 3, i * 3 + 3), class_ids: [classIds.data[i]], classes: [classes.data[i]] }) as Prediction),
      expected,
    );
    const only = await request(`${url}/v2/models/penguins/versions/1/infer`, { body: { inputs: inputs.slice(0, 1), outputs: [{ name: 'classes' }] } });
    expect(only.json.outputs.map((o: { name: string }) => o.name)).toEqual(['classes']);
    expect(only.json.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('OIP v2 infer errors name the tensor', async () => {
    const island = { name: 'Island', datatype: 'BYTES', shape: [1], data: ['Dream'] };
    const cases: [unknown, string][] = [
      [{ inputs: [{ ...island, datatype: 'FP32' }] }, 'input tensor "Island": datatype string "FP32" does not fit the model\'s string input; use BYTES'],
      [{ inputs: [island, { name: 'Body Mass (g)', datatype: 'BYTES', shape: [1], data: ['x'] }] }, 'input tensor "Body Mass (g)": datatype string "BYTES" does not fit the model\'s int input; use FP32, FP64 or INT64'],
      [{ inputs: [island, { name: 'Body Mass (g)', datatype: 'INT64', shape: [1], data: [4000.5] }] }, 'input tensor "Body Mass (g)" data[0]: INT64 values must be integers, got number 4000.5'],
      [{ inputs: [island, { name: 'Wings', datatype: 'FP32', shape: [1], data: [2] }] }, 'unknown input tensor "Wings"; the model\'s inputs are "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Island", "Sex"'],
      [{ inputs: [island, { name: 'Sex', datatype: 'BYTES', shape: [2], data: ['MALE', 'FEMALE'] }] }, 'input tensor "Sex" has 2 rows but the other input tensors have 1'],
      [{ inputs: [{ ...island, shape: [2] }] }, 'input tensor "Island": shape [2] needs 2 values, "data" has 1'],
      [{ inputs: [{ ...island, shape: [1, 2] }] }, 'input tensor "Island": "shape" must be [n] or [n, 1]; got [1,2]'],
      // Missing fields are named as missing, not as "got undefined undefined".
      [{}, '"inputs" must be a non-empty list of tensors {name, shape, datatype, data}; it is missing'],
      [{ inputs: [{ shape: [1], datatype: 'BYTES', data: ['Dream'] }] }, 'inputs[0] must be a tensor {name, shape, datatype, data}; "name" must be a string, it is missing'],
      [{ inputs: [{ name: 'Island', shape: [1], data: ['Dream'] }] }, 'input tensor "Island": "datatype" is missing; use BYTES'],
      [{ inputs: [{ name: 'Body Mass (g)', shape: [1], data: [4000] }] }, 'input tensor "Body Mass (g)": "datatype" is missing; use FP32, FP64 or INT64'],
      [{ inputs: [{ name: 'Island', datatype: 'BYTES', data: ['Dream'] }] }, 'input tensor "Island": "shape" must be [n] or [n, 1]; it is missing'],
      [{ inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1] }] }, 'input tensor "Island": "data" must be a list; it is missing'],
      [{ inputs: [island, island] }, 'input tensor "Island" is given twice'],
      [{ inputs: [{ name: 'Sex', datatype: 'BYTES', shape: [1], data: ['MALE'] }] }, 'inputs: required field "Island" is missing'],
      [{ inputs: [{ ...island, data: [5] }] }, 'input tensor "Island" data[0]: "Island" expects a string (or {"b64": ...}), got number 5'],
      [{ inputs: [] }, '"inputs" must be a non-empty list of tensors {name, shape, datatype, data}; got a list of 0 values'],
      [{ inputs: [island], outputs: [{ name: 'logits' }] }, 'outputs[0]: unknown output string "logits"; the model\'s outputs are probabilities, class_ids, classes'],
      [{ inputs: [island], id: 5 }, '"id" must be a string, got number 5'],
    ];
    for (const [body, error] of cases) {
      const r = await request(`${url}/v2/models/penguins/infer`, { body });
      expect({ body, status: r.status, ...r.json }).toEqual({ body, status: 400, error });
    }
    expect(await request(`${url}/v2/models/nope/infer`, { body: { inputs: [island] } })).toMatchObject({ status: 404 });
  });

  test('fuzzed bodies never crash the server or get a 5xx: each is a 200 or a 400 with a JSON error', async () => {
    const targets = ['/v1/models/penguins:predict', '/v1/models/penguins:classify', '/v2/models/penguins/infer'];
    const check = async (target: string, body: string | Buffer) => {
      const r = await request(`${url}${target}`, { body });
      expect([200, 400]).toContain(r.status);
      if (r.status === 400) expect(typeof r.json.error).toBe('string');
    };
    const feature = fc.constantFrom('Island', 'Sex', 'Body Mass (g)', 'Beak Length (mm)', '__proto__', 'constructor', 'Species');
    const value = fc.oneof(fc.jsonValue(), fc.constant({ b64: 'QQ==' }), fc.string());
    const instance = fc.dictionary(feature, value);
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.record({ instances: fc.oneof(fc.array(instance, { maxLength: 4 }), fc.jsonValue()) }).map((v) => JSON.stringify(v)),
      fc.record({ examples: fc.array(instance, { maxLength: 4 }), context: fc.oneof(instance, fc.jsonValue()) }, { requiredKeys: ['examples'] }).map((v) => JSON.stringify(v)),
      fc.record({ inputs: fc.dictionary(feature, fc.array(value, { maxLength: 3 })) }).map((v) => JSON.stringify(v)),
      fc.record({ inputs: fc.array(fc.record({ name: feature, datatype: fc.constantFrom('BYTES', 'FP32', 'INT64', 'BOOL'), shape: fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), data: fc.array(value, { maxLength: 4 }) }), { maxLength: 3 }) }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...targets), body, check), { numRuns: 150 });
    const nested = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const raw of [Buffer.from([0xff, 0xfe, 0x00, 0x7b]), `{"instances": ${nested}}`, `{"inputs": [{"name": "Island", "datatype": "BYTES", "shape": [1], "data": ${nested}}]}`, '{"instances": [{"Island": "Dream", "Island": 5}]}', 'NaN', '{"instances": [{"__proto__": {"Island": "Dream"}}]}']) {
      for (const target of targets) await check(target, raw);
    }
    expect((await request(`${url}/v1/models/penguins`)).status).toBe(200);
  });

  test('/metrics counts requests by model, version, API and status, and records latency and load events', async () => {
    await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } });
    await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Wings: 1 }] } });
    await request(`${url}/v1/models/someone-else:predict`, { body: {} });
    const r = await request(`${url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^mlp_serving_requests_total\{model="penguins",version="1",api="predict",code="200"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^mlp_serving_requests_total\{model="penguins",version="",api="predict",code="400"\} [1-9]\d*$/m);
    // Names of models not served are not labels (callers cannot create series).
    expect(r.text).toMatch(/^mlp_serving_requests_total\{model="",version="",api="predict",code="404"\} [1-9]\d*$/m);
    expect(r.text).not.toContain('someone-else');
    expect(r.text).toMatch(/^mlp_serving_request_duration_seconds_count\{model="penguins",api="predict"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^mlp_serving_request_duration_seconds_bucket\{le="0.1",model="penguins",api="predict"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^mlp_serving_model_load_events_total\{model="penguins",version="1",event="loaded"\} 1$/m);
    expect(r.text).toMatch(/^mlp_serving_batch_size_count\{model="penguins"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^process_cpu_user_seconds_total /m);
  });
});

describe('a regression model served next to the classifier', () => {
  let url: string;
  beforeAll(async () => {
    const linear = path.join(root, 'linear-bundle');
    await writeLinearBundle(linear);
    const linearBase = path.join(root, 'linear');
    await publishVersion(linear, linearBase, 3);
    ({ url } = await serve([penguins(await basePath(1)), { name: 'linear', basePath: linearBase, policy: DEFAULT_POLICY, labels: {} }]));
  });

  test('regress answers one value per example; predict gives the single output\'s values directly, also for bare values', async () => {
    expect(await request(`${url}/v1/models/linear:regress`, { body: { examples: [{ x: 3 }, { x: -1, y: 0 }] } })).toMatchObject({ status: 200, json: { result: [7, -1] } });
    expect((await request(`${url}/v1/models/linear:predict`, { body: { instances: [{ x: 3 }, { x: 0.5 }] } })).json).toEqual({ predictions: [[7], [2]] });
    // One input: an instance may be the bare value, and columnar "inputs" the bare list.
    expect((await request(`${url}/v1/models/linear:predict`, { body: { instances: [3, [0.5]] } })).json).toEqual({ predictions: [[7], [2]] });
    expect((await request(`${url}/v1/models/linear:predict`, { body: { inputs: { x: [1, 2] } } })).json).toEqual({ outputs: [[3], [5]] });
    expect((await request(`${url}/v1/models/linear:predict`, { body: { inputs: [1, 2] } })).json).toEqual({ outputs: [[3], [5]] });
    expect(await request(`${url}/v1/models/linear:classify`, { body: { examples: [{ x: 1 }] } })).toMatchObject({
      status: 400,
      json: { error: 'model linear version 3 is a regression model: use :regress or :predict' },
    });
    const infer = await request(`${url}/v2/models/linear/infer`, { body: { inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 1], data: [[1], [2]] }] } });
    expect(infer.json.outputs).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [2, 1], data: [3, 5] }]);
    expect((await request(`${url}/v2/models/linear`)).json.outputs).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }]);
    // The classifier on the same server is unaffected.
    expect((await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).status).toBe(200);
  });

  test('infinite predictions are written as the bare Infinity / -Infinity tokens (NaN in is the fill, 0)', async () => {
    const predict = await request(`${url}/v1/models/linear:predict`, { body: '{"instances": [Infinity, NaN, -Infinity]}' });
    expect(predict.text).toBe('{"predictions":[[Infinity],[1],[-Infinity]]}');
    const regress = await request(`${url}/v1/models/linear:regress`, { body: '{"examples": [{"x": -Infinity}]}' });
    expect(regress.text).toBe('{"result":[-Infinity]}');
    const infer = await request(`${url}/v2/models/linear/infer`, { body: '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [Infinity]}]}' });
    expect(infer.text).toContain('"outputs":[{"name":"predictions","datatype":"FP32","shape":[1,1],"data":[Infinity]}]');
  });
});

describe('limits', () => {
  let base: string;
  beforeAll(async () => {
    base = await basePath(1);
  });

  test('a body over the limit is 413; one under it is answered', async () => {
    const { url } = await serve([penguins(base)], { maxBodyBytes: 2048 });
    const big = JSON.stringify({ instances: Array.from({ length: 200 }, () => ({ Island: 'Dream' })) });
    expect(big.length).toBeGreaterThan(2048);
    expect(await request(`${url}/v1/models/penguins:predict`, { body: big })).toMatchObject({ status: 413, json: { error: 'request body is larger than the limit of 2048 bytes' } });
    // Without a content-length (chunked), the body is cut off once it passes the limit.
    const chunked = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = http.request(`${url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('error', reject);
      req.write(big.slice(0, 1500));
      setTimeout(() => req.end(big.slice(1500)), 50);
    });
    expect(chunked).toEqual({ status: 413, body: '{"error":"request body is larger than the limit of 2048 bytes"}' });
    expect((await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).status).toBe(200);
  });

  test('a request not answered within the request timeout is 504; a body that does not arrive in time is 408', async () => {
    const { url } = await serve([penguins(base)], { requestTimeoutMs: 150, batching: { batchTimeoutMicros: 1_000_000 } });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).toMatchObject({
      status: 504,
      json: { error: 'request not answered within 150 ms' },
    });
    const slow = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = http.request(`${url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'content-length': '100' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('error', reject);
      req.write('{"instances": ');
    });
    expect(slow).toEqual({ status: 408, body: '{"error":"request body not received within 150 ms"}' });
  });

  test('a body still trickling after its 408, or after an early answer, does not keep the connection', async () => {
    const { server } = await serve([penguins(base)], { requestTimeoutMs: 150 });
    /** Sends headers and a first part of a body that never completes, then a byte every 20 ms until the server closes the socket. */
    const trickle = async (target: string) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => (received += d));
      socket.on('error', () => undefined);
      let closed = false;
      socket.on('close', () => (closed = true));
      socket.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"instances": `);
      const timer = setInterval(() => socket.writable && socket.write(' '), 20);
      try {
        await until('the server to close the connection', () => closed, 20_000);
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
      return received.split('\r\n')[0];
    };
    expect(await trickle('/v1/models/penguins:predict')).toBe('HTTP/1.1 408 Request Timeout');
    // Answered before the body was read: the rest is read and dropped for at most the request timeout.
    expect(await trickle('/v1/models/nope:predict')).toBe('HTTP/1.1 404 Not Found');
  });

  test('a request with more rows than the batch queue can ever hold is 413 naming the limit, not a 503 to retry', async () => {
    const { url } = await serve([penguins(base)], { batching: { maxBatchSize: 4, maxEnqueuedBatches: 2 } });
    const rows = (n: number) => ({ instances: Array.from({ length: n }, () => ({ Island: 'Dream' })) });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: rows(9) })).toMatchObject({
      status: 413,
      json: { error: 'a request of 9 rows is larger than model penguins version 1 takes: at most 8 rows (max_enqueued_batches 2 × max_batch_size 4); split it' },
    });
    expect((await request(`${url}/v1/models/penguins:predict`, { body: rows(8) })).json.predictions).toHaveLength(8);
  });

  test('concurrent requests are predicted in one batch; a full batch queue refuses at once with 503', async () => {
    const { url } = await serve([penguins(base)], { batching: { maxBatchSize: 4, batchTimeoutMicros: 3_000_000, maxEnqueuedBatches: 1 } });
    const one = (n: number) => request(`${url}/v1/models/penguins:predict`, { body: { instances: Array.from({ length: n }, () => ({ Island: 'Torgersen' })) } });
    const waiting = one(3);
    // The queue depth gauges show the waiting batch and its rows (polled: the request may take a while to arrive).
    let queued = '';
    await until('the first request to wait in the batch queue', async () => {
      queued = (await request(`${url}/metrics`)).text;
      return /^mlp_serving_batch_queue_batches\{model="penguins",version="1"\} 1$/m.test(queued);
    });
    expect(queued).toMatch(/^mlp_serving_batch_queue_rows\{model="penguins",version="1"\} 3$/m);
    const started = Date.now();
    const refused = await one(2);
    expect(refused).toMatchObject({ status: 503, json: { error: 'the batch queue of model penguins version 1 is full (1 batches waiting); retry later' } });
    expect(Date.now() - started).toBeLessThan(1500);
    // One row still fits the waiting batch, which is then full and goes at once (not after its timeout).
    const [a, b] = await Promise.all([waiting, one(1)]);
    expect(Date.now() - started).toBeLessThan(2500);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.predictions).toHaveLength(3);
    const metrics = (await request(`${url}/metrics`)).text;
    // 3 + 1 rows in one batch; the refused rows never queued (and the warm-up does not go through the queue).
    expect(metrics).toMatch(/^mlp_serving_batch_size_sum\{model="penguins"\} 4$/m);
    expect(metrics).toMatch(/^mlp_serving_batch_size_count\{model="penguins"\} 1$/m);
    expect(metrics).toMatch(/^mlp_serving_batch_queue_batches\{model="penguins",version="1"\} 0$/m);
    expect(metrics).toMatch(/^mlp_serving_batch_queue_rows\{model="penguins",version="1"\} 0$/m);
  });

  test('with a token file, every request but the health checks needs the bearer token', async () => {
    const { url } = await serve([penguins(base)], { authToken: 's3cret' });
    const body = { instances: [{ Island: 'Dream' }] };
    const none = await request(`${url}/v1/models/penguins:predict`, { body });
    expect(none).toMatchObject({ status: 401, json: { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await request(`${url}/v1/models/penguins:predict`, { body, headers: { authorization: 'Bearer s3cre' } })).status).toBe(401);
    expect((await request(`${url}/metrics`)).status).toBe(401);
    expect((await request(`${url}/v1/models/penguins:predict`, { body, headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await request(`${url}/v1/models/penguins`, { headers: { authorization: 'bearer s3cret' } })).status).toBe(200);
    expect((await request(`${url}/v2/health/live`)).status).toBe(200);
    expect((await request(`${url}/v2/health/ready`)).status).toBe(200);
  });
});

describe('versions', () => {
  test('a pushed version loads, warms up and takes over under load with zero failed requests; the old one is unloaded', async () => {
    const base = await basePath(1);
    const { url, logs } = await serve([penguins(base)], { pollSeconds: 0.1 });
    const seen = new Set<string>();
    const failures: string[] = [];
    let answered = 0;
    let stop = false;
    let v2At = 0;
    const body = { instances: penguinRows(2) };
    const client = async () => {
      while (!stop) {
        try {
          const r = await request(`${url}/v1/models/penguins:predict`, { body });
          if (r.status !== 200 || r.json.predictions.length !== 2) failures.push(`${r.status} ${r.text}`);
          else answered++;
          seen.add(r.headers.get('x-model-version')!);
          if (r.headers.get('x-model-version') === '2' && !v2At) v2At = answered;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await until('requests answered by version 1', () => answered >= 20);
    await publishVersion(modelDir, base, 2);
    await until('version 2 answering', () => v2At > 0);
    // Keep going while version 1 is unloaded.
    await until('version 1 unloaded', async () => (await request(`${url}/v1/models/penguins/versions/1`)).json?.model_version_status[0].state === 'END');
    const after = answered;
    await until('more requests after the unload', () => answered >= after + 20);
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect([...seen].sort()).toEqual(['1', '2']);
    expect((await request(`${url}/v1/models/penguins`)).json.model_version_status).toEqual([
      { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      { version: '1', state: 'END', status: { error_code: 'OK', error_message: '' } },
    ]);
    expect(logs).toContainEqual(expect.objectContaining({ model: 'penguins', version: 2, msg: 'model version available' }));
    expect(logs).toContainEqual(expect.objectContaining({ model: 'penguins', version: 1, msg: 'model version unloaded' }));
    const metrics = (await request(`${url}/metrics`)).text;
    expect(metrics).toMatch(/^mlp_serving_model_load_events_total\{model="penguins",version="2",event="loaded"\} 1$/m);
    expect(metrics).toMatch(/^mlp_serving_model_load_events_total\{model="penguins",version="1",event="unloaded"\} 1$/m);

    // A committed but broken version 3 is reported with its error; version 2 stays in service.
    const broken = path.join(root, 'broken');
    await fs.promises.cp(modelDir, broken, { recursive: true });
    await fs.promises.writeFile(path.join(broken, 'signature.json'), '{"format": "something else"}');
    await publishVersion(broken, base, 3);
    const v3Status = async () => (await request(`${url}/v1/models/penguins/versions/3`)).json.model_version_status?.[0];
    await until('version 3 failed', async () => (await v3Status())?.state === 'END');
    const v3 = await v3Status();
    expect(v3).toEqual({ version: '3', state: 'END', status: { error_code: 'UNKNOWN', error_message: `${path.join(base, '3', 'signature.json')} is not a model signature (format mlp.signature)` } });
    const r = await request(`${url}/v1/models/penguins:predict`, { body });
    expect([r.status, r.headers.get('x-model-version')]).toEqual([200, '2']);
    // A folder without a commit marker (a push in progress) is passed over, even when it is the newest.
    await fs.promises.cp(modelDir, path.join(base, '5'), { recursive: true });
    await fs.promises.rm(path.join(base, '5', '_MLP_COMMITTED.json'));
    await publishVersion(modelDir, base, 4);
    await until('version 4 answering', async () => (await request(`${url}/v1/models/penguins:predict`, { body })).headers.get('x-model-version') === '4');
    expect((await request(`${url}/v1/models/penguins/versions/5`)).status).toBe(404);
  });

  test('version policy "all" with labels: each version and label answers with its own version', async () => {
    const base = await basePath(1, 2);
    const { url } = await serve([penguins(base, { policy: { kind: 'all' }, labels: { stable: 1, canary: 2, retired: 9 } })]);
    const body = { instances: [{ Island: 'Dream' }] };
    const versionOf = async (p: string) => (await request(`${url}/v1/models/penguins${p}:predict`, { body })).headers.get('x-model-version');
    expect(await versionOf('')).toBe('2');
    expect(await versionOf('/versions/1')).toBe('1');
    expect(await versionOf('/labels/stable')).toBe('1');
    expect(await versionOf('/labels/canary')).toBe('2');
    expect(await request(`${url}/v1/models/penguins/labels/retired:predict`, { body })).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Specific(penguins, 9)' } });
    expect((await request(`${url}/v1/models/penguins/labels/stable`)).json.model_version_status).toEqual([{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);
    expect((await request(`${url}/v2/models/penguins`)).json.versions).toEqual(['2', '1']);
    expect((await request(`${url}/v2/models/penguins/versions/1/infer`, { body: { inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1], data: ['Dream'] }] } })).json.model_version).toBe('1');
  });

  test('a server started before the first push is live but not ready until a version is committed', async () => {
    const base = await basePath();
    const { url } = await serve([penguins(base)], { pollSeconds: 0.1 });
    expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200, json: { live: true } });
    expect(await request(`${url}/v2/health/ready`)).toMatchObject({ status: 503, json: { ready: false } });
    expect(await request(`${url}/v1/models/penguins`)).toMatchObject({ status: 404, json: { error: 'Could not find any versions of model penguins' } });
    expect(await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Latest(penguins)' } });
    await publishVersion(modelDir, base, 5);
    await until('ready', async () => (await request(`${url}/v2/health/ready`)).status === 200);
    expect((await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).headers.get('x-model-version')).toBe('5');
  });

  test('a base path that does not exist, versions that all fail to load, or a port in use stop the start with the reason', async () => {
    const missing = path.join(root, 'no-such-base');
    await expect(serve([penguins(missing)])).rejects.toThrow(`model penguins: cannot list its base path ${missing}: ENOENT`);
    const base = await basePath();
    const broken = path.join(root, 'broken-weights');
    await fs.promises.cp(modelDir, broken, { recursive: true });
    await fs.promises.rm(path.join(broken, 'model.json'));
    await publishVersion(broken, base, 1);
    await expect(serve([penguins(base)])).rejects.toThrow(/^model penguins: no version could be loaded: version 1: /);
    const taken = servers[0].port;
    await expect(serve([penguins(await basePath(1))], { port: taken })).rejects.toThrow(`cannot listen on 127.0.0.1:${taken}: listen EADDRINUSE`);
  });
});

describe('a bundle whose signature does not say which inputs are required', () => {
  /** A base path holding version 1 of the trained model with its signature's inputs edited. */
  async function editedBase(edit: (input: Record<string, unknown>) => void): Promise<string> {
    const base = path.join(root, `base-${bases++}`);
    await publishedCopy({ uri: modelDir, properties: {} }, path.join(base, '1'), async (dir) => {
      const file = path.join(dir, 'signature.json');
      const signature = JSON.parse(await fs.promises.readFile(file, 'utf8'));
      signature.inputs.forEach(edit);
      await fs.promises.writeFile(file, JSON.stringify(signature));
    });
    return base;
  }

  test('without "required" every raw input is required; a "required" that is not true or false fails the load, naming the file', async () => {
    const { url } = await serve([penguins(await editedBase((i) => delete i.required))]);
    expect(await request(`${url}/v1/models/penguins:predict`, { body: { instances: [{ Island: 'Dream' }] } })).toMatchObject({
      status: 400,
      json: { error: 'instances[0]: required field "Beak Length (mm)" is missing' },
    });
    expect((await request(`${url}/v1/models/penguins:predict`, { body: { instances: penguinRows(1) } })).status).toBe(200);
    const badBase = await editedBase((i) => (i.required = 'yes'));
    await expect(startModelServer({ models: [penguins(badBase)], port: 0, pollSeconds: 0, logger: memoryLogger().logger })).rejects.toThrow(
      `model penguins: no version could be loaded: version 1: ${path.join(badBase, '1', 'signature.json')}: inputs[0] ("Beak Length (mm)") has "required" "yes"; expected true or false`,
    );
  });
});

describe('drain', () => {
  let base: string;
  beforeAll(async () => {
    base = await basePath(1);
  });

  /** One request on a keep-alive connection of its own (or of the agent given), with the socket it used. */
  function rawRequest(port: number, method: string, target: string, body?: unknown, agent = new http.Agent({ keepAlive: true })) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; socket: net.Socket }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: target, agent }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, socket: req.socket as net.Socket }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
  const queuedBatches = async (url: string) => /^mlp_serving_batch_queue_batches\{model="penguins",version="1"\} 1$/m.test((await request(`${url}/metrics`)).text);

  test('close() reports not ready at once, accepts new connections while told to, answers in-flight requests with Connection: close, closes idle keep-alive connections cleanly, then refuses connections', async () => {
    // A batch of two rows that waits for its second row (far longer than the test) holds a request in flight.
    const { server, url, logs } = await serve([penguins(base)], { batching: { maxBatchSize: 2, batchTimeoutMicros: 600_000_000 }, drain: { seconds: 600, acceptSeconds: 600 } });
    const port = server.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const kept = await rawRequest(port, 'GET', '/v1/models/penguins', undefined, agent);
    expect(kept.status).toBe(200);
    const keptEvents: string[] = [];
    kept.socket.on('error', (err) => keptEvents.push(`error ${(err as NodeJS.ErrnoException).code}`));
    kept.socket.on('close', () => keptEvents.push('close'));
    const inFlight = rawRequest(port, 'POST', '/v1/models/penguins:predict', { instances: [{ Island: 'Dream' }] });
    await until('the request to wait in the batch queue', () => queuedBatches(url));

    const closing = server.close();
    // The idle keep-alive connection is closed, not reset.
    await until('the idle keep-alive connection to close', () => keptEvents.includes('close'));
    expect(keptEvents).toEqual(['close']);
    // Not ready at once, while new connections are still accepted; every answer closes its connection.
    const ready = await rawRequest(port, 'GET', '/v2/health/ready');
    expect([ready.status, JSON.parse(ready.text), ready.headers.connection]).toEqual([503, { ready: false }, 'close']);
    expect((await rawRequest(port, 'GET', '/v2/models/penguins/ready')).status).toBe(503);
    expect(JSON.parse((await rawRequest(port, 'GET', '/v1/models/penguins')).text).model_version_status[0].state).toBe('UNLOADING');
    // A request arriving now is answered; it fills the waiting batch, so the in-flight one is answered too.
    const late = await rawRequest(port, 'POST', '/v1/models/penguins:predict', { instances: [{ Island: 'Biscoe' }] });
    const early = await inFlight;
    for (const r of [late, early]) expect([r.status, r.headers.connection, JSON.parse(r.text).predictions.length]).toEqual([200, 'close', 1]);

    // Shortening the drain closes the listener now; the drain ends once every connection has closed.
    await server.close({ seconds: 600, acceptSeconds: 0 });
    await closing;
    await expect(rawRequest(port, 'GET', '/v2/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
    expect(logs.filter((l) => l.msg === 'drain deadline reached: closing the connections still open')).toEqual([]);
    agent.destroy();
  });

  test('a request still in flight when the drain\'s time is up is cut off, and the server stops', async () => {
    const { server, url, logs } = await serve([penguins(base)], { batching: { maxBatchSize: 2, batchTimeoutMicros: 600_000_000 }, drain: { seconds: 0.2, acceptSeconds: 0 } });
    const inFlight = rawRequest(server.port, 'POST', '/v1/models/penguins:predict', { instances: [{ Island: 'Dream' }] }).then(
      (r) => r.status,
      (err: NodeJS.ErrnoException) => err.code,
    );
    await until('the request to wait in the batch queue', () => queuedBatches(url));
    await server.close();
    expect(await inFlight).toBe('ECONNRESET');
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'drain deadline reached: closing the connections still open', inFlight: 1 }));
    expect(logs[logs.length - 1]).toMatchObject({ msg: 'stopped' });
  });
});

describe('mlp serve', () => {
  let base: string;
  beforeAll(async () => {
    base = await basePath(1, 2);
  });

  function serveCli(args: string[]): { child: ChildProcess; done: Promise<CliResult>; ready: Promise<string> } {
    const { child, done } = startCli(['serve', ...args]);
    children.push(child);
    const ready = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      void done.then((r) => reject(new Error(`mlp serve exited (${r.code}) before it was ready:\n${r.stderr}`)));
    });
    return { child, done, ready };
  }

  test('--help describes the options', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--model-base-path', '--model-name', '--config', '--port', '--host', '--poll-seconds', '--auth-token-file', '--max-batch-size', '--batch-timeout-micros', '--num-batch-threads', '--max-enqueued-batches', '--request-timeout-ms', '--max-body-bytes', '--request-log-dir', '--request-log-sample', '--request-log-flush-seconds', '--model-cache-dir', '--drain-seconds', '--drain-accept-seconds', 'traffic', 'static_table', 'x-request-key', ':feedback']) {
      expect(r.stdout).toContain(option);
    }
  });

  test('usage errors and a missing base path are one-line errors with exit 1', async () => {
    const cases: [string[], string][] = [
      [['--model-name', 'penguins'], 'mlp: error: give --model-base-path and --model-name (or --config with a model config file)\n'],
      [['--model-base-path', base, '--model-name', 'penguins', '--port', 'http'], 'mlp: error: --port "http": expected a whole number ≥ 0\n'],
      [['--model-base-path', base, '--model-name', 'penguins', '--config', 'models.json'], 'mlp: error: give either --config or --model-base-path with --model-name, not both\n'],
      [['--model-base-path', base, '--model-name', 'penguins', '--drain-seconds', '10', '--drain-accept-seconds', '20'], 'mlp: error: --drain-accept-seconds "20": expected a number in [0, 10]\n'],
      [['--model-base-path', path.join(root, 'nowhere'), '--model-name', 'penguins', '--port', '0'], `mlp: error: model penguins: cannot list its base path ${path.join(root, 'nowhere')}: ENOENT: no such file or directory, scandir '${path.join(root, 'nowhere')}'\n`],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['serve', ...args])));
    results.forEach((r, i) => {
      const [args, stderr] = cases[i];
      // The JSON log lines before the failure are not part of the error.
      expect({ args, code: r.code, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n') }).toEqual({ args, code: 1, stderr });
    });
  });

  test('the InfraValidator contract: start on a port, poll the status until AVAILABLE, predict raw rows', async () => {
    const port = await freeLoopbackPort();
    const { child, done } = serveCli(['--model-base-path', base, '--model-name', 'penguins', '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    await until(
      'AVAILABLE',
      async () => {
        const r = await request(`${url}/v1/models/penguins`).catch(() => undefined);
        return r?.json?.model_version_status?.[0]?.state === 'AVAILABLE';
      },
      30_000,
    );
    const rows = penguinRows(5);
    const r = await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows } });
    expect(r.status).toBe(200);
    // The default policy serves the latest version only.
    expect(r.headers.get('x-model-version')).toBe('2');
    expect(r.json.predictions.map((p: { classes: string[] }) => p.classes[0])).toEqual(rows.map((x) => x.Species));
    // The access log is buffered, and written at least every second: the predict's line comes out while the
    // server keeps running.
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await until('the access line of the predict request', async () => stderr.includes('"api":"predict"'), 5000);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.stdout).toBe(`serving penguins versions [2] on ${url}\n`);
    expect(result.code).toBe(0);
    // Logs are JSON lines on stderr, with Cloud Logging's severity; one access line per answered request
    // (the contract MlMonitoring's log-based metrics read), all written before the server says it stopped.
    const logs = result.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(logs).toContainEqual(expect.objectContaining({ severity: 'INFO', model: 'penguins', version: 2, msg: 'model version available' }));
    const access = logs.filter((l) => l.event === 'request');
    expect(access.filter((l) => l.api === 'status').length).toBeGreaterThanOrEqual(1);
    expect(access.filter((l) => l.api === 'predict')).toEqual([expect.objectContaining({ status: 200, model: 'penguins', version: 2, method: 'POST', path: '/v1/models/penguins:predict' })]);
    expect(logs[logs.length - 1]).toMatchObject({ msg: 'stopped' });
  });

  test('--port 0, a config file with labels and a token file; SIGTERM answers the in-flight request, then exits 0', async () => {
    const config = path.join(root, 'models.json');
    await fs.promises.writeFile(
      config,
      JSON.stringify({ model_config_list: { config: [{ name: 'penguins', base_path: path.relative(root, base), model_version_policy: { all: {} }, version_labels: { stable: 1 } }] } }),
    );
    const tokenFile = path.join(root, 'token');
    await fs.promises.writeFile(tokenFile, 'let-me-in\n');
    // A long batch timeout keeps the request in flight when the signal arrives.
    const { child, done, ready } = serveCli(['--config', config, '--port', '0', '--auth-token-file', tokenFile, '--batch-timeout-micros', '1500000', '--drain-accept-seconds', '0']);
    const line = await ready;
    const m = /^serving penguins versions \[2, 1\] on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
    expect(m).not.toBeNull();
    const url = m![1];
    expect(Number(m![2])).toBeGreaterThan(0);
    expect((await request(`${url}/v1/models/penguins`)).status).toBe(401);

    const started = Date.now();
    const inFlight = request(`${url}/v1/models/penguins/labels/stable:predict`, { body: { instances: [{ Island: 'Biscoe' }] }, headers: { authorization: 'Bearer let-me-in' } });
    // Signal only once the request is waiting in the batch queue, so it is surely in flight.
    await until('the request to wait in the batch queue', async () => {
      const metrics = await request(`${url}/metrics`, { headers: { authorization: 'Bearer let-me-in' } });
      return /^mlp_serving_batch_queue_batches\{model="penguins",version="1"\} 1$/m.test(metrics.text);
    });
    child.kill('SIGTERM');
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.headers.get('connection')).toBe('close');
    expect(answered.headers.get('x-model-version')).toBe('1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const result = await done;
    expect([result.code, result.signal]).toEqual([0, null]);
    expect(result.stderr).toContain('"msg":"draining"');
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  });
});
