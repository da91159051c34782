// TpuSlice / TpuNodePool: a GKE node pool holding one TPU slice. Version x topology resolve to machine type, chips per VM
// and node count; COMPACT placement always carries the topology; single zone; google.com/tpu taint.
import { Construct } from 'constructs';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { ConstructValidationError } from './errors';
import { ACCELERATOR_LABEL, NodePoolBaseProps, POOL_LABEL, Toleration, baseNodeConfig, bootDiskType, validateBase, validateZones } from './node-pool-base';
import { TPU_CATALOGUE, TpuSliceOptions, TpuSliceShape, TpuVersion, resolveTpuSlice } from './tpu';

/** A validated TPU slice shape (no resources): `TpuSlice.of('v5e', '2x4')`. */
export class TpuSlice {
  /** Resolves and validates the slice; throws an Error naming the reason when the combination is invalid. */
  static of(version: TpuVersion, topology: string, options: TpuSliceOptions = {}): TpuSlice {
    const r = resolveTpuSlice(version, topology, options);
    if (!r.ok) throw new Error(`TpuSlice: ${r.reason}`);
    return new TpuSlice(r);
  }
  private constructor(readonly shape: TpuSliceShape) {}
  get machineType(): string { return this.shape.machineType; }
  get nodeCount(): number { return this.shape.nodeCount; }
  get chipsPerVm(): number { return this.shape.chipsPerVm; }
  get chips(): number { return this.shape.chips; }
  get multiHost(): boolean { return this.shape.multiHost; }
}

export interface TpuNodePoolProps extends NodePoolBaseProps {
  /** TPU generation. */
  readonly version: TpuVersion;
  /** Slice topology, e.g. `2x4` (v5e/v6e) or `2x2x2` (v4/v5p). */
  readonly topology: string;
  /** The single zone that offers this TPU version (TPU slices never span zones). */
  readonly zone: string;
  /**
   * Chips per VM; selects single-host (8) or multi-host (4) for a v5e/v6e 2x4.
   * @default - single-host when the topology allows it, else the multi-host machine type
   */
  readonly chipsPerVm?: number;
  /**
   * Expected nodes in the slice; validated against the topology (chips / chipsPerVm).
   * @default - derived from the topology
   */
  readonly nodeCount?: number;
  /**
   * Let the autoscaler remove the whole slice when idle (0 or all nodes; slices scale atomically).
   * @default false - the slice is always provisioned
   */
  readonly scaleToZero?: boolean;
  /**
   * Spot TPU VMs.
   * @default false
   */
  readonly spot?: boolean;
  /**
   * Consume this specific reservation.
   * @default - no specific reservation
   */
  readonly reservationName?: string;
}

/** One TPU slice as a node pool. Construct id: `pool`. */
export class TpuNodePool extends Construct {
  readonly nodePool: ContainerNodePool;
  readonly name: string;
  readonly slice: TpuSlice;

  constructor(scope: Construct, id: string, props: TpuNodePoolProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('TpuNodePool', this, msg);
    this.name = validateBase('TpuNodePool', this, props);
    const r = resolveTpuSlice(props.version, props.topology, { chipsPerVm: props.chipsPerVm, nodeCount: props.nodeCount });
    if (!r.ok) throw fail(r.reason);
    this.slice = TpuSlice.of(props.version, props.topology, { chipsPerVm: r.chipsPerVm });
    validateZones('TpuNodePool', this, props.cluster, [props.zone], 'zone');
    if (props.spot && props.reservationName) throw fail('spot TPUs cannot consume a reservation; remove spot or reservationName.');
    const diskType = bootDiskType('TpuNodePool', this, r.machineType, TPU_CATALOGUE[props.version].bootDiskTypes, props.diskType);

    const shape = this.slice.shape;
    this.nodePool = new ContainerNodePool(this, 'pool', {
      name: this.name,
      cluster: props.cluster.cluster.id,
      location: props.cluster.location,
      nodeLocations: [props.zone],
      nodeCount: props.scaleToZero ? undefined : shape.nodeCount,
      initialNodeCount: props.scaleToZero ? 0 : undefined,
      autoscaling: props.scaleToZero ? { minNodeCount: 0, maxNodeCount: shape.nodeCount, locationPolicy: 'ANY' } : undefined,
      management: { autoRepair: true, autoUpgrade: true },
      placementPolicy: { type: 'COMPACT', tpuTopology: shape.topology },
      upgradeSettings: { strategy: 'SURGE', maxSurge: shape.multiHost ? 0 : 1, maxUnavailable: shape.multiHost ? 1 : 0 },
      nodeConfig: {
        ...baseNodeConfig(props, {
          machineType: shape.machineType,
          diskType,
          spot: props.spot,
          labels: { [POOL_LABEL]: this.name, [ACCELERATOR_LABEL]: `${shape.acceleratorLabel}-${shape.topology}` },
          taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NO_SCHEDULE' }],
        }),
        reservationAffinity: props.reservationName
          ? { consumeReservationType: 'SPECIFIC_RESERVATION', key: 'compute.googleapis.com/reservation-name', values: [props.reservationName] }
          : undefined,
      },
    });
  }

  tolerations(): Toleration[] {
    return [{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }];
  }

  nodeSelector(): { [key: string]: string } {
    return {
      'cloud.google.com/gke-tpu-accelerator': this.slice.shape.acceleratorLabel,
      'cloud.google.com/gke-tpu-topology': this.slice.shape.topology,
    };
  }

  /** Per-pod TPU request: every host of the slice runs one pod using all its chips. */
  resourceLimits(): { 'google.com/tpu': string } {
    return { 'google.com/tpu': String(this.slice.chipsPerVm) };
  }
}
