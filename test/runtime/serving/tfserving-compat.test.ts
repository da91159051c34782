// TF Serving REST compatibility of :classify / :regress, on a real penguins classifier (trained by the real
// Trainer) and a linear regression bundle served over HTTP on loopback: a feature given both in "context" and
// in an example is refused as TF Serving's REST doc (api_rest.md, "Classify and Regress API") requires.

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
