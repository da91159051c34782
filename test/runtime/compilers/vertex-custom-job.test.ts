// Distributed container steps on Vertex AI (issue 19 §4) and Composer (§5).
//
// The request body is checked against the aiplatform v1 messages as @google-cloud/aiplatform ships them
// (build/protos/protos.json, compiled from googleapis' google/cloud/aiplatform/v1/custom_job.proto and
// machine_resources.proto): every key must be a field of its message (protobufjs' fromObject would drop an
// unknown one silently), enums must name a value, scalars must have their type. The fields relied on:
// CustomJob.display_name, .job_spec; CustomJobSpec.worker_pool_specs, .service_account, .network;
// WorkerPoolSpec.machine_spec, .replica_count, .container_spec; MachineSpec.machine_type, .accelerator_type
// (enum AcceleratorType), .accelerator_count, .tpu_topology; ContainerSpec.image_uri, .command, .args, .env;
// EnvVar.name, .value.
//
// The live Vertex AI call cannot run here (no network, no credentials): the launcher's create → wait → publish is
// exercised against a local fake JobService that runs each replica's container spec (the real rank prelude and
// command line under sh, with a CLUSTER_SPEC as Vertex AI sets it) as local processes.

import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { Command } from 'commander';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { registerSubmitCommand } from '../../../runtime/cli/commands/submit';
import { registerVertexCustomJobCommand } from '../../../runtime/cli/commands/vertex-custom-job';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileKfp } from '../../../runtime/compilers/kfp';
import { RANK_PRELUDE, TPU_PRELUDE } from '../../../runtime/compilers/vertex-custom-job';
import { containerComponent } from '../../../runtime/components/container';
import { Model } from '../../../runtime/core/artifact-types';
import { UserError } from '../../../runtime/core/errors';
import type { ExecutorInput } from '../../../runtime/core/executor-io';
import { runCustomJobStep, type CustomJobClient } from '../../../runtime/runner/vertex-custom-job-launcher';
import { storageFor } from '../../../runtime/storage';
import { distributedPipeline, DdpTrainer } from './distributed-pipeline';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = protobuf.Root.fromJSON(require('@google-cloud/aiplatform/build/protos/protos.json'));
const CustomJob = root.lookupType('google.cloud.aiplatform.v1.CustomJob');

/** Every key of `value` that is not a field of `type` (recursively), or whose value does not fit the field. */
function fieldProblems(type: protobuf.Type, value: Json, where: string): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    if (!field) {
      out.push(`${where}.${key}: ${type.fullName} has no field ${key}`);
      continue;
    }
    field.resolve();
    if (field.repeated && !Array.isArray(v)) {
      out.push(`${where}.${key}: repeated field, got ${JSON.stringify(v)}`);
      continue;
    }
    const items: unknown[] = field.repeated ? (v as unknown[]) : [v];
    items.forEach((item, i) => {
      const at = field.repeated ? `${where}.${key}[${i}]` : `${where}.${key}`;
      const t = field.resolvedType;
      if (t instanceof protobuf.Type) {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) out.push(`${at}: ${t.fullName} needs an object`);
        else out.push(...fieldProblems(t, item as Json, at));
      } else if (t instanceof protobuf.Enum) {
        if (typeof item !== 'string' || !(item in t.values)) out.push(`${at}: ${JSON.stringify(item)} is not a value of ${t.fullName}`);
      } else if (field.type === 'string' && typeof item !== 'string') out.push(`${at}: string field, got ${JSON.stringify(item)}`);
      else if (/^u?int(32|64)$/.test(field.type) && !Number.isInteger(Number(item))) out.push(`${at}: ${field.type} field, got ${JSON.stringify(item)}`);
      else if (field.type === 'bool' && typeof item !== 'boolean') out.push(`${at}: bool field, got ${JSON.stringify(item)}`);
    });
  }
  return out;
}

