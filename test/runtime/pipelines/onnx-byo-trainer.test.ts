/** @jest-environment ./test/support/onnx-environment.js */
// Issue 18 §5's acceptance: a pipeline whose trainer is a Python container component (scikit-learn on the
// test venv, run as a local process) trains a penguins classifier on the Examples ExampleGen wrote, exports
// ONNX and writes the Model artifact; the Evaluator blesses it against an accuracy threshold; the Pusher
// pushes it; `mlp serve` on the push destination answers :predict and /v2/models/…/infer with onnxruntime's
// own (Python) predictions to 1e-5; a rerun is fully cached.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { testPython } from '../../support/python';
import { useTempStore } from '../../support/temp-store';
import { PENGUIN_FEATURES } from '../../fixtures/container/penguins-sklearn-trainer';
import { pipeline } from '../../fixtures/onnx/penguins-onnx-pipeline';
import { expectAllClose } from '../ml/onnx-models';
import { penguinRows, request, startServeCli } from '../serving/helpers';

const MODULE = path.join(__dirname, '../../fixtures/onnx/penguins-onnx-pipeline.ts');
const t = useTempStore('mlp-onnx-byo-');

jest.setTimeout(300_000);

/** onnxruntime's (Python) probabilities and labels for rows of the four measurements. */
function pythonPredictions(modelFile: string, rows: number[][]): { probabilities: number[][]; labels: string[] } {
  const script = [
    'import json, sys, numpy as np, onnxruntime as ort',
    's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
    'x = np.array(json.loads(sys.argv[2]), dtype=np.float32)',
    'p, l = s.run(["probabilities", "label"], {i.name: x[:, k:k + 1] for k, i in enumerate(s.get_inputs())})',
    'print(json.dumps({"probabilities": p.tolist(), "labels": [str(v) for v in l]}))',
  ].join('\n');
  return JSON.parse(execFileSync(testPython(['onnxruntime', 'numpy']), ['-c', script, modelFile, JSON.stringify(rows)]).toString());
}

test('Python container trainer → ONNX Model → Evaluator blesses → Pusher pushes → mlp serve answers as Python does; a rerun is cached', async () => {
  const servingDir = path.join(t.root, 'serving', 'penguins');
  const options = { root: t.root, store: t.store, modules: [MODULE], parallelism: 1, parameters: { serving_dir: servingDir } };
  const first = await runPipeline(pipeline, options);
  expect(first.nodes.map((n) => [n.id, n.state, n.error])).toEqual([
    ['example-gen', 'executed', undefined],
    ['trainer', 'executed', undefined],
    ['evaluator', 'executed', undefined],
    ['pusher', 'executed', undefined],
  ]);
  const node = (id: string) => first.nodes.find((n) => n.id === id)!;
  const [blessing] = await t.store.getArtifacts({ uri: node('evaluator').outputs.blessing });
  expect(blessing.customProperties).toMatchObject({ blessed: 1 });
  const [model] = await t.store.getArtifacts({ uri: node('trainer').outputs.model });
  expect(model.customProperties).toMatchObject({ model_format: 'onnx', framework: 'scikit-learn' });
  const [pushed] = await t.store.getArtifacts({ uri: node('pusher').outputs.pushed_model });
  expect(pushed.customProperties).toMatchObject({ pushed: 1 });
  const version = String(pushed.customProperties!.pushed_version);
  expect(fs.existsSync(path.join(servingDir, version, 'model.onnx'))).toBe(true);

  const rows = penguinRows(8);
  const features = rows.map((r) => PENGUIN_FEATURES.map((f) => r[f] as number));
  const expected = pythonPredictions(path.join(servingDir, version, 'model.onnx'), features);
  const { child, done, url } = await startServeCli(['--model-base-path', servingDir, '--model-name', 'penguins', '--port', '0']);
  try {
    // Rows as the data set has them: the label is accepted and ignored, the class names come from the model.
    const instances = rows.map((r) => ({ ...Object.fromEntries(PENGUIN_FEATURES.map((f) => [f, r[f]])), Species: r.Species }));
    const predict = await request(`${url}/v1/models/penguins:predict`, { body: { instances } });
    expect(predict.status).toBe(200);
    expect(predict.headers.get('x-model-version')).toBe(version);
    expectAllClose(predict.json.predictions.map((p: { probabilities: number[] }) => p.probabilities), expected.probabilities);
    expect(predict.json.predictions.map((p: { classes: string[] }) => p.classes[0])).toEqual(expected.labels);
    const infer = await request(`${url}/v2/models/penguins/infer`, {
      body: { inputs: PENGUIN_FEATURES.map((name, k) => ({ name, datatype: 'FP32', shape: [rows.length, 1], data: features.map((f) => f[k]) })) },
    });
    expect(infer.status).toBe(200);
    const out = Object.fromEntries(infer.json.outputs.map((o: { name: string }) => [o.name, o]));
    expectAllClose(out.probabilities.data, expected.probabilities.flat());
    expect(out.classes.data).toEqual(expected.labels);
  } finally {
    child.kill('SIGTERM');
    await done;
  }

  const second = await runPipeline(pipeline, options);
  expect(second.nodes.map((n) => n.state)).toEqual(['cached', 'cached', 'cached', 'cached']);
});
