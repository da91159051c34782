// Trainer resume after SIGKILL: the Trainer runs as a real child process (`mlp component run Trainer` with an
// ExecutorInput file, as a container step does), is killed with SIGKILL once a checkpoint exists under
// <node>/.checkpoints/, and the same ExecutorInput with new output URIs in the same node folder (the runner's
// <root>/<pipeline>/<node>/<port>/<execution id> layout) resumes from that checkpoint: the ModelRun records
// resumed_from_step > 0 and exactly the planned number of steps (epochs × ceil(rows / batch), no early
// stopping), the per-epoch metrics cover every epoch once, the final weights and losses match the same
// training run without interruption, the checkpoints are removed after success and the model loads and
// predicts.

import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../../../../runtime/ml/backend';
import { loadServingBundle, predictRows } from '../../../../runtime/ml/serving-bundle';
import { splitParquetFiles, sqlStringList } from '../../../../runtime/data/duckdb';
import { startCli } from '../../../support/cli';
import { buildPenguinsUpstream, CUSTOM_CONFIG, executorInput, LABEL, sqlRows, train, useTempDir, type Upstream } from '../../ml/helpers';

const tmp = useTempDir('mlp-trainer-resume-');

const HP = { epochs: 6, batch_size: 16, learning_rate: 0.05, hidden_units: [16], dropout: 0 };
const EVERY = 5;

let up: Upstream;
let node: string;
beforeAll(async () => {
  up = await buildPenguinsUpstream(path.join(tmp.dir, 'penguins'));
  node = path.join(tmp.dir, 'penguins', 'trainer');
});

