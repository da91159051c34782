// `mlp compile`: turns a bundled pipeline or a pipeline module into something a distributed engine runs:
// an Argo WorkflowTemplate / CronWorkflow (JSON), a KFP v2 PipelineSpec or Vertex AI PipelineJob (JSON), or
// an Airflow DAG file for Cloud Composer (Python). Printed on stdout, or written atomically with --out.

import type { Command } from 'commander';
import { loadPipeline } from '../../../pipelines';
import { UserError } from '../../core/errors';
import { redactUrl } from '../../core/redact-url';
import { writeFileAtomic } from '../../core/launcher';
import { compilePlan, parseSecretKeyRef, TARGETS, type CompiledPipeline, type SecretKeyRef, type Target } from '../../compilers/common';
import type { ResourceSpec } from '../../../pipelines/dsl/pipeline';
import { compileArgo } from '../../compilers/argo';
import { compileKfp, vertexPipelineJob, type KfpOptions } from '../../compilers/kfp';
import { compileAirflow, PARAM_JSON_TYPE } from '../../compilers/airflow';
import { parseParam } from '../options';
import { parameterValuesFromText } from '../parameter-text';

/** Steps that run longer than this are stopped unless --step-timeout says otherwise (Airflow needs a value). */
export const DEFAULT_STEP_TIMEOUT_SECONDS = 6 * 3600;

/** Flags that mean something to some targets only; giving one to another target is a mistake worth saying. */
const FLAG_TARGETS: Record<string, Target[]> = {
  vertexJob: ['kfp'],
  param: ['kfp'],
  network: ['kfp'],
  metadataAddress: ['kfp'],
  schedule: ['argo', 'airflow'],
  deadline: ['argo', 'airflow'],
  stepTimeout: ['argo', 'airflow'],
  namespace: ['argo', 'airflow'],
  serviceAccount: ['argo', 'kfp', 'airflow'],
  cloudsqlInstance: ['argo', 'airflow'],
  metadataUser: ['argo', 'airflow'],
  metadataDatabase: ['argo', 'airflow'],
  metadataPasswordSecret: ['argo', 'kfp', 'airflow'],
  gkeCluster: ['airflow'],
  maxParallelTrials: ['argo'],
  trainingQueue: ['argo'],
};

export interface CompileFlags {
  target: string;
  out?: string;
  image: string;
  gpuImage?: string;
  pipelineRoot?: string;
  param: Record<string, string>;
  vertexJob?: boolean;
  namespace?: string;
  serviceAccount?: string;
  deadline?: string;
  stepTimeout?: string;
  schedule?: string;
  cloudsqlInstance?: string;
  metadataUser?: string;
  metadataDatabase: string;
  gkeCluster?: string;
  metadataAddress?: string;
  metadataPasswordSecret?: string;
  network?: string;
  gpu: Record<string, ResourceSpec>;
  maxParallelTrials?: string;
  trainingQueue?: string;
}

/** Where the command prints when there is no --out; tests pass their own. */
export interface CompileCommandIO {
  stdout: { write(text: string): unknown };
}

