// GpuNodePool: a GKE node pool of one GPU accelerator type, validated against the accelerator catalogue, with
// driver installation, GPU sharing, autoscaling, spot, reservations and Dynamic Workload Scheduler modes.
import { Construct } from 'constructs';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { GpuAcceleratorType, GPU_CATALOGUE, MIG_PARTITIONS, resolveGpu } from './accelerators';
import { ConstructValidationError } from './errors';
import { PolicyPack } from './policy/policy-pack';
import { ACCELERATOR_LABEL, NodePoolBaseProps, NodeTaint, POOL_LABEL, PoolScheduling, Toleration, baseNodeConfig, bootDiskType, validateBase, validateZones } from './node-pool-base';

export type GpuDriverVersion = 'DEFAULT' | 'LATEST' | 'INSTALLATION_DISABLED';
export type GpuSharingStrategy = 'TIME_SHARING' | 'MPS';
export type ReservationAffinity = 'NO_RESERVATION' | 'ANY_RESERVATION' | 'SPECIFIC_RESERVATION';
export type LocationPolicy = 'BALANCED' | 'ANY';
export type UpgradeStrategy = 'SURGE' | 'BLUE_GREEN';

export interface GpuNodePoolProps extends NodePoolBaseProps {
  /** Accelerator type, e.g. `GpuAccelerator.L4`. */
  readonly accelerator: GpuAcceleratorType;
  /** Machine type; must belong to the accelerator's family (L4 -> g2, A100 -> a2, H100 -> a3, T4/V100 -> n1). */
  readonly machineType: string;
  /**
   * Zones that offer this accelerator (you know your quota and capacity); nodes are restricted to them.
   * Must be in the cluster's region.
   */
  readonly zones: readonly string[];
  /** Autoscaling upper bound over all zones. */
  readonly maxNodes: number;
  /**
   * Autoscaling lower bound over all zones.
   * @default 0 - scale to zero when idle
   */
  readonly minNodes?: number;
  /**
   * GPUs per node.
   * @default - fixed by the machine type for g2/a2/a3/a4; 1 for n1
   */
  readonly gpusPerNode?: number;
  /**
   * NVIDIA driver GKE installs.
   * @default 'DEFAULT' - the driver version GKE pins for the node version
   */
  readonly driverVersion?: GpuDriverVersion;
  /**
   * Share each GPU between containers.
   * @default - no sharing, one container per GPU
   */
  readonly gpuSharing?: GpuSharingStrategy;
  /**
   * Containers per GPU when gpuSharing is set (2-48).
   * @default - required with gpuSharing
   */
  readonly maxSharedClientsPerGpu?: number;
  /**
   * Spot VMs (preemptible, ~60-90% cheaper).
   * @default false
   */
  readonly spot?: boolean;
  /**
   * How the autoscaler picks zones.
   * @default - 'ANY' for spot, queued provisioning and flex-start (obtainability first), otherwise 'BALANCED'
   */
  readonly locationPolicy?: LocationPolicy;
  /**
   * Which reservations nodes consume.
   * @default - 'NO_RESERVATION' with queued provisioning or flex-start (both require it); otherwise the GKE default (any matching reservation)
   */
  readonly reservationAffinity?: ReservationAffinity;
  /**
   * Reservation name for `SPECIFIC_RESERVATION`.
   * @default - none; required with SPECIFIC_RESERVATION
   */
  readonly reservationName?: string;
  /**
   * Dynamic Workload Scheduler queued provisioning: nodes are created when a ProvisioningRequest is admitted.
   * Requires no reservation, minNodes 0 and no compact placement; auto-repair is turned off.
   * @default false
   */
  readonly queuedProvisioning?: boolean;
  /**
   * Flex-start VMs (Dynamic Workload Scheduler, best-effort obtainability, up to 7 days).
   * Requires no reservation (reservation affinity NO_RESERVATION); incompatible with spot; auto-repair is turned off.
   * @default false
   */
  readonly flexStart?: boolean;
  /**
   * COMPACT placement for low-latency multi-node training. Needs exactly one zone.
   * @default false
   */
  readonly compactPlacement?: boolean;
  /**
   * Multi-Instance GPU partition size (A100/H100), e.g. `1g.10gb`: each GPU is split into isolated instances.
   * @default - whole GPUs
   */
  readonly gpuPartitionSize?: string;
  /**
   * Use the machine's bundled local SSDs (A2 Ultra, A3, A4) as ephemeral storage (emptyDir, image layers, scratch).
   * @default - true where the machine bundles local SSDs (as cluster-toolkit does), otherwise none
   */
  readonly localSsdEphemeralStorage?: boolean;
  /**
   * Longest a node may run before GKE deletes it (a cost cap for training nodes).
   * @default - no limit (flex-start VMs stop after 7 days regardless)
   */
  readonly maxRunDurationSeconds?: number;
  /**
   * Node upgrade strategy: BLUE_GREEN drains onto a complete new pool and keeps the old one for rollback while it soaks.
   * @default 'SURGE' - one node at a time, none unavailable
   */
  readonly upgradeStrategy?: UpgradeStrategy;
  /**
   * BLUE_GREEN only: how long the old (blue) pool is kept after the switch.
   * @default 3600
   */
  readonly blueGreenSoakSeconds?: number;
  /**
   * Secondary boot disk images (`projects/<p>/global/images/<name>`) preloaded with the runtime and serving container
   * images, attached as GKE container image caches so pods start without pulling; needs the cluster's image streaming.
   * @default - none
   */
  readonly imageCacheDisks?: readonly string[];
}

