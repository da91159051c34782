// The launcher of a distributed step on Vertex AI Pipelines (issue 19 §4), as Google Cloud Pipeline Components'
// custom-job launcher: it creates the step's Vertex AI CustomJob (the request body compilers/vertex-custom-job.ts
// built, with the component's command line KFP resolved) and waits for it, cancelling it when the step is stopped.
// Rank 0 (the chief's first process) writes its outputs to staging prefixes beside the outputs (through Vertex AI's Cloud
// Storage mount, /gcs/), the other ranks to scratch folders on their own VM; once the job has succeeded, the launcher
// publishes each staged output with the artifact store's atomic publish (commit marker last) and hands output
// parameters to KFP, so rank 0's outputs are the node's artifacts, as with the local runner.

import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ExecutorInput } from '../core/executor-io';
import { UserError } from '../core/errors';
import { isGcsUri, parseGcsUri, storageFor } from '../storage';
import { RANK_TOKEN } from '../compilers/vertex-custom-job';

type Json = Record<string, unknown>;

/** The JobService calls the launcher makes; aiplatformJobs() is the real one, tests pass a fake. */
export interface CustomJobClient {
  create(parent: string, customJob: Json): Promise<{ name: string }>;
  get(name: string): Promise<{ state: string; error?: { message?: string } }>;
  cancel(name: string): Promise<void>;
}

/** Terminal JobStates (google/cloud/aiplatform/v1/job_state.proto) other than success. */
const FAILED_STATES = new Set(['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_PARTIALLY_SUCCEEDED']);
const SUCCEEDED = 'JOB_STATE_SUCCEEDED';
/** How often the job's state is read, as GCPC's launcher polls (20 s). */
export const POLL_INTERVAL_MS = 20_000;
/** Where the ranks other than 0 write their outputs, on their own VM's disk, a folder per rank (RANK_TOKEN). */
const SCRATCH = '/tmp/mlp-rank-outputs';

/**
 * The Vertex AI JobService client of @google-cloud/aiplatform, loaded only here (it loads gRPC and Vertex AI's
 * protos, which the CLI's other commands do not need). Enum states come back as names or numbers; both are read.
 */
export async function aiplatformJobs(location: string): Promise<CustomJobClient> {
  const { v1, protos } = await import('@google-cloud/aiplatform');
  const client = new v1.JobServiceClient({ apiEndpoint: `${location}-aiplatform.googleapis.com` });
  const JobState = protos.google.cloud.aiplatform.v1.JobState as unknown as Record<number, string>;
  return {
    async create(parent, customJob) {
      const [job] = await client.createCustomJob({ parent, customJob });
      return { name: String(job.name) };
    },
    async get(name) {
      const [job] = await client.getCustomJob({ name });
      const state = typeof job.state === 'number' ? JobState[job.state] : String(job.state);
      return { state, error: job.error ? { message: job.error.message ?? undefined } : undefined };
    },
    async cancel(name) {
      await client.cancelCustomJob({ name });
    },
  };
}

/** What the replicas see of an artifact URI: Vertex AI mounts Cloud Storage at /gcs/, as KFP resolves `.path`. */
export function replicaPath(uri: string): string {
  if (!isGcsUri(uri)) return uri;
  const { bucket, path: key } = parseGcsUri(uri);
  return `/gcs/${bucket}/${key}`;
}

interface StagedOutputs {
  /** Output port → its URI and the staging URI rank 0 writes to. */
  artifacts: { port: string; uri: string; staging: string }[];
  /** Output parameter files (and KFP's ExecutorOutput file) → where rank 0 writes them. */
  files: { local: string; staging: string; what: string; required: boolean }[];
  chief: Map<string, string>;
  worker: Map<string, string>;
}

/** Where rank 0 and the other ranks write each output, as replacements of what KFP resolved in the command line. */
function stageOutputs(input: ExecutorInput, id: string): StagedOutputs {
  const staged: StagedOutputs = { artifacts: [], files: [], chief: new Map(), worker: new Map() };
  for (const [port, list] of Object.entries(input.outputs.artifacts ?? {})) {
    if (list.artifacts.length !== 1) throw new UserError(`output ${port} has ${list.artifacts.length} artifacts in the ExecutorInput; a distributed step writes one per output`);
    const uri = list.artifacts[0].uri;
    const staging = `${uri.replace(/\/+$/, '')}.mlp-rank0-${id}`;
    staged.artifacts.push({ port, uri, staging });
    staged.chief.set(replicaPath(uri), replicaPath(staging)).set(uri, staging);
    staged.worker.set(replicaPath(uri), `${SCRATCH}/${RANK_TOKEN}/${port}`).set(uri, `${SCRATCH}/${RANK_TOKEN}/${port}`);
  }
  const files = [
    ...Object.entries(input.outputs.parameters ?? {}).map(([name, p]) => ({ local: p.outputFile, what: `output parameter ${name}`, name, required: true })),
    ...(input.outputs.outputFile ? [{ local: input.outputs.outputFile, what: 'the ExecutorOutput file', name: '_executor_output.json', required: false }] : []),
  ];
  if (files.length && !staged.artifacts.length) throw new UserError('a distributed step with output parameters needs an output artifact on Cloud Storage, beside which rank 0 writes them');
  for (const f of files) {
    const staging = `${staged.artifacts[0].staging}.parameters/${f.name}`;
    staged.files.push({ local: f.local, staging, what: f.what, required: f.required });
    staged.chief.set(f.local, replicaPath(staging));
    staged.worker.set(f.local, `${SCRATCH}/${RANK_TOKEN}/parameters/${f.name}`);
  }
  return staged;
}

