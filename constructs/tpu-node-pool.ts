// TpuSlice / TpuNodePool: a GKE node pool holding one TPU slice. Version x topology resolve to machine type, chips per VM
// and node count; COMPACT placement always carries the topology; single zone; google.com/tpu taint.
import { Construct } from 'constructs';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { ConstructValidationError } from './errors';
import { ReservationAffinity } from './gpu-node-pool';
import { PolicyPack } from './policy/policy-pack';
import { ACCELERATOR_LABEL, NodePoolBaseProps, NodeTaint, POOL_LABEL, PoolScheduling, Toleration, baseNodeConfig, bootDiskType, validateBase, validateZones } from './node-pool-base';
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
   * Consume this specific reservation (reservationAffinity SPECIFIC_RESERVATION).
   * @default - no specific reservation
   */
  readonly reservationName?: string;
  /**
   * Which reservations the TPU VMs consume.
   * @default - SPECIFIC_RESERVATION with reservationName, NO_RESERVATION with queued provisioning or flex-start, otherwise GKE's default
   */
  readonly reservationAffinity?: ReservationAffinity;
  /**
   * Multislice: this many identical slices, one node pool each (`<name>`, `<name>-s1`, …), joined over the data-center
   * network (JobSet with one replicated job per slice).
   * @default 1
   */
  readonly slices?: number;
  /**
   * Dynamic Workload Scheduler queued provisioning: each slice is created whole when a ProvisioningRequest is admitted.
   * Needs scaleToZero, no spot and no reservation; auto-repair is turned off.
   * @default false
   */
  readonly queuedProvisioning?: boolean;
  /**
   * Flex-start TPU VMs (best-effort obtainability, up to 7 days). Needs scaleToZero, no spot and no reservation;
   * auto-repair is turned off.
   * @default false
   */
  readonly flexStart?: boolean;
}

const TPU_TAINT: NodeTaint = { key: 'google.com/tpu', value: 'present', effect: 'NO_SCHEDULE' };

/** One TPU slice per node pool (several with `slices`). Construct ids: `pool`, then `pool-s1`, `pool-s2`, … */
export class TpuNodePool extends Construct {
  /** The first slice's node pool. */
  readonly nodePool: ContainerNodePool;
  /** Every slice's node pool, slice 0 first. */
  readonly nodePools: ContainerNodePool[];
  readonly name: string;
  readonly slice: TpuSlice;
  /** Labels, taints, capacity and provisioning mode for the training scheduler. */
  readonly scheduling: PoolScheduling;

