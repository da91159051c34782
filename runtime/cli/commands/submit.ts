// `mlp submit <pipeline> --target vertex --project P --region R ...`: compiles a pipeline to the KFP v2 IR,
// wraps it in a Vertex AI PipelineJob request (as `mlp compile --vertex-job` prints it) and sends it to the
// Vertex AI REST API (pipelineJobs.create) with Application Default Credentials. --dry-run prints the
// request (method, URL, body) instead and touches no credentials and no network.
//
// REST through google-auth-library (already a dependency of @google-cloud/storage) rather than
// @google-cloud/aiplatform, which distributed steps' launcher uses in the image: for this one call it would load
// gRPC (google-gax) and the protos of all of Vertex AI.

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { parseParam } from '../options';
import { parseGpu, planFor, vertexJobRequest, type CompileFlags } from './compile';

export const SUBMIT_TARGETS = ['vertex'] as const;

interface SubmitFlags extends Pick<CompileFlags, 'image' | 'gpuImage' | 'pipelineRoot' | 'param' | 'metadataAddress' | 'metadataPasswordSecret' | 'serviceAccount' | 'network' | 'gpu'> {
  target: string;
  project: string;
  region: string;
  jobId?: string;
  dryRun?: boolean;
}

export interface SubmitRequest {
  method: 'POST';
  url: string;
  body: Record<string, unknown>;
}

/** Where submit prints; tests pass their own. */
export interface SubmitCommandIO {
  stdout: { write(text: string): unknown };
}

/** A PipelineJob id Vertex accepts ([a-z][-a-z0-9]{0,127}): the pipeline name and the time. */
export function defaultJobId(pipeline: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${pipeline}-${stamp}`.toLowerCase().replace(/[^-a-z0-9]/g, '-').slice(0, 128);
}

export function pipelineJobRequest(flags: SubmitFlags, ref: string): SubmitRequest {
  if (!/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(flags.project)) throw new UserError(`--project must be a project id such as my-project, got "${flags.project}"`);
  if (!/^[a-z]+-[a-z]+\d+$/.test(flags.region)) throw new UserError(`--region must be a region such as us-central1, got "${flags.region}"`);
  const plan = planFor(ref, 'kfp', flags);
  const jobId = flags.jobId ?? defaultJobId(plan.name);
  if (!/^[a-z][-a-z0-9]{0,127}$/.test(jobId)) throw new UserError(`--job-id must match [a-z][-a-z0-9]{0,127}, got "${jobId}"`);
  const body = vertexJobRequest(plan, flags);
  const url = `https://${flags.region}-aiplatform.googleapis.com/v1/projects/${flags.project}/locations/${flags.region}/pipelineJobs?pipelineJobId=${jobId}`;
  return { method: 'POST', url, body };
}

/** Sends the request with Application Default Credentials; returns the created PipelineJob. */
async function send(request: SubmitRequest): Promise<Record<string, unknown>> {
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  let client;
  try {
    client = await auth.getClient();
  } catch (err) {
    throw new UserError(`no Google credentials (${(err as Error).message.split('\n')[0]}): run \`gcloud auth application-default login\`, or pass --dry-run to print the request`);
  }
  try {
    const res = await client.request<Record<string, unknown>>({ url: request.url, method: request.method, data: request.body });
    return res.data;
  } catch (err) {
    const e = err as Error & { response?: { status?: number; data?: { error?: { message?: string } } } };
    const message = e.response?.data?.error?.message ?? e.message;
    throw new UserError(`Vertex AI refused the pipeline job${e.response?.status ? ` (HTTP ${e.response.status})` : ''}: ${message.split('\n')[0]}`);
  }
}

export function registerSubmitCommand(program: Command, io: SubmitCommandIO = { stdout: process.stdout }): void {
  program
    .command('submit')
    .description('compile a pipeline and submit a run of it to Vertex AI Pipelines (--dry-run prints the request)')
    .argument('<pipeline>', 'a bundled pipeline name or a module file exporting a Pipeline')
    .requiredOption('--target <target>', `where to run it: ${SUBMIT_TARGETS.join(', ')}`)
    .requiredOption('--project <id>', 'Google Cloud project of the job')
    .requiredOption('--region <region>', 'Vertex AI region, e.g. us-central1')
    .requiredOption('--image <ref>', 'runtime image every step runs, by digest (REPO@sha256:DIGEST; pinned, while tags are mutable) or by tag (REPO:TAG)')
    .requiredOption('--pipeline-root <uri>', 'gs:// prefix for artifacts (the job\'s gcsOutputDirectory)')
    .option('--gpu-image <ref>', 'runtime image of steps with GPUs, by digest or tag (default: --image)')
    .option('--param <key=value>', 'a pipeline parameter value (repeatable; read as the parameter\'s type: text for a string, JSON otherwise)', parseParam, {})
    .option('--gpu <node=type[:count]>', 'give a node GPUs, e.g. trainer=nvidia-l4 (repeatable)', parseGpu, {})
    .option('--metadata-address <url>', "metadata store every step records to (postgres://USER@HOST/DB, no password: the job's service account logs in by IAM unless --metadata-password-secret); needed for resolver nodes")
    .option('--metadata-password-secret <version>', 'Secret Manager secret version projects/P/secrets/S/versions/V with the database password, read by each step at start (default: IAM login)')
    .option('--service-account <email>', 'service account the job runs as')
    .option('--network <name>', 'VPC network the job is peered to (projects/NUMBER/global/networks/NAME)')
    .option('--job-id <id>', 'PipelineJob id (default: <pipeline>-<UTC time>)')
    .option('--dry-run', 'print the request instead of sending it')
    .action(async (ref: string, flags: SubmitFlags) => {
      if (!(SUBMIT_TARGETS as readonly string[]).includes(flags.target)) {
        throw new UserError(`--target must be one of ${SUBMIT_TARGETS.join(', ')}, got "${flags.target}" (for Argo, apply the output of \`mlp compile --target argo\` and submit it with argo or kubectl)`);
      }
      const request = pipelineJobRequest(flags, ref);
      if (flags.dryRun) {
        io.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
        return;
      }
      const job = await send(request);
      io.stdout.write(`submitted ${String(job.name ?? request.url)} (state ${String(job.state ?? 'unknown')})\n`);
    });
}
