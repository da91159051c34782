// Typed GPU accelerator catalogue for GKE: which machine types carry each accelerator and how many GPUs they attach.
// Pure data + a pure resolver so property tests can enumerate every combination.

/** GKE accelerator type strings (the `guest_accelerator.type` and `cloud.google.com/gke-accelerator` label value). */
export type GpuAcceleratorType =
  | 'nvidia-tesla-t4'
  | 'nvidia-tesla-v100'
  | 'nvidia-l4'
  | 'nvidia-tesla-a100'
  | 'nvidia-a100-80gb'
  | 'nvidia-h100-80gb'
  | 'nvidia-h100-mega-80gb'
  | 'nvidia-h200-141gb'
  | 'nvidia-b200';

/** Friendly names for the accelerator types, e.g. `GpuAccelerator.L4`. */
export const GpuAccelerator = {
  T4: 'nvidia-tesla-t4',
  V100: 'nvidia-tesla-v100',
  L4: 'nvidia-l4',
  A100_40GB: 'nvidia-tesla-a100',
  A100_80GB: 'nvidia-a100-80gb',
  H100_80GB: 'nvidia-h100-80gb',
  H100_MEGA_80GB: 'nvidia-h100-mega-80gb',
  H200_141GB: 'nvidia-h200-141gb',
  B200: 'nvidia-b200',
} as const satisfies { readonly [name: string]: GpuAcceleratorType };

/** Node boot disk types GKE accepts (`node_config.disk_type`). */
export type BootDiskType = 'pd-standard' | 'pd-balanced' | 'pd-ssd' | 'hyperdisk-balanced';

/**
 * Boot disk types per machine series, the first being the pool default. Source: Compute Engine "Accelerator-optimized
 * machine family" and "About Hyperdisk" (supported disk types per series): A3 Ultra (H200) and A4 (B200) take Hyperdisk
 * only, A3 High/Mega (H100) Persistent Disk or Hyperdisk Balanced, G2 balanced/SSD Persistent Disk, A2 and N1 Persistent Disk.
 */
export const BOOT_DISKS = {
  persistentDisk: ['pd-balanced', 'pd-standard', 'pd-ssd'],
  fastPersistentDisk: ['pd-balanced', 'pd-ssd'],
  persistentOrHyperdisk: ['pd-balanced', 'pd-ssd', 'hyperdisk-balanced'],
  hyperdiskOnly: ['hyperdisk-balanced'],
} as const satisfies { readonly [kind: string]: readonly BootDiskType[] };

/** A machine type whose GPU count is fixed by the machine shape (accelerator-optimized families). */
export interface FixedGpuMachine {
  readonly machineType: string;
  readonly gpus: number;
  /** Local SSDs bundled with the machine (A2 Ultra, A3, A4), which GKE can use as ephemeral storage. */
  readonly localSsds?: number;
}

/** An attachable GPU count on N1 and the most vCPUs an N1 machine may have with it. */
export interface AttachableGpuCount {
  readonly gpus: number;
  readonly maxVcpus: number;
}

/** Catalogue entry for one accelerator. */
export interface GpuSpec {
  readonly type: GpuAcceleratorType;
  readonly displayName: string;
  readonly memoryGib: number;
  /** Machine family the accelerator needs, e.g. `g2`. */
  readonly machineFamily: 'n1' | 'g2' | 'a2' | 'a3' | 'a4';
  /** Accelerator-optimized machine types and the GPUs each one carries (empty for N1 attachable GPUs). */
  readonly fixedMachines: readonly FixedGpuMachine[];
  /** N1 only: GPU counts that can be attached, with the vCPU ceiling for each. */
  readonly attachable: readonly AttachableGpuCount[];
  /** Boot disk types the accelerator's machine series takes; the first is the default. */
  readonly bootDiskTypes: readonly BootDiskType[];
}

const g2 = (vcpus: number, gpus: number): FixedGpuMachine => ({ machineType: `g2-standard-${vcpus}`, gpus });
const byCount = (prefix: string, counts: readonly number[], ssdsPerGpu = 0): FixedGpuMachine[] =>
  counts.map((n) => ({ machineType: `${prefix}-${n}g`, gpus: n, localSsds: ssdsPerGpu > 0 ? n * ssdsPerGpu : undefined }));

