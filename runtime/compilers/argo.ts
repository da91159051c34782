// Compiles a pipeline to an Argo Workflows WorkflowTemplate (or a CronWorkflow for a schedule): one DAG task
// and one container template per node. Each step runs `mlp component run` with an ExecutorInput built here,
// artifact URIs derived from the pipeline root and `{{workflow.uid}}`, so no artifact passing is needed; the
// properties a step reports for its outputs (span, split_names) reach its dependents as an output parameter.
// A container component's step runs in its own image through the step wrapper (container-step.ts); a distributed
// one as a JobSet queued by Kueue (argo-jobset.ts).
// An exit handler writes the run's `run_finished` line however the run ended (MlMonitoring's failed-run alert).

import { containerStep, WRAPPER_COPY_COMMAND, WRAPPER_ROOT, WRAPPER_VOLUME } from './container-step';
import { attemptRunId, executorOutputUri, isDistributedStep, jobSetResource, jobSetStepName, JOBSET_NAME_VAR, JOBSET_OUTPUT, JOBSET_OUTPUTS, SCRATCH_ROOT } from './argo-jobset';
import { argoJsonValue, argoText, jsonWithoutTagStarts, k8sLiteral } from './k8s-args';
import { isSharded, mergeArgs, planArgs, refuseShardStepClashes, shardCommand, shardRunArgs, shardsDir, shardStepNames } from './sharded-steps';
import { checkImages, refuseRequiredParamsWhenScheduled, cloudSqlProxyArgs, cloudStepArgs, componentCommand, PASSWORD_ENV, type SecretKeyRef, refuseReservedIds, runFinishedCommand, RUN_FINISHED_REQUESTS, RUN_FINISHED_STEP, imageFor, executorInputTemplate, type StepPlaceholders, podPlacement, requireMetadataForResolvers, type CompiledNode, type CompiledPipeline, type ParamCondition, type ParameterInfo } from './common';

export interface ArgoOptions {
  image: string;
  /** Image of steps with GPUs (the runtime's gpu target). @default image */
  gpuImage?: string;
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
  /** The IAM database user of the steps' service account, or the database user of metadataPasswordSecret. */
  metadataUser?: string;
  metadataDatabase?: string;
  /**
   * The Kubernetes Secret key holding metadataUser's password (env PGPASSWORD of each step).
   * @default - no password: the proxy logs in as the pod's service account (--auto-iam-authn)
   */
  metadataPasswordSecret?: SecretKeyRef;
  /**
   * Tuner nodes: trials running at once as separate pods. @default the Tuner's max_parallel_trials; 1 (or
   * max_trials / max_parallel_trials set from pipeline parameters) keeps the Tuner one pod
   */
  maxParallelTrials?: number;
  /** Kueue LocalQueue of distributed steps' JobSets. @default 'training' (the cluster side's LocalQueue) */
  trainingQueue?: string;
}

/** Cloud SQL Auth Proxy v2; pinned so a template does not change under a running platform. */
export const CLOUD_SQL_PROXY_IMAGE = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1';
const RUN_ID = '{{workflow.uid}}';
/** Each step's ExecutorOutput, an output parameter its dependents read their inputs' metadata from. */
const EXECUTOR_OUTPUT = 'executor-output';
const EXECUTOR_OUTPUT_FILE = '/tmp/mlp/executor-output.json';
/** A Tuner round's trials, written by its suggest step (an output parameter the round fans out over). */
const TRIALS_FILE = '/tmp/mlp/trials.json';
/** A sharded node's shard items, written by its plan step (an output parameter the shards fan out over). */
const SHARDS_FILE = '/tmp/mlp/shards.json';
const ENTRYPOINT = 'pipeline';
/** The wrapper's init container only copies files. */
const WRAPPER_COPY_REQUESTS = { cpu: '100m', memory: '128Mi' };

type Json = Record<string, unknown>;

