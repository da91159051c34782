// Compiles a pipeline to the KFP v2 IR (PipelineSpec, schemaVersion 2.1.0) for Vertex AI Pipelines or Kubeflow,
// and optionally wraps it in a Vertex AI PipelineJob. Every component's executor runs `mlp component run <Name>
// --executor-input {{$}}`: KFP's driver fills in the whole ExecutorInput, so caching keys and artifact URIs
// are KFP's own. A container component's executor is its own image and command line, placeholders left for
// KFP's launcher. The nodes' tasks sit in an exit handler's sub-DAG, as KFP's ExitHandler compiles: once it has
// ended, however, a last task writes the run's `run_finished` line (MlMonitoring's failed-run alert).
// A distributed container step (distribution / tpu) is a Vertex AI CustomJob: its step runs the runtime image's
// launcher with the job's request body and the component's command line (vertex-custom-job.ts).

import { UserError } from '../core/errors';
import { IAM_AUTH, METADATA_AUTH_ENV, SECRET_MANAGER_AUTH, SECRET_VERSION } from '../metadata/postgres-auth';
import { kfpComponentIR } from '../components/container/kfp-component';
import { isContainerComponent, type ContainerSpec } from '../components/container/spec';
import { kfpArtifactType } from './kfp-artifact-types';
import { k8sTemplateText } from './k8s-args';
import { cpuCores, memoryGigabytes } from './quantities';
import { customJobPayload, distributedLayout, stepCommandLine, type CustomJobOptions } from './vertex-custom-job';
import { isSharded, mergeArgs, planArgs, refuseShardStepClashes, shardCommand, shardRunArgs, shardsDir, shardStepNames } from './sharded-steps';
import { checkImages, cloudStepArgs, componentCommand, imageFor, refusePasswordInAddress, refuseReservedIds, requireMetadataForResolvers, runFinishedCommand, RUN_FINISHED_STEP, type CompiledNode, type CompiledPipeline, type ParamCondition, type ParameterInfo } from './common';

export interface KfpOptions extends CustomJobOptions {
  image: string;
  /** Image of steps with GPUs (the runtime's gpu target). @default image */
  gpuImage?: string;
  /**
   * Metadata store address every step records to (MLP_METADATA), without a password (refused: it would be in
   * every step), e.g. postgres://SA_DB_USER@PRIVATE_IP:5432/mlmd?sslmode=... reachable from the job's peered
   * VPC network. Then every step is a cloud step (the runtime's data-aware cache and lineage; KFP's own cache
   * is turned off so it cannot skip a step whose external data changed), and resolver nodes can run.
   */
  metadataAddress?: string;
  /**
   * Secret Manager secret version (projects/P/secrets/S/versions/V) holding the address's user's password, read
   * by each step at start. @default - Cloud SQL IAM database authentication: the user is the job's service
   * account's IAM database user and its access token the password
   */
  metadataPasswordSecret?: string;
}

/** KFP's placeholder for the pipeline job's unique id: the run id in the metadata store. */
export const KFP_RUN_ID = '{{$.pipeline_job_uuid}}';
/**
 * The input parameter carrying KFP_RUN_ID into a cloud step: KFP resolves its pipeline-job placeholders in
 * constant input parameters, not in container arguments (the step reads it back with an inputs placeholder).
 * Components' parameter schemas drop it, so it never reaches cache keys or the executor.
 */
export const RUN_ID_INPUT = 'mlp_run_id';

/**
 * The input parameters carrying the pipeline job's project and region into a distributed step's launcher, with
 * the Vertex AI placeholders Google Cloud Pipeline Components use (resolved in constant input parameters).
 */
export const PROJECT_INPUT = 'mlp_project';
export const LOCATION_INPUT = 'mlp_location';
const VERTEX_PLACEHOLDERS: Record<string, string> = { [PROJECT_INPUT]: '{{$.pipeline_google_cloud_project_id}}', [LOCATION_INPUT]: '{{$.pipeline_google_cloud_location}}' };