export function registerCompileCommand(program: Command, io: CompileCommandIO = { stdout: process.stdout }): void {
  program
    .command('compile')
    .description('compile a pipeline for Argo Workflows, Vertex AI Pipelines / Kubeflow (KFP v2 IR) or Cloud Composer (Airflow)')
    .argument('<pipeline>', 'a bundled pipeline name (spine-demo, data-validation) or a module file exporting a Pipeline')
    .requiredOption('--target <target>', `what to compile for: ${TARGETS.join(', ')}`)
    .requiredOption('--image <ref>', 'runtime image every step runs, by digest (pinned; tags are mutable), e.g. us-docker.pkg.dev/PROJECT/mlp/runtime@sha256:DIGEST, or by tag (REPO:TAG)')
    .option('--gpu-image <ref>', 'runtime image of steps with GPUs (the gpu target), by digest or tag, e.g. us-docker.pkg.dev/PROJECT/mlp/runtime-gpu@sha256:DIGEST (default: --image)')
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .option('--pipeline-root <uri>', 'gs:// prefix for artifacts (required for argo, airflow and --vertex-job)')
    .option('--param <key=value>', 'a pipeline parameter value for --vertex-job (repeatable; read as the parameter\'s type: text for a string, JSON otherwise)', parseParam, {})
    .option('--vertex-job', 'kfp: emit a Vertex AI PipelineJob request around the PipelineSpec')
    .option('--network <name>', 'kfp --vertex-job: VPC network the job is peered to (projects/NUMBER/global/networks/NAME)')
    .option('--metadata-address <url>', "kfp: metadata store every step records to (postgres://USER@HOST/DB, no password: the job's service account logs in by IAM unless --metadata-password-secret), making steps cloud steps; needed for resolver nodes")
    .option('--metadata-password-secret <ref>', 'the metadata database password, never written into the pipeline: argo, airflow: a Kubernetes Secret key NAME:KEY (env PGPASSWORD; default: IAM login through the proxy); kfp: a Secret Manager secret version projects/P/secrets/S/versions/V read by each step (default: IAM login)')
    .option('--gpu <node=type[:count]>', 'give a node GPUs, e.g. trainer=nvidia-l4 or trainer=nvidia-tesla-t4:2 (repeatable)', parseGpu, {})
    .option('--max-parallel-trials <n>', "argo: Tuner trials running at once as separate pods (default: the Tuner's max_parallel_trials)")
    .option('--training-queue <name>', 'argo: Kueue LocalQueue of the JobSets of distributed steps (default: training)')
    .option('--schedule <cron>', 'argo: a CronWorkflow instead of a WorkflowTemplate; airflow: the DAG schedule')
    .option('--deadline <seconds>', 'argo: activeDeadlineSeconds of the workflow; airflow: dagrun_timeout')
    .option('--step-timeout <seconds>', `argo: activeDeadlineSeconds of each step; airflow: execution_timeout (default ${DEFAULT_STEP_TIMEOUT_SECONDS})`)
    .option('--namespace <ns>', 'argo: namespace of the template; airflow: the pipeline namespace GPU/TPU pods run in on --gke-cluster')
    .option('--service-account <name>', 'argo: Kubernetes service account of the steps (bound to a Google service account by workload identity); kfp --vertex-job: service account email of the job; airflow: Kubernetes service account of GPU/TPU pods on --gke-cluster')
    .option('--cloudsql-instance <project:region:instance>', 'argo, airflow: run a Cloud SQL Auth Proxy sidecar, point MLP_METADATA at it and run every step as a cloud step (cache and lineage in the store)')
    .option('--metadata-user <user>', 'argo, airflow: IAM database user (the service account email without .gserviceaccount.com)')
    .option('--metadata-database <name>', 'argo, airflow: metadata database name', 'mlmd')
    .option('--gke-cluster <project/location/cluster>', 'airflow: the cluster GPU/TPU nodes run on (GKEStartPodOperator)')
    .action(async (ref: string, flags: CompileFlags, command: Command) => {
      const target = flags.target as Target;
      if (!TARGETS.includes(target)) throw new UserError(`--target must be one of ${TARGETS.join(', ')}, got "${flags.target}"`);
      for (const [key, targets] of Object.entries(FLAG_TARGETS)) {
        const option = command.options.find((o) => o.attributeName() === key)!;
        if (command.getOptionValueSource(key) === 'cli' && !targets.includes(target)) {
          throw new UserError(`${option.long} does not apply to --target ${target} (only to ${targets.join(', ')})`);
        }
      }
      if (Object.keys(flags.param).length && !flags.vertexJob) throw new UserError('--param sets the parameter values of a --vertex-job request; pass --vertex-job too');
      if (flags.network && !flags.vertexJob) throw new UserError('--network is a setting of the --vertex-job request; pass --vertex-job too');
      if (target === 'kfp' && flags.serviceAccount && !flags.vertexJob) throw new UserError('--service-account for kfp is a setting of the --vertex-job request; pass --vertex-job too');
      const plan = planFor(ref, target, flags);
      const text = render(target, plan, flags);
      if (flags.out) await writeFileAtomic(flags.out, text);
      else io.stdout.write(text);
    });
}