export function compileArgo(plan: CompiledPipeline, opts: ArgoOptions): Json {
  checkImages(opts);
  requireMetadataForResolvers(plan, !!opts.cloudsqlInstance, 'pass --cloudsql-instance and --metadata-user');
  refuseReservedIds(plan, [ENTRYPOINT, RUN_FINISHED_STEP], 'Argo');
  refuseShardStepClashes(plan, 'Argo');
  // Text Argo puts into pods outside the ExecutorInput's JSON (paths, env, the proxy's arguments).
  argoText(opts.pipelineRoot, 'the pipeline root');
  if (opts.metadataDatabase) argoText(opts.metadataDatabase, 'the metadata database');
  if (opts.cloudsqlInstance) argoText(opts.cloudsqlInstance, 'the Cloud SQL instance');
  // A CronWorkflow's runs get no parameter values, and Argo refuses a global parameter without one.
  refuseRequiredParamsWhenScheduled(plan, opts.schedule, 'Argo cannot submit a scheduled workflow whose parameter has no value');
  const spec: Json = {
    entrypoint: ENTRYPOINT,
    onExit: RUN_FINISHED_STEP,
    arguments: { parameters: Object.entries(plan.parameters).map(([name, info]) => argoParameter(name, info)) },
    ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
    podGC: { strategy: 'OnPodSuccess' },
    ...(opts.deadlineSeconds !== undefined ? { activeDeadlineSeconds: opts.deadlineSeconds } : {}),
    templates: [
      {
        name: ENTRYPOINT,
        dag: { tasks: plan.nodes.flatMap((n) => nodeSteps(plan, n, opts)?.tasks ?? [dagTask(n)]) },
      },
      ...plan.nodes.flatMap((n) => nodeSteps(plan, n, opts)?.templates ?? [containerTemplate(plan, n, opts)]),
      exitHandler(plan, opts),
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
      // `schedules` (Argo ≥ 3.6; the single `schedule` is deprecated there and gone from Argo 4's API).
      spec: { schedules: [opts.schedule], concurrencyPolicy: 'Forbid', workflowSpec: spec },
    };
  }
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata, spec };
}

/** A node that is more than one step (a Tuner fanned out, a distributed step, a sharded node); undefined for one step. */
function nodeSteps(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions): { tasks: Json[]; templates: Json[] } | undefined {
  return tunerFanOut(plan, node, opts) ?? jobSetSteps(plan, node, opts) ?? shardedSteps(plan, node, opts);
}

/**
 * The value of an optional parameter without a default: JSON null, which the step reads as "not given" (Argo
 * refuses to submit a workflow whose global parameter has no value, and an empty one would leave the
 * ExecutorInput invalid JSON).
 */
const NOT_GIVEN = 'null';

const notGiven = (info: ParameterInfo) => info.optional && info.default === undefined;

function argoParameter(name: string, info: ParameterInfo): Json {
  // Argo parameters are strings: non-strings travel as JSON text and are spliced unquoted into the ExecutorInput.
  const value = info.default !== undefined ? (typeof info.default === 'string' ? info.default : JSON.stringify(info.default)) : notGiven(info) ? NOT_GIVEN : undefined;
  // Argo templates spec.arguments too (the controller's substituteGlobalVariables), before the steps read the value.
  if (value !== undefined) argoText(value, `the default of pipeline parameter ${name}`);
  const description = [info.description, notGiven(info) ? `${NOT_GIVEN}: not given` : undefined].filter(Boolean).join('; ');
  return { name, ...(value !== undefined ? { value } : {}), ...(description ? { description } : {}) };
}

/**
 * An Argo expression whose JSON value Argo puts into a pod's args at run time, with every `$` doubled as k8sLiteral
 * does (sprig.replace(old, new, src)) and no `{{` left in it (argoJsonValue): values given at submit time or written
 * by another step cannot be escaped when compiling, and the kubelet's `$(VAR)` expansion and Argo's next templating
 * pass would otherwise rewrite them.
 */
const podValue = (expr: string) => `{{=sprig.replace('$', '$$', ${argoJsonValue(expr)})}}`;

/** A pipeline parameter as JSON text in the ExecutorInput: strings through toJson (quotes and backslashes cannot break it), an unset optional one as null. */
function paramPlaceholder(name: string, info: ParameterInfo): string {
  const value = `workflow.parameters['${name}']`;
  if (info.type !== 'STRING') return podValue(value);
  const json = `toJson(${value})`;
  return podValue(notGiven(info) ? `${value} == '${NOT_GIVEN}' ? '${NOT_GIVEN}' : ${json}` : json);
}

/** Producers whose outputs a node reads; their ExecutorOutputs are handed to it as input parameters. */
function producers(node: CompiledNode): string[] {
  return [...new Set(Object.values(node.inputs).flatMap((chs) => chs.map((ch) => ch.producer)))];
}

