// The Kueue objects of the training scheduler as plain manifests (kueue.x-k8s.io/v1beta2): a ResourceFlavor per
// accelerator pool (its node labels, taints and tolerations), one ClusterQueue holding each pool's quota, the
// LocalQueue distributed steps name in `kueue.x-k8s.io/queue-name`, and - for Dynamic Workload Scheduler queued
// provisioning pools - the ProvisioningRequest admission check on those pools' flavors only.
import { Toleration } from './node-pool-base';

export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta2';
/** Name of the AdmissionCheck and its ProvisioningRequestConfig. */
export const DWS_ADMISSION_CHECK = 'dws-provisioning';
/** Kueue's built-in ProvisioningRequest admission check controller. */
export const PROVISIONING_REQUEST_CONTROLLER = 'kueue.x-k8s.io/provisioning-request';
/** GKE's ProvisioningRequest class for queued provisioning. */
export const QUEUED_PROVISIONING_CLASS = 'queued-provisioning.gke.io';

export type AcceleratorResource = 'nvidia.com/gpu' | 'google.com/tpu';

/** What the scheduler needs to know about one pool (from the pool constructs). */
export interface PoolSchedule {
  /** Pool name; also the ResourceFlavor name. */
  readonly name: string;
  /** Node labels that select this pool's nodes (Kueue adds them to an admitted pod's nodeSelector). */
  readonly nodeLabels: { readonly [key: string]: string };
  /** The pool's node taints, in Kubernetes spelling. */
  readonly nodeTaints: readonly { readonly key: string; readonly value: string; readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  /** Tolerations Kueue adds to pods it admits on this flavor. */
  readonly tolerations: readonly Toleration[];
  readonly accelerator: AcceleratorResource;
  /** Nodes training may hold at once (the pool's maximum, or a lower quota). */
  readonly nodes: number;
  readonly acceleratorsPerNode: number;
  readonly vcpusPerNode: number;
  readonly memoryGibPerNode: number;
  /** Nodes come from a ProvisioningRequest (DWS queued provisioning): the flavor gets the admission check. */
  readonly queuedProvisioning: boolean;
}

/** A pool's nominal quota per resource: node count times the per-node capacity. */
export function poolQuota(p: PoolSchedule): { readonly cpu: string; readonly memory: string; readonly accelerator: string } {
  // Memory in MiB keeps fractional-GiB N1 shapes (3.75 GiB per vCPU) exact integers.
  return { cpu: String(p.nodes * p.vcpusPerNode), memory: `${Math.round(p.nodes * p.memoryGibPerNode * 1024)}Mi`, accelerator: String(p.nodes * p.acceleratorsPerNode) };
}

export interface KueueObjectsInput {
  readonly clusterQueue: string;
  readonly localQueue: string;
  /** The namespace of the pipelines (LocalQueue, and the only namespace the ClusterQueue admits from). */
  readonly namespace: string;
  readonly pools: readonly PoolSchedule[];
}

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: { [k: string]: string } }; spec: object };

const LABELS = { 'app.kubernetes.io/managed-by': 'cdktf', 'app.kubernetes.io/part-of': 'ml-platform-training' };

/** ResourceFlavors, the ClusterQueue, the LocalQueue and (with queued pools) the AdmissionCheck and its config. */
export function kueueObjects(input: KueueObjectsInput): Manifest[] {
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { ...LABELS } });
  const flavors: Manifest[] = input.pools.map((p) => ({
    apiVersion: KUEUE_API_VERSION,
    kind: 'ResourceFlavor',
    metadata: meta(p.name),
    spec: { nodeLabels: { ...p.nodeLabels }, nodeTaints: p.nodeTaints.map((t) => ({ ...t })), tolerations: p.tolerations.map((t) => ({ ...t })) },
  }));
  // One resource group: a resource may be covered by only one group, and GPU and TPU pools share cpu and memory. A
  // pool's flavor holds zero of the accelerator it lacks, so its nodeLabels and quota decide where a step lands.
  const accelerators = [...new Set(input.pools.map((p) => p.accelerator))].sort();
  const covered = ['cpu', 'memory', ...accelerators];
  const queued = input.pools.filter((p) => p.queuedProvisioning);
  const clusterQueue: Manifest = {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ClusterQueue',
    metadata: meta(input.clusterQueue),
    spec: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': input.namespace } },
      // A step waiting for H100 capacity does not hold back one that fits on another pool.
      queueingStrategy: 'BestEffortFIFO',
      resourceGroups: [{
        coveredResources: covered,
        flavors: input.pools.map((p) => {
          const q = poolQuota(p);
          return {
            name: p.name,
            resources: covered.map((r) => ({ name: r, nominalQuota: r === 'cpu' ? q.cpu : r === 'memory' ? q.memory : r === p.accelerator ? q.accelerator : '0' })),
          };
        }),
      }],
      ...(queued.length > 0 ? { admissionChecksStrategy: { admissionChecks: [{ name: DWS_ADMISSION_CHECK, onFlavors: queued.map((p) => p.name) }] } } : {}),
    },
  };
  const localQueue: Manifest = { apiVersion: KUEUE_API_VERSION, kind: 'LocalQueue', metadata: meta(input.localQueue, input.namespace), spec: { clusterQueue: input.clusterQueue } };
  if (queued.length === 0) return [...flavors, clusterQueue, localQueue];
  // As GKE documents it for Kueue ("Deploy GPUs for batch and AI workloads with Dynamic Workload Scheduler",
  // https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest): an AdmissionCheck of Kueue's
  // ProvisioningRequest controller whose parameters are a ProvisioningRequestConfig of class
  // queued-provisioning.gke.io managing the accelerator resource.
  const admissionCheck: Manifest = {
    apiVersion: KUEUE_API_VERSION,
    kind: 'AdmissionCheck',
    metadata: meta(DWS_ADMISSION_CHECK),
    spec: { controllerName: PROVISIONING_REQUEST_CONTROLLER, parameters: { apiGroup: 'kueue.x-k8s.io', kind: 'ProvisioningRequestConfig', name: DWS_ADMISSION_CHECK } },
  };
  const provisioningConfig: Manifest = {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ProvisioningRequestConfig',
    metadata: meta(DWS_ADMISSION_CHECK),
    spec: { provisioningClassName: QUEUED_PROVISIONING_CLASS, managedResources: [...new Set(queued.map((p) => p.accelerator))].sort() },
  };
  return [...flavors, provisioningConfig, admissionCheck, clusterQueue, localQueue];
}
