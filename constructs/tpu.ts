// Typed TPU catalogue for GKE: TPU version x topology -> machine type, chips per VM, node count and single/multi-host.
// Pure functions so property tests can enumerate the catalogue.
import { BOOT_DISKS, BootDiskType } from './accelerators';

/** TPU generations GKE Standard node pools support. */
export type TpuVersion = 'v4' | 'v5e' | 'v5p' | 'v6e';

/** Catalogue entry for one TPU version. */
export interface TpuSpec {
  readonly version: TpuVersion;
  /** Value of the `cloud.google.com/gke-tpu-accelerator` node label. */
  readonly acceleratorLabel: string;
  /** 2 for v5e/v6e (AxB), 3 for v4/v5p (AxBxC). */
  readonly dimensions: 2 | 3;
  /** Single-host topologies and the machine type (chips per VM) serving each. */
  readonly singleHost: readonly { readonly topology: string; readonly machineType: string; readonly chipsPerVm: number }[];
  /** Machine type and chips per VM used for multi-host slices. */
  readonly multiHostMachineType: string;
  readonly multiHostChipsPerVm: number;
  /** Explicit multi-host topologies (2D versions); undefined = rule-based (3D versions). */
  readonly multiHostTopologies?: readonly string[];
  readonly maxChips: number;
  /** Boot disk types the TPU VMs take; the first is the default (v6e/Trillium boots from Hyperdisk Balanced only). */
  readonly bootDiskTypes: readonly BootDiskType[];
}

export const TPU_CATALOGUE: { readonly [V in TpuVersion]: TpuSpec } = {
  v4: {
    version: 'v4', acceleratorLabel: 'tpu-v4-podslice', dimensions: 3,
    singleHost: [{ topology: '2x2x1', machineType: 'ct4p-hightpu-4t', chipsPerVm: 4 }],
    multiHostMachineType: 'ct4p-hightpu-4t', multiHostChipsPerVm: 4, maxChips: 4096, bootDiskTypes: BOOT_DISKS.fastPersistentDisk,
  },
  v5p: {
    version: 'v5p', acceleratorLabel: 'tpu-v5p-slice', dimensions: 3,
    singleHost: [{ topology: '2x2x1', machineType: 'ct5p-hightpu-4t', chipsPerVm: 4 }],
    multiHostMachineType: 'ct5p-hightpu-4t', multiHostChipsPerVm: 4, maxChips: 8960, bootDiskTypes: BOOT_DISKS.persistentOrHyperdisk,
  },
  v5e: {
    version: 'v5e', acceleratorLabel: 'tpu-v5-lite-podslice', dimensions: 2,
    singleHost: [
      { topology: '1x1', machineType: 'ct5lp-hightpu-1t', chipsPerVm: 1 },
      { topology: '2x2', machineType: 'ct5lp-hightpu-4t', chipsPerVm: 4 },
      { topology: '2x4', machineType: 'ct5lp-hightpu-8t', chipsPerVm: 8 },
    ],
    multiHostMachineType: 'ct5lp-hightpu-4t', multiHostChipsPerVm: 4,
    multiHostTopologies: ['2x4', '4x4', '4x8', '8x8', '8x16', '16x16'], maxChips: 256, bootDiskTypes: BOOT_DISKS.fastPersistentDisk,
  },
  v6e: {
    version: 'v6e', acceleratorLabel: 'tpu-v6e-slice', dimensions: 2,
    singleHost: [
      { topology: '1x1', machineType: 'ct6e-standard-1t', chipsPerVm: 1 },
      { topology: '2x2', machineType: 'ct6e-standard-4t', chipsPerVm: 4 },
      { topology: '2x4', machineType: 'ct6e-standard-8t', chipsPerVm: 8 },
    ],
    multiHostMachineType: 'ct6e-standard-4t', multiHostChipsPerVm: 4,
    multiHostTopologies: ['2x4', '4x4', '4x8', '8x8', '8x16', '16x16'], maxChips: 256, bootDiskTypes: BOOT_DISKS.hyperdiskOnly,
  },
};

export const TPU_VERSIONS = Object.keys(TPU_CATALOGUE) as TpuVersion[];

/** A resolved TPU slice shape. */
export interface TpuSliceShape {
  readonly version: TpuVersion;
  readonly topology: string;
  readonly acceleratorLabel: string;
  readonly machineType: string;
  readonly chips: number;
  readonly chipsPerVm: number;
  /** Nodes in one slice (= chips / chipsPerVm). */
  readonly nodeCount: number;
  readonly multiHost: boolean;
}

export type TpuResolution = ({ readonly ok: true } & TpuSliceShape) | { readonly ok: false; readonly reason: string };

