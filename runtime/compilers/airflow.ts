// Compiles a pipeline to an Airflow 2 DAG file for Cloud Composer: one KubernetesPodOperator per node in
// Composer's user-workloads namespace (GKEStartPodOperator on another cluster for GPU/TPU nodes), `>>`
// dependencies, DAG params from the pipeline parameters and a ShortCircuitOperator in front of conditional nodes.
// Each pod runs `mlp component run` with an ExecutorInput rendered by Jinja: `{{ run_id }}` in the artifact
// URIs, `{{ params.x | tojson }}` for parameters, and the properties upstream steps reported through XCom.
// A container component's pod runs in its own image through the step wrapper (container-step.ts).
// A last task, once every node is done however it ended, writes the run's `run_finished` line (MlMonitoring's
// failed-run alert) and fails when the run failed, so the DAG run's state stays that of the nodes.

import { UserError } from '../core/errors';
import { isContainerComponent } from '../components/container/spec';
import { CLOUD_SQL_PROXY_IMAGE } from './argo';
import { containerStep, WRAPPER_COPY_COMMAND, WRAPPER_ROOT, WRAPPER_VOLUME } from './container-step';
import { jinjaText, jsonWithoutTagStarts, k8sEnvRef, k8sLiteral } from './k8s-args';
import { isSharded, mergeArgs, planArgs, refuseShardStepClashes, shardCommand, shardRunArgs, shardsDir, shardStepNames } from './sharded-steps';
import { checkImages, refuseRequiredParamsWhenScheduled, cloudSqlProxyArgs, cloudStepArgs, componentCommand, PASSWORD_ENV, type SecretKeyRef, refuseReservedIds, runFinishedCommand, RUN_FINISHED_REQUESTS, RUN_FINISHED_STEP, imageFor, executorInputTemplate, podPlacement, requireMetadataForResolvers, type CompiledNode, type CompiledPipeline, type ParamCondition, type ParameterInfo, type ParameterType } from './common';

export interface AirflowOptions {
  image: string;
  /** Image of steps with GPUs (the runtime's gpu target). @default image */
  gpuImage?: string;
  pipelineRoot: string;
  /** Per-step execution_timeout in seconds. */
  stepTimeoutSeconds: number;
  /** Whole-run dagrun_timeout in seconds. */
  deadlineSeconds?: number;
  /** Cron expression; without it the DAG runs only when triggered. */
  schedule?: string;
  /** PROJECT/LOCATION/CLUSTER of the GKE cluster with GPU/TPU node pools, for nodes that need accelerators. */
  gkeCluster?: string;
  /** The pipeline's namespace on that cluster, where GPU/TPU pods run (required with such nodes). */
  namespace?: string;
  /**
   * The pipeline's Kubernetes service account in that namespace (bound to its Google service account by workload
   * identity, which the Cloud SQL proxy logs in as): required with GPU/TPU nodes.
   */
  serviceAccount?: string;
  /**
   * Cloud SQL instance connection name (project:region:instance) of the metadata store: each pod gets a Cloud
   * SQL Auth Proxy as a native sidecar (an init container that keeps running; GKE ≥ 1.29) and runs as a cloud
   * step recording to the store.
   */
  cloudsqlInstance?: string;
  /** The IAM database user of the pods' service account, or the database user of metadataPasswordSecret. */
  metadataUser?: string;
  metadataDatabase?: string;
  /**
   * The Kubernetes Secret key holding metadataUser's password (env PGPASSWORD of each pod; the Secret must exist
   * in the pods' namespace, on --gke-cluster too).
   * @default - no password: the proxy logs in as the pod's service account (--auto-iam-authn)
   */
  metadataPasswordSecret?: SecretKeyRef;
}

/** Composer 3 runs KubernetesPodOperator pods here, with this kube config. */
export const COMPOSER_NAMESPACE = 'composer-user-workloads';
const COMPOSER_KUBE_CONFIG = '/home/airflow/composer_kube_config';
/**
 * The run's id in the metadata store and the run_finished line: Airflow's run_id is unique only within its DAG,
 * so it is qualified by the pipeline (as the steps and the last task must agree, as they do on Argo and KFP).
 */
