// vCPUs and memory of the Compute Engine machine types the accelerator catalogues use (GPU and TPU node pools), so
// the training scheduler's quotas (node count x per-node capacity) come from the same machine types the pools create.
// Sources: Compute Engine "Accelerator-optimized machine family" (A2, A3, A4, G2), "General-purpose machine family"
// (N1 predefined shapes) and the GKE TPU pages (ct4p, ct5p, ct5lp, ct6e host shapes). Memory is GiB as Compute Engine
// counts it ("GB" on those pages is 1024^3 bytes). Capacity, not allocatable: GKE reserves part of each node.
import { GPU_ACCELERATOR_TYPES, machineTypesFor } from './accelerators';
import { TPU_CATALOGUE, TPU_VERSIONS } from './tpu';

/** A machine type's capacity. */
export interface MachineShape {
  readonly vcpus: number;
  readonly memoryGib: number;
}

const FIXED: { readonly [machineType: string]: MachineShape } = {
  'g2-standard-4': { vcpus: 4, memoryGib: 16 },
  'g2-standard-8': { vcpus: 8, memoryGib: 32 },
  'g2-standard-12': { vcpus: 12, memoryGib: 48 },
  'g2-standard-16': { vcpus: 16, memoryGib: 64 },
  'g2-standard-24': { vcpus: 24, memoryGib: 96 },
  'g2-standard-32': { vcpus: 32, memoryGib: 128 },
  'g2-standard-48': { vcpus: 48, memoryGib: 192 },
  'g2-standard-96': { vcpus: 96, memoryGib: 384 },
  'a2-highgpu-1g': { vcpus: 12, memoryGib: 85 },
  'a2-highgpu-2g': { vcpus: 24, memoryGib: 170 },
  'a2-highgpu-4g': { vcpus: 48, memoryGib: 340 },
  'a2-highgpu-8g': { vcpus: 96, memoryGib: 680 },
  'a2-megagpu-16g': { vcpus: 96, memoryGib: 1360 },
  'a2-ultragpu-1g': { vcpus: 12, memoryGib: 170 },
  'a2-ultragpu-2g': { vcpus: 24, memoryGib: 340 },
  'a2-ultragpu-4g': { vcpus: 48, memoryGib: 680 },
  'a2-ultragpu-8g': { vcpus: 96, memoryGib: 1360 },
  'a3-highgpu-1g': { vcpus: 26, memoryGib: 234 },
  'a3-highgpu-2g': { vcpus: 52, memoryGib: 468 },
  'a3-highgpu-4g': { vcpus: 104, memoryGib: 936 },
  'a3-highgpu-8g': { vcpus: 208, memoryGib: 1872 },
  'a3-megagpu-8g': { vcpus: 208, memoryGib: 1872 },
  'a3-ultragpu-8g': { vcpus: 224, memoryGib: 2952 },
  'a4-highgpu-8g': { vcpus: 224, memoryGib: 3968 },
  'ct4p-hightpu-4t': { vcpus: 240, memoryGib: 407 },
  'ct5p-hightpu-4t': { vcpus: 208, memoryGib: 448 },
  'ct5lp-hightpu-1t': { vcpus: 24, memoryGib: 48 },
  'ct5lp-hightpu-4t': { vcpus: 112, memoryGib: 192 },
  'ct5lp-hightpu-8t': { vcpus: 224, memoryGib: 384 },
  'ct6e-standard-1t': { vcpus: 44, memoryGib: 176 },
  'ct6e-standard-4t': { vcpus: 180, memoryGib: 720 },
  'ct6e-standard-8t': { vcpus: 180, memoryGib: 1440 },
};

/** GiB per vCPU of the N1 predefined shapes. */
const N1_MEMORY_PER_VCPU = { standard: 3.75, highmem: 6.5, highcpu: 0.9 } as const;

/** The shape of `machineType`, or undefined when this catalogue does not know it. */
export function machineShape(machineType: string): MachineShape | undefined {
  if (Object.prototype.hasOwnProperty.call(FIXED, machineType)) return FIXED[machineType];
  const n1 = /^n1-(standard|highmem|highcpu)-(\d+)$/.exec(machineType);
  if (!n1) return undefined;
  const vcpus = Number(n1[2]);
  return { vcpus, memoryGib: vcpus * N1_MEMORY_PER_VCPU[n1[1] as keyof typeof N1_MEMORY_PER_VCPU] };
}

/** Every machine type the GPU and TPU catalogues can create (what machineShape must cover). */
export function acceleratorMachineTypes(): string[] {
  const tpu = TPU_VERSIONS.flatMap((v) => [...TPU_CATALOGUE[v].singleHost.map((s) => s.machineType), TPU_CATALOGUE[v].multiHostMachineType]);
  return [...new Set([...GPU_ACCELERATOR_TYPES.flatMap((t) => machineTypesFor(t)), ...tpu])];
}