/** Name of the input parameter carrying a producer's ExecutorOutput (task outputs are visible only in the DAG). */
const upstreamOutput = (producer: string) => `${producer}-${EXECUTOR_OUTPUT}`;

/**
 * Arguments handing the producers' ExecutorOutputs to a node's step(s), with no `{{` left in them (argoJsonValue):
 * Argo templates a template's input parameter values too (they are part of the text SubstituteParams substitutes),
 * so a producer reporting `{{workflow.name}}` or a lone `{{` in its outputs' metadata would be rewritten or fail.
 */
function producerArguments(node: CompiledNode): Json[] {
  return producers(node).map((p) => ({ name: upstreamOutput(p), value: `{{=${argoJsonValue(`tasks['${p}'].outputs.parameters['${EXECUTOR_OUTPUT}']`)}}}` }));
}

function dagTask(node: CompiledNode, overrides: { name?: string; template?: string; depends?: string; extraArguments?: Json[] } = {}): Json {
  const parameters = [...producerArguments(node), ...(overrides.extraArguments ?? [])];
  const depends = overrides.depends ?? node.upstream.join(' && ');
  return {
    name: overrides.name ?? node.id,
    template: overrides.template ?? node.id,
    ...(depends ? { depends } : {}),
    ...(parameters.length ? { arguments: { parameters } } : {}),
    ...(node.conditions.length ? { when: node.conditions.map(argoWhen).join(' && ') } : {}),
  };
}

/**
 * A Tuner node fanned out over pods (runtime/runner/tuner-fanout.ts): per round a suggest step and a DAG of
 * trial pods over its output (withParam, at most `parallelism` at once, a crashed trial pod does not stop the
 * search), then the collect step under the node's own name, so dependents are wired as to any step.
 * Undefined when the node is not a Tuner, runs one trial at a time, or takes its budget from pipeline parameters.
 */
function tunerFanOut(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions): { tasks: Json[]; templates: Json[] } | undefined {
  if (node.component.name !== 'Tuner' || 'max_trials' in node.params || 'max_parallel_trials' in node.params) return undefined;
  const setting = (name: string): number => Number(node.literals[name] ?? node.parameterInfo[name]?.default ?? 1);
  const perRound = opts.maxParallelTrials ?? setting('max_parallel_trials');
  const maxTrials = setting('max_trials');
  if (perRound <= 1 || maxTrials <= 1) return undefined;
  const rounds = Math.ceil(maxTrials / perRound);
  const id = node.id;
  const trialsDir = `${k8sLiteral(opts.pipelineRoot)}/${plan.name}/${id}/trials/${RUN_ID}`;
  const cloud = opts.cloudsqlInstance ? cloudStepArgs(plan, node, RUN_ID) : [];
  const phase = (name: string) => ['mlp', 'component', 'tuner', name, '--executor-input'];
  const tasks: Json[] = [];
  for (let r = 1; r <= rounds; r++) {
    tasks.push(
      dagTask(node, { name: `${id}-suggest-${r}`, template: `${id}-suggest`, depends: r === 1 ? undefined : `${id}-round-${r - 1}`, extraArguments: [{ name: 'round', value: String(r) }] }),
      dagTask(node, {
        name: `${id}-round-${r}`,
        template: `${id}-round`,
        depends: `${id}-suggest-${r}`,
        extraArguments: [{ name: 'trials', value: `{{tasks.${id}-suggest-${r}.outputs.parameters.trials}}` }],
      }),
    );
  }
  tasks.push(dagTask(node, { depends: `${id}-round-${rounds}` }));
  const producerInputs = producers(node).map(upstreamOutput);
  const templates = [
    containerTemplate(plan, node, opts, {
      name: `${id}-suggest`,
      command: phase('suggest'),
      args: ['--trials-dir', trialsDir, '--round', '{{inputs.parameters.round}}', '--per-round', String(perRound), '--out', TRIALS_FILE, ...cloud],
      inputs: ['round'],
      outputs: [{ name: 'trials', valueFrom: { path: TRIALS_FILE } }],
      placement: false,
    }),
    {
      name: `${id}-round`,
      inputs: { parameters: [...producerInputs, 'trials'].map((name) => ({ name })) },
      parallelism: perRound,
      dag: {
        tasks: [
          {
            name: 'trial',
            template: `${id}-trial`,
            withParam: '{{inputs.parameters.trials}}',
            arguments: { parameters: [...producerInputs.map((name) => ({ name, value: `{{inputs.parameters.${name}}}` })), { name: 'trial', value: '{{item}}' }] },
            continueOn: { failed: true },
          },
        ],
      },
    },
    containerTemplate(plan, node, opts, {
      name: `${id}-trial`,
      command: phase('trial'),
      // A trial's hyperparameters may be text with `$` in it.
      args: ['--trials-dir', trialsDir, '--trial', podValue("inputs.parameters['trial']")],
      inputs: ['trial'],
      outputs: [],
      metadata: false,
    }),
    containerTemplate(plan, node, opts, { command: phase('collect'), args: ['--trials-dir', trialsDir, ...cloud], placement: false }),
  ];
  return { tasks, templates };
}

