// TrainingScheduler: the engines that run distributed training steps on the platform cluster - JobSet (groups of
// indexed Jobs with a headless service) and Kueue (quota and admission) from their upstream Helm charts at pinned
// versions - and the Kueue objects wired from the GPU/TPU pool constructs: a ResourceFlavor per pool, one
// ClusterQueue with the pools' maxima as quota, a LocalQueue in the pipelines namespace, and the ProvisioningRequest
// admission check that makes Dynamic Workload Scheduler queued-provisioning pools usable.
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Release } from '@cdktf/provider-helm/lib/release';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { ConstructValidationError } from './errors';
import { GpuNodePool } from './gpu-node-pool';
import { TpuNodePool } from './tpu-node-pool';
import { NodeTaint } from './node-pool-base';
import { machineShape } from './machine-shapes';
import { PoolSchedule, kueueObjects } from './kueue-objects';
import { WorkloadNamespace } from './workload-namespace';
import { isKubernetesName } from './workload-common';

/**
 * Kueue chart version used unless `kueueChartVersion` says otherwise: the 0.15 line, the first whose storage API is
 * kueue.x-k8s.io/v1beta2 (the objects below are v1beta2; their tests validate against that line's CRDs).
 */
export const KUEUE_CHART_VERSION = '0.15.0';
/** JobSet chart version used unless `jobsetChartVersion` says otherwise (jobset.x-k8s.io/v1alpha2). */
export const JOBSET_CHART_VERSION = '0.8.1';
/** The upstream OCI chart repositories (Kubernetes SIG releases on registry.k8s.io). */
export const KUEUE_CHART_REPOSITORY = 'oci://registry.k8s.io/kueue/charts';
export const JOBSET_CHART_REPOSITORY = 'oci://registry.k8s.io/jobset/charts';

export interface TrainingSchedulerProps {
  /** The GPU pools training may use (each gets a ResourceFlavor). */
  readonly gpuPools: readonly GpuNodePool[];
  /** The TPU pools training may use. */
  readonly tpuPools: readonly TpuNodePool[];
  /** The pipelines' namespace: the LocalQueue lives there and the ClusterQueue admits only from it. */
  readonly workloadNamespace: WorkloadNamespace;
  /** Kubernetes service account of the pipeline steps (Argo creates JobSets as it); gets a Role on JobSets. */
  readonly runnerServiceAccount: string;
  /**
   * LocalQueue name: the `kueue.x-k8s.io/queue-name` label of distributed steps.
   * @default 'training'
   */
  readonly queueName?: string;
  /**
   * ClusterQueue name.
   * @default 'training'
   */
  readonly clusterQueueName?: string;
  /**
   * Nodes of a pool training may hold at once, by pool name (at most the pool's maximum; a whole number of slices for TPU pools).
   * @default - each pool's maximum node count
   */
  readonly nodeQuota?: { readonly [pool: string]: number };
  /**
   * Kueue chart version (exact).
   * @default KUEUE_CHART_VERSION
   */
  readonly kueueChartVersion?: string;
  /**
   * JobSet chart version (exact).
   * @default JOBSET_CHART_VERSION
   */
  readonly jobsetChartVersion?: string;
}

/** GKE's taint effects in Kubernetes spelling. */
const EFFECT: { readonly [E in NodeTaint['effect']]: PoolSchedule['nodeTaints'][number]['effect'] } = { NO_SCHEDULE: 'NoSchedule', PREFER_NO_SCHEDULE: 'PreferNoSchedule', NO_EXECUTE: 'NoExecute' };

/**
 * Construct ids: `jobset`, `kueue` (Helm releases), `kueue-<kind>-<name>` (Kueue objects), `runner-role`,
 * `runner-role-binding`. The manifests need the Kueue CRDs at plan time (deploy order in docs/infrastructure.md).
 */
export class TrainingScheduler extends Construct {
  readonly jobset: Release;
  readonly kueue: Release;
  /** LocalQueue name (namespaced in the workload namespace). */
  readonly queueName: string;
  readonly clusterQueueName: string;
  /** What each pool contributes to the ClusterQueue, in flavor order. */
  readonly pools: readonly PoolSchedule[];
  /** The Kueue manifests by `<Kind>/<name>`. */
  readonly objects: { readonly [kindAndName: string]: Manifest };