/** Writes the ExecutorInput for execution `id` of the trainer node and returns its file and output file. */
function writeInput(id: number): { file: string; outputFile: string } {
  const input = executorInput(
    { examples: up.examples, transform_graph: up.transformGraph, schema: up.schema },
    { model: path.join(node, 'model', String(id)), model_run: path.join(node, 'model_run', String(id)) },
    { hyperparameters: HP, custom_config: { ...CUSTOM_CONFIG, checkpoint_every_steps: EVERY } },
  );
  const outputFile = path.join(tmp.dir, `output-${id}.json`);
  const file = path.join(tmp.dir, `input-${id}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...input, outputs: { ...input.outputs, outputFile } }));
  return { file, outputFile };
}

/** The checkpoint pointers (<node>/.checkpoints/<key>/checkpoint.json) that exist now. */
function checkpointPointers(): string[] {
  const base = path.join(node, '.checkpoints');
  if (!fs.existsSync(base)) return [];
  return fs.readdirSync(base).map((k) => path.join(base, k, 'checkpoint.json')).filter((f) => fs.existsSync(f));
}

test('a Trainer killed with SIGKILL resumes from its checkpoint and trains exactly the planned steps', async () => {
  const first = writeInput(1);
  const killed = startCli(['component', 'run', 'Trainer', '--executor-input', first.file]);
  let pointer: { latest: string; step: number } | undefined;
  while (!pointer) {
    const found = checkpointPointers();
    if (found.length > 0) pointer = JSON.parse(fs.readFileSync(found[0], 'utf8'));
    else if (killed.child.exitCode !== null) throw new Error(`trainer exited before any checkpoint: ${(await killed.done).stderr}`);
    else await new Promise((r) => setTimeout(r, 25));
  }
  killed.child.kill('SIGKILL');
  const dead = await killed.done;
  expect(dead.signal).toBe('SIGKILL');
  expect(pointer.step).toBeGreaterThan(0);
  // Nothing of the killed attempt was published.
  expect(fs.existsSync(path.join(node, 'model', '1'))).toBe(false);
  expect(fs.existsSync(first.outputFile)).toBe(false);

  const second = writeInput(2);
  const resumed = await startCli(['component', 'run', 'Trainer', '--executor-input', second.file]).done;
  expect(resumed.stderr).toMatch(/resumed from checkpoint at step \d+/);
  expect(resumed.code).toBe(0);

  const output = JSON.parse(fs.readFileSync(second.outputFile, 'utf8'));
  const run = output.artifacts.model_run.artifacts[0];
  const props = run.metadata;
  const trainRows = Number((await sqlRows(`SELECT count(*) AS n FROM read_parquet(${sqlStringList(splitParquetFiles(up.examples.uri, 'train'))})`))[0].n);
  const stepsPerEpoch = Math.ceil(trainRows / HP.batch_size);
  const planned = HP.epochs * stepsPerEpoch;
  expect(props).toMatchObject({ planned_steps: planned, steps: planned, epochs: HP.epochs, stopped_early: 0, train_examples: trainRows });
  expect(props.resumed_from_step).toBeGreaterThanOrEqual(pointer.step);
  expect(props.resumed_from_step).toBeLessThan(planned);
  // It resumed at a checkpoint step: every EVERY steps within an epoch, or an epoch end.
  expect(props.resumed_from_step % EVERY === 0 || props.resumed_from_step % stepsPerEpoch === 0).toBe(true);
  expect(resumed.stderr).toContain(`resumed from checkpoint at step ${props.resumed_from_step}`);

  // One metrics record per epoch, before and after the kill, with the global step at each epoch's end.
  const metrics = fs.readFileSync(path.join(run.uri, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(metrics.map((m) => [m.epoch, m.step])).toEqual(Array.from({ length: HP.epochs }, (_, i) => [i + 1, (i + 1) * stepsPerEpoch]));

  // The checkpoints of this training are gone once the model is published.
  const training = JSON.parse(fs.readFileSync(path.join(run.uri, 'training.json'), 'utf8'));
  expect(path.dirname(training.checkpoint_dir)).toBe(path.join(node, '.checkpoints'));
  expect(fs.existsSync(training.checkpoint_dir)).toBe(false);
  expect(checkpointPointers()).toEqual([]);

  // Resuming lost nothing: the final weights and every epoch's losses are those of the same training never
  // interrupted (restored weights and Adam moments, the same batches in the same order after the resume
  // point). Not bit for bit: tfjs's AdamOptimizer.setWeights recomputes beta^t with pow() where training
  // multiplies step by step, which differs in the last float32 bit at some steps (differences ~1e-5); a lost
  // optimizer state or one skipped epoch moves the weights by 0.5 to 2 on this model.
  const uninterrupted = await train(tmp.dir, up, { hyperparameters: HP, custom_config: { ...CUSTOM_CONFIG, checkpoint_every_steps: EVERY } }, { node: 'penguins/trainer-uninterrupted' });
  expect(uninterrupted.modelRun.properties).toMatchObject({ steps: planned, resumed_from_step: 0 });
  const weights = (uri: string) => {
    const b = fs.readFileSync(path.join(uri, 'weights.bin'));
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  };
  const resumedWeights = weights(output.artifacts.model.artifacts[0].uri);
  const expectedWeights = weights(uninterrupted.model.uri);
  expect(resumedWeights.length).toBe(expectedWeights.length);
  expect(Math.max(...resumedWeights.map((w, i) => Math.abs(w - expectedWeights[i])))).toBeLessThan(1e-3);
  const reference = fs.readFileSync(path.join(uninterrupted.modelRun.uri, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  metrics.forEach((m, i) => {
    expect(m.loss).toBeCloseTo(reference[i].loss, 4);
    expect(m.val_loss).toBeCloseTo(reference[i].val_loss, 4);
  });

  // The model loads and predicts the eval split well.
  await selectBackend();
  const bundle = await loadServingBundle(output.artifacts.model.artifacts[0].uri);
  const rows = await sqlRows(`SELECT * FROM read_parquet(${sqlStringList(splitParquetFiles(up.examples.uri, 'eval'))})`);
  const predictions = await predictRows(bundle, rows);
  expect(predictions).toHaveLength(rows.length);
  const right = predictions.filter((p, i) => 'classes' in p && p.classes[0] === rows[i][LABEL]).length;
  expect(right / rows.length).toBeGreaterThan(0.85);
  bundle.model.dispose();
}, 180_000);