/**
 * A distributed container step (argo-jobset.ts): the resource step `<id>-jobset` creating the JobSet, then the
 * read-back step under the node's own name, which outputs the ExecutorOutput rank 0 of the JobSet that completed
 * (the resource step's `jobset` output, so a retried step reads its last attempt's) created under the pipeline
 * root, so dependents are wired as to any step. Undefined for any other node.
 */
function jobSetSteps(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions): { tasks: Json[]; templates: Json[] } | undefined {
  if (!isDistributedStep(node)) return undefined;
  const jobSet = jobSetStepName(node.id);
  // The read-back takes the node's condition too: `depends` on a skipped step would still run it.
  const readBack = {
    name: node.id,
    template: node.id,
    depends: jobSet,
    arguments: { parameters: [{ name: JOBSET_OUTPUT, value: `{{tasks.${jobSet}.outputs.parameters.${JOBSET_OUTPUT}}}` }] },
    ...(node.conditions.length ? { when: node.conditions.map(argoWhen).join(' && ') } : {}),
  };
  const from = executorOutputUri(k8sLiteral(opts.pipelineRoot), plan, node, RUN_ID, `{{inputs.parameters.${JOBSET_OUTPUT}}}`);
  return {
    tasks: [dagTask(node, { name: jobSet, template: jobSet }), readBack],
    templates: [
      containerTemplate(plan, node, opts, { name: jobSet }),
      {
        name: node.id,
        metadata: { labels: { 'mlp/node': node.id, 'mlp/component': node.component.name } },
        inputs: { parameters: [{ name: JOBSET_OUTPUT }] },
        outputs: { parameters: [{ name: EXECUTOR_OUTPUT, valueFrom: { path: EXECUTOR_OUTPUT_FILE } }] },
        container: {
          name: 'main',
          image: opts.image,
          command: ['mlp', 'component', 'result', '--from', from, '--out', EXECUTOR_OUTPUT_FILE],
          resources: { requests: WRAPPER_COPY_REQUESTS },
        },
      },
    ],
  };
}

/**
 * A sharded node (runtime/core/sharding.ts): the plan step writes the shard items as an output parameter, a DAG
 * over it (withParam) runs one shard pod per item, all at once, then the merge step under the node's own name
 * publishes the outputs, so dependents are wired as to any step. When the plan finds the outputs cached it
 * writes [], the fan-out has no items, and the merge hands on the cached outputs. Shard and merge pods get the
 * node's resources; the plan only reads input sizes. Undefined when the node is not sharded.
 */
function shardedSteps(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions): { tasks: Json[]; templates: Json[] } | undefined {
  if (!isSharded(node)) return undefined;
  const names = shardStepNames(node.id);
  const dir = shardsDir(k8sLiteral(opts.pipelineRoot), plan, node, RUN_ID);
  const cloud = opts.cloudsqlInstance ? cloudStepArgs(plan, node, RUN_ID) : [];
  const producerInputs = producers(node).map(upstreamOutput);
  return {
    tasks: [
      dagTask(node, { name: names.plan, template: names.plan }),
      dagTask(node, { name: names.fanOut, template: names.fanOut, depends: names.plan, extraArguments: [{ name: 'shards', value: `{{tasks.${names.plan}.outputs.parameters.shards}}` }] }),
      dagTask(node, { depends: names.fanOut }),
    ],
    templates: [
      containerTemplate(plan, node, opts, {
        name: names.plan,
        command: shardCommand(node, 'plan'),
        args: [...planArgs(node, dir, SHARDS_FILE), ...cloud],
        outputs: [{ name: 'shards', valueFrom: { path: SHARDS_FILE } }],
        placement: false,
      }),
      {
        name: names.fanOut,
        inputs: { parameters: [...producerInputs, 'shards'].map((name) => ({ name })) },
        dag: {
          tasks: [
            {
              name: 'shard',
              template: names.shard,
              withParam: '{{inputs.parameters.shards}}',
              arguments: { parameters: [...producerInputs.map((name) => ({ name, value: `{{inputs.parameters.${name}}}` })), { name: 'shard', value: '{{item}}' }] },
            },
          ],
        },
      },
      // Shards are not executions: no metadata store, no cloud step flags.
      containerTemplate(plan, node, opts, { name: names.shard, command: shardCommand(node, 'run'), args: shardRunArgs(dir, '{{inputs.parameters.shard}}'), inputs: ['shard'], outputs: [], metadata: false }),
      containerTemplate(plan, node, opts, { command: shardCommand(node, 'merge'), args: [...mergeArgs(dir), ...cloud] }),
    ],
  };
}

