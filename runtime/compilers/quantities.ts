// Kubernetes resource quantities (a step's `resources.cpu` / `.memory`) as the numbers KFP's and Vertex AI's
// fields want.

import { UserError } from '../core/errors';

/** Kubernetes CPU quantity → cores, as KFP's cpuLimit wants. */
export function cpuCores(node: string, q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) throw new UserError(`node ${node}: cpu "${q}" is not a CPU quantity such as 2 or 500m`);
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Kubernetes memory quantity → decimal gigabytes, as KFP's memoryLimit wants (4Gi → 4.294967296). */
export function memoryGigabytes(node: string, q: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new UserError(`node ${node}: memory "${q}" is not a memory quantity such as 4Gi or 512M`);
  return (Number(m[1]) * MEMORY_UNITS[m[2] ?? '']) / 1e9;
}