/**
 * Loads the pipeline and plans it for a target. Pipelines default some parameters to places under the
 * pipeline root ($MLP_ROOT, as `mlp run --root` sets it): with --pipeline-root those defaults point into the
 * bucket instead of this machine.
 */
export function planFor(ref: string, target: Target, flags: Pick<CompileFlags, 'pipelineRoot' | 'gpu'>): CompiledPipeline {
  const before = process.env.MLP_ROOT;
  if (flags.pipelineRoot) process.env.MLP_ROOT = flags.pipelineRoot.replace(/\/+$/, '');
  try {
    const { pipeline } = loadPipeline(ref);
    return compilePlan(pipeline, target, { resources: flags.gpu });
  } finally {
    if (before === undefined) delete process.env.MLP_ROOT;
    else process.env.MLP_ROOT = before;
  }
}

/** The Vertex AI PipelineJob request for a planned pipeline (what `mlp compile --vertex-job` prints and `mlp submit` sends). */
export function vertexJobRequest(plan: CompiledPipeline, flags: Pick<CompileFlags, 'image' | 'gpuImage' | 'pipelineRoot' | 'param' | 'metadataAddress' | 'metadataPasswordSecret' | 'serviceAccount' | 'network'>): Record<string, unknown> {
  const spec = compileKfp(plan, kfpOptions(flags));
  checkIamUser(flags);
  return vertexPipelineJob(plan, spec, {
    pipelineRoot: requireRoot(flags, 'kfp --vertex-job'),
    parameterValues: parameterValuesFromText(flags.param, Object.fromEntries(Object.entries(plan.parameters).map(([k, p]) => [k, [PARAM_JSON_TYPE[p.type]]]))),
    serviceAccount: flags.serviceAccount,
    network: flags.network,
  });
}

/**
 * With IAM database authentication the job's service account's token is the password, so the address must log in as
 * that account's IAM database user (Cloud SQL names it by the e-mail without `.gserviceaccount.com`).
 */
function checkIamUser(flags: Pick<CompileFlags, 'metadataAddress' | 'metadataPasswordSecret' | 'serviceAccount'>): void {
  if (!flags.metadataAddress || flags.metadataPasswordSecret || !flags.serviceAccount) return;
  const iamUser = flags.serviceAccount.replace(/\.gserviceaccount\.com$/, '');
  let user: string;
  try {
    user = decodeURIComponent(new URL(flags.metadataAddress).username);
  } catch {
    throw new UserError(`--metadata-address ${redactUrl(flags.metadataAddress)} is not a URL such as postgres://USER@HOST:5432/mlmd`);
  }
  if (user !== iamUser) {
    throw new UserError(`--metadata-address logs in as "${user}", but the job runs as ${flags.serviceAccount}, whose IAM database user is "${iamUser}": log in as it (postgres://${encodeURIComponent(iamUser)}@...) or pass --metadata-password-secret`);
  }
}

/** The service account and network (--vertex-job's) are also those of distributed steps' CustomJobs. */
function kfpOptions(flags: Pick<CompileFlags, 'image' | 'gpuImage' | 'metadataAddress' | 'metadataPasswordSecret' | 'serviceAccount' | 'network'>): KfpOptions {
  return { image: flags.image, gpuImage: flags.gpuImage, metadataAddress: flags.metadataAddress, metadataPasswordSecret: flags.metadataPasswordSecret, serviceAccount: flags.serviceAccount, network: flags.network };
}

