// A distributed container step on Argo (issue 19 §3): a JobSet (jobset.x-k8s.io/v1alpha2) queued by Kueue and
// created by an Argo resource template, which succeeds or fails with the JobSet's terminal state. One replicated
// job, an Indexed Job of one pod per worker; JobSet's headless service gives every pod a DNS name, so rank 0's pod
// (`<jobset>-rank-0-0.<jobset>`) is the coordinator. Every pod runs the container step wrapper (container-step.ts)
// in the component's image: worker 0 with the node's ExecutorInput and the cloud step arguments (cache, claim,
// atomic publish and the metadata store record, as any Argo step), the other workers with outputs under a scratch
// root on the pod's own disk. One process per pod, or with processesPerWorker M > 1 the wrapper's launcher
// (runner/distributed-launch.ts, as locally) starts the pod's M ranks, NODE_RANK × M + LOCAL_RANK. The Job succeeds once index 0 has (Job successPolicy), so a cache hit
// of rank 0 ends the JobSet and the other ranks are stopped.
// A resource template's output parameters come from the resource it created, not from a file, so the step's
// ExecutorOutput travels through the pipeline root: rank 0's step also creates it (exclusively) at
// executorOutputUri, and a read-back step after the JobSet, under the node's own task name, makes it the
// `executor-output` output parameter dependents read, as from any step.
// Attempts: Argo's retryStrategy retries the resource step with a new JobSet, while a failed JobSet's rank 0 may
// already have published its outputs and ExecutorOutput (another rank or the JobSet failed later), or may still be
// finishing. So every attempt writes under its own JobSet's name (Kubernetes expands $(MLP_JOBSET_NAME) in the
// pod's args): its outputs at <run>/<jobset> and its ExecutorOutput at <run>/<jobset>.json. No two attempts write
// the same object, each object is still created exclusively, and the read-back step reads the ExecutorOutput of the
// JobSet Argo saw complete (the resource step's `jobset` output parameter, the JobSet's name). With the metadata
// store, an attempt after one whose rank 0 completed is a cache hit on it (same cache key), so the retry hands on
// the outputs the earlier attempt committed instead of training again.

import { Document, isScalar, visit } from 'yaml';
import { UserError } from '../core/errors';
import { checkWorkerGpus, CLUSTER_WORKER_ENV, type RankLayout } from '../components/container/distribution';
import { isContainerComponent, type ContainerComponent } from '../components/container/spec';
import { containerStep, WRAPPER_COPY_COMMAND, WRAPPER_ROOT, WRAPPER_VOLUME } from './container-step';
import { argoText, k8sEnvRef, k8sLiteral } from './k8s-args';
import { distributedLayout, VERTEX_JAX_PORT, VERTEX_TORCH_PORT } from './vertex-custom-job';
import { podPlacement, type CompiledNode, type CompiledPipeline } from './common';

type Json = Record<string, unknown>;