/**
 * The input parameter carrying the job's pipeline root (KFP's `{{$.pipeline_root}}`, dsl.PIPELINE_ROOT_PLACEHOLDER)
 * into a sharded node's steps, which keep the run's shard states under it; with RUN_ID_INPUT, as every
 * sharded step also has it.
 */
export const PIPELINE_ROOT_INPUT = 'mlp_pipeline_root';
const KFP_PIPELINE_ROOT = '{{$.pipeline_root}}';
/** A shard step's input parameter: its item of the plan's list ("i/N"). */
const SHARD_INPUT = 'mlp_shard';
/** The plan step's output parameter: the list of shard items the ParallelFor iterates over. */
const SHARDS_OUTPUT = 'shards';

export interface VertexJobOptions {
  pipelineRoot: string;
  parameterValues: Record<string, unknown>;
  /** Service account email the job's steps run as. @default - the Compute Engine default service account */
  serviceAccount?: string;
  /** VPC network the job is peered to (projects/NUMBER/global/networks/NAME), e.g. to reach Cloud SQL's private IP. */
  network?: string;
}

type Json = Record<string, unknown>;

/** KFP's placeholder for when the pipeline job was created (resolved in constant input parameters). */
const KFP_CREATE_TIME = '{{$.pipeline_job_create_time_utc}}';

/** KFP's name for a pipeline parameter passed into a sub-DAG (and into a task's trigger condition). */
const channel = (param: string) => `pipelinechannel--${param}`;

/** The sub-DAG holding every node's task, named as KFP's ExitHandler names its first. */
const EXIT_HANDLER_DAG = 'exit-handler-1';

export function compileKfp(plan: CompiledPipeline, opts: KfpOptions): Json {
  checkImages(opts);
  requireMetadataForResolvers(plan, !!opts.metadataAddress, 'pass --metadata-address');
  if (opts.metadataAddress) refusePasswordInAddress(opts.metadataAddress);
  if (opts.metadataPasswordSecret !== undefined) {
    if (!opts.metadataAddress) throw new UserError('--metadata-password-secret is the password of --metadata-address; pass --metadata-address too');
    if (!SECRET_VERSION.test(opts.metadataPasswordSecret)) {
      throw new UserError(`--metadata-password-secret for kfp must be a Secret Manager secret version projects/P/secrets/S/versions/V, got "${opts.metadataPasswordSecret}"`);
    }
  }
  refuseReservedIds(plan, [EXIT_HANDLER_DAG, RUN_FINISHED_STEP], 'kfp');
  refuseShardStepClashes(plan, 'kfp');
  for (const node of plan.nodes) checkContainerStep(plan, node, !!opts.metadataAddress);
  const components: Json = {};
  const executors: Json = {};
  const tasks: Json = {};
  for (const node of plan.nodes) {
    if (isSharded(node)) {
      const steps = shardedSteps(node, plan, opts);
      Object.assign(components, steps.components);
      Object.assign(executors, steps.executors);
      Object.assign(tasks, steps.tasks);
      continue;
    }
    components[`comp-${node.id}`] = componentSpec(node, plan, !!opts.metadataAddress);
    executors[`exec-${node.id}`] = { container: distributedLayout(node) ? customJobLauncher(node, plan, opts) : container(node, plan, opts) };
    tasks[node.id] = task(node, plan, !!opts.metadataAddress);
  }
  const handler = exitHandlerDag(plan, tasks);
  const last = runFinishedStep(plan, opts);
  components[`comp-${EXIT_HANDLER_DAG}`] = handler.component;
  components[`comp-${RUN_FINISHED_STEP}`] = last.component;
  executors[`exec-${RUN_FINISHED_STEP}`] = last.executor;
  for (const executor of Object.values(executors) as Json[]) executor.container = podContainer(executor.container as Json);
  const rootTasks: Json = { [EXIT_HANDLER_DAG]: handler.task, [RUN_FINISHED_STEP]: last.task };
  return {
    pipelineInfo: { name: plan.name, ...(plan.description ? { description: plan.description } : {}) },
    schemaVersion: '2.1.0',
    sdkVersion: 'mlp',
    components,
    deploymentSpec: { executors },
    root: {
      ...(Object.keys(plan.parameters).length ? { inputDefinitions: { parameters: parameterDefinitions(plan.parameters) } } : {}),
      dag: { tasks: rootTasks },
    },
  };
}

