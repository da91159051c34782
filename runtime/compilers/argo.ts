// Compiles a pipeline to an Argo Workflows WorkflowTemplate (or a CronWorkflow for a schedule): one DAG task
// and one container template per node. Each step runs `mlp component run` with an ExecutorInput built here,
// artifact URIs derived from the pipeline root and `{{workflow.uid}}`, so no artifact passing is needed; the
// properties a step reports for its outputs (span, split_names) reach its dependents as an output parameter.

import { componentCommand, executorInputTemplate, podPlacement, type CompiledNode, type CompiledPipeline, type ParamCondition, type ParameterInfo } from './common';

export interface ArgoOptions {
  image: string;
  pipelineRoot: string;
  namespace?: string;
  serviceAccount?: string;
  /** Whole-workflow deadline in seconds. */
  deadlineSeconds?: number;
  /** Per-step deadline in seconds. */
  stepTimeoutSeconds?: number;
  /** Cron expression: emit a CronWorkflow instead of a WorkflowTemplate. */
  schedule?: string;
  /** Cloud SQL instance connection name (project:region:instance) of the metadata store. */
  cloudsqlInstance?: string;
  metadataUser?: string;
  metadataDatabase?: string;
}

/** Cloud SQL Auth Proxy v2; pinned so a template does not change under a running platform. */
export const CLOUD_SQL_PROXY_IMAGE = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1';
const RUN_ID = '{{workflow.uid}}';
/** Each step's ExecutorOutput, an output parameter its dependents read their inputs' metadata from. */
const EXECUTOR_OUTPUT = 'executor-output';
const EXECUTOR_OUTPUT_FILE = '/tmp/mlp/executor-output.json';
const ENTRYPOINT = 'pipeline';

type Json = Record<string, unknown>;

export function compileArgo(plan: CompiledPipeline, opts: ArgoOptions): Json {
  const spec: Json = {
    entrypoint: ENTRYPOINT,
    arguments: { parameters: Object.entries(plan.parameters).map(([name, info]) => argoParameter(name, info)) },
    ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
    podGC: { strategy: 'OnPodSuccess' },
    ...(opts.deadlineSeconds !== undefined ? { activeDeadlineSeconds: opts.deadlineSeconds } : {}),
    templates: [
      {
        name: ENTRYPOINT,
        dag: { tasks: plan.nodes.map((n) => dagTask(n)) },
      },
      ...plan.nodes.map((n) => containerTemplate(plan, n, opts)),
    ],
  };
  const metadata = {
    name: plan.name,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    labels: { 'app.kubernetes.io/managed-by': 'mlp', 'mlp/pipeline': plan.name },
    ...(plan.description ? { annotations: { 'workflows.argoproj.io/description': plan.description } } : {}),
  };
  if (opts.schedule) {
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'CronWorkflow',
      metadata,
      // Forbid: a run still going when the next is due is not doubled up (runs share the metadata store).
      spec: { schedule: opts.schedule, concurrencyPolicy: 'Forbid', workflowSpec: spec },
    };
  }
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata, spec };
}

function argoParameter(name: string, info: ParameterInfo): Json {
  return {
    name,
    // Argo parameters are strings: non-strings travel as JSON text and are spliced unquoted into the ExecutorInput.
    ...(info.default !== undefined ? { value: typeof info.default === 'string' ? info.default : JSON.stringify(info.default) } : {}),
    ...(info.description ? { description: info.description } : {}),
  };
}

/** Producers whose outputs a node reads; their ExecutorOutputs are handed to it as input parameters. */
function producers(node: CompiledNode): string[] {
  return [...new Set(Object.values(node.inputs).flatMap((chs) => chs.map((ch) => ch.producer)))];
}

/** Name of the input parameter carrying a producer's ExecutorOutput (task outputs are visible only in the DAG). */
const upstreamOutput = (producer: string) => `${producer}-${EXECUTOR_OUTPUT}`;

