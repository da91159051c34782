// Shared pieces of the GKE node pool constructs: common props, the hardened node_config baseline and the
// Kubernetes scheduling types (tolerations, taints) the pools hand to workloads.
import { Construct } from 'constructs';
import { ContainerNodePoolNodeConfig } from '@cdktf/provider-google/lib/container-node-pool';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { MlCluster } from './cluster';
import { BootDiskType } from './accelerators';

/** A Kubernetes toleration as a pod spec expects it. */
export interface Toleration {
  readonly key: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A node taint. */
export interface NodeTaint {
  readonly key: string;
  readonly value: string;
  readonly effect: 'NO_SCHEDULE' | 'PREFER_NO_SCHEDULE' | 'NO_EXECUTE';
}

/** What a scheduler (Kueue's ResourceFlavor and quota) needs to know about a pool, from the pool's own configuration. */
export interface PoolScheduling {
  /** Node labels that select this pool's nodes (and no other pool's). */
  readonly nodeLabels: { readonly [key: string]: string };
  /** The taints every node of the pool carries. */
  readonly taints: readonly NodeTaint[];
  /** The tolerations a pod needs for those taints. */
  readonly tolerations: readonly Toleration[];
  readonly machineType: string;
  /** Most nodes the pool can have (every slice of a TPU pool). */
  readonly maxNodes: number;
  /** Nodes come and go in groups of this many: a TPU slice's hosts, 1 for GPU pools. */
  readonly nodeUnit: number;
  /**
   * The extended resource pods request and how many each node has; `shared` when devices are time-shared, MPS or MIG
   * partitions, so a node advertises a count that is not whole devices.
   */
  readonly accelerator: { readonly resource: 'nvidia.com/gpu' | 'google.com/tpu'; readonly perNode: number; readonly shared: boolean };
  /** Nodes are created for admitted ProvisioningRequests (Dynamic Workload Scheduler queued provisioning). */
  readonly queuedProvisioning: boolean;
}

/** Props every node pool shares. */
export interface NodePoolBaseProps {
  /** The cluster the pool belongs to. */
  readonly cluster: MlCluster;
  /**
   * Node pool name (lowercase, 1-40 chars).
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Boot disk size in GB.
   * @default 100
   */
  readonly diskSizeGb?: number;
  /**
   * Boot disk type; must be one the machine series takes (the catalogues list them: A3 Ultra, A4 and TPU v6e take
   * only `hyperdisk-balanced`, N1/A2 no Hyperdisk).
   * @default - the machine series' first listed type: 'pd-balanced', or 'hyperdisk-balanced' where Persistent Disk is not offered
   */
  readonly diskType?: BootDiskType;
  /**
   * Extra Kubernetes node labels (keys must not use the reserved `cloud.google.com/` or `ml-platform/` prefixes).
   * @default - only the labels the pool sets itself
   */
  readonly nodeLabels?: { readonly [key: string]: string };
  /**
   * GCP resource labels on the node VMs (cost attribution).
   * @default - none
   */
  readonly resourceLabels?: { readonly [key: string]: string };
  /**
   * Kubelet CPU manager policy; `static` gives Guaranteed pods exclusive cores (data loaders next to the accelerator).
   * @default - GKE's default ('none')
   */
  readonly cpuManagerPolicy?: 'none' | 'static';
  /**
   * Most processes per pod (kubelet `podPidsLimit`, 1024-4194304).
   * @default - GKE's default
   */
  readonly podPidsLimit?: number;
  /**
   * Linux kernel parameters (`linux_node_config.sysctls`), e.g. `{ 'net.core.somaxconn': '4096' }`.
   * @default - none
   */
  readonly sysctls?: { readonly [name: string]: string };
}

export const POOL_LABEL = 'ml-platform/pool';
export const ACCELERATOR_LABEL = 'ml-platform/accelerator';

/** Validates the common props and returns the pool name. */
export function validateBase(kind: string, scope: Construct, props: NodePoolBaseProps): string {
  const name = props.name ?? scope.node.id;
  if (!/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new ConstructValidationError(kind, scope, `node pool name '${name}' is invalid; use 1-40 lowercase letters, digits or '-', starting with a letter (set name or change the construct id).`);
  }
  if (props.diskSizeGb !== undefined && (!Number.isInteger(props.diskSizeGb) || props.diskSizeGb < 10 || props.diskSizeGb > 65536)) {
    throw new ConstructValidationError(kind, scope, `diskSizeGb ${props.diskSizeGb} must be an integer between 10 and 65536.`);
  }
  for (const key of Object.keys(props.nodeLabels ?? {})) {
    if (key.startsWith('cloud.google.com/') || key.startsWith('ml-platform/') || key.startsWith('kubernetes.io/')) {
      throw new ConstructValidationError(kind, scope, `node label '${key}' uses a reserved prefix; pick a key under your own prefix (e.g. team.example.com/${key.split('/').pop()}).`);
    }
  }
  validateGcpLabels(kind, scope, props.resourceLabels);
  const pids = props.podPidsLimit;
  if (pids !== undefined && (!Number.isInteger(pids) || pids < 1024 || pids > 4194304)) {
    throw new ConstructValidationError(kind, scope, `podPidsLimit ${pids} must be an integer between 1024 and 4194304.`);
  }
  for (const key of Object.keys(props.sysctls ?? {})) {
    if (!/^(net|kernel|vm|fs)\.[a-z0-9_.]+$/.test(key)) {
      throw new ConstructValidationError(kind, scope, `sysctl '${key}' is not one GKE can set; use a net.*, kernel.*, vm.* or fs.* parameter.`);
    }
  }
  return name;
}

/** The boot disk type of a pool: `requested` when the machine series takes it, else the series' default; an unsupported request throws. */
export function bootDiskType(kind: string, scope: Construct, machineType: string, allowed: readonly BootDiskType[], requested: BootDiskType | undefined): BootDiskType {
  if (requested === undefined) return allowed[0];
  if (!allowed.includes(requested)) {
    throw new ConstructValidationError(kind, scope, `machineType ${machineType} does not boot from ${requested}; set diskType to ${allowed.join(' or ')} (or remove diskType for ${allowed[0]}).`);
  }
  return requested;
}

/** The hardened node_config every pool starts from (GKE metadata server, shielded nodes, COS, dedicated node SA). */
export function baseNodeConfig(props: NodePoolBaseProps, extra: {
  readonly machineType: string;
  /** From bootDiskType(). */
  readonly diskType: BootDiskType;
  readonly labels: { readonly [key: string]: string };
  readonly taints: readonly NodeTaint[];
  readonly spot?: boolean;
}): ContainerNodePoolNodeConfig {
  return {
    machineType: extra.machineType,
    serviceAccount: props.cluster.nodeServiceAccount.email,
    oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
    imageType: 'COS_CONTAINERD',
    diskSizeGb: props.diskSizeGb ?? 100,
    diskType: extra.diskType,
    spot: extra.spot ? true : undefined,
    workloadMetadataConfig: { mode: 'GKE_METADATA' },
    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    metadata: { 'disable-legacy-endpoints': 'true' },
    labels: { ...(props.nodeLabels ?? {}), ...extra.labels },
    resourceLabels: props.resourceLabels ? { ...props.resourceLabels } : undefined,
    taint: extra.taints.length > 0 ? extra.taints.map((t) => ({ ...t })) : undefined,
    // gVNIC for the bandwidth accelerator nodes need; image streaming when the cluster has it.
    gvnic: { enabled: true },
    gcfsConfig: { enabled: props.cluster.imageStreaming },
    kubeletConfig: props.cpuManagerPolicy !== undefined || props.podPidsLimit !== undefined
      ? { cpuManagerPolicy: props.cpuManagerPolicy, podPidsLimit: props.podPidsLimit }
      : undefined,
    linuxNodeConfig: props.sysctls ? { sysctls: { ...props.sysctls } } : undefined,
  };
}

/** Zones of a pool must be in the cluster's region (and equal the zone of a zonal cluster's default placement if no others are set). */
export function validateZones(kind: string, scope: Construct, cluster: MlCluster, zones: readonly string[], field: string): void {
  if (zones.length === 0) throw new ConstructValidationError(kind, scope, `${field} is empty; list at least one zone.`);
  if (new Set(zones).size !== zones.length) throw new ConstructValidationError(kind, scope, `${field} lists a zone twice (${zones.join(', ')}).`);
  for (const zone of zones) {
    if (!zone.startsWith(`${cluster.region}-`) || !/^[a-z]$/.test(zone.slice(cluster.region.length + 1))) {
      throw new ConstructValidationError(kind, scope, `${field} zone '${zone}' is not in the cluster's region ${cluster.region}.`);
    }
  }
}