const runId = (plan: CompiledPipeline) => `${plan.name}:{{ run_id }}`;
/** The operator arguments that put a pod on Composer's own cluster. */
const composerPod = [`        namespace=${py(COMPOSER_NAMESPACE)},`, `        config_file=${py(COMPOSER_KUBE_CONFIG)},`, '        kubernetes_conn_id="kubernetes_default",'];

/** The JSON Schema type of each KFP parameter type (also how `--param` text for a compiled pipeline is read). */
export const PARAM_JSON_TYPE: Record<ParameterType, string> = {
  STRING: 'string',
  NUMBER_INTEGER: 'integer',
  NUMBER_DOUBLE: 'number',
  BOOLEAN: 'boolean',
  LIST: 'array',
  STRUCT: 'object',
};

export function compileAirflow(plan: CompiledPipeline, opts: AirflowOptions): string {
  checkImages(opts);
  requireMetadataForResolvers(plan, !!opts.cloudsqlInstance, 'pass --cloudsql-instance and --metadata-user');
  refuseReservedIds(plan, [RUN_FINISHED_STEP], 'Airflow');
  refuseShardStepClashes(plan, 'Airflow');
  // Distributed steps (issue 19 §5): Argo runs them as a JobSet on GKE and Vertex AI as a CustomJob; a DAG does not.
  for (const node of plan.nodes) {
    const c = node.component;
    if (isContainerComponent(c) && (c.container.distribution || c.container.tpu)) {
      throw new UserError(`node ${node.id}: container component ${c.name} is a distributed step (${c.container.tpu ? 'tpu' : 'distribution'}), which the Composer (Airflow) target does not run; compile with --target argo (a JobSet on GKE) or --target kfp (a Vertex AI CustomJob)`);
    }
  }
  refuseRequiredParamsWhenScheduled(plan, opts.schedule, 'Airflow does not load a scheduled DAG with required params');
  const accelerated = plan.nodes.filter((n) => n.resources?.accelerator || n.resources?.tpu);
  const gke = accelerated.length ? gkeCluster(opts, accelerated) : undefined;
  const lines: string[] = [
    `"""${plan.name}: ${(plan.description ?? 'an mlp pipeline').replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"')}`,
    '',
    `Generated by \`mlp compile ${plan.name} --target airflow\`; recompile instead of editing.`,
    '"""',
    '',
    'from datetime import timedelta',
    '',
    'import pendulum',
    'from airflow import DAG',
    'from airflow.models.param import Param',
    ...(plan.nodes.some((n) => n.conditions.length) ? ['from airflow.operators.python import ShortCircuitOperator'] : []),
    'from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator',
    ...(opts.cloudsqlInstance && opts.metadataPasswordSecret ? ['from airflow.providers.cncf.kubernetes.secret import Secret'] : []),
    ...(gke ? ['from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator'] : []),
    'from kubernetes.client import models as k8s',
    '',
    `IMAGE = ${py(opts.image)}`,
    ...(opts.gpuImage && plan.nodes.some((n) => !isContainerComponent(n.component) && imageFor(n, opts.image, opts.gpuImage) !== opts.image) ? [`GPU_IMAGE = ${py(opts.gpuImage)}`] : []),
    '',
    'with DAG(',
    `    dag_id=${py(plan.name)},`,
    ...(plan.description ? [`    description=${py(plan.description)},`] : []),
    `    schedule=${opts.schedule ? py(opts.schedule) : 'None'},`,
    '    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),',
    '    catchup=False,',
    // One run at a time: runs write the same artifact layout and share the metadata store.
    '    max_active_runs=1,',
    ...(opts.deadlineSeconds !== undefined ? [`    dagrun_timeout=timedelta(seconds=${opts.deadlineSeconds}),`] : []),
    '    params={',
    ...Object.entries(plan.parameters).map(([name, p]) => `        ${py(name)}: ${param(p)},`),
    '    },',
    '    tags=["mlp"],',
    ') as dag:',
  ];
  for (const node of plan.nodes) lines.push(...operator(plan, node, opts, gke), '');
  lines.push(...runFinishedOperator(plan), '');
  for (const node of plan.nodes) {
    // A sharded node starts at its plan task; the shard task follows it (its expand reads the plan's XCom).
    const first = isSharded(node) ? task({ id: shardStepNames(node.id).plan }) : task(node);
    if (node.conditions.length) lines.push(`    ${gate(node)} >> ${first}`);
    // The gate skips the merge itself too, which runs after a skipped (empty) fan-out.
    if (node.conditions.length && isSharded(node)) lines.push(`    ${gate(node)} >> ${task(node)}`);
    // The merge follows the plan directly too: its trigger rule runs it after a successful plan whose fan-out was
    // empty, but not when the plan was skipped (an upstream node skipped), where it would find no plan.
    if (isSharded(node)) lines.push(`    ${task({ id: shardStepNames(node.id).plan })} >> ${task(node)}`, `    ${task({ id: shardStepNames(node.id).shard })} >> ${task(node)}`);
    for (const up of node.upstream) lines.push(`    ${task({ id: up })} >> ${node.conditions.length ? gate(node) : first}`);
  }
  // Downstream of every node's task but of no gate: a gate skips its direct downstream tasks.
  for (const node of plan.nodes) lines.push(`    ${task(node)} >> ${task({ id: RUN_FINISHED_STEP })}`);
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/**
 * A DAG param. Without a default value Airflow 2.10's Param is required (a run without it fails validation), so
 * an optional parameter without a default gets None and "null" among its types.
 */
function param(p: ParameterInfo): string {
  const args = p.default !== undefined ? [py(p.default), `type=${py(PARAM_JSON_TYPE[p.type])}`] : p.optional ? ['None', `type=${py([PARAM_JSON_TYPE[p.type], 'null'])}`] : [`type=${py(PARAM_JSON_TYPE[p.type])}`];
  if (p.description) args.push(`description=${py(p.description)}`);
  return `Param(${args.join(', ')})`;
}

interface GkeTarget {
  project: string;
  location: string;
  cluster: string;
  namespace: string;
  serviceAccount: string;
}

/** Where GPU/TPU pods run: never the cluster's `default` namespace and service account, which are not the pipeline's identity. */
function gkeCluster(opts: AirflowOptions, nodes: CompiledNode[]): GkeTarget {
  const parts = opts.gkeCluster?.split('/') ?? [];
  if (parts.length !== 3 || parts.some((p) => !p)) {
    throw new UserError(`node ${nodes[0].id} needs GPUs or TPUs, which Composer's own cluster does not have: pass --gke-cluster PROJECT/LOCATION/CLUSTER`);
  }
  if (!opts.namespace || !opts.serviceAccount) {
    throw new UserError(
      `node ${nodes[0].id} runs on --gke-cluster ${opts.gkeCluster}: pass --namespace and --service-account, the pipeline's namespace and Kubernetes service account there (its pods would otherwise run as "default", not the pipeline's identity)`,
    );
  }
  return { project: parts[0], location: parts[1], cluster: parts[2], namespace: opts.namespace, serviceAccount: opts.serviceAccount };
}

// Suffixed, so no node id (`if`, `import`, `dag`) clashes with a Python keyword or a name the file defines.
const pyName = (id: string) => id.replace(/-/g, '_');
const task = (node: { id: string }) => `${pyName(node.id)}_task`;
const gate = (node: CompiledNode) => `${pyName(node.id)}_when`;

/** How a pod of a node differs from its plain `mlp component run` pod (a sharded node's plan, shard and merge). */
interface PodVariant {
  taskId: string;
  command: string[];
  /** Arguments after the ExecutorInput. */
  args: string[];
  /** The node's resources and GPU/TPU placement. @default true */
  placement?: boolean;
  /** The Cloud SQL proxy and MLP_METADATA, when the DAG has a metadata store. @default true */
  metadata?: boolean;
  /** The pod's ExecutorOutput (or what it writes to --out) is its XCom. @default true */
  xcom?: boolean;
  trigger?: string;
  /** The task is mapped: `.partial(...)` of these arguments, then this `.expand(...)`. */
  expand?: string;
}

function operator(plan: CompiledPipeline, node: CompiledNode, opts: AirflowOptions, gke?: GkeTarget): string[] {
  const out: string[] = [];
  if (node.conditions.length) {
    out.push(
      // Skipping the gate skips this node, and its dependents (all_success) in turn, as the local runner does;
      // not every task downstream, so the run_finished task (all_done) still runs.
      `    ${gate(node)} = ShortCircuitOperator(`,
      `        task_id=${py(`${node.id}-when`)},`,
      `        python_callable=lambda params: ${node.conditions.map(pyCondition).join(' and ')},`,
      '        ignore_downstream_trigger_rules=False,',
      '    )',
    );
  }
  if (!isSharded(node)) return [...out, ...pod(plan, node, opts, gke)];
  // A sharded node (runtime/core/sharding.ts): the plan pod returns the shard items as its XCom; the shard task is
  // mapped over them (dynamic task mapping, one pod per item, all at once); the merge pod, under the node's own
  // task id, publishes the outputs and returns the ExecutorOutput, so dependents read it as from any node. When the
  // plan finds the outputs cached it returns [], Airflow skips the mapped task, and the merge hands on the cached
  // outputs: none_failed_min_one_success, with the plan among its upstream tasks, runs it after the plan succeeded
  // and no shard failed, and skips it with the plan (plain none_failed would run it on no plan at all). Each
  // shard's item reaches its arguments through the pod's env ($(MLP_SHARD), which Kubernetes expands): the expanded
  // values come from XCom, which Airflow does not render as templates, while the ExecutorInput in the partial
  // arguments must be rendered.
  const names = shardStepNames(node.id);
  // Rendered (partial arguments): Jinja's escape too. The env of a shard comes from expand, which is not rendered
  // ("If a field is marked as being templated and is mapped, it will not be templated": Airflow's dynamic task
  // mapping docs), so its MLP_PIPELINE_ROOT has the kubelet's escape only.
  const dir = shardsDir(jinjaText(k8sLiteral(opts.pipelineRoot)), plan, node, '{{ run_id }}');
  const cloud = opts.cloudsqlInstance ? cloudStepArgs(plan, node, runId(plan)) : [];
  const shardEnv = `lambda shard: {**${py({ MLP_PIPELINE_ROOT: k8sLiteral(opts.pipelineRoot) })}, ${py(SHARD_ENV)}: shard}`;
  return [
    ...out,
    ...pod(plan, node, opts, gke, { taskId: names.plan, command: shardCommand(node, 'plan'), args: [...planArgs(node, dir, XCOM_FILE), ...cloud], placement: false }),
    ...pod(plan, node, opts, gke, {
      taskId: names.shard,
      command: shardCommand(node, 'run'),
      args: shardRunArgs(dir, k8sEnvRef(SHARD_ENV)),
      metadata: false,
      xcom: false,
      expand: `env_vars=${task({ id: names.plan })}.output.map(${shardEnv})`,
    }),
    ...pod(plan, node, opts, gke, { taskId: node.id, command: shardCommand(node, 'merge'), args: [...mergeArgs(dir), ...cloud], trigger: 'none_failed_min_one_success' }),
  ];
}

/** The shard's item ("i/N") in a shard pod's env. */
const SHARD_ENV = 'MLP_SHARD';
/** KubernetesPodOperator's do_xcom_push returns this file as the task's XCom. */
const XCOM_FILE = '/airflow/xcom/return.json';

/**
 * A Jinja expression rendered into a pod's args at run time (values given when the DAG run is triggered, or another
 * task's XCom): every `$` doubled as k8sLiteral does, so the kubelet's `$(VAR)` expansion hands the value on unchanged.
 */
const podValue = (expr: string) => `{{ ${expr} | replace("$", "$$") }}`;

function pod(plan: CompiledPipeline, node: CompiledNode, opts: AirflowOptions, gke: GkeTarget | undefined, variant?: PodVariant): string[] {
  const executorInput = executorInputTemplate(plan, node, opts.pipelineRoot, {
    runId: '{{ run_id }}',
    param: (name) => podValue(`params.${name} | tojson`),
    upstreamMetadata: (producer, port) => podValue(`ti.xcom_pull(task_ids=${py(producer)})["artifacts"][${py(port)}]["artifacts"][0]["metadata"] | tojson`),
    upstreamUri: (producer, port) => podValue(`ti.xcom_pull(task_ids=${py(producer)})["artifacts"][${py(port)}]["artifacts"][0]["uri"] | tojson`),
    outputFile: XCOM_FILE,
    // JSON text: no Jinja tag start in it, every `$` doubled for the kubelet.
    literal: (text) => k8sLiteral(jsonWithoutTagStarts(text)),
  });
  const placed = variant?.placement !== false;
  const metadata = !!opts.cloudsqlInstance && variant?.metadata !== false;
  const accelerated = placed && !!(node.resources?.accelerator || node.resources?.tpu);
  const { requests, limits, nodeSelector, tolerations } = placed ? podPlacement(node) : { requests: {}, limits: {}, nodeSelector: {}, tolerations: [] };
  const wrapper = containerStep(node, 'airflow');
  const taskId = variant?.taskId ?? node.id;
  const mount = `k8s.V1VolumeMount(name=${py(WRAPPER_VOLUME)}, mount_path=${py(WRAPPER_ROOT)})`;
  const initContainers = [
    // The runtime copied into the shared volume before the step's container starts in the component's image.
    ...(wrapper ? [`k8s.V1Container(name="mlp-runtime", image=IMAGE, command=${py(WRAPPER_COPY_COMMAND)}, volume_mounts=[${mount}])`] : []),
    ...(metadata ? [cloudSqlProxySidecar(opts.cloudsqlInstance!, opts.metadataPasswordSecret)] : []),
  ];
  return [
    `    ${task({ id: taskId })} = ${accelerated ? 'GKEStartPodOperator' : 'KubernetesPodOperator'}${variant?.expand ? '.partial' : ''}(`,
    `        task_id=${py(taskId)},`,
    `        name=${py(`${plan.name}-${taskId}`.slice(0, 63))},`,
    ...(accelerated
      ? [`        project_id=${py(gke!.project)},`, `        location=${py(gke!.location)},`, `        cluster_name=${py(gke!.cluster)},`, `        namespace=${py(gke!.namespace)},`, `        service_account_name=${py(gke!.serviceAccount)},`]
      : composerPod),
    `        image=${wrapper ? py(wrapper.image) : placed && imageFor(node, opts.image, opts.gpuImage) !== opts.image ? 'GPU_IMAGE' : 'IMAGE'},`,
    `        cmds=${py(wrapper?.command ?? variant?.command ?? componentCommand(node.component.name))},`,
    `        arguments=${py([executorInput, ...(wrapper?.specArgs ?? []), ...(variant?.args ?? (opts.cloudsqlInstance ? cloudStepArgs(plan, node, runId(plan)) : []))])},`,
    // A mapped task's env comes from its expand.
    // Env values are rendered by Jinja (env_vars is a templated field) and expanded as args are.
    ...(variant?.expand ? [] : [`        env_vars=${py(Object.fromEntries(Object.entries({ ...wrapper?.env, MLP_PIPELINE_ROOT: opts.pipelineRoot, ...(metadata ? { MLP_METADATA: metadataAddress(opts) } : {}) }).map(([k, v]) => [k, jinjaText(k8sLiteral(v))])))},`]),
    ...(metadata && opts.metadataPasswordSecret ? [`        secrets=[${secretEnv(opts.metadataPasswordSecret)}],`] : []),
    ...(initContainers.length ? [`        init_containers=[${initContainers.join(', ')}],`] : []),
    ...(wrapper ? [`        volumes=[k8s.V1Volume(name=${py(WRAPPER_VOLUME)}, empty_dir=k8s.V1EmptyDirVolumeSource())],`, `        volume_mounts=[${mount}],`] : []),
    ...(node.retry
      ? [
          `        retries=${node.retry.maxRetries},`,
          `        retry_delay=timedelta(seconds=${node.retry.backoffSeconds}),`,
          // Airflow's backoff doubles the delay; other factors cannot be expressed.
          `        retry_exponential_backoff=${node.retry.backoffFactor > 1 ? 'True' : 'False'},`,
          `        max_retry_delay=timedelta(seconds=${node.retry.maxBackoffSeconds}),`,
        ]
      : ['        retries=0,']),
    `        execution_timeout=timedelta(seconds=${opts.stepTimeoutSeconds}),`,
    ...(Object.keys(requests).length || Object.keys(limits).length
      ? [`        container_resources=k8s.V1ResourceRequirements(requests=${py(requests)}, limits=${py(limits)}),`]
      : []),
    ...(Object.keys(nodeSelector).length ? [`        node_selector=${py(nodeSelector)},`] : []),
    ...(tolerations.length
      ? [`        tolerations=[${tolerations.map((t) => `k8s.V1Toleration(key=${py(t.key)}, operator=${py(t.operator)}, effect=${py(t.effect)})`).join(', ')}],`]
      : []),
    ...(variant?.trigger ? [`        trigger_rule=${py(variant.trigger)},`] : []),
    `        do_xcom_push=${variant?.xcom === false ? 'False' : 'True'},`,
    '        get_logs=True,',
    '        on_finish_action="delete_pod",',
    `    )${variant?.expand ? `.expand(${variant.expand})` : ''}`,
  ];
}

/**
 * The last task: once every node is done, however it ended, writes the run's `run_finished` line from the
 * task instances' states, and fails when the run failed (it is the DAG's only leaf, so it decides the DAG
 * run's state, which stays that of the nodes). A run stopped by dagrun_timeout never reaches it.
 */
function runFinishedOperator(plan: CompiledPipeline): string[] {
  const status = "{{ 'FAILED' if dag_run.get_task_instances(state=['failed', 'upstream_failed']) else 'COMPLETE' }}";
  const { command, args } = runFinishedCommand(plan, runId(plan));
  return [
    `    ${task({ id: RUN_FINISHED_STEP })} = KubernetesPodOperator(`,
    `        task_id=${py(RUN_FINISHED_STEP)},`,
    `        name=${py(`${plan.name}-${RUN_FINISHED_STEP}`.slice(0, 63))},`,
    ...composerPod,
    '        image=IMAGE,',
    `        cmds=${py(command)},`,
    `        arguments=${py([...args, '--status', status, '--started', '{{ dag_run.start_date.isoformat() }}', '--fail-on-failed'])},`,
    '        trigger_rule="all_done",',
    '        retries=0,',
    '        execution_timeout=timedelta(seconds=600),',
    `        container_resources=k8s.V1ResourceRequirements(requests=${py(RUN_FINISHED_REQUESTS)}),`,
    '        get_logs=True,',
    '        on_finish_action="delete_pod",',
    '    )',
  ];
}

/** The metadata store through the proxy on the pod's loopback, as the IAM database user (no password). */
function metadataAddress(opts: AirflowOptions): string {
  return `postgres://${encodeURIComponent(opts.metadataUser!)}@127.0.0.1:5432/${opts.metadataDatabase ?? 'mlmd'}`;
}

/**
 * The Cloud SQL Auth Proxy as a Kubernetes native sidecar: an init container with restartPolicy Always starts
 * before the step's container and is stopped after it, so the pod completes (KubernetesPodOperator has no
 * sidecar argument; needs GKE ≥ 1.29 and a kubernetes client that knows restart_policy on containers).
 */
function cloudSqlProxySidecar(instance: string, passwordSecret?: SecretKeyRef): string {
  return [
    'k8s.V1Container(',
    'name="cloud-sql-proxy", ',
    `image=${py(CLOUD_SQL_PROXY_IMAGE)}, `,
    `args=${py(cloudSqlProxyArgs(instance, passwordSecret).map(k8sLiteral))}, `,
    'restart_policy="Always", ',
    'security_context=k8s.V1SecurityContext(run_as_non_root=True, allow_privilege_escalation=False), ',
    `resources=k8s.V1ResourceRequirements(requests=${py({ cpu: '100m', memory: '128Mi' })})`,
    ')',
  ].join('');
}

/** The password as the pod's PGPASSWORD, from a key of a Kubernetes Secret (never in the DAG file). */
function secretEnv(secret: SecretKeyRef): string {
  return `Secret("env", ${py(PASSWORD_ENV)}, ${py(secret.name)}, ${py(secret.key)})`;
}

function pyCondition(c: ParamCondition): string {
  // The DSL's operators are spelled as in Python.
  return `params[${py(c.param)}] ${c.op} ${py(c.value)}`;
}

/** A Python literal for a JSON value (JSON strings are valid Python strings; true/false/null are not). */
export function py(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `float(${py(String(value))})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(py).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${py(v)}`).join(', ')}}`;
}