/** The Kueue LocalQueue the cluster side creates in the pipelines namespace (constructs/training-scheduler.ts). */
export const DEFAULT_TRAINING_QUEUE = 'training';
/** The one replicated job: its pods are `<jobset>-rank-0-<index>`. */
export const REPLICATED_JOB = 'rank';
/** Where the ranks other than 0 write their outputs: the pod's own disk, gone with the pod. */
export const SCRATCH_ROOT = '/tmp/mlp-rank-scratch';
/** Rank 0 is the only process binding them, so the torchrun and JAX default ports are free on its pod. */
const TORCH_PORT = VERTEX_TORCH_PORT;
const JAX_PORT = VERTEX_JAX_PORT;
/** What the Indexed Job sets on each pod (its JOB_COMPLETION_INDEX) and JobSet labels each pod with. */
const INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
const JOBSET_NAME_FIELD = "metadata.labels['jobset.sigs.k8s.io/jobset-name']";
/** Contract variables set per pod; a component env naming one is refused. */
const CONTRACT_ENV = ['WORLD_SIZE', 'RANK', 'NODE_RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'JAX_COORDINATOR_ADDRESS', 'JAX_PROCESS_ID', 'JAX_NUM_PROCESSES', 'JOB_COMPLETION_INDEX', CLUSTER_WORKER_ENV];

/**
 * The pod's command: `sh -c RANK_SCRIPT mlp-rank INPUT0 INPUT_OTHER N CLOUD_ARGS(N)… STEP…`. Worker 0 (NODE_RANK 0)
 * runs STEP with the cloud arguments moved after it and INPUT0; any other worker drops them and runs STEP with INPUT_OTHER.
 */
export const RANK_SCRIPT = [
  'in0=$1; other=$2; n=$3; shift 3',
  'i=0',
  'while [ "$i" -lt "$n" ]; do',
  '  if [ "$NODE_RANK" = 0 ]; then set -- "$@" "$1"; fi',
  '  shift; i=$((i + 1))',
  'done',
  'if [ "$NODE_RANK" = 0 ]; then exec "$@" --executor-input "$in0"; else exec "$@" --executor-input "$other"; fi',
].join('\n');

export interface JobSetStepOptions {
  /** The runtime image, whose init container copies Node and the runtime into the pod. */
  runtimeImage: string;
  /** Rank 0's ExecutorInput (the node's real outputs) and the other ranks' (outputs under SCRATCH_ROOT). */
  executorInput: string;
  scratchExecutorInput: string;
  /** Rank 0's cloud step arguments (empty without a metadata store). */
  cloudArgs: string[];
  /** Where rank 0 creates the step's ExecutorOutput (executorOutputUri of the escaped root with JOBSET_NAME_VAR), for the read-back step. */
  executorOutputUri: string;
  /** The step's env (pipeline root, metadata store), as the other Argo steps get it (values escaped, k8s-args.ts). */
  env: Json[];
  /** The Cloud SQL Auth Proxy container, run as a native sidecar, when the pipeline has a metadata store. */
  proxy?: Json;
  /** Kueue LocalQueue. @default DEFAULT_TRAINING_QUEUE */
  queueName?: string;
  serviceAccount?: string;
  /** The Job's deadline (the step timeout). */
  activeDeadlineSeconds?: number;
}

/** The DAG task and template creating a distributed node's JobSet; the read-back step has the node's own name. */
export const jobSetStepName = (nodeId: string) => `${nodeId}-jobset`;

/** What Kubernetes expands, in a pod's command line, to its JobSet's name: each attempt's own key. */
export const JOBSET_NAME_VAR = k8sEnvRef('MLP_JOBSET_NAME');
/** The JobSet step's output parameter: the name of the JobSet it created (the attempt that completed). */
export const JOBSET_OUTPUT = 'jobset';
/** The resource step's outputs: the created JobSet's name, which the read-back step takes. */
export const JOBSET_OUTPUTS = { parameters: [{ name: JOBSET_OUTPUT, valueFrom: { jsonPath: '{.metadata.name}' } }] };

/** The run id in the URIs of rank 0's outputs: `<run>/<jobset>`, so no attempt writes where another did. */
export const attemptRunId = (runId: string): string => `${runId}/${JOBSET_NAME_VAR}`;

/** Where rank 0 of one attempt (JobSet `jobSet`) of a run creates the node's ExecutorOutput. */
export function executorOutputUri(pipelineRoot: string, plan: CompiledPipeline, node: CompiledNode, runId: string, jobSet: string): string {
  return `${pipelineRoot.replace(/\/+$/, '')}/${plan.name}/${node.id}/executor-output/${runId}/${jobSet}.json`;
}

/** Whether a node is a distributed container step (distribution or a TPU slice). */
export function isDistributedStep(node: CompiledNode): boolean {
  return distributedLayout(node) !== undefined;
}

/**
 * The node's pods' placement: the GPU, cpu and memory of its resources as any Argo step's, or the TPU slice's
 * node selectors and one host's chips, per GKE's multi-host TPU documentation
 * (https://cloud.google.com/kubernetes-engine/docs/how-to/tpus, "Run your workload on TPU slice nodes": a
 * multi-host slice is a JobSet / Indexed Job of one pod per host, each selecting `cloud.google.com/gke-tpu-accelerator`
 * and `cloud.google.com/gke-tpu-topology` and requesting `google.com/tpu` = the chips of one VM).
 */
function placement(node: CompiledNode, layout: RankLayout) {
  checkWorkerGpus(layout, node.resources?.accelerator, `node ${node.id}`);
  if (!layout.tpu) return podPlacement(node);
  if (node.resources?.tpu || node.resources?.accelerator) {
    throw new UserError(`node ${node.id}: a TPU slice step (tpu ${layout.tpu.version} ${layout.tpu.topology}) takes its TPUs from the slice; leave resources.tpu and resources.accelerator out`);
  }
  const out = podPlacement(node);
  const chips = String(layout.tpu.chipsPerVm);
  out.nodeSelector['cloud.google.com/gke-tpu-accelerator'] = layout.tpu.acceleratorLabel;
  out.nodeSelector['cloud.google.com/gke-tpu-topology'] = layout.tpu.topology;
  out.tolerations.push({ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' });
  out.requests['google.com/tpu'] = out.limits['google.com/tpu'] = chips;
  return out;
}

/**
 * The environment contract (distribution.ts) as each pod's env: per-pod values from the downward API. With
 * processesPerWorker > 1 the per-process names (RANK, LOCAL_RANK, JAX_PROCESS_ID) are the launcher's to set.
 */
function contractEnv(layout: RankLayout): Json[] {
  const index = { valueFrom: { fieldRef: { fieldPath: INDEX_FIELD } } };
  const perProcess = layout.processesPerWorker === 1
    ? [{ name: 'RANK', ...index }, { name: 'JAX_PROCESS_ID', ...index }, { name: 'LOCAL_RANK', value: '0' }]
    : [{ name: CLUSTER_WORKER_ENV, value: '1' }];
  return [
    { name: 'MLP_JOBSET_NAME', valueFrom: { fieldRef: { fieldPath: JOBSET_NAME_FIELD } } },
    { name: 'WORLD_SIZE', value: String(layout.worldSize) },
    { name: 'NODE_RANK', ...index },
    ...perProcess,
    { name: 'LOCAL_WORLD_SIZE', value: String(layout.processesPerWorker) },
    { name: 'JAX_NUM_PROCESSES', value: String(layout.worldSize) },
    // Kubernetes expands $(VAR) of variables defined earlier in the list.
    { name: 'MASTER_ADDR', value: `${JOBSET_NAME_VAR}-${REPLICATED_JOB}-0-0.${JOBSET_NAME_VAR}` },
    { name: 'MASTER_PORT', value: String(TORCH_PORT) },
    { name: 'JAX_COORDINATOR_ADDRESS', value: `${k8sEnvRef('MASTER_ADDR')}:${JAX_PORT}` },
  ];
}

/** A DNS-1035 prefix for the JobSet's generated name, short enough for its pods' hostnames (≤ 63). */
function namePrefix(nodeId: string): string {
  const id = nodeId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 26).replace(/^-+|-+$/g, '');
  return `mlp-${id ? `${id}-` : ''}`;
}

/**
 * The JobSet of a distributed step, as an object (placeholders of the engine left in its strings). Refused: a
 * component env naming a contract variable, GPUs per worker its processes cannot share evenly, and another node
 * named as the JobSet step (jobSetStepName).
 */
export function jobSetManifest(plan: CompiledPipeline, node: CompiledNode, opts: JobSetStepOptions): Json {
  const layout = distributedLayout(node);
  const c = node.component;
  if (!layout || !isContainerComponent(c)) throw new Error(`node ${node.id} is not a distributed container step`);
  const where = `node ${node.id}`;
  const clash = Object.keys(c.container.env).find((k) => CONTRACT_ENV.includes(k));
  if (clash) throw new UserError(`${where}: container component ${c.name} sets env ${clash}, which a distributed step's pods get from the JobSet`);
  const taken = plan.nodes.find((n) => n.id === jobSetStepName(node.id));
  if (taken) throw new UserError(`${where}: node ${taken.id} has the name of distributed step ${node.id}'s JobSet step on Argo; rename one of them`);
  // Each pod is one worker: with one process, the wrapper gets the step spec without distribution and runs it; with
  // more, the spec keeps it and the wrapper's launcher starts the pod's ranks (CLUSTER_WORKER_ENV).
  const onePod: ContainerComponent = {
    ...c,
    container: { ...c.container, distribution: layout.processesPerWorker === 1 ? undefined : c.container.distribution, tpu: undefined },
  };
  const wrapper = containerStep({ ...node, component: onePod }, 'argo')!;
  const step = wrapper.command.at(-1) === '--executor-input' ? wrapper.command.slice(0, -1) : undefined;
  if (!step) throw new Error(`container step command of ${node.id} does not end with --executor-input`);
  const { requests, limits, nodeSelector, tolerations } = placement(node, layout);
  const mount = { name: WRAPPER_VOLUME, mountPath: WRAPPER_ROOT };
  const rank0Args = [...opts.cloudArgs, '--executor-output-uri', opts.executorOutputUri];
  const pod: Json = {
    restartPolicy: 'Never',
    ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    volumes: [{ name: WRAPPER_VOLUME, emptyDir: {} }],
    initContainers: [
      { name: 'mlp-runtime', image: opts.runtimeImage, command: WRAPPER_COPY_COMMAND, volumeMounts: [mount], resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      // A native sidecar (restartPolicy Always): it runs beside the main container and does not keep the pod alive.
      ...(opts.proxy ? [{ ...opts.proxy, restartPolicy: 'Always' }] : []),
    ],
    containers: [
      {
        name: 'main',
        image: wrapper.image,
        command: ['sh', '-c', k8sLiteral(RANK_SCRIPT), 'mlp-rank'],
        args: [opts.executorInput, opts.scratchExecutorInput, String(rank0Args.length), ...rank0Args, ...step, ...wrapper.specArgs],
        // opts.env's values are escaped already; the contract's references are deliberate.
        env: [...Object.entries(wrapper.env).map(([name, value]) => ({ name, value: k8sLiteral(argoText(value, `node ${node.id}: env ${name}`)) })), ...opts.env, ...contractEnv(layout)],
        volumeMounts: [mount],
        ...(Object.keys(requests).length || Object.keys(limits).length
          ? { resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) } }
          : {}),
      },
    ],
  };
  const queue = opts.queueName ?? DEFAULT_TRAINING_QUEUE;
  // A LocalQueue's name as a label value: a DNS-1123 label.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(queue) || queue.length > 63) throw new UserError(`--training-queue "${queue}" is not a Kueue LocalQueue name (lowercase letters, digits and '-', at most 63)`);
  const labels = { 'mlp/pipeline': plan.name, 'mlp/node': node.id, 'mlp/component': c.name };
  return {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    metadata: {
      generateName: namePrefix(node.id),
      labels: { ...labels, 'kueue.x-k8s.io/queue-name': queue },
      // A slice's pods on one node pool (one slice), as GKE's and JobSet's TPU examples do.
      ...(layout.tpu ? { annotations: { 'alpha.jobset.sigs.k8s.io/exclusive-topology': 'cloud.google.com/gke-nodepool' } } : {}),
    },
    spec: {
      // Pods resolve as <jobset>-rank-0-<index>.<jobset> (the subdomain defaults to the JobSet's name), also before they are ready.
      network: { enableDNSHostnames: true, publishNotReadyAddresses: true },
      // A failed rank fails the step; Argo's retryStrategy (a new JobSet) is the one retry mechanism.
      failurePolicy: { maxRestarts: 0 },
      replicatedJobs: [
        {
          name: REPLICATED_JOB,
          replicas: 1,
          template: {
            metadata: { labels },
            spec: {
              parallelism: layout.workers,
              completions: layout.workers,
              completionMode: 'Indexed',
              backoffLimit: 0,
              // Rank 0 decides: done when it is (a cache hit ends the step without the others).
              successPolicy: { rules: [{ succeededIndexes: '0' }] },
              ...(opts.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: opts.activeDeadlineSeconds } : {}),
              template: { metadata: { labels }, spec: pod },
            },
          },
        },
      ],
    },
  };
}

/**
 * The manifest as Argo gets it: YAML in which every string carrying an Argo placeholder is a literal block, so
 * what Argo substitutes (JSON with quotes and backslashes) stays that string.
 */
export function manifestYaml(manifest: Json): string {
  const doc = new Document(manifest);
  visit(doc, {
    Scalar(_, node) {
      if (isScalar(node) && typeof node.value === 'string' && node.value.includes('{{')) node.type = 'BLOCK_LITERAL';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** The resource template's `resource`: create the JobSet, owned by the workflow, done at its terminal state. */
export function jobSetResource(plan: CompiledPipeline, node: CompiledNode, opts: JobSetStepOptions): Json {
  return {
    action: 'create',
    setOwnerReference: true,
    // JobSet's status.terminalState is set once the JobSet has finished: Completed or Failed.
    successCondition: 'status.terminalState == Completed',
    failureCondition: 'status.terminalState == Failed',
    manifest: manifestYaml(jobSetManifest(plan, node, opts)),
  };
}