/**
 * An executor's container as the kubelet must be given it: KFP on Kubernetes puts the command and args into the
 * pod (its driver's initPodSpecPatch makes them the launcher container's args, the env its env) and the kubelet
 * expands `$(VAR)` in them before KFP's launcher resolves the placeholders; k8sTemplateText escapes only what that
 * changes, so a container component's `$$` or `$(HOME)` reaches its process as written, as it does locally.
 */
function podContainer(c: Json): Json {
  const text = (list: unknown) => (list as string[] | undefined)?.map(k8sTemplateText);
  return {
    ...c,
    ...(c.command ? { command: text(c.command) } : {}),
    ...(c.args ? { args: text(c.args) } : {}),
    ...(c.env ? { env: (c.env as Json[]).map((e) => ({ ...e, value: k8sTemplateText(e.value as string) })) } : {}),
  };
}

/** The exit handler's sub-DAG around the nodes' tasks, and its task in the root DAG handing it the pipeline's parameters. */
function exitHandlerDag(plan: CompiledPipeline, tasks: Json): { component: Json; task: Json } {
  const names = Object.keys(plan.parameters);
  const channels = Object.fromEntries(Object.entries(plan.parameters).map(([name, p]) => [channel(name), { parameterType: p.type, ...(p.optional ? { isOptional: true } : {}) }]));
  return {
    component: { dag: { tasks }, ...(names.length ? { inputDefinitions: { parameters: channels } } : {}) },
    task: {
      taskInfo: { name: EXIT_HANDLER_DAG },
      componentRef: { name: `comp-${EXIT_HANDLER_DAG}` },
      ...(names.length ? { inputs: { parameters: Object.fromEntries(names.map((name) => [channel(name), { componentInputParameter: name }])) } } : {}),
    },
  };
}

/** The exit task: once the sub-DAG has ended, however, `mlp monitor run-finished` with its final status. */
function runFinishedStep(plan: CompiledPipeline, opts: KfpOptions): { component: Json; executor: Json; task: Json } {
  const { command, args } = runFinishedCommand(plan, "{{$.inputs.parameters['run_id']}}");
  return {
    component: {
      executorLabel: `exec-${RUN_FINISHED_STEP}`,
      inputDefinitions: { parameters: { status: { parameterType: 'TASK_FINAL_STATUS', isOptional: true }, run_id: { parameterType: 'STRING' }, started: { parameterType: 'STRING' } } },
    },
    executor: {
      container: {
        image: opts.image,
        command,
        // The status is KFP's PipelineTaskFinalStatus as JSON ({"state": "SUCCEEDED" | "FAILED" | "CANCELLED", ...}).
        args: [...args, '--status', "{{$.inputs.parameters['status']}}", '--started', "{{$.inputs.parameters['started']}}"],
      },
    },
    task: {
      taskInfo: { name: RUN_FINISHED_STEP },
      componentRef: { name: `comp-${RUN_FINISHED_STEP}` },
      dependentTasks: [EXIT_HANDLER_DAG],
      inputs: {
        parameters: {
          status: { taskFinalStatus: { producerTask: EXIT_HANDLER_DAG } },
          run_id: { runtimeValue: { constant: KFP_RUN_ID } },
          started: { runtimeValue: { constant: KFP_CREATE_TIME } },
        },
      },
      cachingOptions: { enableCache: false },
      triggerPolicy: { strategy: 'ALL_UPSTREAM_TASKS_COMPLETED' },
    },
  };
}

