// The evaluation API's comparison with the baseline: a second Evaluator execution that took the first model
// as its baseline shows that model's own evaluation per slice next to its own. The store and the
// evaluation.json files are written here with the runtime's own writers (runtime/evaluation), so no
// training is needed. A broken evaluation.json is an error naming the file; a missing one is a 404.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { STANDARD_ARTIFACT_TYPES } from '../../../runtime/core/artifact-types';
import { BLESSED_FILE, buildEvaluation, EVALUATION_FILE, evaluationJson, parseEvalConfig } from '../../../runtime/evaluation';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, EventType, ExecutionState, TypeKind, type Artifact, type MetadataStore } from '../../../runtime/metadata/types';
import { startUi, type Ui } from './helpers';

let dir: string;
let ui: Ui;
const ids: Record<string, number> = {};

const config = parseEvalConfig({ label_key: 'y', task: 'binary', slicing_specs: [{}], thresholds: { accuracy: { value_threshold: { lower_bound: 0.5 } } } });

/** An Evaluator execution of `model` (against `baseline`) whose evaluation says `accuracy` on the overall slice. */
async function evaluate(store: MetadataStore, name: string, model: Artifact, accuracy: number, baseline?: Artifact): Promise<void> {
  const evaluation: Artifact = { type: 'ModelEvaluation', uri: path.join(dir, name, 'evaluation'), state: ArtifactState.LIVE };
  const blessing: Artifact = { type: 'ModelBlessing', uri: path.join(dir, name, 'blessing'), state: ArtifactState.LIVE, customProperties: { blessed: 1 } };
  const result = await store.putExecution(
    { type: 'Evaluator', lastKnownState: ExecutionState.COMPLETE, customProperties: { run_id: `run-${name}`, node_id: 'evaluator' } },
    [
      { artifact: model, event: { type: EventType.INPUT, path: [{ key: 'model' }, { index: 0 }] } },
      ...(baseline ? [{ artifact: baseline, event: { type: EventType.INPUT, path: [{ key: 'baseline_model' }, { index: 0 }] } }] : []),
      { artifact: evaluation, event: { type: EventType.OUTPUT, path: [{ key: 'evaluation' }, { index: 0 }] } },
      { artifact: blessing, event: { type: EventType.OUTPUT, path: [{ key: 'blessing' }, { index: 0 }] } },
    ],
    [],
  );
  ids[`${name}-evaluation`] = result.artifactIds.at(-2)!;
  const slices = [{ slice: 'Overall', slice_key: [], example_count: 100, metrics: { accuracy, auc: NaN } }];
  const validation = { blessed: true, results: [{ slice: 'Overall', metric: 'accuracy', threshold: { kind: 'lower_bound' as const, bound: 0.5 }, value: accuracy, passed: true, reason: 'ok' }], failures: [] };
  await fs.promises.mkdir(evaluation.uri, { recursive: true });
  await fs.promises.writeFile(path.join(evaluation.uri, EVALUATION_FILE), evaluationJson(buildEvaluation({ config, slices, validation, model: { uri: model.uri, id: model.id } })));
  await fs.promises.mkdir(blessing.uri, { recursive: true });
  await fs.promises.writeFile(path.join(blessing.uri, BLESSED_FILE), '');
}

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-eval-'));
  const address = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  const store = await openMetadataStore(address);
  try {
    for (const t of STANDARD_ARTIFACT_TYPES) await store.putType({ kind: TypeKind.ARTIFACT, name: t.name, properties: { ...t.properties } });
    await store.putType({ kind: TypeKind.EXECUTION, name: 'Evaluator' });
    const [oldId, newId] = await store.putArtifacts([
      { type: 'Model', uri: path.join(dir, 'old-model'), state: ArtifactState.LIVE },
      { type: 'Model', uri: path.join(dir, 'new-model'), state: ArtifactState.LIVE },
    ]);
    const [oldModel, newModel] = await store.getArtifacts({ ids: [oldId, newId] });
    await evaluate(store, 'first', oldModel, 0.8);
    await evaluate(store, 'second', newModel, 0.9, oldModel);
    ids.oldModel = oldId;
    ids.newModel = newId;
  } finally {
    await store.close();
  }
  ui = await startUi(address);
});

afterAll(async () => {
  await ui.server.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test("an evaluation with a baseline carries the baseline model's own evaluation per slice", async () => {
  const view = (await ui.get(`/api/artifacts/${ids['second-evaluation']}/evaluation`)).body;
  expect(view).toMatchObject({
    runId: 'run-second',
    model: { artifactId: ids.newModel },
    blessing: { blessed: true },
    baseline: { artifactId: ids.oldModel, uri: path.join(dir, 'old-model'), evaluationArtifactId: ids['first-evaluation'] },
  });
  expect(view.baseline.slices).toEqual([{ slice: 'Overall', slice_key: [], example_count: 100, metrics: { accuracy: 0.8, auc: null } }]);
  // A metric undefined on a slice (NaN) travels as null.
  expect(view.evaluation.slices[0].metrics).toEqual({ accuracy: 0.9, auc: null });
  const first = (await ui.get(`/api/artifacts/${ids['first-evaluation']}/evaluation`)).body;
  expect(first.baseline).toBeUndefined();
});

test('a broken evaluation.json is an error naming the file; a missing one is a 404', async () => {
  const file = path.join(dir, 'first', 'evaluation', EVALUATION_FILE);
  const text = await fs.promises.readFile(file, 'utf8');
  try {
    await fs.promises.writeFile(file, '{"format": "something else"}');
    const broken = await ui.get(`/api/artifacts/${ids['first-evaluation']}/evaluation`);
    expect(broken.status).toBe(500);
    expect(broken.body.error).toBe(`${EVALUATION_FILE} of artifact ${ids['first-evaluation']} is not a model evaluation (format mlp.model_evaluation)`);
    await fs.promises.rm(file);
    const missing = await ui.get(`/api/artifacts/${ids['first-evaluation']}/evaluation`);
    expect(missing.status).toBe(404);
    // The same words whether the file is missing or outside the served root (root-files.test.ts).
    expect(missing.body.error).toBe(`ModelEvaluation artifact ${ids['first-evaluation']} has no ${EVALUATION_FILE} in the pipeline root this UI serves`);
  } finally {
    await fs.promises.writeFile(file, text);
  }
});