/** The catalogue. Sources: GKE GPU docs (machine families per accelerator, google provider 6.50). */
export const GPU_CATALOGUE: { readonly [T in GpuAcceleratorType]: GpuSpec } = {
  'nvidia-tesla-t4': {
    type: 'nvidia-tesla-t4', displayName: 'T4', memoryGib: 16, machineFamily: 'n1', fixedMachines: [], bootDiskTypes: BOOT_DISKS.persistentDisk,
    attachable: [{ gpus: 1, maxVcpus: 48 }, { gpus: 2, maxVcpus: 48 }, { gpus: 4, maxVcpus: 96 }],
  },
  'nvidia-tesla-v100': {
    type: 'nvidia-tesla-v100', displayName: 'V100', memoryGib: 16, machineFamily: 'n1', fixedMachines: [], bootDiskTypes: BOOT_DISKS.persistentDisk,
    attachable: [{ gpus: 1, maxVcpus: 12 }, { gpus: 2, maxVcpus: 24 }, { gpus: 4, maxVcpus: 48 }, { gpus: 8, maxVcpus: 96 }],
  },
  'nvidia-l4': {
    type: 'nvidia-l4', displayName: 'L4', memoryGib: 24, machineFamily: 'g2', attachable: [], bootDiskTypes: BOOT_DISKS.fastPersistentDisk,
    fixedMachines: [g2(4, 1), g2(8, 1), g2(12, 1), g2(16, 1), g2(32, 1), g2(24, 2), g2(48, 4), g2(96, 8)],
  },
  'nvidia-tesla-a100': {
    type: 'nvidia-tesla-a100', displayName: 'A100 40GB', memoryGib: 40, machineFamily: 'a2', attachable: [], bootDiskTypes: BOOT_DISKS.persistentDisk,
    fixedMachines: [...byCount('a2-highgpu', [1, 2, 4, 8]), { machineType: 'a2-megagpu-16g', gpus: 16 }],
  },
  'nvidia-a100-80gb': {
    type: 'nvidia-a100-80gb', displayName: 'A100 80GB', memoryGib: 80, machineFamily: 'a2', attachable: [], bootDiskTypes: BOOT_DISKS.persistentDisk,
    fixedMachines: byCount('a2-ultragpu', [1, 2, 4, 8], 1),
  },
  'nvidia-h100-80gb': {
    type: 'nvidia-h100-80gb', displayName: 'H100 80GB', memoryGib: 80, machineFamily: 'a3', attachable: [], bootDiskTypes: BOOT_DISKS.persistentOrHyperdisk,
    fixedMachines: byCount('a3-highgpu', [1, 2, 4, 8], 2),
  },
  'nvidia-h100-mega-80gb': {
    type: 'nvidia-h100-mega-80gb', displayName: 'H100 Mega 80GB', memoryGib: 80, machineFamily: 'a3', attachable: [], bootDiskTypes: BOOT_DISKS.persistentOrHyperdisk,
    fixedMachines: [{ machineType: 'a3-megagpu-8g', gpus: 8, localSsds: 16 }],
  },
  'nvidia-h200-141gb': {
    type: 'nvidia-h200-141gb', displayName: 'H200 141GB', memoryGib: 141, machineFamily: 'a3', attachable: [], bootDiskTypes: BOOT_DISKS.hyperdiskOnly,
    fixedMachines: [{ machineType: 'a3-ultragpu-8g', gpus: 8, localSsds: 32 }],
  },
  'nvidia-b200': {
    type: 'nvidia-b200', displayName: 'B200', memoryGib: 180, machineFamily: 'a4', attachable: [], bootDiskTypes: BOOT_DISKS.hyperdiskOnly,
    fixedMachines: [{ machineType: 'a4-highgpu-8g', gpus: 8, localSsds: 32 }],
  },
};

/** Accelerators GKE can partition with Multi-Instance GPU (`gpu_partition_size`), and the partition sizes each offers. */
export const MIG_PARTITIONS: { readonly [T in GpuAcceleratorType]?: readonly string[] } = {
  'nvidia-tesla-a100': ['1g.5gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'],
  'nvidia-a100-80gb': ['1g.10gb', '2g.20gb', '3g.40gb', '4g.40gb', '7g.80gb'],
  'nvidia-h100-80gb': ['1g.10gb', '1g.20gb', '2g.20gb', '3g.40gb', '4g.40gb', '7g.80gb'],
  'nvidia-h100-mega-80gb': ['1g.10gb', '1g.20gb', '2g.20gb', '3g.40gb', '4g.40gb', '7g.80gb'],
};

/** All accelerator types, in catalogue order. */
export const GPU_ACCELERATOR_TYPES = Object.keys(GPU_CATALOGUE) as GpuAcceleratorType[];