/** A Vertex AI PipelineJob request body around the IR. */
export function vertexPipelineJob(plan: CompiledPipeline, spec: Json, opts: VertexJobOptions): Json {
  for (const k of Object.keys(opts.parameterValues)) {
    if (!(k in plan.parameters)) throw new UserError(`pipeline ${plan.name} has no parameter "${k}" (parameters: ${Object.keys(plan.parameters).join(', ') || 'none'})`);
  }
  const missing = Object.entries(plan.parameters).filter(([k, p]) => !p.optional && !(k in opts.parameterValues)).map(([k]) => k);
  if (missing.length) throw new UserError(`pipeline ${plan.name}: required parameter ${missing.join(', ')} needs --param`);
  return {
    displayName: plan.name,
    pipelineSpec: spec,
    labels: { 'mlp-pipeline': plan.name },
    runtimeConfig: { gcsOutputDirectory: opts.pipelineRoot, parameterValues: opts.parameterValues },
    ...(opts.serviceAccount ? { serviceAccount: opts.serviceAccount } : {}),
    ...(opts.network ? { network: opts.network } : {}),
  };
}

function parameterDefinitions(params: Record<string, ParameterInfo>): Json {
  return Object.fromEntries(
    Object.entries(params).map(([name, p]) => [
      name,
      {
        parameterType: p.type,
        ...(p.default !== undefined ? { defaultValue: p.default } : {}),
        ...(p.optional ? { isOptional: true } : {}),
        ...(p.description ? { description: p.description } : {}),
      },
    ]),
  );
}

function componentSpec(node: CompiledNode, plan: CompiledPipeline, cloudSteps: boolean): Json {
  // Condition inputs are declared like any other so the task's inputs match its component, as KFP does.
  const conditionParams: Json = Object.fromEntries(node.conditions.map((c) => [channel(c.param), { parameterType: plan.parameters[c.param].type }]));
  if (isContainerComponent(node.component)) {
    // The component's own IR, as a KFP component file holds it, under this node's executor.
    const { component } = kfpComponentIR(node.component);
    const inputs = (component.inputDefinitions ?? {}) as Json;
    const launcherParams = distributedLayout(node) ? Object.fromEntries(Object.keys(VERTEX_PLACEHOLDERS).map((p) => [p, { parameterType: 'STRING' }])) : {};
    const parameters = { ...((inputs.parameters as Json | undefined) ?? {}), ...launcherParams, ...conditionParams };
    return { ...component, executorLabel: `exec-${node.id}`, ...(Object.keys(parameters).length ? { inputDefinitions: { ...inputs, parameters } } : {}) };
  }
  const params = { ...parameterDefinitions(node.parameterInfo), ...(cloudSteps ? { [RUN_ID_INPUT]: { parameterType: 'STRING' } } : {}), ...conditionParams };
  const inputArtifacts = Object.fromEntries(
    Object.entries(node.component.inputs).map(([port, spec]) => [port, { artifactType: kfpArtifactType(spec.type, `node ${node.id} input ${port}`), ...(spec.optional ? { isOptional: true } : {}) }]),
  );
  const outputArtifacts = Object.fromEntries(
    Object.entries(node.component.outputs).map(([port, spec]) => [port, { artifactType: kfpArtifactType(spec.type, `node ${node.id} output ${port}`) }]),
  );
  return {
    executorLabel: `exec-${node.id}`,
    ...(Object.keys(params).length || Object.keys(inputArtifacts).length
      ? { inputDefinitions: { ...(Object.keys(params).length ? { parameters: params } : {}), ...(Object.keys(inputArtifacts).length ? { artifacts: inputArtifacts } : {}) } }
      : {}),
    ...(Object.keys(outputArtifacts).length ? { outputDefinitions: { artifacts: outputArtifacts } } : {}),
  };
}