function render(target: Target, plan: CompiledPipeline, flags: CompileFlags): string {
  const deadlineSeconds = seconds('--deadline', flags.deadline);
  const stepTimeoutSeconds = seconds('--step-timeout', flags.stepTimeout);
  if (target === 'kfp') {
    const out = flags.vertexJob ? vertexJobRequest(plan, flags) : compileKfp(plan, kfpOptions(flags));
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  checkCloudSql(flags);
  if (target === 'argo') {
    const manifest = compileArgo(plan, {
      image: flags.image,
      gpuImage: flags.gpuImage,
      pipelineRoot: requireRoot(flags, 'argo'),
      namespace: flags.namespace,
      serviceAccount: flags.serviceAccount,
      deadlineSeconds,
      stepTimeoutSeconds,
      schedule: flags.schedule,
      cloudsqlInstance: flags.cloudsqlInstance,
      metadataUser: flags.metadataUser,
      metadataDatabase: flags.metadataDatabase,
      metadataPasswordSecret: passwordSecret(flags),
      maxParallelTrials: wholeNumber('--max-parallel-trials', flags.maxParallelTrials),
      trainingQueue: flags.trainingQueue,
    });
    return `${JSON.stringify(manifest, null, 2)}\n`;
  }
  return compileAirflow(plan, {
    image: flags.image,
    gpuImage: flags.gpuImage,
    pipelineRoot: requireRoot(flags, 'airflow'),
    stepTimeoutSeconds: stepTimeoutSeconds ?? DEFAULT_STEP_TIMEOUT_SECONDS,
    deadlineSeconds,
    schedule: flags.schedule,
    gkeCluster: flags.gkeCluster,
    namespace: flags.namespace,
    serviceAccount: flags.serviceAccount,
    cloudsqlInstance: flags.cloudsqlInstance,
    metadataUser: flags.metadataUser,
    metadataDatabase: flags.metadataDatabase,
    metadataPasswordSecret: passwordSecret(flags),
  });
}

function checkCloudSql(flags: CompileFlags): void {
  if (flags.cloudsqlInstance && !flags.metadataUser) throw new UserError('--cloudsql-instance needs --metadata-user (the IAM database user of the steps)');
  if (flags.metadataPasswordSecret && !flags.cloudsqlInstance) throw new UserError('--metadata-password-secret is the password of the --cloudsql-instance database user; pass --cloudsql-instance and --metadata-user too');
  // A user name is written into every step as it is given; `user:password` would put a password there.
  if (flags.metadataUser?.includes(':')) throw new UserError('--metadata-user is a user name only: pass the password as --metadata-password-secret NAME:KEY (a Kubernetes Secret), or none with IAM database authentication');
  if (flags.cloudsqlInstance && !/^[^:]+:[^:]+:[^:]+$/.test(flags.cloudsqlInstance)) {
    throw new UserError(`--cloudsql-instance must be an instance connection name project:region:instance, got "${flags.cloudsqlInstance}"`);
  }
}

/** The Kubernetes Secret key of --metadata-password-secret, for argo and airflow. */
function passwordSecret(flags: CompileFlags): SecretKeyRef | undefined {
  return flags.metadataPasswordSecret === undefined ? undefined : parseSecretKeyRef(flags.metadataPasswordSecret);
}

/** `node=type[:count]` → that node's accelerator. */
export function parseGpu(arg: string, acc: Record<string, ResourceSpec> = {}): Record<string, ResourceSpec> {
  const m = /^([a-z][a-z0-9-]*)=([a-z0-9-]+)(?::(\d+))?$/.exec(arg);
  if (!m || (m[3] !== undefined && Number(m[3]) < 1)) throw new UserError(`--gpu ${arg}: expected node=type[:count], e.g. trainer=nvidia-l4 or trainer=nvidia-tesla-t4:2`);
  return { ...acc, [m[1]]: { accelerator: { type: m[2], count: m[3] === undefined ? 1 : Number(m[3]) } } };
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number ≥ 1, got ${value}`);
  return n;
}

function requireRoot(flags: Pick<CompileFlags, 'pipelineRoot'>, what: string): string {
  if (!flags.pipelineRoot) throw new UserError(`${what} needs --pipeline-root gs://BUCKET/PREFIX: steps write their artifacts under it`);
  if (!/^gs:\/\/[^/]+/.test(flags.pipelineRoot)) throw new UserError(`--pipeline-root must be a gs:// URI that every step can reach, got "${flags.pipelineRoot}"`);
  return flags.pipelineRoot.replace(/\/+$/, '');
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number of seconds ≥ 1, got ${value}`);
  return n;
}