const GPU_TAINT: NodeTaint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' };

/** A GPU node pool. Construct id: `pool`. Every node carries the `nvidia.com/gpu=present:NoSchedule` taint. */
export class GpuNodePool extends Construct {
  readonly nodePool: ContainerNodePool;
  readonly name: string;
  readonly accelerator: GpuAcceleratorType;
  readonly gpusPerNode: number;
  readonly spot: boolean;
  /** Labels, taints, capacity and provisioning mode for the training scheduler. */
  readonly scheduling: PoolScheduling;

  constructor(scope: Construct, id: string, props: GpuNodePoolProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('GpuNodePool', this, msg);
    this.name = validateBase('GpuNodePool', this, props);
    const resolved = resolveGpu(props.accelerator, props.machineType, props.gpusPerNode);
    if (!resolved.ok) throw fail(resolved.reason);
    const diskType = bootDiskType('GpuNodePool', this, props.machineType, resolved.spec.bootDiskTypes, props.diskType);
    validateZones('GpuNodePool', this, props.cluster, props.zones, 'zones');

    const minNodes = props.minNodes ?? 0;
    if (!Number.isInteger(props.maxNodes) || props.maxNodes < 1) throw fail(`maxNodes ${props.maxNodes} must be a positive integer.`);
    if (!Number.isInteger(minNodes) || minNodes < 0 || minNodes > props.maxNodes) throw fail(`minNodes ${minNodes} must be an integer between 0 and maxNodes (${props.maxNodes}).`);

    if (props.gpuSharing === undefined && props.maxSharedClientsPerGpu !== undefined) throw fail('maxSharedClientsPerGpu is set without gpuSharing; set gpuSharing to TIME_SHARING or MPS, or remove maxSharedClientsPerGpu.');
    if (props.gpuSharing !== undefined) {
      const c = props.maxSharedClientsPerGpu;
      if (c === undefined || !Number.isInteger(c) || c < 2 || c > 48) throw fail(`gpuSharing ${props.gpuSharing} needs maxSharedClientsPerGpu between 2 and 48 (got ${c ?? 'none'}).`);
    }

    const reservation = props.reservationAffinity;
    if (reservation === 'SPECIFIC_RESERVATION' && !props.reservationName) throw fail("reservationAffinity 'SPECIFIC_RESERVATION' needs reservationName.");
    if (props.reservationName && reservation !== 'SPECIFIC_RESERVATION') throw fail("reservationName is set but reservationAffinity is not 'SPECIFIC_RESERVATION'; set reservationAffinity to 'SPECIFIC_RESERVATION'.");

    if (props.queuedProvisioning) {
      if (reservation !== undefined && reservation !== 'NO_RESERVATION') {
        throw fail(`queued provisioning (Dynamic Workload Scheduler) cannot consume reservations, but reservationAffinity is ${reservation}; remove reservationAffinity/reservationName or set queuedProvisioning to false.`);
      }
      if (minNodes !== 0) throw fail(`queued provisioning needs minNodes 0 (nodes exist only while a ProvisioningRequest is admitted), got ${minNodes}; set minNodes to 0.`);
      if (props.compactPlacement) throw fail('queued provisioning does not support COMPACT placement; remove compactPlacement or set queuedProvisioning to false.');
      if (props.spot) throw fail('queued provisioning does not use spot VMs; remove spot or set queuedProvisioning to false.');
      if (props.flexStart) throw fail('queuedProvisioning and flexStart are separate Dynamic Workload Scheduler modes; choose one.');
      if (props.locationPolicy === 'BALANCED') throw fail("queued provisioning needs locationPolicy 'ANY'; remove locationPolicy.");
    }
    if (props.flexStart) {
      if (reservation !== undefined && reservation !== 'NO_RESERVATION') {
        throw fail(`flex-start VMs cannot consume reservations (GKE needs reservation affinity NO_RESERVATION), but reservationAffinity is ${reservation}; remove reservationAffinity/reservationName or set flexStart to false.`);
      }
      if (props.spot) throw fail('flex-start VMs cannot be spot VMs; remove spot or flexStart.');
      if (props.compactPlacement) throw fail('flex-start does not support COMPACT placement; remove compactPlacement or flexStart.');
    }
    if (props.gpuPartitionSize !== undefined) {
      const sizes = MIG_PARTITIONS[props.accelerator];
      if (!sizes) throw fail(`gpuPartitionSize needs a Multi-Instance GPU accelerator (${Object.keys(MIG_PARTITIONS).join(', ')}), not ${props.accelerator}; remove gpuPartitionSize.`);
      if (!sizes.includes(props.gpuPartitionSize)) throw fail(`gpuPartitionSize '${props.gpuPartitionSize}' is not a ${props.accelerator} partition; use one of ${sizes.join(', ')}.`);
      if (props.gpuSharing === 'MPS') throw fail('gpuPartitionSize (MIG) cannot be combined with MPS sharing; use TIME_SHARING or remove gpuSharing.');
    }
    if (props.localSsdEphemeralStorage && resolved.localSsds === 0) {
      throw fail(`machineType ${props.machineType} bundles no local SSDs; remove localSsdEphemeralStorage (A2 Ultra, A3 and A4 machines have them).`);
    }
    const runSeconds = props.maxRunDurationSeconds;
    if (runSeconds !== undefined && (!Number.isInteger(runSeconds) || runSeconds < 600)) throw fail(`maxRunDurationSeconds ${runSeconds} must be an integer of at least 600.`);
    if (props.upgradeStrategy !== 'BLUE_GREEN' && props.blueGreenSoakSeconds !== undefined) throw fail("blueGreenSoakSeconds is set but upgradeStrategy is not 'BLUE_GREEN'; set upgradeStrategy or remove blueGreenSoakSeconds.");
    const soak = props.blueGreenSoakSeconds ?? 3600;
    if (!Number.isInteger(soak) || soak < 0 || soak > 604800) throw fail(`blueGreenSoakSeconds ${soak} must be an integer between 0 and 604800 (7 days).`);
    if (props.upgradeStrategy === 'BLUE_GREEN' && (props.queuedProvisioning || props.flexStart)) {
      throw fail('Dynamic Workload Scheduler pools (queuedProvisioning, flexStart) upgrade by surge only; remove upgradeStrategy BLUE_GREEN.');
    }
    for (const image of props.imageCacheDisks ?? []) {
      if (!/^projects\/[^/]+\/global\/images\/[a-z]([a-z0-9-]*[a-z0-9])?$/.test(image)) throw fail(`imageCacheDisks entry '${image}' is not a disk image name; use projects/<project>/global/images/<name>.`);
    }
    if ((props.imageCacheDisks ?? []).length > 0 && !props.cluster.imageStreaming) {
      throw fail('imageCacheDisks (container image cache) needs image streaming; keep the cluster\'s imageStreaming on or remove imageCacheDisks.');
    }
    if (props.compactPlacement && props.zones.length !== 1) {
      throw fail(`COMPACT placement needs exactly one zone, got ${props.zones.length} (${props.zones.join(', ')}); list a single zone in zones.`);
    }

    this.accelerator = props.accelerator;
    this.gpusPerNode = resolved.gpusPerNode;
    this.spot = props.spot ?? false;
    const dws = props.queuedProvisioning === true || props.flexStart === true;
    const locationPolicy = props.locationPolicy ?? (dws || this.spot ? 'ANY' : 'BALANCED');
    const affinity = reservation ?? (dws ? 'NO_RESERVATION' : undefined);

    const nodeConfig = baseNodeConfig(props, {
      machineType: props.machineType,
      diskType,
      spot: this.spot,
      labels: { [POOL_LABEL]: this.name, [ACCELERATOR_LABEL]: props.accelerator },
      taints: [GPU_TAINT],
    });
    this.nodePool = new ContainerNodePool(this, 'pool', {
      name: this.name,
      cluster: props.cluster.cluster.id,
      location: props.cluster.location,
      nodeLocations: [...props.zones],
      initialNodeCount: minNodes === 0 ? 0 : undefined,
      autoscaling: { totalMinNodeCount: minNodes, totalMaxNodeCount: props.maxNodes, locationPolicy },
      management: { autoRepair: !dws, autoUpgrade: true },
      queuedProvisioning: props.queuedProvisioning ? { enabled: true } : undefined,
      placementPolicy: props.compactPlacement ? { type: 'COMPACT' } : undefined,
      upgradeSettings: props.upgradeStrategy === 'BLUE_GREEN'
        ? { strategy: 'BLUE_GREEN', blueGreenSettings: { nodePoolSoakDuration: `${soak}s`, standardRolloutPolicy: { batchPercentage: 0.25, batchSoakDuration: '60s' } } }
        : { strategy: 'SURGE', maxSurge: 1, maxUnavailable: 0 },
      nodeConfig: {
        ...nodeConfig,
        flexStart: props.flexStart ? true : undefined,
        maxRunDuration: runSeconds !== undefined ? `${runSeconds}s` : undefined,
        ephemeralStorageLocalSsdConfig: (props.localSsdEphemeralStorage ?? resolved.localSsds > 0) ? { localSsdCount: resolved.localSsds } : undefined,
        secondaryBootDisks: props.imageCacheDisks?.map((diskImage) => ({ diskImage, mode: 'CONTAINER_IMAGE_CACHE' })),
        reservationAffinity: affinity
          ? {
            consumeReservationType: affinity,
            key: affinity === 'SPECIFIC_RESERVATION' ? 'compute.googleapis.com/reservation-name' : undefined,
            values: affinity === 'SPECIFIC_RESERVATION' ? [props.reservationName!] : undefined,
          }
          : undefined,
        guestAccelerator: [{
          type: props.accelerator,
          count: resolved.gpusPerNode,
          gpuPartitionSize: props.gpuPartitionSize,
          gpuDriverInstallationConfig: { gpuDriverVersion: props.driverVersion ?? 'DEFAULT' },
          gpuSharingConfig: props.gpuSharing
            ? { gpuSharingStrategy: props.gpuSharing, maxSharedClientsPerGpu: props.maxSharedClientsPerGpu! }
            : undefined,
        }],
      },
    });
    // GKE requires auto-repair off on DWS pools, so failing CKV_GCP_9 is a decision: listed at synth and in the
    // stack's Checkov config.
    if (dws) {
      PolicyPack.suppress(this.nodePool, 'CKV_GCP_9', `${props.flexStart ? 'Flex-start' : 'Queued provisioning'} (Dynamic Workload Scheduler) pools must run with auto-repair off, as GKE requires; MLP_DWS_* check the rest of the DWS setup.`);
    }
    this.scheduling = {
      nodeLabels: this.nodeSelector(),
      taints: [GPU_TAINT],
      tolerations: this.tolerations(),
      machineType: props.machineType,
      maxNodes: props.maxNodes,
      nodeUnit: 1,
      accelerator: { resource: 'nvidia.com/gpu', perNode: this.gpusPerNode, shared: props.gpuSharing !== undefined || props.gpuPartitionSize !== undefined },
      queuedProvisioning: props.queuedProvisioning === true,
    };
  }

  /** Display name of the accelerator, e.g. `L4`. */
  get acceleratorName(): string {
    return GPU_CATALOGUE[this.accelerator].displayName;
  }

  /** Tolerations a pod needs to run on this pool. */
  tolerations(): Toleration[] {
    return [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
  }

  /** Node selector that lands a pod on this pool. */
  nodeSelector(): { [key: string]: string } {
    return { 'cloud.google.com/gke-accelerator': this.accelerator, 'cloud.google.com/gke-nodepool': this.name };
  }

  /** Container resource limit for `gpus` GPUs (quantities are strings in Kubernetes manifests). */
  resourceLimits(gpus: number = this.gpusPerNode): { 'nvidia.com/gpu': string } {
    if (!Number.isInteger(gpus) || gpus < 1 || gpus > this.gpusPerNode) {
      throw new Error(`GpuNodePool '${this.node.path}': a pod can request 1-${this.gpusPerNode} GPUs on this pool, not ${gpus}.`);
    }
    return { 'nvidia.com/gpu': String(gpus) };
  }
}