/** Replaces every occurrence of each key (longest first, so a path is never cut by a shorter one it starts with). */
function rewrite(args: string[], replacements: Map<string, string>): string[] {
  const keys = [...replacements.keys()].sort((a, b) => b.length - a.length);
  return args.map((arg) => keys.reduce((s, k) => s.split(k).join(replacements.get(k)!), arg));
}

export interface CustomJobStepOptions {
  project: string;
  location: string;
  executorInput: ExecutorInput;
  /** The CustomJob request body without the command line (compilers/vertex-custom-job.ts). */
  payload: Json;
  /** The component's command line as KFP resolved it. */
  commandLine: string[];
  client: CustomJobClient;
  pollIntervalMs?: number;
  /** Aborting cancels the job (the step was stopped). */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * The request body with each worker pool's command lines, as the rank prelude (compilers/vertex-custom-job.ts) takes
 * them, `K RANK0_ARGS(K)… OTHER_ARGS…`: the chief's pool has rank 0's (outputs staged) and the one its other
 * processes run (outputs in scratch folders); the workers' pool only the latter (K = 0).
 */
export function customJobRequest(payload: Json, commandLine: string[], staged: Pick<StagedOutputs, 'chief' | 'worker'>): Json {
  const jobSpec = payload.jobSpec as { workerPoolSpecs?: { containerSpec?: Json }[] } | undefined;
  const pools = jobSpec?.workerPoolSpecs;
  if (!Array.isArray(pools) || pools.length < 1 || pools.length > 2 || pools.some((p) => !p.containerSpec)) {
    throw new UserError('--payload is not a distributed step\'s CustomJob: it needs jobSpec.workerPoolSpecs with one or two pools, each with a containerSpec');
  }
  return {
    ...payload,
    jobSpec: {
      ...jobSpec,
      workerPoolSpecs: pools.map((pool, i) => {
        const rank0 = i === 0 ? rewrite(commandLine, staged.chief) : [];
        return { ...pool, containerSpec: { ...pool.containerSpec, args: [String(rank0.length), ...rank0, ...rewrite(commandLine, staged.worker)] } };
      }),
    },
  };
}

/** Creates the CustomJob, waits for it, and publishes rank 0's outputs; throws with the job's error when it did not succeed. */
export async function runCustomJobStep(opts: CustomJobStepOptions): Promise<{ job: string }> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const [flag, value] of [['--project', opts.project], ['--location', opts.location]] as const) {
    if (!value || value.includes('{{')) throw new UserError(`${flag} is "${value}": the step runs on Vertex AI Pipelines, which resolves it to the pipeline job's ${flag.slice(2)}`);
  }
  const staged = stageOutputs(opts.executorInput, randomBytes(4).toString('hex'));
  const request = customJobRequest(opts.payload, opts.commandLine, staged);
  const removeStaging = async () => {
    for (const a of staged.artifacts) {
      await storageFor(a.staging).delete(a.staging, { recursive: true });
      if (staged.files.length) await storageFor(a.staging).delete(`${a.staging}.parameters`, { recursive: true });
    }
  };
  const parent = `projects/${opts.project}/locations/${opts.location}`;
  let name: string;
  try {
    ({ name } = await opts.client.create(parent, request));
  } catch (err) {
    throw new UserError(`Vertex AI refused the CustomJob in ${parent}: ${(err as Error).message.split('\n')[0]}`);
  }
  log(`created Vertex AI CustomJob ${name}`);
  try {
    await waitFor(name, opts, log);
    for (const a of staged.artifacts) {
      const storage = storageFor(a.uri);
      const local = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-rank0-'));
      try {
        await storage.downloadTree(a.staging, local);
        await storage.publishDirectory(local, a.uri);
      } finally {
        await fs.promises.rm(local, { recursive: true, force: true });
      }
    }
    for (const f of staged.files) {
      const storage = storageFor(f.staging);
      if (!(await storage.exists(f.staging))) {
        if (f.required) throw new UserError(`CustomJob ${name} succeeded but rank 0 did not write ${f.what}`);
        continue;
      }
      await fs.promises.mkdir(path.dirname(f.local), { recursive: true });
      await fs.promises.writeFile(f.local, await storage.readFile(f.staging));
    }
    log(`published rank 0's outputs: ${staged.artifacts.map((a) => a.port).join(', ') || 'none'}`);
  } finally {
    await removeStaging();
  }
  return { job: name };
}

async function waitFor(name: string, opts: CustomJobStepOptions, log: (line: string) => void): Promise<void> {
  const interval = opts.pollIntervalMs ?? POLL_INTERVAL_MS;
  let last = '';
  for (;;) {
    if (opts.signal?.aborted) {
      await opts.client.cancel(name);
      throw new UserError(`step stopped: cancelled Vertex AI CustomJob ${name}`);
    }
    const job = await opts.client.get(name);
    if (job.state !== last) log(`CustomJob ${name}: ${(last = job.state)}`);
    if (job.state === SUCCEEDED) return;
    if (FAILED_STATES.has(job.state)) throw new UserError(`Vertex AI CustomJob ${name} ended ${job.state}: ${job.error?.message?.split('\n')[0] ?? 'no error message'}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      opts.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