  constructor(scope: Construct, id: string, props: TpuNodePoolProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('TpuNodePool', this, msg);
    this.name = validateBase('TpuNodePool', this, props);
    const r = resolveTpuSlice(props.version, props.topology, { chipsPerVm: props.chipsPerVm, nodeCount: props.nodeCount });
    if (!r.ok) throw fail(r.reason);
    this.slice = TpuSlice.of(props.version, props.topology, { chipsPerVm: r.chipsPerVm });
    validateZones('TpuNodePool', this, props.cluster, [props.zone], 'zone');
    if (props.spot && props.reservationName) throw fail('spot TPUs cannot consume a reservation; remove spot or reservationName.');
    const slices = props.slices ?? 1;
    if (!Number.isInteger(slices) || slices < 1 || slices > 64) throw fail(`slices ${slices} must be an integer between 1 and 64.`);
    const affinityGiven = props.reservationAffinity;
    if (affinityGiven === 'SPECIFIC_RESERVATION' && !props.reservationName) throw fail("reservationAffinity 'SPECIFIC_RESERVATION' needs reservationName.");
    if (props.reservationName && affinityGiven !== undefined && affinityGiven !== 'SPECIFIC_RESERVATION') {
      throw fail(`reservationName is set but reservationAffinity is ${affinityGiven}; set reservationAffinity to 'SPECIFIC_RESERVATION' or remove reservationName.`);
    }
    if (props.spot && affinityGiven !== undefined && affinityGiven !== 'NO_RESERVATION') throw fail(`spot TPUs cannot consume reservations, but reservationAffinity is ${affinityGiven}; remove spot or reservationAffinity.`);
    const dws = props.queuedProvisioning ? 'queued provisioning' : props.flexStart ? 'flex-start' : undefined;
    if (props.queuedProvisioning && props.flexStart) throw fail('queuedProvisioning and flexStart are separate Dynamic Workload Scheduler modes; choose one.');
    if (dws) {
      if (props.spot) throw fail(`${dws} does not use spot VMs; remove spot.`);
      if (props.reservationName || (affinityGiven !== undefined && affinityGiven !== 'NO_RESERVATION')) {
        throw fail(`${dws} cannot consume reservations (GKE needs reservation affinity NO_RESERVATION); remove reservationAffinity/reservationName.`);
      }
      if (!props.scaleToZero) throw fail(`${dws} creates slices on demand; set scaleToZero: true.`);
    }
    const affinity = affinityGiven ?? (props.reservationName ? 'SPECIFIC_RESERVATION' : dws ? 'NO_RESERVATION' : undefined);
    const diskType = bootDiskType('TpuNodePool', this, r.machineType, TPU_CATALOGUE[props.version].bootDiskTypes, props.diskType);

    if (this.name.length + (slices > 1 ? `-s${slices - 1}`.length : 0) > 40) throw fail(`node pool name '${this.name}' leaves no room for the slice suffix -s${slices - 1} (40 characters); shorten the name.`);
    const shape = this.slice.shape;
    this.nodePools = Array.from({ length: slices }, (_, i) => new ContainerNodePool(this, i === 0 ? 'pool' : `pool-s${i}`, {
      name: i === 0 ? this.name : `${this.name}-s${i}`,
      cluster: props.cluster.cluster.id,
      location: props.cluster.location,
      nodeLocations: [props.zone],
      nodeCount: props.scaleToZero ? undefined : shape.nodeCount,
      initialNodeCount: props.scaleToZero ? 0 : undefined,
      autoscaling: props.scaleToZero ? { minNodeCount: 0, maxNodeCount: shape.nodeCount, locationPolicy: 'ANY' } : undefined,
      management: { autoRepair: !dws, autoUpgrade: true },
      queuedProvisioning: props.queuedProvisioning ? { enabled: true } : undefined,
      placementPolicy: { type: 'COMPACT', tpuTopology: shape.topology },
      upgradeSettings: { strategy: 'SURGE', maxSurge: shape.multiHost ? 0 : 1, maxUnavailable: shape.multiHost ? 1 : 0 },
      nodeConfig: {
        ...baseNodeConfig(props, {
          machineType: shape.machineType,
          diskType,
          spot: props.spot,
          labels: { [POOL_LABEL]: this.name, [ACCELERATOR_LABEL]: `${shape.acceleratorLabel}-${shape.topology}` },
          taints: [TPU_TAINT],
        }),
        flexStart: props.flexStart ? true : undefined,
        reservationAffinity: affinity
          ? {
            consumeReservationType: affinity,
            key: affinity === 'SPECIFIC_RESERVATION' ? 'compute.googleapis.com/reservation-name' : undefined,
            values: affinity === 'SPECIFIC_RESERVATION' ? [props.reservationName!] : undefined,
          }
          : undefined,
      },
    }));
    this.nodePool = this.nodePools[0];
    this.scheduling = {
      // The TPU labels GKE sets plus the pool label: two pools of one version and topology stay apart.
      nodeLabels: { ...this.nodeSelector(), [POOL_LABEL]: this.name },
      taints: [TPU_TAINT],
      tolerations: this.tolerations(),
      machineType: shape.machineType,
      maxNodes: shape.nodeCount * slices,
      nodeUnit: shape.nodeCount,
      accelerator: { resource: 'google.com/tpu', perNode: shape.chipsPerVm, shared: false },
      queuedProvisioning: props.queuedProvisioning === true,
    };
    // GKE requires auto-repair off on DWS pools, and a TPU slice is placed COMPACT with its topology even when queued.
    for (const pool of dws ? this.nodePools : []) {
      PolicyPack.suppress(pool, 'CKV_GCP_9', `TPU ${dws} (Dynamic Workload Scheduler) pools must run with auto-repair off, as GKE requires.`);
      if (props.queuedProvisioning) {
        PolicyPack.suppress(pool, 'MLP_DWS_QUEUED', 'A queued TPU slice keeps placement_policy COMPACT with its tpu_topology (GKE provisions the slice as one unit); reservation affinity NO_RESERVATION and scale-from-0 still hold.');
      }
    }
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
