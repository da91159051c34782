// CpuNodePool: a general-purpose GKE node pool (system add-ons, pipeline orchestration, CPU steps) in the same typed style.
import { Construct } from 'constructs';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { ConstructValidationError } from './errors';
import { NodePoolBaseProps, NodeTaint, POOL_LABEL, Toleration, baseNodeConfig, bootDiskType, validateBase, validateZones } from './node-pool-base';
import { LocationPolicy } from './gpu-node-pool';
import { BOOT_DISKS, BootDiskType } from './accelerators';

/** Families that carry accelerators; they belong in GpuNodePool/TpuNodePool. */
const ACCELERATOR_FAMILIES = ['g2', 'a2', 'a3', 'a4', 'ct4p', 'ct5p', 'ct5lp', 'ct6e'];

/**
 * Boot disk types of the general-purpose and compute-optimized series (Compute Engine "About Hyperdisk", supported
 * machine series): the newest series (N4, C4, C4A, C4D) take Hyperdisk only, C3/C3D/M3 both, the older ones Persistent Disk.
 */
export const CPU_BOOT_DISKS: { readonly [family: string]: readonly BootDiskType[] } = {
  e2: BOOT_DISKS.persistentDisk, n1: BOOT_DISKS.persistentDisk, n2: BOOT_DISKS.persistentDisk, n2d: BOOT_DISKS.persistentDisk,
  t2d: BOOT_DISKS.persistentDisk, t2a: BOOT_DISKS.persistentDisk, c2: BOOT_DISKS.persistentDisk, c2d: BOOT_DISKS.persistentDisk,
  m1: BOOT_DISKS.persistentDisk, m2: BOOT_DISKS.persistentDisk,
  c3: BOOT_DISKS.persistentOrHyperdisk, c3d: BOOT_DISKS.persistentOrHyperdisk, m3: BOOT_DISKS.persistentOrHyperdisk,
  n4: BOOT_DISKS.hyperdiskOnly, c4: BOOT_DISKS.hyperdiskOnly, c4a: BOOT_DISKS.hyperdiskOnly, c4d: BOOT_DISKS.hyperdiskOnly,
};

export interface CpuNodePoolProps extends NodePoolBaseProps {
  /** Machine type, e.g. `e2-standard-4` or `n2-highmem-8`. */
  readonly machineType: string;
  /** Autoscaling upper bound over all zones. */
  readonly maxNodes: number;
  /**
   * Autoscaling lower bound over all zones.
   * @default 1
   */
  readonly minNodes?: number;
  /**
   * Zones for the nodes.
   * @default - the cluster's node locations
   */
  readonly zones?: readonly string[];
  /**
   * Spot VMs.
   * @default false
   */
  readonly spot?: boolean;
  /**
   * How the autoscaler picks zones.
   * @default 'BALANCED'
   */
  readonly locationPolicy?: LocationPolicy;
  /**
   * Taints to reserve the pool for some workloads.
   * @default - none
   */
  readonly taints?: readonly NodeTaint[];
}

/** A CPU node pool. Construct id: `pool`. */
export class CpuNodePool extends Construct {
  readonly nodePool: ContainerNodePool;
  readonly name: string;
  private readonly taints: readonly NodeTaint[];

  constructor(scope: Construct, id: string, props: CpuNodePoolProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('CpuNodePool', this, msg);
    this.name = validateBase('CpuNodePool', this, props);
    const family = props.machineType.split('-')[0];
    if (!/^[a-z0-9]+-[a-z0-9-]+$/.test(props.machineType)) throw fail(`machineType '${props.machineType}' is not a machine type like e2-standard-4.`);
    if (ACCELERATOR_FAMILIES.includes(family)) {
      throw fail(`machineType ${props.machineType} is an accelerator machine (${family}); use GpuNodePool or TpuNodePool for it.`);
    }
    const disks = CPU_BOOT_DISKS[family];
    if (!disks) throw fail(`machine series ${family} (${props.machineType}) is not in the boot disk catalogue; use one of ${Object.keys(CPU_BOOT_DISKS).join(', ')}.`);
    const diskType = bootDiskType('CpuNodePool', this, props.machineType, disks, props.diskType);
    const minNodes = props.minNodes ?? 1;
    if (!Number.isInteger(props.maxNodes) || props.maxNodes < 1) throw fail(`maxNodes ${props.maxNodes} must be a positive integer.`);
    if (!Number.isInteger(minNodes) || minNodes < 0 || minNodes > props.maxNodes) throw fail(`minNodes ${minNodes} must be an integer between 0 and maxNodes (${props.maxNodes}).`);
    if (props.zones) validateZones('CpuNodePool', this, props.cluster, props.zones, 'zones');
    for (const t of props.taints ?? []) {
      if (t.key === 'nvidia.com/gpu' || t.key === 'google.com/tpu') throw fail(`taint ${t.key} is reserved for accelerator pools; use another key.`);
    }
    this.taints = props.taints ?? [];

    this.nodePool = new ContainerNodePool(this, 'pool', {
      name: this.name,
      cluster: props.cluster.cluster.id,
      location: props.cluster.location,
      nodeLocations: props.zones ? [...props.zones] : undefined,
      initialNodeCount: minNodes === 0 ? 0 : undefined,
      autoscaling: { totalMinNodeCount: minNodes, totalMaxNodeCount: props.maxNodes, locationPolicy: props.locationPolicy ?? 'BALANCED' },
      management: { autoRepair: true, autoUpgrade: true },
      upgradeSettings: { strategy: 'SURGE', maxSurge: 1, maxUnavailable: 0 },
      nodeConfig: baseNodeConfig(props, {
        machineType: props.machineType,
        diskType,
        spot: props.spot,
        labels: { [POOL_LABEL]: this.name },
        taints: this.taints,
      }),
    });
  }

  tolerations(): Toleration[] {
    const effect = { NO_SCHEDULE: 'NoSchedule', PREFER_NO_SCHEDULE: 'PreferNoSchedule', NO_EXECUTE: 'NoExecute' } as const;
    return this.taints.map((t) => ({ key: t.key, operator: 'Equal', value: t.value, effect: effect[t.effect] }));
  }

  nodeSelector(): { [key: string]: string } {
    return { 'cloud.google.com/gke-nodepool': this.name };
  }
}