  constructor(scope: Construct, id: string, props: TrainingSchedulerProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('TrainingScheduler', this, msg);
    this.queueName = props.queueName ?? 'training';
    this.clusterQueueName = props.clusterQueueName ?? 'training';
    for (const [field, name] of [['queueName', this.queueName], ['clusterQueueName', this.clusterQueueName]]) {
      if (!isKubernetesName(name)) throw fail(`${field} '${name}' is not a valid Kubernetes name.`);
    }
    const kueueVersion = exactVersion(fail, 'kueueChartVersion', props.kueueChartVersion ?? KUEUE_CHART_VERSION);
    const jobsetVersion = exactVersion(fail, 'jobsetChartVersion', props.jobsetChartVersion ?? JOBSET_CHART_VERSION);
    if (props.gpuPools.length + props.tpuPools.length === 0) throw fail('no GPU or TPU pools to schedule; list at least one pool (distributed steps run on accelerator pools).');

    const quota = { ...(props.nodeQuota ?? {}) };
    const names = [...props.gpuPools, ...props.tpuPools].map((p) => p.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw fail(`pool ${twice} is listed twice; each pool is one ResourceFlavor.`);
    const unknown = Object.keys(quota).filter((n) => !names.includes(n));
    if (unknown.length > 0) throw fail(`nodeQuota names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not among the training pools (${names.join(', ')}).`);
    const nodesOf = (pool: string, max: number, unit: number): number => {
      const n = quota[pool] ?? max;
      if (!Number.isInteger(n) || n < unit || n > max || n % unit !== 0) {
        throw fail(`nodeQuota.${pool} is ${n}; use ${unit === 1 ? 'an integer' : `a multiple of ${unit} (whole slices)`} between ${unit} and the pool's maximum ${max}.`);
      }
      return n;
    };
    this.pools = [...props.gpuPools, ...props.tpuPools].map((p) => scheduleOf(p, fail, nodesOf));

    // JobSet first: Kueue's JobSet integration needs the JobSet CRD when its manager starts.
    this.jobset = new Release(this, 'jobset', {
      name: 'jobset',
      repository: JOBSET_CHART_REPOSITORY,
      chart: 'jobset',
      version: jobsetVersion,
      namespace: 'jobset-system',
      createNamespace: true,
      atomic: true,
      cleanupOnFail: true,
      wait: true,
      timeout: 600,
    });
    this.kueue = new Release(this, 'kueue', {
      name: 'kueue',
      repository: KUEUE_CHART_REPOSITORY,
      chart: 'kueue',
      version: kueueVersion,
      namespace: 'kueue-system',
      createNamespace: true,
      atomic: true,
      cleanupOnFail: true,
      wait: true,
      timeout: 600,
      dependsOn: [this.jobset],
    });

    const namespace = props.workloadNamespace.name;
    const objects: { [key: string]: Manifest } = {};
    for (const m of kueueObjects({ clusterQueue: this.clusterQueueName, localQueue: this.queueName, namespace, pools: this.pools })) {
      objects[`${m.kind}/${m.metadata.name}`] = new Manifest(this, `kueue-${m.kind.toLowerCase()}-${m.metadata.name}`, {
        manifest: m as unknown as { [key: string]: unknown },
        dependsOn: [this.kueue, props.workloadNamespace.namespace],
      });
    }
    this.objects = objects;

    // Argo's resource template creates, watches and deletes the step's JobSet as the runner; Kueue's Workload shows why it waits.
    const role = new RoleV1(this, 'runner-role', {
      metadata: { name: 'training-jobsets', namespace, labels: { 'app.kubernetes.io/managed-by': 'cdktf' } },
      rule: [
        { apiGroups: ['jobset.x-k8s.io'], resources: ['jobsets'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
        { apiGroups: ['kueue.x-k8s.io'], resources: ['workloads'], verbs: ['get', 'list', 'watch'] },
      ],
      dependsOn: [props.workloadNamespace.namespace],
    });
    new RoleBindingV1(this, 'runner-role-binding', {
      metadata: { name: 'training-jobsets', namespace, labels: { 'app.kubernetes.io/managed-by': 'cdktf' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
      subject: [{ kind: 'ServiceAccount', name: props.runnerServiceAccount, namespace }],
    });
  }
}

function exactVersion(fail: (msg: string) => Error, field: string, version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw fail(`${field} '${version}' must be an exact chart version like 0.15.0 (no ranges: a pinned chart cannot change under a running platform).`);
  return version;
}

/** True when the pool shares or partitions its GPUs (time-sharing, MPS, MIG): no whole-GPU quota can be derived from it. */
export function sharesGpus(pool: GpuNodePool): boolean {
  return pool.scheduling.accelerator.shared;
}

/** A pool's flavor and quota, from what the pool construct exposes (`scheduling`) and the machine catalogue. */
function scheduleOf(pool: GpuNodePool | TpuNodePool, fail: (msg: string) => Error, nodesOf: (pool: string, max: number, unit: number) => number): PoolSchedule {
  const s = pool.scheduling;
  if (s.accelerator.shared) {
    throw fail(`pool ${pool.name} shares or partitions its GPUs (gpuSharing / gpuPartitionSize), so whole-GPU training quota cannot be derived from it; leave it out of training.pools.`);
  }
  const shape = machineShape(s.machineType);
  if (!shape) throw fail(`pool ${pool.name} runs ${s.machineType}, which the machine catalogue (constructs/machine-shapes.ts) does not know, so its CPU and memory quota cannot be set; add the machine type there.`);
  return {
    name: pool.name,
    nodeLabels: { ...s.nodeLabels },
    nodeTaints: s.taints.map((t) => ({ key: t.key, value: t.value, effect: EFFECT[t.effect] })),
    tolerations: s.tolerations,
    accelerator: s.accelerator.resource,
    nodes: nodesOf(pool.name, s.maxNodes, s.nodeUnit),
    acceleratorsPerNode: s.accelerator.perNode,
    vcpusPerNode: shape.vcpus,
    memoryGibPerNode: shape.memoryGib,
    queuedProvisioning: s.queuedProvisioning,
  };
}
