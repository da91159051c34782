// A retried distributed step on Argo (runtime/compilers/argo-jobset.ts): Argo's retryStrategy creates a new JobSet,
// while the failed JobSet's rank 0 may already have published its outputs and ExecutorOutput (another rank or the
// JobSet failed later). Simulated with the compiled pods' exact command lines, against the in-process GCS
// emulator: rank 0's pod of attempt 1 runs to the end, the JobSet "fails", rank 0's pod of attempt 2 (another
// JobSet name) runs, and the read-back step with the name the resource step reports reads attempt 2's ExecutorOutput.
// Each attempt writes under its own JobSet's name, each object still exactly once; with the metadata store the
// retry is a cache hit on what attempt 1 committed.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { compileArgo, type ArgoOptions } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { containerComponent } from '../../../runtime/components/container';
import { Model } from '../../../runtime/core/artifact-types';
import { openMetadataStore } from '../../../runtime/metadata';
import { ExecutionState } from '../../../runtime/metadata/types';
import { storageFor } from '../../../runtime/storage';
import { COMMIT_MARKER } from '../../../runtime/storage/types';
import { runCli } from '../../support/cli';
import { useGcsEmulator } from '../../support/gcs-emulator';
import { runJobSetPod } from './jobset-pod';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

useGcsEmulator();

const RetryTrainer = containerComponent({
  name: 'RetryTrainer',
  image: 'us-docker.pkg.dev/p/r/ddp:3',
  command: ['sh', '-c', 'mkdir -p "$0" && printf "rank %s of %s" "$RANK" "$WORLD_SIZE" > "$0/weights"', "{{$.outputs.artifacts['model'].path}}"],
  outputs: { model: { type: Model } },
  distribution: { workers: 2 },
});

function retryPipeline(): Pipeline {
  const p = new Pipeline({ name: 'retry' });
  p.add('train', RetryTrainer, { retry: { maxRetries: 2, backoffSeconds: 1 } });
  return p;
}