/** govaluate expression: strings compare quoted, numbers and booleans as they are. */
function argoWhen(c: ParamCondition): string {
  const left = `{{workflow.parameters.${c.param}}}`;
  if (typeof c.value === 'string') argoText(c.value, `the condition on pipeline parameter ${c.param}`);
  return typeof c.value === 'string' ? `'${left}' ${c.op} '${c.value.replace(/'/g, "\\'")}'` : `${left} ${c.op} ${c.value}`;
}

/** How a step of a node differs from the node's plain `mlp component run` step (the Tuner's and a sharded node's phases). */
interface StepVariant {
  name?: string;
  command?: string[];
  /** Arguments after the ExecutorInput. */
  args?: string[];
  /** Input parameters besides the producers' ExecutorOutputs. */
  inputs?: string[];
  /** Output parameters instead of the ExecutorOutput. */
  outputs?: Json[];
  /** The node's resources and GPU/TPU placement. @default true */
  placement?: boolean;
  /** The Cloud SQL proxy and MLP_METADATA, when the pipeline has a metadata store. @default true */
  metadata?: boolean;
}

function containerTemplate(plan: CompiledPipeline, node: CompiledNode, opts: ArgoOptions, variant: StepVariant = {}): Json {
  const placeholders: StepPlaceholders = {
    runId: RUN_ID,
    param: paramPlaceholder,
    upstreamMetadata: (producer, port) => podValue(`toJson(jsonpath(inputs.parameters['${upstreamOutput(producer)}'], '$.artifacts.${port}.artifacts[0].metadata'))`),
    upstreamUri: (producer, port) => podValue(`toJson(jsonpath(inputs.parameters['${upstreamOutput(producer)}'], '$.artifacts.${port}.artifacts[0].uri'))`),
    outputFile: EXECUTOR_OUTPUT_FILE,
    // JSON text: no `{{` in it for Argo's templating, every `$` doubled for the kubelet.
    literal: (text) => k8sLiteral(jsonWithoutTagStarts(text)),
  };
  const executorInput = executorInputTemplate(plan, node, opts.pipelineRoot, placeholders);
  const placement = variant.placement === false ? { requests: {}, limits: {}, nodeSelector: {}, tolerations: [] } : podPlacement(node);
  const { requests, limits, nodeSelector, tolerations } = placement;
  const metadata = !!opts.cloudsqlInstance && variant.metadata !== false;
  // Env values are expanded as args are.
  const env: Json[] = [{ name: 'MLP_PIPELINE_ROOT', value: k8sLiteral(opts.pipelineRoot) }];
  if (metadata) {
    env.push({ name: 'MLP_METADATA', value: k8sLiteral(`postgres://${encodeURIComponent(opts.metadataUser!)}@127.0.0.1:5432/${opts.metadataDatabase}`) });
    const secret = opts.metadataPasswordSecret;
    if (secret) env.push({ name: PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } } });
  }
  const inputs = [...producers(node).map(upstreamOutput), ...(variant.inputs ?? [])];
  const outputs = variant.outputs ?? [{ name: EXECUTOR_OUTPUT, valueFrom: { path: EXECUTOR_OUTPUT_FILE } }];
  const head: Json = {
    name: variant.name ?? node.id,
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
  };
  // A distributed container step: a JobSet queued by Kueue, created by a resource template (argo-jobset.ts).
  if (isDistributedStep(node)) {
    const resource = jobSetResource(plan, node, {
      runtimeImage: opts.image,
      // Each attempt (JobSet) writes its outputs at URIs of its own (argo-jobset.ts).
      executorInput: executorInputTemplate(plan, node, opts.pipelineRoot, { ...placeholders, runId: attemptRunId(RUN_ID) }),
      scratchExecutorInput: executorInputTemplate(plan, node, SCRATCH_ROOT, placeholders),
      cloudArgs: metadata ? cloudStepArgs(plan, node, RUN_ID) : [],
      executorOutputUri: executorOutputUri(k8sLiteral(opts.pipelineRoot), plan, node, RUN_ID, JOBSET_NAME_VAR),
      env,
      ...(metadata ? { proxy: cloudSqlProxy(opts.cloudsqlInstance!, opts.metadataPasswordSecret) } : {}),
      queueName: opts.trainingQueue,
      serviceAccount: opts.serviceAccount,
      activeDeadlineSeconds: opts.stepTimeoutSeconds,
    });
    return { ...head, ...(inputs.length ? { inputs: { parameters: inputs.map((name) => ({ name })) } } : {}), outputs: JOBSET_OUTPUTS, resource };
  }
  // A container component's step: its image, the runtime copied in by an init container (container-step.ts).
  const wrapper = containerStep(node, 'argo');
  if (wrapper) env.unshift(...Object.entries(wrapper.env).map(([name, value]) => ({ name, value: k8sLiteral(argoText(value, `node ${node.id}: env ${name}`)) })));
  const mount = { name: WRAPPER_VOLUME, mountPath: WRAPPER_ROOT };
  return {
    ...head,
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    ...(wrapper
      ? {
          volumes: [{ name: WRAPPER_VOLUME, emptyDir: {} }],
          initContainers: [{ name: 'mlp-runtime', image: opts.image, command: WRAPPER_COPY_COMMAND, volumeMounts: [mount], resources: { requests: WRAPPER_COPY_REQUESTS } }],
        }
      : {}),
    ...(metadata ? { sidecars: [cloudSqlProxy(opts.cloudsqlInstance!, opts.metadataPasswordSecret)] } : {}),
    ...(inputs.length ? { inputs: { parameters: inputs.map((name) => ({ name })) } } : {}),
    ...(outputs.length ? { outputs: { parameters: outputs } } : {}),
    container: {
      // Argo names a template's container "main" anyway; Kubernetes' Container type requires a name.
      name: 'main',
      image: wrapper?.image ?? (variant.placement === false ? opts.image : imageFor(node, opts.image, opts.gpuImage)),
      command: wrapper?.command ?? variant.command ?? componentCommand(node.component.name),
      // With the metadata store, every step is a cloud step: cache lookup and lineage as in the local runner.
      args: [executorInput, ...(wrapper?.specArgs ?? []), ...(variant.args ?? (metadata ? cloudStepArgs(plan, node, RUN_ID) : []))],
      env,
      ...(wrapper ? { volumeMounts: [mount] } : {}),
      ...(Object.keys(requests).length || Object.keys(limits).length
        ? { resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) } }
        : {}),
    },
  };
}

/** Runs after the DAG whether it succeeded, failed or errored (also after a deadline or a stop). */
function exitHandler(plan: CompiledPipeline, opts: ArgoOptions): Json {
  const { command, args } = runFinishedCommand(plan, RUN_ID);
  return {
    name: RUN_FINISHED_STEP,
    metadata: { labels: { 'mlp/node': RUN_FINISHED_STEP } },
    container: {
      name: 'main',
      image: opts.image,
      command: [...command, ...args, '--status', '{{workflow.status}}', '--duration-seconds', '{{workflow.duration}}'],
      resources: { requests: RUN_FINISHED_REQUESTS },
    },
  };
}

/**
 * The Cloud SQL Auth Proxy as an Argo sidecar: Argo stops it once the step's main container ends, so the pod
 * completes (native Kubernetes sidecars need an Argo that keeps `restartPolicy` on init containers).
 */
function cloudSqlProxy(instance: string, passwordSecret?: SecretKeyRef): Json {
  return {
    name: 'cloud-sql-proxy',
    image: CLOUD_SQL_PROXY_IMAGE,
    args: cloudSqlProxyArgs(instance, passwordSecret).map(k8sLiteral),
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
  };
}