/** Options that pin down an ambiguous slice or double-check it. */
export interface TpuSliceOptions {
  /** Chips per VM; picks single-host (8) vs multi-host (4) for a v5e/v6e 2x4. Default: single-host when the topology has one. */
  readonly chipsPerVm?: number;
  /** Expected node count; must equal chips / chipsPerVm when given. */
  readonly nodeCount?: number;
}

function parseTopology(topology: string): number[] | undefined {
  if (!/^\d+(x\d+){1,2}$/.test(topology)) return undefined;
  const dims = topology.split('x').map(Number);
  return dims.every((d) => d >= 1) ? dims : undefined;
}

/** Valid multi-host topologies for 3D versions: AxBxC, non-decreasing, each 2 or a multiple of 4, at least 8 chips. */
function valid3dMultiHost(dims: number[]): boolean {
  return dims.length === 3 && dims.every((d) => d === 2 || d % 4 === 0) && dims[0] <= dims[1] && dims[1] <= dims[2];
}

/** Some valid topologies for a version, for error messages and property tests. */
export function exampleTopologies(version: TpuVersion): string[] {
  const spec = TPU_CATALOGUE[version];
  if (spec.multiHostTopologies) return [...new Set([...spec.singleHost.map((s) => s.topology), ...spec.multiHostTopologies])];
  return ['2x2x1', '2x2x2', '2x2x4', '2x4x4', '4x4x4', '4x4x8', '4x8x8', '8x8x8', '8x8x16', '8x16x16', '16x16x16'];
}

/** Resolves version x topology (+ options) to machine type, chips per VM and node count, or explains what is wrong. */
export function resolveTpuSlice(version: TpuVersion, topology: string, options: TpuSliceOptions = {}): TpuResolution {
  const spec = TPU_CATALOGUE[version];
  if (!spec) return { ok: false, reason: `unknown TPU version '${String(version)}'; use one of ${TPU_VERSIONS.join(', ')}.` };
  const dims = parseTopology(topology);
  if (!dims || dims.length !== spec.dimensions) {
    return { ok: false, reason: `TPU ${version} topology must have ${spec.dimensions} dimensions (${spec.dimensions === 2 ? 'AxB' : 'AxBxC'}), got '${topology}'; use e.g. ${exampleTopologies(version).slice(0, 4).join(', ')}.` };
  }
  const chips = dims.reduce((a, b) => a * b, 1);
  if (chips > spec.maxChips) {
    return { ok: false, reason: `TPU ${version} topology ${topology} has ${chips} chips, more than the ${spec.maxChips} a ${version} slice can have; use a smaller topology.` };
  }
  const single = spec.singleHost.find((s) => s.topology === topology);
  const multiAllowed = spec.multiHostTopologies ? spec.multiHostTopologies.includes(topology) : chips >= 8 && valid3dMultiHost(dims);
  if (!single && !multiAllowed) {
    return { ok: false, reason: `TPU ${version} does not support topology ${topology}; use one of ${exampleTopologies(version).join(', ')}.` };
  }
  let choice: { machineType: string; chipsPerVm: number; multiHost: boolean };
  if (options.chipsPerVm === undefined) {
    choice = single ? { ...single, multiHost: false } : { machineType: spec.multiHostMachineType, chipsPerVm: spec.multiHostChipsPerVm, multiHost: true };
  } else if (single && single.chipsPerVm === options.chipsPerVm) {
    choice = { ...single, multiHost: false };
  } else if (multiAllowed && options.chipsPerVm === spec.multiHostChipsPerVm) {
    choice = { machineType: spec.multiHostMachineType, chipsPerVm: spec.multiHostChipsPerVm, multiHost: true };
  } else {
    const allowed = [single?.chipsPerVm, multiAllowed ? spec.multiHostChipsPerVm : undefined].filter((c): c is number => c !== undefined);
    return { ok: false, reason: `TPU ${version} topology ${topology} runs on ${[...new Set(allowed)].join(' or ')} chips per VM, not ${options.chipsPerVm}; set chipsPerVm to one of those or leave it unset.` };
  }
  const nodeCount = chips / choice.chipsPerVm;
  if (options.nodeCount !== undefined && options.nodeCount !== nodeCount) {
    return {
      ok: false,
      reason: `TPU ${version} topology ${topology} has ${chips} chips at ${choice.chipsPerVm} chips per VM (${choice.machineType}), so the slice needs ${nodeCount} node${nodeCount === 1 ? '' : 's'}, but nodeCount is ${options.nodeCount}; set nodeCount to ${nodeCount} or leave it unset.`,
    };
  }
  return { ok: true, version, topology, acceleratorLabel: spec.acceleratorLabel, chips, nodeCount, ...choice };
}
