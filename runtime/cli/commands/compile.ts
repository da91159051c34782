// `mlp compile`: turns a bundled pipeline or a pipeline module into something a distributed engine runs:
// an Argo WorkflowTemplate / CronWorkflow (JSON), a KFP v2 PipelineSpec or Vertex AI PipelineJob (JSON), or
// an Airflow DAG file for Cloud Composer (Python). Printed on stdout, or written atomically with --out.

import type { Command } from 'commander';
import { loadPipeline } from '../../../pipelines';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/launcher';
import { compilePlan, TARGETS, type CompiledPipeline, type Target } from '../../compilers/common';
import { compileArgo } from '../../compilers/argo';
import { compileKfp, vertexPipelineJob } from '../../compilers/kfp';
import { compileAirflow } from '../../compilers/airflow';
import { parseParam } from '../options';

/** Steps that run longer than this are stopped unless --step-timeout says otherwise (Airflow needs a value). */
export const DEFAULT_STEP_TIMEOUT_SECONDS = 6 * 3600;

/** Flags that mean something to some targets only; giving one to another target is a mistake worth saying. */
const FLAG_TARGETS: Record<string, Target[]> = {
  vertexJob: ['kfp'],
  param: ['kfp'],
  schedule: ['argo', 'airflow'],
  deadline: ['argo', 'airflow'],
  stepTimeout: ['argo', 'airflow'],
  namespace: ['argo', 'airflow'],
  serviceAccount: ['argo'],
  cloudsqlInstance: ['argo'],
  metadataUser: ['argo'],
  metadataDatabase: ['argo'],
  gkeCluster: ['airflow'],
};

interface CompileFlags {
  target: string;
  out?: string;
  image: string;
  pipelineRoot?: string;
  param: Record<string, unknown>;
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
    .requiredOption('--image <ref>', 'runtime image every step runs, e.g. us-docker.pkg.dev/PROJECT/mlp/runtime:COMMIT')
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .option('--pipeline-root <uri>', 'gs:// prefix for artifacts (required for argo, airflow and --vertex-job)')
    .option('--param <key=value>', 'a pipeline parameter value for --vertex-job (repeatable; JSON when it parses)', parseParam, {})
    .option('--vertex-job', 'kfp: emit a Vertex AI PipelineJob request around the PipelineSpec')
    .option('--schedule <cron>', 'argo: a CronWorkflow instead of a WorkflowTemplate; airflow: the DAG schedule')
    .option('--deadline <seconds>', 'argo: activeDeadlineSeconds of the workflow; airflow: dagrun_timeout')
    .option('--step-timeout <seconds>', `argo: activeDeadlineSeconds of each step; airflow: execution_timeout (default ${DEFAULT_STEP_TIMEOUT_SECONDS})`)
    .option('--namespace <ns>', 'argo: namespace of the template; airflow: namespace of GPU/TPU pods on --gke-cluster')
    .option('--service-account <name>', 'argo: Kubernetes service account of the steps (bound to a Google service account by workload identity)')
    .option('--cloudsql-instance <project:region:instance>', 'argo: run a Cloud SQL Auth Proxy sidecar and point MLP_METADATA at it')
    .option('--metadata-user <user>', 'argo: IAM database user (the service account email without .gserviceaccount.com)')
    .option('--metadata-database <name>', 'argo: metadata database name', 'mlmd')
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
      const { pipeline } = loadPipeline(ref);
      const plan = compilePlan(pipeline, target);
      const text = render(target, plan, flags);
      if (flags.out) await writeFileAtomic(flags.out, text);
      else io.stdout.write(text);
    });
}

function render(target: Target, plan: CompiledPipeline, flags: CompileFlags): string {
  const deadlineSeconds = seconds('--deadline', flags.deadline);
  const stepTimeoutSeconds = seconds('--step-timeout', flags.stepTimeout);
  if (target === 'kfp') {
    const spec = compileKfp(plan, { image: flags.image });
    const out = flags.vertexJob
      ? vertexPipelineJob(plan, spec, { pipelineRoot: requireRoot(flags, 'kfp --vertex-job'), parameterValues: flags.param })
      : spec;
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  if (target === 'argo') {
    if (flags.cloudsqlInstance && !flags.metadataUser) throw new UserError('--cloudsql-instance needs --metadata-user (the IAM database user of the steps)');
    if (flags.cloudsqlInstance && !/^[^:]+:[^:]+:[^:]+$/.test(flags.cloudsqlInstance)) {
      throw new UserError(`--cloudsql-instance must be an instance connection name project:region:instance, got "${flags.cloudsqlInstance}"`);
    }
    const manifest = compileArgo(plan, {
      image: flags.image,
      pipelineRoot: requireRoot(flags, 'argo'),
      namespace: flags.namespace,
      serviceAccount: flags.serviceAccount,
      deadlineSeconds,
      stepTimeoutSeconds,
      schedule: flags.schedule,
      cloudsqlInstance: flags.cloudsqlInstance,
      metadataUser: flags.metadataUser,
      metadataDatabase: flags.metadataDatabase,
    });
    return `${JSON.stringify(manifest, null, 2)}\n`;
  }
  return compileAirflow(plan, {
    image: flags.image,
    pipelineRoot: requireRoot(flags, 'airflow'),
    stepTimeoutSeconds: stepTimeoutSeconds ?? DEFAULT_STEP_TIMEOUT_SECONDS,
    deadlineSeconds,
    schedule: flags.schedule,
    gkeCluster: flags.gkeCluster,
    namespace: flags.namespace,
  });
}

function requireRoot(flags: CompileFlags, what: string): string {
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