/** A node's CPU, memory and GPU as a KFP container's resources. */
function containerResources(node: CompiledNode): Json {
  const res = node.resources;
  if (res?.tpu) throw new UserError(`node ${node.id}: TPU resources are not supported by the kfp compiler yet`);
  const resources: Json = {};
  if (res?.cpu) Object.assign(resources, { cpuLimit: cpuCores(node.id, res.cpu), resourceCpuLimit: res.cpu });
  if (res?.memory) Object.assign(resources, { memoryLimit: memoryGigabytes(node.id, res.memory), resourceMemoryLimit: res.memory });
  if (res?.accelerator) {
    // Vertex AI names GPUs as enum values: GKE's nvidia-l4 is NVIDIA_L4, nvidia-tesla-t4 is NVIDIA_TESLA_T4.
    const type = res.accelerator.type.toUpperCase().replace(/-/g, '_');
    resources.accelerator = { type, count: String(res.accelerator.count), resourceType: type, resourceCount: String(res.accelerator.count) };
  }
  return resources;
}

function container(node: CompiledNode, plan: CompiledPipeline, opts: KfpOptions): Json {
  const resources = containerResources(node);
  if (isContainerComponent(node.component)) {
    // The component's own image and command line; KFP's launcher resolves the placeholders in it.
    return { ...(kfpComponentIR(node.component).executor.container as Json), ...(Object.keys(resources).length ? { resources } : {}) };
  }
  return {
    image: imageFor(node, opts.image, opts.gpuImage),
    command: componentCommand(node.component.name),
    args: ['{{$}}', ...(opts.metadataAddress ? cloudStepArgs(plan, node, inputParameter(RUN_ID_INPUT)) : [])],
    ...(opts.metadataAddress ? { env: metadataEnv(opts) } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
  };
}

/**
 * A distributed step's executor: the runtime image's launcher creates the CustomJob and waits for it, then publishes
 * rank 0's outputs (runtime/runner/vertex-custom-job-launcher.ts). The component's command line follows `--` as
 * separate arguments, so KFP resolves its placeholders as in any step; the replicas' resources are the job's.
 */
function customJobLauncher(node: CompiledNode, plan: CompiledPipeline, opts: KfpOptions): Json {
  const payload = customJobPayload(plan, node, { serviceAccount: opts.serviceAccount, network: opts.network });
  const input = (name: string) => `{{$.inputs.parameters['${name}']}}`;
  return {
    image: opts.image,
    command: ['mlp', 'vertex-custom-job'],
    args: ['--project', input(PROJECT_INPUT), '--location', input(LOCATION_INPUT), '--executor-input', '{{$}}', '--payload', JSON.stringify(payload), '--', ...stepCommandLine(node)],
  };
}

const containerSpecOf = (node: CompiledNode): ContainerSpec | undefined => (isContainerComponent(node.component) ? node.component.container : undefined);

/**
 * A container component's step is KFP's own: KFP caches it and Vertex ML Metadata records its lineage, but
 * nothing of the runtime runs in its image, so it cannot record to the metadata store, and its outputs carry no
 * commit marker, which a bundled component's launcher requires of every input.
 */
function checkContainerStep(plan: CompiledPipeline, node: CompiledNode, cloudSteps: boolean): void {
  const spec = containerSpecOf(node);
  if (spec && cloudSteps) {
    throw new UserError(`node ${node.id} runs container component ${node.component.name} (image ${spec.image}), which cannot record to --metadata-address: no mlp runtime runs in its image; compile without --metadata-address (KFP caches the step and Vertex ML Metadata records its lineage)`);
  }
  const taskFinalStatus = Object.entries(spec?.parameterTypes ?? {}).find(([, type]) => type === 'TASK_FINAL_STATUS');
  if (taskFinalStatus) throw new UserError(`node ${node.id}: parameter "${taskFinalStatus[0]}" of container component ${node.component.name} is a TASK_FINAL_STATUS, which only an exit task takes; the kfp compiler does not make nodes exit tasks`);
  if (spec) return;
  for (const [port, chs] of Object.entries(node.inputs)) {
    // A distributed step's launcher publishes its outputs with the commit marker; other container steps' outputs have none.
    const from = chs.map((ch) => plan.nodes.find((n) => n.id === ch.producer)!).find((p) => containerSpecOf(p) && !distributedLayout(p));
    if (from) {
      throw new UserError(`node ${node.id} (${node.component.name}) reads input "${port}" from node ${from.id}, a container component step, whose outputs KFP writes without the commit marker ${node.component.name} requires of its inputs; read it from a container component instead`);
    }
  }
}

/** The store's address and how a step logs in (runtime/metadata/postgres-auth.ts): never a password. */
function metadataEnv(opts: KfpOptions): Json[] {
  const auth = opts.metadataPasswordSecret ? `${SECRET_MANAGER_AUTH}${opts.metadataPasswordSecret}` : IAM_AUTH;
  return [{ name: 'MLP_METADATA', value: opts.metadataAddress }, { name: METADATA_AUTH_ENV, value: auth }];
}

/** How a task reads the node's input artifact `port` from `producer`'s output: from the task, or through a sub-DAG's input. */
type ArtifactSource = (port: string, producer: string, output: string) => Json;
const fromTask: ArtifactSource = (_, producerTask, outputArtifactKey) => ({ taskOutputArtifact: { producerTask, outputArtifactKey } });

/** A node's step as a task; a sharded node's plan, shard and merge steps say how they differ. */
interface TaskVariant {
  name?: string;
  dependentTasks?: string[];
  artifacts?: ArtifactSource;
  /** Extra input parameters (a shard's item). */
  parameters?: Json;
  /** A sharded node's step: the run id and pipeline root are its inputs, and KFP's cache is off. */
  sharded?: boolean;
  /** Its condition is on the task around it (a shard inside the ParallelFor). */
  unconditional?: boolean;
}

function task(node: CompiledNode, plan: CompiledPipeline, cloudSteps: boolean, variant: TaskVariant = {}): Json {
  const conditions = variant.unconditional ? [] : node.conditions;
  const parameters: Json = {};
  for (const [name, value] of Object.entries(node.literals)) parameters[name] = { runtimeValue: { constant: value } };
  // Pipeline parameters reach the exit handler's sub-DAG as channels.
  for (const [name, param] of Object.entries(node.params)) parameters[name] = { componentInputParameter: channel(param) };
  for (const c of conditions) parameters[channel(c.param)] = { componentInputParameter: channel(c.param) };
  if (cloudSteps || variant.sharded) parameters[RUN_ID_INPUT] = { runtimeValue: { constant: KFP_RUN_ID } };
  if (variant.sharded) parameters[PIPELINE_ROOT_INPUT] = { runtimeValue: { constant: KFP_PIPELINE_ROOT } };
  Object.assign(parameters, variant.parameters);
  if (distributedLayout(node)) for (const [name, value] of Object.entries(VERTEX_PLACEHOLDERS)) parameters[name] = { runtimeValue: { constant: value } };
  const artifacts: Json = {};
  for (const [port, chs] of Object.entries(node.inputs)) {
    if (chs.length !== 1) throw new UserError(`node ${node.id}: input "${port}" is wired to ${chs.length} outputs; the kfp compiler supports one per input`);
    artifacts[port] = (variant.artifacts ?? fromTask)(port, chs[0].producer, chs[0].port);
  }
  const dependentTasks = variant.dependentTasks ?? node.upstream;
  const name = variant.name ?? node.id;
  return {
    taskInfo: { name },
    componentRef: { name: `comp-${name}` },
    ...(dependentTasks.length ? { dependentTasks } : {}),
    ...(Object.keys(parameters).length || Object.keys(artifacts).length
      ? { inputs: { ...(Object.keys(parameters).length ? { parameters } : {}), ...(Object.keys(artifacts).length ? { artifacts } : {}) } }
      : {}),
    // A resolver must look again every run; cloud steps use the runtime's own (data-aware) cache; a sharded
    // node's steps work in this run's shards folder, which a step KFP skipped as cached would leave empty.
    cachingOptions: { enableCache: node.cache && !node.resolver && !cloudSteps && !variant.sharded },
    ...retryPolicy(node),
    ...(conditions.length ? { triggerPolicy: { condition: conditions.map((c) => celCondition(c, plan)).join(' && ') } } : {}),
  };
}

function retryPolicy(node: CompiledNode): Json {
  const r = node.retry;
  return r ? { retryPolicy: { maxRetryCount: r.maxRetries, backoffDuration: `${r.backoffSeconds}s`, backoffFactor: r.backoffFactor, backoffMaxDuration: `${r.maxBackoffSeconds}s` } } : {};
}

const inputParameter = (name: string) => `{{$.inputs.parameters['${name}']}}`;

/** KFP's name for a task output handed into a sub-DAG (pipelinechannel--<task>-<output>). */
const outputChannel = (producer: string, output: string) => channel(`${producer}-${output}`);

/**
 * A sharded node (runtime/core/sharding.ts) as KFP's compiler writes a dsl.ParallelFor over a task's output: the
 * plan task outputs the shard items as a LIST parameter; a sub-DAG task iterates over it (parameterIterator), its
 * shard task getting one item each, all at once; then the merge task under the node's own name publishes the
 * outputs, so dependents are wired as to any task. When the plan finds the outputs cached it outputs [], no shard
 * runs, and the merge hands on the cached outputs. Every step gets the node's whole ExecutorInput ({{$}}), so
 * KFP also gives the plan and shard tasks output URIs of their own; they never write there. The shards folder is
 * under the job's pipeline root, per job. Shard and merge run with the node's resources, the plan without.
 */
function shardedSteps(node: CompiledNode, plan: CompiledPipeline, opts: KfpOptions): { components: Json; executors: Json; tasks: Json } {
  const cloudSteps = !!opts.metadataAddress;
  const names = shardStepNames(node.id);
  const dir = shardsDir(inputParameter(PIPELINE_ROOT_INPUT), plan, node, inputParameter(RUN_ID_INPUT));
  const cloud = cloudSteps ? cloudStepArgs(plan, node, inputParameter(RUN_ID_INPUT)) : [];
  const env = cloudSteps ? { env: metadataEnv(opts) } : {};
  const resources = containerResources(node);
  const withResources = Object.keys(resources).length ? { resources } : {};
  const image = imageFor(node, opts.image, opts.gpuImage);
  // The node's inputs, the run id and the pipeline root; the shard's without the condition (its ParallelFor has it).
  const spec = (conditional: boolean): Json => {
    const base = componentSpec(conditional ? node : { ...node, conditions: [] }, plan, true);
    const inputs = base.inputDefinitions as Json;
    return { ...base, inputDefinitions: { ...inputs, parameters: { ...(inputs.parameters as Json), [PIPELINE_ROOT_INPUT]: { parameterType: 'STRING' } } } };
  };
  const planSpec = spec(true);
  const shardSpec = spec(false);
  const items = outputChannel(names.plan, SHARDS_OUTPUT);
  const item = `${items}-loop-item`;
  // What the ParallelFor hands its shard task: the pipeline parameters it reads and the input artifacts.
  const forwarded = [...new Set([...Object.values(node.params), ...node.conditions.map((c) => c.param)])];
  const artifactChannels = Object.values(node.inputs).flatMap((chs) => chs.map((ch) => ({ ...ch, channel: outputChannel(ch.producer, ch.port) })));
  const producerTypes = (producer: string, port: string): Json => {
    const from = plan.nodes.find((n) => n.id === producer)!;
    return { artifactType: kfpArtifactType(from.component.outputs[port].type, `node ${producer} output ${port}`) };
  };
  const shardTask = task(node, plan, cloudSteps, {
    name: names.shard,
    dependentTasks: [],
    artifacts: (_, producer, output) => ({ componentInputArtifact: outputChannel(producer, output) }),
    parameters: { [SHARD_INPUT]: { componentInputParameter: item } },
    sharded: true,
    unconditional: true,
  });
  const fanOut = {
    taskInfo: { name: names.fanOut },
    componentRef: { name: `comp-${names.fanOut}` },
    dependentTasks: [...node.upstream, names.plan],
    inputs: {
      parameters: {
        [items]: { taskOutputParameter: { producerTask: names.plan, outputParameterKey: SHARDS_OUTPUT } },
        ...Object.fromEntries(forwarded.map((p) => [channel(p), { componentInputParameter: channel(p) }])),
      },
      ...(artifactChannels.length ? { artifacts: Object.fromEntries(artifactChannels.map((a) => [a.channel, fromTask(a.channel, a.producer, a.port)])) } : {}),
    },
    parameterIterator: { itemInput: item, items: { inputParameter: items } },
    ...(node.conditions.length ? { triggerPolicy: { condition: node.conditions.map((c) => celCondition(c, plan)).join(' && ') } } : {}),
  };
  return {
    components: {
      [`comp-${names.plan}`]: { ...planSpec, executorLabel: `exec-${names.plan}`, outputDefinitions: { ...(planSpec.outputDefinitions as Json), parameters: { [SHARDS_OUTPUT]: { parameterType: 'LIST' } } } },
      [`comp-${names.fanOut}`]: {
        dag: { tasks: { [names.shard]: shardTask } },
        inputDefinitions: {
          parameters: {
            [items]: { parameterType: 'LIST' },
            [item]: { parameterType: 'STRING' },
            ...Object.fromEntries(forwarded.map((p) => [channel(p), { parameterType: plan.parameters[p].type, ...(plan.parameters[p].optional ? { isOptional: true } : {}) }])),
          },
          ...(artifactChannels.length ? { artifacts: Object.fromEntries(artifactChannels.map((a) => [a.channel, producerTypes(a.producer, a.port)])) } : {}),
        },
      },
      [`comp-${names.shard}`]: {
        ...shardSpec,
        executorLabel: `exec-${names.shard}`,
        inputDefinitions: { ...(shardSpec.inputDefinitions as Json), parameters: { ...((shardSpec.inputDefinitions as Json).parameters as Json), [SHARD_INPUT]: { parameterType: 'STRING' } } },
      },
      [`comp-${node.id}`]: { ...planSpec, executorLabel: `exec-${node.id}` },
    },
    executors: {
      [`exec-${names.plan}`]: {
        container: { image: opts.image, command: shardCommand(node, 'plan'), args: ['{{$}}', ...planArgs(node, dir, `{{$.outputs.parameters['${SHARDS_OUTPUT}'].output_file}}`), ...cloud], ...env },
      },
      // Shards are not executions: no metadata store, no cloud step flags.
      [`exec-${names.shard}`]: { container: { image, command: shardCommand(node, 'run'), args: ['{{$}}', ...shardRunArgs(dir, inputParameter(SHARD_INPUT))], ...withResources } },
      [`exec-${node.id}`]: { container: { image, command: shardCommand(node, 'merge'), args: ['{{$}}', ...mergeArgs(dir), ...cloud], ...env, ...withResources } },
    },
    tasks: {
      [names.plan]: task(node, plan, cloudSteps, { name: names.plan, sharded: true }),
      [names.fanOut]: fanOut,
      [node.id]: task(node, plan, cloudSteps, { dependentTasks: [...node.upstream, names.fanOut], sharded: true }),
    },
  };
}

/** The CEL KFP's compiler writes: numbers are cast as their parameter type, strings single-quoted. */
function celCondition(c: ParamCondition, plan: CompiledPipeline): string {
  const ref = `inputs.parameter_values['${channel(c.param)}']`;
  const type = plan.parameters[c.param].type;
  if (typeof c.value === 'string') return `${ref} ${c.op} '${c.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof c.value === 'number') {
    const cast = type === 'NUMBER_INTEGER' && Number.isInteger(c.value) ? 'int' : 'double';
    return `${cast}(${ref}) ${c.op} ${cast === 'double' && Number.isInteger(c.value) ? c.value.toFixed(1) : c.value}`;
  }
  return `${ref} ${c.op} ${c.value}`;
}