/** N1 machine shapes (vCPU counts) GKE offers. */
export const N1_VCPUS = [1, 2, 4, 8, 16, 32, 64, 96] as const;

/** Result of resolving an accelerator on a machine type. */
export type GpuResolution =
  | { readonly ok: true; readonly gpusPerNode: number; readonly spec: GpuSpec; readonly localSsds: number }
  | { readonly ok: false; readonly reason: string };

/** Every machine type the catalogue accepts for an accelerator (N1: all standard/highmem/highcpu shapes within the vCPU ceiling). */
export function machineTypesFor(type: GpuAcceleratorType): string[] {
  const spec = GPU_CATALOGUE[type];
  if (spec.fixedMachines.length > 0) return spec.fixedMachines.map((m) => m.machineType);
  const ceiling = Math.max(...spec.attachable.map((a) => a.maxVcpus));
  return (['standard', 'highmem', 'highcpu'] as const).flatMap((kind) =>
    N1_VCPUS.filter((v) => v <= ceiling && !(kind !== 'standard' && v === 1)).map((v) => `n1-${kind}-${v}`));
}

/**
 * Checks that `machineType` carries `type` and works out the GPUs per node.
 * For accelerator-optimized families the count is fixed by the machine type; `requestedCount`, when given, must match it.
 * For N1 the count must be one of the attachable counts and the machine must not exceed that count's vCPU ceiling.
 */
export function resolveGpu(type: GpuAcceleratorType, machineType: string, requestedCount?: number): GpuResolution {
  const spec = GPU_CATALOGUE[type];
  if (!spec) return { ok: false, reason: `unknown accelerator '${String(type)}'; use one of ${GPU_ACCELERATOR_TYPES.join(', ')}.` };
  const family = machineType.split('-')[0];
  if (family !== spec.machineFamily) {
    const onFamily = GPU_ACCELERATOR_TYPES.filter((t) => GPU_CATALOGUE[t].machineFamily === family);
    const alternatives = onFamily.length > 0 ? ` or pick an accelerator offered on ${family} (${onFamily.join(', ')})` : '';
    return {
      ok: false,
      reason: `accelerator ${type} (${spec.displayName}) needs machine family ${spec.machineFamily}, but machineType is ${machineType}; set machineType to one of ${machineTypesFor(type).slice(0, 8).join(', ')}${alternatives}.`,
    };
  }
  if (spec.fixedMachines.length > 0) {
    const machine = spec.fixedMachines.find((m) => m.machineType === machineType);
    if (!machine) {
      return { ok: false, reason: `machineType ${machineType} does not carry ${type} (${spec.displayName}); use one of ${spec.fixedMachines.map((m) => m.machineType).join(', ')}.` };
    }
    if (requestedCount !== undefined && requestedCount !== machine.gpus) {
      return { ok: false, reason: `machineType ${machineType} always has ${machine.gpus} x ${type}, but gpusPerNode is ${requestedCount}; remove gpusPerNode or set it to ${machine.gpus}.` };
    }
    return { ok: true, gpusPerNode: machine.gpus, spec, localSsds: machine.localSsds ?? 0 };
  }
  const m = /^n1-(standard|highmem|highcpu)-(\d+)$/.exec(machineType);
  const vcpus = m ? Number(m[2]) : NaN;
  if (!m || !(N1_VCPUS as readonly number[]).includes(vcpus) || (m[1] !== 'standard' && vcpus === 1)) {
    return { ok: false, reason: `machineType ${machineType} is not an N1 machine type; use n1-standard-N, n1-highmem-N or n1-highcpu-N with N in ${N1_VCPUS.join(', ')}.` };
  }
  const count = requestedCount ?? spec.attachable[0].gpus;
  const option = spec.attachable.find((a) => a.gpus === count);
  if (!option) {
    return { ok: false, reason: `${type} (${spec.displayName}) attaches ${spec.attachable.map((a) => a.gpus).join(', ')} GPUs per N1 node, not ${count}; set gpusPerNode to one of those.` };
  }
  if (vcpus > option.maxVcpus) {
    const fits = spec.attachable.filter((a) => a.maxVcpus >= vcpus).map((a) => a.gpus);
    return {
      ok: false,
      reason: `${machineType} has ${vcpus} vCPUs but ${count} x ${type} allows at most ${option.maxVcpus}; use a smaller machine type${fits.length ? ` or set gpusPerNode to ${fits.join(' or ')}` : ''}.`,
    };
  }
  return { ok: true, gpusPerNode: count, spec, localSsds: 0 };
}
