// TF Serving REST compatibility of :classify / :regress, on a real penguins classifier (trained by the real
// Trainer) and a linear regression bundle served over HTTP on loopback: the metadata advertises the classify
// / regress signature a model serves, laid out as TF Serving's signature_defs.md shows them, and a request may
// name it; a feature given both in "context" and in an example is refused as TF Serving's REST doc (api_rest.md,
// "Classify and Regress API") requires.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { memoryLogger, penguinRows, publishVersion, request, trainPenguinsModel, writeLinearBundle } from './helpers';

let root: string;
let server: ModelServer;
let url: string;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-tfserving-compat-'));
  const penguinsBase = path.join(root, 'penguins');
  await publishVersion(await trainPenguinsModel(path.join(root, 'training')), penguinsBase, 1);
  const linear = path.join(root, 'linear-bundle');
  await writeLinearBundle(linear);
  const linearBase = path.join(root, 'linear');
  await publishVersion(linear, linearBase, 3);
  server = await startModelServer({
    models: [
      { name: 'penguins', basePath: penguinsBase, policy: DEFAULT_POLICY, labels: {} },
      { name: 'linear', basePath: linearBase, policy: DEFAULT_POLICY, labels: {} },
    ],
    port: 0,
    pollSeconds: 0,
    logger: memoryLogger().logger,
  });
  url = server.url;
}, 180_000);

afterAll(async () => {
  await server?.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

describe('"context" features in :classify and :regress', () => {
  test('a feature both in "context" and in an example is a 400 naming the feature and the example', async () => {
    const [row] = penguinRows(1);
    const classify = await request(`${url}/v1/models/penguins:classify`, { body: { context: { Island: 'Dream' }, examples: [{ Sex: 'MALE' }, row] } });
    expect(classify).toMatchObject({
      status: 400,
      json: { error: 'examples[1]: feature "Island" is also in "context" (a feature given in "context" must not appear in the examples)' },
    });
    const regress = await request(`${url}/v1/models/linear:regress`, { body: { context: { x: 3 }, examples: [{ x: 1 }] } });
    expect(regress).toMatchObject({
      status: 400,
      json: { error: 'examples[0]: feature "x" is also in "context" (a feature given in "context" must not appear in the examples)' },
    });
  });

  test('context features disjoint from the examples are added to each example', async () => {
    expect(await request(`${url}/v1/models/linear:regress`, { body: { context: { x: 3 }, examples: [{}, { y: 0 }] } })).toMatchObject({ status: 200, json: { result: [7, 7] } });
    const { Island, ...rest } = penguinRows(1)[0];
    const withContext = await request(`${url}/v1/models/penguins:classify`, { body: { context: { Island }, examples: [rest] } });
    const inline = await request(`${url}/v1/models/penguins:classify`, { body: { examples: [{ Island, ...rest }] } });
    expect(withContext.status).toBe(200);
    expect(withContext.json).toEqual(inline.json);
  });
});

describe('classify / regress signatures in the model metadata', () => {
  const tensor = (dtype: string, ...dims: number[]) => ({ dtype, tensor_shape: { dim: dims.map((size) => ({ size: String(size), name: '' })), unknown_rank: false } });

  test('a classifier advertises "classification" (tensorflow/serving/classify) beside serving_default, and no regression', async () => {
    const defs = (await request(`${url}/v1/models/penguins/metadata`)).json.metadata.signature_def.signature_def;
    expect(Object.keys(defs).sort()).toEqual(['classification', 'serving_default']);
    expect(defs.serving_default.method_name).toBe('tensorflow/serving/predict');
    expect(defs.classification).toMatchObject({
      inputs: { inputs: tensor('DT_STRING', -1) },
      outputs: { classes: tensor('DT_STRING', -1, 3), scores: tensor('DT_FLOAT', -1, 3) },
      method_name: 'tensorflow/serving/classify',
    });
    expect(Object.keys(defs.classification.outputs).sort()).toEqual(['classes', 'scores']);
  });

  test('a regression model advertises "regression" (tensorflow/serving/regress) beside serving_default, and no classification', async () => {
    const defs = (await request(`${url}/v1/models/linear/metadata`)).json.metadata.signature_def.signature_def;
    expect(Object.keys(defs).sort()).toEqual(['regression', 'serving_default']);
    expect(defs.regression).toMatchObject({ inputs: { inputs: tensor('DT_STRING', -1) }, outputs: { outputs: tensor('DT_FLOAT', -1, 1) }, method_name: 'tensorflow/serving/regress' });
    expect(Object.keys(defs.regression.outputs)).toEqual(['outputs']);
  });

  test('a request may name its verb\'s advertised signature; another verb\'s is refused as TF Serving words it', async () => {
    expect(await request(`${url}/v1/models/linear:regress`, { body: { signature_name: 'regression', examples: [{ x: 3 }] } })).toMatchObject({ status: 200, json: { result: [7] } });
    const classify = await request(`${url}/v1/models/penguins:classify`, { body: { signature_name: 'classification', examples: penguinRows(1) } });
    expect(classify.status).toBe(200);
    expect(classify.json.result[0].map(([label]: [string, number]) => label)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(await request(`${url}/v1/models/linear:predict`, { body: { signature_name: 'regression', instances: [{ x: 3 }] } })).toMatchObject({
      status: 400,
      json: { error: 'Serving signature name: "regression" not found in signature def' },
    });
  });
});