async function submit(...args: string[]): Promise<{ stdout: string; error?: Error }> {
  let stdout = '';
  const program = new Command('mlp').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
  registerSubmitCommand(program, { stdout: { write: (t: string) => (stdout += t) } });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
  try {
    await program.parseAsync(['node', 'mlp', 'submit', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error: error as Error };
  }
}

const MODULE = path.join(__dirname, 'distributed-pipeline.ts');
const SUBMIT = ['--target', 'vertex', '--project', 'my-project', '--region', 'us-central1', '--image', 'img:1', '--pipeline-root', 'gs://b/root', '--dry-run'];
const SA = 'trainer@my-project.iam.gserviceaccount.com';
const NETWORK = 'projects/123/global/networks/mlp';

/** The launcher step of node `id` in a PipelineJob body, and the CustomJob request body in its arguments. */
function launcher(body: Json, id: string): { container: Json; payload: Json; commandLine: string[] } {
  const container = body.pipelineSpec.deploymentSpec.executors[`exec-${id}`].container;
  const args: string[] = container.args;
  return { container, payload: JSON.parse(args[args.indexOf('--payload') + 1]), commandLine: args.slice(args.indexOf('--') + 1) };
}

describe('a distributed step on Vertex AI is a CustomJob (mlp submit --dry-run prints it)', () => {
  let body: Json;
  beforeAll(async () => {
    const { stdout, error } = await submit(MODULE, ...SUBMIT, '--service-account', SA, '--network', NETWORK);
    expect(error).toBeUndefined();
    body = JSON.parse(stdout).body;
  });

  test('the field check finds unknown fields and wrong enum values (fromObject alone would not)', () => {
    expect(fieldProblems(CustomJob, { jobSpec: { workerPools: [] } }, 'job')).toEqual(['job.jobSpec.workerPools: .google.cloud.aiplatform.v1.CustomJobSpec has no field workerPools']);
    expect(fieldProblems(CustomJob, { jobSpec: { workerPoolSpecs: [{ machineSpec: { acceleratorType: 'NVIDIA_L5' } }] } }, 'job')).toEqual([
      'job.jobSpec.workerPoolSpecs[0].machineSpec.acceleratorType: "NVIDIA_L5" is not a value of .google.cloud.aiplatform.v1.AcceleratorType',
    ]);
    expect(() => CustomJob.fromObject({ jobSpec: { workerPools: [] } })).not.toThrow();
  });

  test('3 workers with an L4 each: pool 0 the chief (1 replica), pool 1 two workers; image, prelude, env; the pipeline job\'s service account and network', () => {
    const { container, payload, commandLine } = launcher(body, 'train');
    expect(fieldProblems(CustomJob, payload, 'CustomJob')).toEqual([]);
    // The message protobufjs builds from it (as the client sends it) holds the same body: nothing dropped or converted.
    expect(CustomJob.toObject(CustomJob.fromObject(payload), { enums: String, longs: Number })).toEqual(payload);
    const machineSpec = { machineType: 'g2-standard-8', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 };
    const containerSpec = {
      imageUri: DdpTrainer.container.image,
      command: ['sh', '-c', RANK_PRELUDE, 'mlp-rank'],
      env: [
        { name: 'NCCL_DEBUG', value: 'WARN' },
        { name: 'WORLD_SIZE', value: '3' },
        { name: 'LOCAL_WORLD_SIZE', value: '1' },
        { name: 'JAX_NUM_PROCESSES', value: '3' },
        { name: 'MASTER_PORT', value: '29500' },
        { name: 'MLP_JAX_PORT', value: '8476' },
      ],
    };
    expect(payload).toEqual({
      displayName: 'distributed-train',
      jobSpec: {
        workerPoolSpecs: [{ machineSpec, replicaCount: 1, containerSpec }, { machineSpec, replicaCount: 2, containerSpec }],
        serviceAccount: SA,
        network: NETWORK,
      },
    });
    // The launcher runs in the runtime image; the component's command line follows `--` for KFP to resolve.
    expect(container.image).toBe('img:1');
    expect(container.command).toEqual(['mlp', 'vertex-custom-job']);
    expect(container.args.slice(0, 6)).toEqual(['--project', "{{$.inputs.parameters['mlp_project']}}", '--location', "{{$.inputs.parameters['mlp_location']}}", '--executor-input', '{{$}}']);
    expect(commandLine).toEqual([...DdpTrainer.container.command, ...(DdpTrainer.container.args as string[])]);
    expect(container.resources).toBeUndefined();
    const task = body.pipelineSpec.root.dag.tasks['exit-handler-1'] && body.pipelineSpec.components['comp-exit-handler-1'].dag.tasks.train;
    expect(task.inputs.parameters).toMatchObject({ mlp_project: { runtimeValue: { constant: '{{$.pipeline_google_cloud_project_id}}' } }, mlp_location: { runtimeValue: { constant: '{{$.pipeline_google_cloud_location}}' } } });
    expect(body.pipelineSpec.components['comp-train'].inputDefinitions.parameters).toMatchObject({ mlp_project: { parameterType: 'STRING' }, mlp_location: { parameterType: 'STRING' }, epochs: { parameterType: 'NUMBER_INTEGER' } });
  });

  test('a TPU v5e 4x4 slice: one replica of ct5lp-hightpu-4t with tpuTopology 4x4 (Vertex AI provisions its 4 hosts), the command line as is', () => {
    const { payload } = launcher(body, 'tpu-train');
    expect(fieldProblems(CustomJob, payload, 'CustomJob')).toEqual([]);
    expect(payload.jobSpec.workerPoolSpecs).toHaveLength(1);
    expect(payload.jobSpec.workerPoolSpecs[0]).toMatchObject({ machineSpec: { machineType: 'ct5lp-hightpu-4t', tpuTopology: '4x4' }, replicaCount: 1 });
    // Its 4 hosts are one replica to Vertex AI: no rank prelude (CLUSTER_SPEC cannot tell them apart), JAX finds them.
    expect(payload.jobSpec.workerPoolSpecs[0].containerSpec).toEqual({ imageUri: 'us-docker.pkg.dev/p/r/jax:1', command: ['sh', '-c', TPU_PRELUDE, 'mlp-rank'] });
    // Every host runs the chief's (rank 0's) command line as is (real sh).
    const r = spawnSync('sh', ['-c', TPU_PRELUDE, 'mlp-rank', '3', 'echo', 'rank0', 'a b', 'echo', 'other'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.stdout).toBe('rank0 a b\n');
  });

  test('a step reading the distributed step\'s output (published with the commit marker) compiles', () => {
    expect(body.pipelineSpec.components['comp-exit-handler-1'].dag.tasks.export.inputs.artifacts.model).toEqual({ taskOutputArtifact: { producerTask: 'train', outputArtifactKey: 'model' } });
  });

  let defined = 0;
  const one = (props: Record<string, unknown>, resources?: Json) => {
    const p = new Pipeline({ name: 'one' });
    p.add('ddp', containerComponent({ name: `Ddp${++defined}`, image: 'i:1', command: ['python', 't.py'], outputs: { model: { type: Model } }, ...props }), resources ? { resources } : {});
    return () => compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' });
  };
  test.each<[string, () => unknown, string]>([
    ['2 processes per worker sharing 1 GPU', one({ distribution: { workers: 2, processesPerWorker: 2 } }, { accelerator: { type: 'nvidia-l4', count: 1 } }), 'node ddp: resources.accelerator asks for 1 × nvidia-l4 per worker, which its 2 processes (distribution.processesPerWorker) cannot share evenly; resources are per worker, so give a multiple of 2 GPUs'],
    ['no cpu, GPU or TPU', one({ distribution: { workers: 2 } }), 'node ddp: a distributed step on Vertex AI needs resources.cpu (or a GPU or TPU slice) to choose its machine type'],
    ['3 L4s', one({ distribution: { workers: 2 } }, { accelerator: { type: 'nvidia-l4', count: 3 } }), 'node ddp: Vertex AI has no machine with 3 × nvidia-l4 (counts: 1, 2, 4, 8)'],
    ['more vCPUs than the GPU machines', one({ distribution: { workers: 2 } }, { cpu: '48', accelerator: { type: 'nvidia-l4', count: 1 } }), 'node ddp: cpu 48 is more than the 32 vCPUs of g2-standard-32, the largest machine of 1 × nvidia-l4'],
    ['env naming the contract', one({ distribution: { workers: 2 }, env: { RANK: '0' } }, { cpu: '4' }), 'node ddp: container component Ddp5 sets env RANK, which a distributed step\'s replicas get from the launcher'],
  ])('refuses %s in one line', (_name, compile, message) => {
    expect(compile).toThrow(new UserError(message));
  });

  test('a GPU step with more cpu than the default machine gets the smallest of its GPU count with enough vCPUs', () => {
    const spec = one({ distribution: { workers: 2 } }, { cpu: '14', accelerator: { type: 'nvidia-l4', count: 1 } })() as Json;
    const args: string[] = spec.deploymentSpec.executors['exec-ddp'].container.args;
    expect(JSON.parse(args[args.indexOf('--payload') + 1]).jobSpec.workerPoolSpecs[0].machineSpec).toEqual({ machineType: 'g2-standard-16', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 });
  });

  test('a CPU-only step gets the smallest N2 machine with its vCPUs', () => {
    const spec = one({ distribution: { workers: 2 } }, { cpu: '6' })() as Json;
    const args: string[] = spec.deploymentSpec.executors['exec-ddp'].container.args;
    expect(JSON.parse(args[args.indexOf('--payload') + 1]).jobSpec.workerPoolSpecs[1]).toMatchObject({ machineSpec: { machineType: 'n2-standard-8' }, replicaCount: 1 });
  });
});

test('the CLI does not load @google-cloud/aiplatform (gRPC, all of Vertex AI\'s protos) until a launcher step runs', () => {
  const repo = path.join(__dirname, '..', '..', '..');
  const script = "const { buildProgram } = require('./runtime/cli/main'); buildProgram(); const loaded = Object.keys(require.cache); console.log(JSON.stringify([loaded.some((k) => /node_modules[\\/](@google-cloud[\\/]aiplatform|google-gax)[\\/]/.test(k)), loaded.some((k) => k.includes('commands/vertex-custom-job'))]))";
  const r = spawnSync(process.execPath, ['-r', './runtime/core/register-ts.js', '-e', script], { cwd: repo, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual([false, true]);
});

describe('Composer (Airflow) refuses distributed steps', () => {
  test('at compile time, in one line naming the node and the engines that run them', () => {
    expect(() => compileAirflow(compilePlan(distributedPipeline(), 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root' } as never)).toThrow(
      new UserError('node train: container component DdpTrainer is a distributed step (distribution), which the Composer (Airflow) target does not run; compile with --target argo (a JobSet on GKE) or --target kfp (a Vertex AI CustomJob)'),
    );
  });
});

describe('the rank prelude reads CLUSTER_SPEC as Vertex AI sets it (real sh)', () => {
  const echo = ['sh', '-c', 'echo "$RANK $NODE_RANK $LOCAL_RANK $JOB_COMPLETION_INDEX $JAX_PROCESS_ID $MASTER_ADDR $JAX_COORDINATOR_ADDRESS"'];
  // The launcher's arguments: K, rank 0's command line (K arguments), the other ranks'.
  const prelude = (clusterSpec: string | undefined) =>
    spawnSync('sh', ['-c', RANK_PRELUDE, 'mlp-rank', String(echo.length), ...echo, ...echo], {
      env: { PATH: process.env.PATH, MLP_JAX_PORT: '8476', ...(clusterSpec ? { CLUSTER_SPEC: clusterSpec } : {}) },
      encoding: 'utf8',
    });
  const spec = (type: string, index: number) =>
    JSON.stringify({ cluster: { workerpool0: ['cmle-training-workerpool0-abc-0:2222'], workerpool1: ['cmle-training-workerpool1-abc-0:2222', 'cmle-training-workerpool1-abc-1:2222'] }, environment: 'cloud', task: { type, index } });

  test('the chief is rank 0; replica 1 of pool 1 is rank 2; the chief\'s host is the coordinator', () => {
    expect(prelude(spec('workerpool0', 0)).stdout).toBe('0 0 0 0 0 cmle-training-workerpool0-abc-0 cmle-training-workerpool0-abc-0:8476\n');
    expect(prelude(spec('workerpool1', 1)).stdout).toBe('2 2 0 2 2 cmle-training-workerpool0-abc-0 cmle-training-workerpool0-abc-0:8476\n');
    // Key order inside "task" does not matter.
    expect(prelude('{"cluster": {"workerpool0": ["chief-0:2222"]}, "task": {"index": 0, "type": "workerpool1"}}').stdout).toBe('1 1 0 1 1 chief-0 chief-0:8476\n');
  });

  test('without CLUSTER_SPEC it fails saying so', () => {
    const r = prelude(undefined);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mlp: CLUSTER_SPEC is not set: this command line runs as a Vertex AI CustomJob replica\n');
  });
});

/**
 * A local JobService: create() starts every replica of every pool as a local process (its containerSpec's command and
 * args, its env and a CLUSTER_SPEC), get() says RUNNING until all have exited, then SUCCEEDED or FAILED.
 */
function localJobService(opts: { getWaitsForReplicas?: boolean } = {}): CustomJobClient & { requests: Json[]; cancelled: string[] } {
  const jobs = new Map<string, { done: boolean; failure?: string; finished?: Promise<unknown> }>();
  const requests: Json[] = [];
  const cancelled: string[] = [];
  const children = new Map<string, ReturnType<typeof spawn>[]>();
  return {
    requests,
    cancelled,
    async create(parent, job) {
      requests.push({ parent, job });
      const name = `${parent}/customJobs/${requests.length}`;
      const state: { done: boolean; failure?: string; finished?: Promise<unknown> } = { done: false };
      jobs.set(name, state);
      children.set(name, []);
      const pools = (job as Json).jobSpec.workerPoolSpecs as Json[];
      const cluster = Object.fromEntries(pools.map((p, i) => [`workerpool${i}`, Array.from({ length: p.replicaCount }, (_, r) => `127.0.0.1:${2222 + 10 * i + r}`)]));
      const replicas = pools.flatMap((p, i) => Array.from({ length: p.replicaCount }, (_, index) => {
        const { command, args, env } = p.containerSpec;
        const childEnv = { PATH: process.env.PATH!, ...Object.fromEntries(env.map((e: Json) => [e.name, e.value])), CLUSTER_SPEC: JSON.stringify({ cluster, task: { type: `workerpool${i}`, index } }) };
        return new Promise<string | undefined>((resolve) => {
          const child = spawn(command[0], [...command.slice(1), ...args], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
          children.get(name)!.push(child);
          let stderr = '';
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (code) => resolve(code === 0 ? undefined : `workerpool${i} replica ${index} exited ${code}: ${stderr.trim()}`));
        });
      }));
      state.finished = Promise.all(replicas).then((failures) => Object.assign(state, { done: true, failure: failures.find(Boolean) }));
      return { name };
    },
    async get(name) {
      const s = jobs.get(name)!;
      // The CLI polls at the launcher's 20 s: this fake answers once the replicas are done instead.
      if (opts.getWaitsForReplicas) await s.finished;
      if (!s.done) return { state: 'JOB_STATE_RUNNING' };
      return s.failure ? { state: 'JOB_STATE_FAILED', error: { message: s.failure } } : { state: 'JOB_STATE_SUCCEEDED' };
    },
    async cancel(name) {
      cancelled.push(name);
      for (const child of children.get(name)!) child.kill('SIGKILL');
    },
  };
}

describe('the launcher creates the CustomJob, waits, and publishes rank 0\'s outputs (local fake JobService)', () => {
  let dir: string;
  let input: ExecutorInput;
  let payload: Json;
  const SCRATCH = '/tmp/mlp-rank-outputs';
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-vertex-job-'));
    input = {
      inputs: { parameterValues: { epochs: 2 } },
      outputs: { artifacts: { model: { artifacts: [{ uri: path.join(dir, 'root', 'train', 'model', '7') }] } }, parameters: { loss: { outputFile: path.join(dir, 'kfp', 'outputs', 'loss') } } },
    };
    const spec = one3Workers();
    const args: string[] = spec.deploymentSpec.executors['exec-train'].container.args;
    payload = JSON.parse(args[args.indexOf('--payload') + 1]);
  });
  afterEach(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.rm(SCRATCH, { recursive: true, force: true });
  });
  const one3Workers = () => compileKfp(compilePlan(distributedPipeline(), 'kfp'), { image: 'img:1' }) as Json;
  // What KFP resolves the command line to: the output artifact's path (its URI here, a local folder) and the parameter file.
  const commandLine = (script: string) => ['sh', '-c', script, 'train', input.outputs.artifacts!.model.artifacts[0].uri, input.outputs.parameters!.loss.outputFile];
  const WRITE = 'mkdir -p "$1" && echo "rank $RANK of $WORLD_SIZE" > "$1/model.txt" && mkdir -p "$(dirname "$2")" && echo 0.25 > "$2"';

  test('rank 0\'s model is published (commit marker) at the output URI, the loss handed to KFP, staging removed', async () => {
    const client = localJobService();
    const lines: string[] = [];
    const { job } = await runCustomJobStep({ project: 'my-project', location: 'us-central1', executorInput: input, payload, commandLine: commandLine(WRITE), client, pollIntervalMs: 20, log: (l) => lines.push(l) });
    expect(job).toBe('projects/my-project/locations/us-central1/customJobs/1');
    expect(client.requests[0].parent).toBe('projects/my-project/locations/us-central1');
    const uri = input.outputs.artifacts!.model.artifacts[0].uri;
    expect(fs.readFileSync(path.join(uri, 'model.txt'), 'utf8')).toBe('rank 0 of 3\n');
    expect((await storageFor(uri).readCommit(uri))?.files.map((f) => f.path)).toEqual(['model.txt']);
    expect(fs.readFileSync(input.outputs.parameters!.loss.outputFile, 'utf8')).toBe('0.25\n');
    // The other ranks wrote to scratch on their own "VM"; nothing but the published output is left beside it.
    expect(['1', '2'].map((rank) => fs.readFileSync(path.join(SCRATCH, rank, 'model', 'model.txt'), 'utf8'))).toEqual(['rank 1 of 3\n', 'rank 2 of 3\n']);
    expect(fs.readdirSync(path.dirname(uri))).toEqual(['7']);
    expect(lines).toEqual(['created Vertex AI CustomJob projects/my-project/locations/us-central1/customJobs/1', `CustomJob ${job}: JOB_STATE_RUNNING`, `CustomJob ${job}: JOB_STATE_SUCCEEDED`, "published rank 0's outputs: model"]);
  });

  test('a failed replica fails the step with the job\'s error; nothing is published, staging removed', async () => {
    const client = localJobService();
    const script = `[ "$RANK" = 2 ] && { echo "rank 2: NCCL timeout" >&2; exit 3; }; ${WRITE}`;
    await expect(runCustomJobStep({ project: 'my-project', location: 'us-central1', executorInput: input, payload, commandLine: commandLine(script), client, pollIntervalMs: 20, log: () => undefined })).rejects.toEqual(
      new UserError('Vertex AI CustomJob projects/my-project/locations/us-central1/customJobs/1 ended JOB_STATE_FAILED: workerpool1 replica 1 exited 3: rank 2: NCCL timeout'),
    );
    const uri = input.outputs.artifacts!.model.artifacts[0].uri;
    expect(fs.existsSync(path.dirname(uri)) ? fs.readdirSync(path.dirname(uri)) : []).toEqual([]);
    expect(fs.existsSync(input.outputs.parameters!.loss.outputFile)).toBe(false);
  });

  test('stopping the step cancels the job', async () => {
    const client = localJobService();
    const stop = new AbortController();
    const run = runCustomJobStep({ project: 'p-1', location: 'us-central1', executorInput: input, payload, commandLine: commandLine(`sleep 30; ${WRITE}`), client, pollIntervalMs: 20, log: () => stop.abort(), signal: stop.signal });
    await expect(run).rejects.toEqual(new UserError('step stopped: cancelled Vertex AI CustomJob projects/p-1/locations/us-central1/customJobs/1'));
    expect(client.cancelled).toEqual(['projects/p-1/locations/us-central1/customJobs/1']);
  });

  test('`mlp vertex-custom-job` as KFP runs it: options, then the resolved command line after -- (its own --flags included)', async () => {
    const client = localJobService({ getWaitsForReplicas: true });
    const program = new Command('mlp').exitOverride();
    registerVertexCustomJobCommand(program, async (location) => {
      expect(location).toBe('us-central1');
      return client;
    });
    const write = 'mkdir -p "$2" && echo "rank $RANK" > "$2/model.txt" && mkdir -p "$(dirname "$4")" && echo 0.5 > "$4"';
    const uri = input.outputs.artifacts!.model.artifacts[0].uri;
    const lossFile = input.outputs.parameters!.loss.outputFile;
    await program.parseAsync(['node', 'mlp', 'vertex-custom-job', '--project', 'my-project', '--location', 'us-central1', '--executor-input', JSON.stringify(input), '--payload', JSON.stringify(payload), '--', 'sh', '-c', write, 'train', '--model', uri, '--loss', lossFile]);
    const pools = client.requests[0].job.jobSpec.workerPoolSpecs;
    // The chief's pool: rank 0's command line (outputs staged), then its other processes' (scratch); the workers' pool only the latter.
    const chief: string[] = pools[0].containerSpec.args;
    expect(chief[0]).toBe('8');
    expect(chief.slice(1, 6)).toEqual(['sh', '-c', write, 'train', '--model']);
    expect(chief[6]).toMatch(new RegExp(`^${uri}\\.mlp-rank0-[0-9a-f]{8}$`));
    expect(chief.slice(9)).toEqual(['sh', '-c', write, 'train', '--model', `${SCRATCH}/@MLP_RANK@/model`, '--loss', `${SCRATCH}/@MLP_RANK@/parameters/loss`]);
    expect(pools[1].containerSpec.args).toEqual(['0', ...chief.slice(9)]);
    expect(fs.readFileSync(path.join(uri, 'model.txt'), 'utf8')).toBe('rank 0\n');
    expect(fs.readFileSync(lossFile, 'utf8')).toBe('0.5\n');
  });

  test('a refused create fails the step in one line', async () => {
    const client = { ...localJobService(), create: async () => { throw new Error('7 PERMISSION_DENIED: Permission \'aiplatform.customJobs.create\' denied\nmore'); } };
    await expect(runCustomJobStep({ project: 'my-project', location: 'us-central1', executorInput: input, payload, commandLine: ['true'], client })).rejects.toEqual(
      new UserError("Vertex AI refused the CustomJob in projects/my-project/locations/us-central1: 7 PERMISSION_DENIED: Permission 'aiplatform.customJobs.create' denied"),
    );
  });

  test('unresolved project placeholders are refused before anything is created', async () => {
    const client = localJobService();
    await expect(runCustomJobStep({ project: "{{$.inputs.parameters['mlp_project']}}", location: 'us-central1', executorInput: input, payload, commandLine: ['true'], client })).rejects.toEqual(
      new UserError(`--project is "{{$.inputs.parameters['mlp_project']}}": the step runs on Vertex AI Pipelines, which resolves it to the pipeline job's project`),
    );
    expect(client.requests).toEqual([]);
  });
});

describe('2 workers × 2 processes on Vertex AI: each replica starts its 2 ranks', () => {
  const PpwTrainer = containerComponent({
    name: 'PpwTrainer',
    image: 'us-docker.pkg.dev/p/r/ddp:4',
    command: ['python', '/app/train.py', '--model', "{{$.outputs.artifacts['model'].path}}"],
    outputs: { model: { type: Model } },
    distribution: { workers: 2, processesPerWorker: 2 },
  });
  const ENV_NAMES = ['WORLD_SIZE', 'RANK', 'NODE_RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'JAX_COORDINATOR_ADDRESS', 'JAX_PROCESS_ID', 'JAX_NUM_PROCESSES', 'JOB_COMPLETION_INDEX'];
  // A tiny Node script printing the contract's variables as one JSON line, after a tag naming its command line.
  const printEnv = (tag: string) => [process.execPath, '-e', `console.log(JSON.stringify({ tag: ${JSON.stringify(tag)}, ...Object.fromEntries(${JSON.stringify(ENV_NAMES)}.map((n) => [n, process.env[n]])) }))`];
  const clusterSpec = (type: string, index: number) => JSON.stringify({ cluster: { workerpool0: ['chief-0:2222'], workerpool1: ['worker-0:2222'] }, task: { type, index } });
  let payload: Json;
  beforeAll(() => {
    const p = new Pipeline({ name: 'ppw' });
    p.add('train', PpwTrainer, { resources: { accelerator: { type: 'nvidia-l4', count: 2 } } });
    const args: string[] = (compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' }) as Json).deploymentSpec.executors['exec-train'].container.args;
    payload = JSON.parse(args[args.indexOf('--payload') + 1]);
  });

  test('the request body: a chief and 1 worker, each a machine with both GPUs (resources are per worker), WORLD_SIZE 4, LOCAL_WORLD_SIZE 2', () => {
    expect(fieldProblems(CustomJob, payload, 'CustomJob')).toEqual([]);
    const machineSpec = { machineType: 'g2-standard-24', acceleratorType: 'NVIDIA_L4', acceleratorCount: 2 };
    expect(payload.jobSpec.workerPoolSpecs.map((p: Json) => [p.replicaCount, p.machineSpec])).toEqual([[1, machineSpec], [1, machineSpec]]);
    const env = Object.fromEntries(payload.jobSpec.workerPoolSpecs[0].containerSpec.env.map((e: Json) => [e.name, e.value]));
    expect(env).toEqual({ WORLD_SIZE: '4', LOCAL_WORLD_SIZE: '2', JAX_NUM_PROCESSES: '4', MASTER_PORT: '29500', MLP_JAX_PORT: '8476' });
    expect(payload.jobSpec.workerPoolSpecs[1].containerSpec.command).toEqual(['sh', '-c', RANK_PRELUDE, 'mlp-rank']);
  });

  /** Runs one replica's containerSpec as Vertex AI would (its own process group, as a container's), with CLUSTER_SPEC. */
  function replica(pool: number, index: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const spec = payload.jobSpec.workerPoolSpecs[pool].containerSpec;
    const env = { PATH: process.env.PATH, ...Object.fromEntries(spec.env.map((e: Json) => [e.name, e.value])), CLUSTER_SPEC: clusterSpec(`workerpool${pool}`, index) };
    return new Promise((resolve, reject) => {
      const child = spawn(spec.command[0], [...spec.command.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  const lines = (stdout: string): Json[] => stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => Number(a.RANK) - Number(b.RANK));

  test('the worker (node rank 1 of 2) starts ranks 2 and 3 with LOCAL_RANK 0 and 1, the chief\'s host as coordinator (real sh, a Node script printing its env)', async () => {
    const r = await replica(1, 0, ['0', ...printEnv('other')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const same = { tag: 'other', WORLD_SIZE: '4', NODE_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'chief-0', MASTER_PORT: '29500', JAX_COORDINATOR_ADDRESS: 'chief-0:8476', JAX_NUM_PROCESSES: '4', JOB_COMPLETION_INDEX: '1' };
    expect(lines(r.stdout)).toEqual([
      { ...same, RANK: '2', LOCAL_RANK: '0', JAX_PROCESS_ID: '2' },
      { ...same, RANK: '3', LOCAL_RANK: '1', JAX_PROCESS_ID: '3' },
    ]);
  });

  test('the processes of one replica get scratch folders of their own: @MLP_RANK@ in the other ranks\' command line is their rank', async () => {
    const r = await replica(1, 0, ['0', 'sh', '-c', 'echo "$RANK:$1"', 'x', '/tmp/mlp-rank-outputs/@MLP_RANK@/model@MLP_RANK@']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['2:/tmp/mlp-rank-outputs/2/model2', '3:/tmp/mlp-rank-outputs/3/model3']);
  });

  test('on the chief, rank 0 runs rank 0\'s command line and rank 1 the other one', async () => {
    const rank0 = printEnv('rank0');
    const r = await replica(0, 0, [String(rank0.length), ...rank0, ...printEnv('other')]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => [l.RANK, l.LOCAL_RANK, l.NODE_RANK, l.tag])).toEqual([['0', '0', '0', 'rank0'], ['1', '1', '0', 'other']]);
  });

  test('a rank that fails stops the replica\'s other rank, and the replica fails saying which rank', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-vertex-ppw-'));
    try {
      const script = ['sh', '-c', `if [ "$LOCAL_RANK" = 1 ]; then echo "rank $RANK: NCCL error" >&2; exit 3; fi; sleep 60; touch "${dir}/finished-$RANK"`];
      const r = await replica(1, 0, ['0', ...script]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('rank 3: NCCL error\nmlp: rank 3 (worker 1) exited with code 3; stopping this replica\'s other ranks\n');
      // Rank 2 was stopped, not left to finish its sleep.
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
