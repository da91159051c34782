// A distributed container step on Argo (issue 19 §3, runtime/compilers/argo-jobset.ts): a resource template
// creating a JobSet queued by Kueue. The JobSet is checked against JobSet's CRD schema (../shared/reference/jobset),
// the whole workflow against Argo's models; GPU workers and TPU slices (v5p 2x2x2, v5e 4x4) get their placement and
// host count; the rank script picks each pod's command line under real sh; what Argo substitutes into the manifest
// (JSON with quotes) leaves it valid YAML; and what the JobSet cannot do is refused in one line.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { compileArgo, type ArgoOptions } from '../../../runtime/compilers/argo';
import { RANK_SCRIPT } from '../../../runtime/compilers/argo-jobset';
import { compilePlan } from '../../../runtime/compilers/common';
import { containerComponent } from '../../../runtime/components/container';
import { Model } from '../../../runtime/core/artifact-types';
import { UserError } from '../../../runtime/core/errors';
import { expectOneLineError, runCli } from '../../support/cli';
import { loadCrdValidators, referenceDir } from '../../support/crd-schema';
import { pipeline as v5p } from './distributed-argo-pipeline';
import { runJobSetPod } from './jobset-pod';
import { argoSubstitute } from './argo-substitution';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';
import { DdpTrainer, Exporter, JaxOnTpu } from './distributed-pipeline';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLOUD: Partial<ArgoOptions> = { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' };
const BASE: ArgoOptions = { image: 'us-docker.pkg.dev/p/r/mlp:1', pipelineRoot: 'gs://b/root', serviceAccount: 'pipelines' };
const validateJobSet = loadCrdValidators(referenceDir('jobset')).get('jobset.x-k8s.io/v1alpha2/JobSet')!;

const NoteTrainer = containerComponent({
  name: 'NoteTrainer',
  image: 'us-docker.pkg.dev/p/r/ddp:2',
  command: ['python', '/app/train.py', '--note', "{{$.inputs.parameters['note']}}", '--model', "{{$.outputs.artifacts['model'].path}}"],
  parameters: z.object({ note: z.string() }),
  outputs: { model: { type: Model } },
  distribution: { workers: 2 },
});

function gpuAndTpu(): Pipeline {
  const p = new Pipeline({ name: 'dist', parameters: z.object({ epochs: z.number().int().default(2), note: z.string().default('x') }) });
  const train = p.add('train', DdpTrainer, { parameters: { epochs: p.param('epochs') }, resources: { cpu: '8', memory: '32Gi', accelerator: { type: 'nvidia-l4', count: 1 } } });
  p.add('tpu-train', JaxOnTpu).after(train);
  p.add('note-train', NoteTrainer, { parameters: { note: p.param('note') } });
  return p;
}


const template = (wf: Json, name: string): Json => wf.spec.templates.find((t: Json) => t.name === name);
/** The JobSet of a node: its `<node>-jobset` step's manifest. */
const jobSet = (wf: Json, name: string): Json => parse(template(wf, `${name}-jobset`).resource.manifest);
const job = (js: Json): Json => js.spec.replicatedJobs[0].template.spec;
const pod = (js: Json): Json => job(js).template.spec;
/** What validate-argo.mjs finds wrong in a workflow, per document ([null] when it passes Argo's models). */
function argoModelErrors(wf: Json): unknown {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-jobset-argo-'));
  try {
    const file = path.join(dir, 'wf.json');
    fs.writeFileSync(file, JSON.stringify(wf));
    return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'validate-argo.mjs'), file], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const envOf = (js: Json): Record<string, Json> => Object.fromEntries(pod(js).containers[0].env.map((e: Json) => [e.name, e]));

describe('a distributed container step on Argo: a JobSet queued by Kueue', () => {
  const wf = compileArgo(compilePlan(gpuAndTpu(), 'argo'), { ...BASE, ...CLOUD }) as Json;

  test('a resource template creates the JobSet, owned by the workflow, done at its terminal state', () => {
    const t = template(wf, 'train-jobset');
    expect(t.container).toBeUndefined();
    expect(t.resource).toMatchObject({
      action: 'create',
      setOwnerReference: true,
      successCondition: 'status.terminalState == Completed',
      failureCondition: 'status.terminalState == Failed',
    });
    const js = jobSet(wf, 'train');
    expect(js.apiVersion).toBe('jobset.x-k8s.io/v1alpha2');
    expect(js.kind).toBe('JobSet');
    expect(js.metadata.labels['kueue.x-k8s.io/queue-name']).toBe('training');
    // A dependent by order only still waits for the step (its task, the read-back after the JobSet).
    expect(wf.spec.templates[0].dag.tasks.find((d: Json) => d.name === 'tpu-train-jobset').depends).toBe('train');
  });

  test('every JobSet validates against JobSet CRD schema', () => {
    for (const name of ['train', 'tpu-train', 'note-train']) {
      const ok = validateJobSet(jobSet(wf, name));
      expect({ name, errors: ok ? null : validateJobSet.errors }).toEqual({ name, errors: null });
    }
    expect(validateJobSet(jobSet(compileArgo(compilePlan(v5p(), 'argo'), BASE) as Json, 'slice'))).toBe(true);
  });

  test('the queue name is a compile option', () => {
    const other = compileArgo(compilePlan(gpuAndTpu(), 'argo'), { ...BASE, trainingQueue: 'research' }) as Json;
    expect(jobSet(other, 'train').metadata.labels['kueue.x-k8s.io/queue-name']).toBe('research');
  });

  test('GPU workers: one Indexed Job of N pods with DNS hostnames, the GPU, its toleration and the rank environment', () => {
    const js = jobSet(wf, 'train');
    expect(js.spec.network).toEqual({ enableDNSHostnames: true, publishNotReadyAddresses: true });
    expect(js.spec.replicatedJobs).toHaveLength(1);
    expect(js.spec.replicatedJobs[0]).toMatchObject({ name: 'rank', replicas: 1 });
    expect(job(js)).toMatchObject({ parallelism: 3, completions: 3, completionMode: 'Indexed', backoffLimit: 0, successPolicy: { rules: [{ succeededIndexes: '0' }] } });
    const spec = pod(js);
    expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.serviceAccountName).toBe('pipelines');
    const main = spec.containers[0];
    expect(main.image).toBe(DdpTrainer.container.image);
    expect(main.resources).toEqual({ requests: { cpu: '8', memory: '32Gi' }, limits: { memory: '32Gi', 'nvidia.com/gpu': '1' } });
    const env = envOf(js);
    const index = { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } };
    expect(env.RANK.valueFrom).toEqual(index);
    expect(env.NODE_RANK.valueFrom).toEqual(index);
    expect(env.JAX_PROCESS_ID.valueFrom).toEqual(index);
    expect(env.MLP_JOBSET_NAME.valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.labels['jobset.sigs.k8s.io/jobset-name']" } });
    expect(env.WORLD_SIZE.value).toBe('3');
    expect(env.JAX_NUM_PROCESSES.value).toBe('3');
    expect(env.LOCAL_RANK.value).toBe('0');
    expect(env.MASTER_ADDR.value).toBe('$(MLP_JOBSET_NAME)-rank-0-0.$(MLP_JOBSET_NAME)');
    expect(env.MASTER_PORT.value).toBe('29500');
    expect(env.JAX_COORDINATOR_ADDRESS.value).toBe('$(MASTER_ADDR):8476');
    // $(VAR) expands only variables defined earlier in the list.
    const names = main.env.map((e: Json) => e.name);
    expect(names.indexOf('MLP_JOBSET_NAME')).toBeLessThan(names.indexOf('MASTER_ADDR'));
    expect(names.indexOf('MASTER_ADDR')).toBeLessThan(names.indexOf('JAX_COORDINATOR_ADDRESS'));
    expect(env.NCCL_DEBUG.value).toBe('WARN');
    // The metadata store: rank 0's cloud step reaches it through the proxy, a native sidecar.
    expect(spec.initContainers.map((c: Json) => [c.name, c.restartPolicy])).toEqual([['mlp-runtime', undefined], ['cloud-sql-proxy', 'Always']]);
    expect(env.MLP_METADATA.value).toBe('postgres://runner%40p.iam@127.0.0.1:5432/mlmd');
  });

  test('a TPU v5e 4x4 slice: 4 hosts, the slice node selectors, 4 chips per host, one node pool', () => {
    const js = jobSet(wf, 'tpu-train');
    expect(job(js)).toMatchObject({ parallelism: 4, completions: 4 });
    const spec = pod(js);
    expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '4x4' });
    expect(spec.tolerations).toEqual([{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.containers[0].resources).toEqual({ requests: { 'google.com/tpu': '4' }, limits: { 'google.com/tpu': '4' } });
    expect(js.metadata.annotations).toEqual({ 'alpha.jobset.sigs.k8s.io/exclusive-topology': 'cloud.google.com/gke-nodepool' });
    expect(envOf(js).WORLD_SIZE.value).toBe('4');
  });

  test('a TPU v5p 2x2x2 slice: 2 hosts of 4 chips', () => {
    const js = jobSet(compileArgo(compilePlan(v5p(), 'argo'), BASE) as Json, 'slice');
    expect(job(js)).toMatchObject({ parallelism: 2, completions: 2 });
    expect(pod(js).nodeSelector).toEqual({ 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5p-slice', 'cloud.google.com/gke-tpu-topology': '2x2x2' });
    expect(pod(js).containers[0].resources.limits).toEqual({ 'google.com/tpu': '4' });
    expect(pod(js).initContainers.map((c: Json) => c.name)).toEqual(['mlp-runtime']);
    // Without a metadata store: no proxy, and rank 0's only extra arguments are where it creates its ExecutorOutput.
    const args: string[] = pod(js).containers[0].args;
    expect(args.slice(2, 5)).toEqual(['2', '--executor-output-uri', `gs://b/root/${js.metadata.labels['mlp/pipeline']}/slice/executor-output/{{workflow.uid}}/$(MLP_JOBSET_NAME).json`]);
  });

  test('the compiled workflow still passes the Argo Workflows models', () => {
    expect(argoModelErrors(wf)).toEqual([null]);
  });

  test('what Argo substitutes into the manifest (JSON with quotes and backslashes) leaves it valid: the ExecutorInputs are literal blocks', () => {
    const text: string = template(wf, 'note-train-jobset').resource.manifest;
    const note = 'say "hi" \\ bye: {x}';
    // As Argo would: the string parameter through toJson, the run id, nothing else templated in this step.
    const substituted = argoSubstitute(text, { 'workflow.parameters.note': note, 'workflow.uid': 'uid-1' });
    const js = parse(substituted);
    // The kubelet's expansion: every $ Argo wrote is doubled; the JobSet's name is the one reference.
    const [input0, other, cloudCount] = pod(js).containers[0].args.map((a: string) => expand(a, mappingFuncFor({ MLP_JOBSET_NAME: 'js-1' })));
    const rank0 = JSON.parse(input0);
    const rankOther = JSON.parse(other);
    expect(rank0.inputs.parameterValues.note).toBe(note);
    expect(rankOther.inputs.parameterValues.note).toBe(note);
    // Rank 0 writes the node's outputs under the pipeline root, in its attempt's folder; the others under the pod's scratch root.
    expect(rank0.outputs.artifacts.model.artifacts[0].uri).toBe('gs://b/root/dist/note-train/model/uid-1/js-1');
    expect(rankOther.outputs.artifacts.model.artifacts[0].uri).toMatch(/^\/tmp\/mlp-rank-scratch\//);
    expect(Number(cloudCount)).toBeGreaterThan(0);
  });

  test('the rank script runs worker 0 with the cloud step arguments and ExecutorInput, the others with the scratch one (real sh)', () => {
    const runAs = (rank: string) =>
      execFileSync('sh', ['-c', RANK_SCRIPT, 'mlp-rank', '{"in":0}', '{"in":"other"}', '2', '--node', 'a b', 'printf', '[%s]', 'component', 'run'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_RANK: rank },
      });
    expect(runAs('0')).toBe('[component][run][--node][a b][--executor-input][{"in":0}]');
    expect(runAs('2')).toBe('[component][run][--executor-input][{"in":"other"}]');
  });

  test('the pods run the wrapper with a step spec without distribution (one process per pod)', () => {
    const args: string[] = pod(jobSet(wf, 'train')).containers[0].args;
    const specArg = args[args.indexOf('--container-spec') + 1];
    const spec = JSON.parse(Buffer.from(specArg.replace(/^base64:/, ''), 'base64').toString('utf8'));
    expect(spec.image).toBe(DdpTrainer.container.image);
    expect(spec).not.toHaveProperty('distribution');
    expect(spec).not.toHaveProperty('tpu');
    expect(args).toContain('/mlp/app/runtime/cli/mlp.js');
  });
});

describe("a dependent reads a distributed step's outputs: rank 0 creates its ExecutorOutput, a read-back step hands it on", () => {
  const readerPipeline = () => {
    const p = new Pipeline({ name: 'reader', parameters: z.object({ epochs: z.number().int().default(1) }) });
    const train = p.add('train', DdpTrainer, { parameters: { epochs: p.param('epochs') } });
    p.add('export', Exporter, { inputs: { model: train.outputs.model } });
    return p;
  };
  const wf = compileArgo(compilePlan(readerPipeline(), 'argo'), { ...BASE, ...CLOUD }) as Json;
  const uri = 'gs://b/root/reader/train/executor-output/{{workflow.uid}}/{{inputs.parameters.jobset}}.json';

  test('the DAG: train-jobset creates the JobSet, train reads its ExecutorOutput back, export wires to train as to any step', () => {
    const tasks: Json[] = wf.spec.templates[0].dag.tasks;
    expect(tasks.map((t) => [t.name, t.template, t.depends])).toEqual([
      ['train-jobset', 'train-jobset', undefined],
      ['train', 'train', 'train-jobset'],
      ['export', 'export', 'train'],
    ]);
    expect(tasks[2].arguments.parameters).toEqual([{ name: 'train-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['train'].outputs.parameters['executor-output'])}}" }]);
    const readBack = template(wf, 'train');
    expect(readBack.container.image).toBe(BASE.image);
    expect(readBack.container.command).toEqual(['mlp', 'component', 'result', '--from', uri, '--out', '/tmp/mlp/executor-output.json']);
    expect(readBack.outputs.parameters).toEqual([{ name: 'executor-output', valueFrom: { path: '/tmp/mlp/executor-output.json' } }]);
    // Rank 0's step (after its cloud step arguments) creates the ExecutorOutput the read-back step reads.
    const args: string[] = pod(jobSet(wf, 'train')).containers[0].args;
    const n = Number(args[2]);
    expect(args.slice(3, 3 + n).slice(-2)).toEqual(['--executor-output-uri', uri.replace('{{inputs.parameters.jobset}}', '$(MLP_JOBSET_NAME)')]);
  });

  test('the workflow validates against the Argo Workflows models and the JobSet against its CRD', () => {
    expect(validateJobSet(jobSet(wf, 'train'))).toBe(true);
    expect(argoModelErrors(wf)).toEqual([null]);
  });

  test("a conditional distributed step's read-back step has its condition too (depends alone would run it after a skip)", () => {
    const p = new Pipeline({ name: 'cond', parameters: z.object({ go: z.boolean().default(true), epochs: z.number().int().default(1) }) });
    p.add('train', DdpTrainer, { parameters: { epochs: p.param('epochs') }, condition: when(p.param('go'), '==', true) });
    const tasks: Json[] = (compileArgo(compilePlan(p, 'argo'), BASE) as Json).spec.templates[0].dag.tasks;
    expect(tasks.map((t) => t.when)).toEqual(['{{workflow.parameters.go}} == true', '{{workflow.parameters.go}} == true']);
  });
});

describe('what a JobSet step cannot do is refused in one line', () => {
  const compile = (p: Pipeline) => () => compileArgo(compilePlan(p, 'argo'), BASE);
  const refusal = (p: Pipeline, pattern: RegExp) => {
    expect(compile(p)).toThrow(UserError);
    expect(compile(p)).toThrow(pattern);
  };

  test('another node named as the JobSet step', () => {
    const p = new Pipeline({ name: 'names', parameters: z.object({ epochs: z.number().int().default(1) }) });
    const train = p.add('train', DdpTrainer, { parameters: { epochs: p.param('epochs') } });
    p.add('train-jobset', Exporter, { inputs: { model: train.outputs.model } });
    refusal(p, /^node train: node train-jobset has the name of distributed step train's JobSet step on Argo; rename one of them$/);
  });

  test('GPUs per worker that its processes cannot share evenly', () => {
    const C = containerComponent({ name: 'TwoPerPod', image: 'i:1', command: ['python'], distribution: { workers: 2, processesPerWorker: 2 } });
    const p = new Pipeline({ name: 'ppw' });
    p.add('t', C, { resources: { accelerator: { type: 'nvidia-l4', count: 3 } } });
    refusal(p, /^node t: resources.accelerator asks for 3 × nvidia-l4 per worker, which its 2 processes \(distribution.processesPerWorker\) cannot share evenly; resources are per worker, so give a multiple of 2 GPUs$/);
  });

  test('a component env naming a rank variable', () => {
    const C = containerComponent({ name: 'SetsRank', image: 'i:1', command: ['python'], env: { MASTER_PORT: '1' }, distribution: { workers: 2 } });
    const p = new Pipeline({ name: 'clash' });
    p.add('t', C);
    refusal(p, /^node t: container component SetsRank sets env MASTER_PORT, which a distributed step's pods get from the JobSet$/);
  });

  test('a queue name that is not a LocalQueue name', () => {
    expect(() => compileArgo(compilePlan(v5p(), 'argo'), { ...BASE, trainingQueue: 'Team Queue' })).toThrow(
      new UserError(`--training-queue "Team Queue" is not a Kueue LocalQueue name (lowercase letters, digits and '-', at most 63)`),
    );
  });

  test('mlp compile --training-queue reaches the label; it is an argo flag only', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-jobset-cli-')), 'wf.json');
    try {
      const mod = path.join(__dirname, 'distributed-argo-pipeline.ts');
      const ok = await runCli(['compile', mod, '--target', 'argo', '--image', 'i:1', '--pipeline-root', 'gs://b', '--training-queue', 'research', '--out', out]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      const wf = JSON.parse(fs.readFileSync(out, 'utf8'));
      expect(jobSet(wf, 'slice').metadata.labels['kueue.x-k8s.io/queue-name']).toBe('research');
      expectOneLineError(await runCli(['compile', mod, '--target', 'airflow', '--image', 'i:1', '--pipeline-root', 'gs://b', '--training-queue', 'q']), /--training-queue does not apply to --target airflow/);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });

  test('a TPU slice with resources.tpu as well', () => {
    const p = new Pipeline({ name: 'twice' });
    p.add('t', JaxOnTpu, { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } } });
    refusal(p, /^node t: a TPU slice step \(tpu v5e 4x4\) takes its TPUs from the slice/);
  });
});

describe('2 workers × 2 processes on Argo: each pod starts its 2 ranks through the launcher', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-jobset-ppw-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync('/tmp/mlp-rank-scratch/ppw-argo', { recursive: true, force: true });
  });
  const ENV_NAMES = ['WORLD_SIZE', 'RANK', 'NODE_RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'JAX_COORDINATOR_ADDRESS', 'JAX_PROCESS_ID', 'JAX_NUM_PROCESSES', 'JOB_COMPLETION_INDEX'];
  // A tiny Node script: writes its model output and its contract variables to <dir>/env-<RANK>.json.
  const PRINT_ENV = `const fs = require('fs'); const [dir, model] = process.argv.slice(1);
fs.mkdirSync(model, { recursive: true }); fs.writeFileSync(model + '/weights', process.env.RANK);
fs.writeFileSync(dir + '/env-' + process.env.RANK + '.json', JSON.stringify(Object.fromEntries(${JSON.stringify(ENV_NAMES)}.map((n) => [n, process.env[n]]))));`;
  const pipeline = () => {
    const Ppw = containerComponent({
      name: 'PpwArgo',
      image: 'us-docker.pkg.dev/p/r/ddp:5',
      command: [process.execPath, '-e', PRINT_ENV, dir, "{{$.outputs.artifacts['model'].path}}"],
      outputs: { model: { type: Model } },
      distribution: { workers: 2, processesPerWorker: 2 },
    });
    const p = new Pipeline({ name: 'ppw-argo' });
    p.add('train', Ppw, { resources: { cpu: '8', accelerator: { type: 'nvidia-l4', count: 2 } } });
    return p;
  };
  const wf = () => compileArgo(compilePlan(pipeline(), 'argo'), BASE) as Json;

  test('the JobSet: 2 pods with both GPUs each (resources are per worker), the pod-level contract, the launcher told it is one worker; valid for JobSet and Argo', () => {
    const w = wf();
    const js = jobSet(w, 'train');
    expect(validateJobSet(js)).toBe(true);
    expect(argoModelErrors(w)).toEqual([null]);
    expect(job(js)).toMatchObject({ parallelism: 2, completions: 2 });
    const main = pod(js).containers[0];
    expect(main.resources).toEqual({ requests: { cpu: '8' }, limits: { 'nvidia.com/gpu': '2' } });
    const env = envOf(js);
    expect(env.MLP_CLUSTER_WORKER.value).toBe('1');
    expect(env.WORLD_SIZE.value).toBe('4');
    expect(env.LOCAL_WORLD_SIZE.value).toBe('2');
    expect(env.JAX_NUM_PROCESSES.value).toBe('4');
    expect(env.NODE_RANK.valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } });
    // Per process, so the launcher's: not set on the pod.
    for (const name of ['RANK', 'LOCAL_RANK', 'JAX_PROCESS_ID']) expect(env[name]).toBeUndefined();
    // The step spec keeps the distribution, so the wrapper's launcher starts the ranks.
    const args: string[] = main.args;
    const spec = JSON.parse(Buffer.from(args[args.indexOf('--container-spec') + 1].replace(/^base64:/, ''), 'base64').toString('utf8'));
    expect(spec.distribution).toEqual({ workers: 2, processesPerWorker: 2 });
  });

  test('the pod of worker 1 (NODE_RANK 1 of 2) starts ranks 2 and 3 with LOCAL_RANK 0 and 1 and rank 0\'s pod as coordinator (the wrapper and launcher as compiled)', async () => {
    const r = await runJobSetPod(wf(), 'train', { runId: 'uid-ppw', jobSet: 'mlp-train-ppw01', index: 1 });
    expect(r.stderr).toMatch(/ranks 2–3 of 4 \(worker 1 of 2\)/);
    expect(r.code).toBe(0);
    const envOfRank = (rank: number) => JSON.parse(fs.readFileSync(path.join(dir, `env-${rank}.json`), 'utf8'));
    const same = {
      WORLD_SIZE: '4', NODE_RANK: '1', LOCAL_WORLD_SIZE: '2', JAX_NUM_PROCESSES: '4', JOB_COMPLETION_INDEX: '1',
      MASTER_ADDR: 'mlp-train-ppw01-rank-0-0.mlp-train-ppw01', MASTER_PORT: '29500', JAX_COORDINATOR_ADDRESS: 'mlp-train-ppw01-rank-0-0.mlp-train-ppw01:8476',
    };
    expect(envOfRank(2)).toEqual({ ...same, RANK: '2', LOCAL_RANK: '0', JAX_PROCESS_ID: '2' });
    expect(envOfRank(3)).toEqual({ ...same, RANK: '3', LOCAL_RANK: '1', JAX_PROCESS_ID: '3' });
    expect(fs.readdirSync(dir).sort()).toEqual(['env-2.json', 'env-3.json']);
  }, 120_000);

  test('the pod of worker 0 starts ranks 0 and 1; rank 0\'s output is the step\'s, published with its ExecutorOutput, rank 1\'s goes to scratch', async () => {
    const root = path.join(dir, 'root');
    const local = compileArgo(compilePlan(pipeline(), 'argo'), { ...BASE, pipelineRoot: root }) as Json;
    const r = await runJobSetPod(local, 'train', { runId: 'uid-ppw0', jobSet: 'mlp-train-ppw00', index: 0 });
    expect(r.stderr).toMatch(/ranks 0–1 of 4 \(worker 0 of 2\)/);
    expect(r.code).toBe(0);
    expect(['0', '1'].map((rank) => JSON.parse(fs.readFileSync(path.join(dir, `env-${rank}.json`), 'utf8'))).map((e) => [e.RANK, e.LOCAL_RANK, e.NODE_RANK])).toEqual([['0', '0', '0'], ['1', '1', '0']]);
    const model = path.join(root, 'ppw-argo', 'train', 'model', 'uid-ppw0', 'mlp-train-ppw00');
    expect(fs.readFileSync(path.join(model, 'weights'), 'utf8')).toBe('0');
    const eo = JSON.parse(fs.readFileSync(path.join(root, 'ppw-argo', 'train', 'executor-output', 'uid-ppw0', 'mlp-train-ppw00.json'), 'utf8'));
    expect(eo.artifacts.model.artifacts[0].uri).toBe(model);
  }, 120_000);
});