const ROOT = 'gs://mlp-retry/root';
const BASE: ArgoOptions = { image: 'us-docker.pkg.dev/p/r/mlp:1', pipelineRoot: ROOT };
const CLOUD: Partial<ArgoOptions> = { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' };
const template = (wf: Json, name: string): Json => wf.spec.templates.find((t: Json) => t.name === name);

/** Rank 0's pod (index 0) of JobSet `jobSet`, as Kubernetes would run it (jobset-pod.ts). */
async function runRank0(wf: Json, runId: string, jobSet: string, metadata?: string): Promise<{ code: number | null; stderr: string }> {
  const r = await runJobSetPod(wf, 'train', { runId, jobSet, index: 0, metadata });
  expect(r.argv.join(' ')).not.toMatch(/\{\{|\$\(MLP_JOBSET_NAME\)/);
  return r;
}

/** The read-back step's command as Argo runs it with the resource step's `jobset` output; its ExecutorOutput. */
async function readBack(wf: Json, runId: string, jobSet: string, work: string): Promise<Json> {
  const task = template(wf, 'pipeline').dag.tasks.find((t: Json) => t.name === 'train');
  expect(task.arguments.parameters).toEqual([{ name: 'jobset', value: '{{tasks.train-jobset.outputs.parameters.jobset}}' }]);
  const out = path.join(work, `${jobSet}.executor-output.json`);
  const [mlp, ...args] = (template(wf, 'train').container.command as string[]).map((a) =>
    a.replace(/\{\{workflow\.uid\}\}/g, runId).replace(/\{\{inputs\.parameters\.jobset\}\}/g, jobSet).replace('/tmp/mlp/executor-output.json', out),
  );
  expect(mlp).toBe('mlp');
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`read-back exited with ${r.code}: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

const text = async (uri: string): Promise<string> => (await storageFor(uri).readFile(uri)).toString('utf8');
const committed = async (uri: string): Promise<boolean> => storageFor(uri).exists(`${uri}/${COMMIT_MARKER}`);

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-jobset-retry-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the resource step outputs the JobSet it created; the read-back step reads that attempt\'s ExecutorOutput', () => {
  const wf = compileArgo(compilePlan(retryPipeline(), 'argo'), BASE) as Json;
  const step = template(wf, 'train-jobset');
  expect(step.retryStrategy.limit).toBe('2');
  expect(step.outputs).toEqual({ parameters: [{ name: 'jobset', valueFrom: { jsonPath: '{.metadata.name}' } }] });
  expect(template(wf, 'train').inputs).toEqual({ parameters: [{ name: 'jobset' }] });
  expect(template(wf, 'train').container.command).toEqual([
    'mlp', 'component', 'result', '--from', `${ROOT}/retry/train/executor-output/{{workflow.uid}}/{{inputs.parameters.jobset}}.json`, '--out', '/tmp/mlp/executor-output.json',
  ]);
  // Rank 0 writes its outputs and ExecutorOutput under its JobSet's name, which Kubernetes expands in the args.
  const main = parse(step.resource.manifest).spec.replicatedJobs[0].template.spec.template.spec.containers[0];
  const args: string[] = main.args;
  expect(JSON.parse(args[0]).outputs.artifacts.model.artifacts[0].uri).toBe(`${ROOT}/retry/train/model/{{workflow.uid}}/$(MLP_JOBSET_NAME)`);
  expect(args.slice(3, 5)).toEqual(['--executor-output-uri', `${ROOT}/retry/train/executor-output/{{workflow.uid}}/$(MLP_JOBSET_NAME).json`]);
  expect(main.env.map((e: Json) => e.name)).toContain('MLP_JOBSET_NAME');
});

test('without a metadata store: attempt 1 published and then failed, attempt 2 succeeds at its own URIs and the read-back hands on attempt 2', async () => {
  const wf = compileArgo(compilePlan(retryPipeline(), 'argo'), BASE) as Json;
  const runId = 'uid-plain';
  const first = await runRank0(wf, runId, 'mlp-train-aaaaa');
  expect(first.stderr).not.toMatch(/error/);
  expect(first.code).toBe(0);
  const eo1Uri = `${ROOT}/retry/train/executor-output/${runId}/mlp-train-aaaaa.json`;
  const eo1 = await text(eo1Uri);
  // ... then another rank fails: the JobSet fails and Argo retries the step with a new JobSet.
  const second = await runRank0(wf, runId, 'mlp-train-bbbbb');
  expect(second.stderr).not.toMatch(/error/);
  expect(second.code).toBe(0);

  const out = await readBack(wf, runId, 'mlp-train-bbbbb', work);
  const model = `${ROOT}/retry/train/model/${runId}/mlp-train-bbbbb`;
  expect(out.artifacts.model.artifacts[0].uri).toBe(model);
  expect(await committed(model)).toBe(true);
  expect(await text(`${model}/weights`)).toBe('rank 0 of 2');
  // Attempt 1's objects are untouched: no object was written twice.
  expect(await text(eo1Uri)).toBe(eo1);
  expect(await committed(JSON.parse(eo1).artifacts.model.artifacts[0].uri)).toBe(true);

  // Exclusivity holds within an attempt: a second rank 0 of the same JobSet publishes nothing.
  const again = await runRank0(wf, runId, 'mlp-train-bbbbb');
  expect(again.code).not.toBe(0);
  expect(again.stderr).toMatch(/a committed artifact is already there/);
  expect(await readBack(wf, runId, 'mlp-train-bbbbb', work)).toEqual(out);
}, 120_000);

test('with the metadata store: the retry is a cache hit on the outputs attempt 1 committed, recorded CACHED', async () => {
  const wf = compileArgo(compilePlan(retryPipeline(), 'argo'), { ...BASE, ...CLOUD }) as Json;
  const metadata = `sqlite:${path.join(work, 'metadata.sqlite')}`;
  const runId = 'uid-cloud';
  const first = await runRank0(wf, runId, 'mlp-train-ccccc', metadata);
  expect(first.stderr).toMatch(/train: executed/);
  expect(first.code).toBe(0);
  const second = await runRank0(wf, runId, 'mlp-train-ddddd', metadata);
  expect(second.stderr).toMatch(/train: cached/);
  expect(second.code).toBe(0);

  const out = await readBack(wf, runId, 'mlp-train-ddddd', work);
  const model = `${ROOT}/retry/train/model/${runId}/mlp-train-ccccc`;
  expect(out.artifacts.model.artifacts[0].uri).toBe(model);
  expect(await committed(model)).toBe(true);
  expect(await storageFor(`${ROOT}/retry/train/model/${runId}/mlp-train-ddddd`).exists(`${ROOT}/retry/train/model/${runId}/mlp-train-ddddd`)).toBe(false);
  const store = await openMetadataStore(metadata);
  try {
    const runs = await store.getExecutions({ type: 'RetryTrainer' });
    expect(runs.map((e) => [ExecutionState[e.lastKnownState], e.name?.replace(/\d+$/, 'N')])).toEqual([
      ['COMPLETE', `${runId}:train:attempt-N`],
      ['CACHED', `${runId}:train`],
    ]);
  } finally {
    await store.close();
  }
}, 120_000);