function dagTask(node: CompiledNode): Json {
  const from = producers(node);
  return {
    name: node.id,
    template: node.id,
    ...(node.upstream.length ? { depends: node.upstream.join(' && ') } : {}),
    ...(from.length
      ? { arguments: { parameters: from.map((p) => ({ name: upstreamOutput(p), value: `{{tasks.${p}.outputs.parameters.${EXECUTOR_OUTPUT}}}` })) } }
      : {}),
    ...(node.conditions.length ? { when: node.conditions.map(argoWhen).join(' && ') } : {}),
  };
}

/** govaluate expression: strings compare quoted, numbers and booleans as they are. */
function argoWhen(c: ParamCondition): string {
  const left = `{{workflow.parameters.${c.param}}}`;
  return typeof c.value === 'string' ? `'${left}' ${c.op} '${c.value.replace(/'/g, "\\'")}'` : `${left} ${c.op} ${c.value}`;
}

function containerTemplate(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions): Json {
  const executorInput = executorInputTemplate(plan, node, opts.pipelineRoot, {
    runId: RUN_ID,
    // Strings go through toJson so quotes and backslashes in a value cannot break the JSON; other types are JSON text already.
    param: (name, info) => (info.type === 'STRING' ? `{{=toJson(workflow.parameters['${name}'])}}` : `{{workflow.parameters.${name}}}`),
    upstreamMetadata: (producer, port) =>
      `{{=toJson(jsonpath(inputs.parameters['${upstreamOutput(producer)}'], '$.artifacts.${port}.artifacts[0].metadata'))}}`,
    outputFile: EXECUTOR_OUTPUT_FILE,
  });
  const { requests, limits, nodeSelector, tolerations } = podPlacement(node);
  const env: Json[] = [{ name: 'MLP_PIPELINE_ROOT', value: opts.pipelineRoot }];
  if (opts.cloudsqlInstance) {
    env.push({ name: 'MLP_METADATA', value: `postgres://${encodeURIComponent(opts.metadataUser!)}@127.0.0.1:5432/${opts.metadataDatabase}` });
  }
  return {
    name: node.id,
    metadata: { labels: { 'mlp/node': node.id, 'mlp/component': node.component.name } },
    ...(node.retry
      ? {
          retryStrategy: {
            limit: String(node.retry.maxRetries),
            retryPolicy: 'OnFailure',
            backoff: {
              duration: `${node.retry.backoffSeconds}s`,
              factor: String(node.retry.backoffFactor),
              maxDuration: `${node.retry.maxBackoffSeconds}s`,
            },
          },
        }
      : {}),
    ...(opts.stepTimeoutSeconds !== undefined ? { activeDeadlineSeconds: String(opts.stepTimeoutSeconds) } : {}),
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    ...(opts.cloudsqlInstance ? { sidecars: [cloudSqlProxy(opts.cloudsqlInstance)] } : {}),
    ...(producers(node).length ? { inputs: { parameters: producers(node).map((p) => ({ name: upstreamOutput(p) })) } } : {}),
    outputs: { parameters: [{ name: EXECUTOR_OUTPUT, valueFrom: { path: EXECUTOR_OUTPUT_FILE } }] },
    container: {
      image: opts.image,
      command: componentCommand(node.component.name),
      args: [executorInput],
      env,
      ...(Object.keys(requests).length || Object.keys(limits).length
        ? { resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) } }
        : {}),
    },
  };
}

/**
 * The Cloud SQL Auth Proxy as an Argo sidecar: Argo stops it once the step's main container ends, so the pod
 * completes (native Kubernetes sidecars need an Argo that keeps `restartPolicy` on init containers).
 */
function cloudSqlProxy(instance: string): Json {
  return {
    name: 'cloud-sql-proxy',
    image: CLOUD_SQL_PROXY_IMAGE,
    args: [instance, '--private-ip', '--auto-iam-authn', '--port=5432', '--structured-logs'],
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
  };
}
