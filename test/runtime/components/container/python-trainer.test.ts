// A Python container component (scikit-learn, run as a local process on the test venv) trains on the penguins
// Examples that ExampleGen wrote and publishes a Model artifact holding model.onnx, with its ExecutorOutput
// metadata and its output parameter recorded in MLMD; a rerun is fully cached.

import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { ExecutionState } from '../../../../runtime/metadata/types';
import { runPipeline } from '../../../../runtime/runner/local-runner';
import { ARTIFACT_FILE_PROPERTY } from '../../../../runtime/components/container';
import { pipeline } from '../../../fixtures/container/penguins-sklearn-pipeline';
import { PENGUIN_FEATURES } from '../../../fixtures/container/penguins-sklearn-trainer';
import { testPython } from '../../../support/python';
import { useTempStore } from '../../../support/temp-store';

const MODULE = path.join(__dirname, '../../../fixtures/container/penguins-sklearn-pipeline.ts');
const t = useTempStore('mlp-container-sklearn-');

jest.setTimeout(240_000);

test('the scikit-learn container trainer writes an ONNX Model artifact, recorded in MLMD, and a rerun is cached', async () => {
  const first = await runPipeline(pipeline, { root: t.root, store: t.store, modules: [MODULE], parallelism: 1 });
  const trainer = first.nodes.find((n) => n.id === 'trainer')!;
  expect({ state: trainer.state, error: trainer.error }).toEqual({ state: 'executed', error: undefined });
  const modelDir = trainer.outputs.model;
  expect(fs.existsSync(path.join(modelDir, '_MLP_COMMITTED.json'))).toBe(true);
  expect(fs.existsSync(path.join(modelDir, 'model.onnx'))).toBe(true);

  // The graph takes one float tensor per feature and answers as the script's own check did.
  const probe = execFileSync(testPython(['onnxruntime']), ['-c', [
    'import json, sys, numpy as np, onnxruntime as ort',
    's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
    'feed = {i.name: np.array([[v]], dtype=np.float32) for i, v in zip(s.get_inputs(), [39.1, 18.7, 181.0, 3750.0])}',
    'p, l = s.run(None, feed)',
    'print(json.dumps({"inputs": [i.name for i in s.get_inputs()], "label": str(l[0]), "sum": float(p.sum())}))',
  ].join('\n'), path.join(modelDir, 'model.onnx')]).toString();
  const answer = JSON.parse(probe);
  expect(answer.inputs).toEqual(PENGUIN_FEATURES);
  expect(answer.label).toBe('Adelie');
  expect(answer.sum).toBeCloseTo(1, 5);

  const [model] = await t.store.getArtifacts({ uri: modelDir });
  expect(model.customProperties).toMatchObject({ framework: 'scikit-learn', model_format: 'onnx', classes: ['Adelie', 'Chinstrap', 'Gentoo'], features: PENGUIN_FEATURES });
  // A folder written at the KFP path is the artifact itself, as a bundled component's output.
  expect(model.customProperties?.[ARTIFACT_FILE_PROPERTY]).toBeUndefined();
  const [execution] = await t.store.getExecutions({ ids: [trainer.executionId!] });
  const accuracy = (execution.customProperties?.outputs as { accuracy: number }).accuracy;
  expect(accuracy).toBeGreaterThan(0.8);
  expect(accuracy).toBeLessThanOrEqual(1);
  expect(fs.readFileSync(trainer.logFile!, 'utf8')).toMatch(/eval accuracy/);

  const second = await runPipeline(pipeline, { root: t.root, store: t.store, modules: [MODULE], parallelism: 1 });
  expect(second.nodes.map((n) => n.state)).toEqual(['cached', 'cached']);
  const cachedTrainer = second.nodes.find((n) => n.id === 'trainer')!;
  expect(cachedTrainer.outputs.model).toBe(modelDir);
  const [cached] = await t.store.getExecutions({ ids: [cachedTrainer.executionId!] });
  expect(cached.lastKnownState).toBe(ExecutionState.CACHED);
  expect(cached.customProperties?.outputs).toEqual({ accuracy });
});
