// A distributed container step (issue 19 §1): `distribution: { workers, processesPerWorker }` or a TPU slice
// `tpu: { version, topology }` (one worker per TPU host, from the TPU catalogue, tpu-slices.json), checked when
// the component is defined, and the environment every rank gets — the names torchrun, JAX and an Indexed Job /
// JobSet give, so a script written for one of those launchers runs unchanged locally and on every engine.

import { UserError } from '../../core/errors';
import TPU_SLICES from './tpu-slices.json';

export interface DistributionSpec {
  /** Machines (pods, replicas) running the step; each gets a NODE_RANK / JOB_COMPLETION_INDEX. */
  workers: number;
  /** Processes per worker (e.g. one per GPU), each a rank. @default 1 */
  processesPerWorker?: number;
}

export interface TpuSlice {
  /** TPU version as the constructs' catalogue names it: v4, v5e, v5p, v6e. */
  version: string;
  /** Slice topology, e.g. "2x4" (v5e, v6e) or "2x2x2" (v4, v5p). */
  topology: string;
}

/** A checked distributed step: how many workers and ranks, and the TPU slice's hosts when it is one. */
export interface RankLayout {
  workers: number;
  processesPerWorker: number;
  worldSize: number;
  tpu?: TpuSlice & { acceleratorLabel: string; machineType: string; chipsPerVm: number; hosts: number };
}

type SliceCatalogue = Record<string, {
  acceleratorLabel: string;
  singleHost: Record<string, { machineType: string; chipsPerVm: number }>;
  multiHost: { machineType: string; chipsPerVm: number; topologies: string[] };
}>;
const SLICES = TPU_SLICES as SliceCatalogue;

const positiveInteger = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;

/**
 * The TPU slice's machine and host count: a topology with a single-host machine runs on one host (as the
 * constructs' pools default), any other on chips / chips per VM hosts of the multi-host machine.
 */
export function tpuHosts(tpu: TpuSlice, where: string): NonNullable<RankLayout['tpu']> {
  const spec = SLICES[tpu.version];
  if (!spec) throw new UserError(`${where}: tpu.version "${tpu.version}" is not a TPU version of the catalogue (${Object.keys(SLICES).join(', ')})`);
  const single = spec.singleHost[tpu.topology];
  if (single) return { ...tpu, acceleratorLabel: spec.acceleratorLabel, ...single, hosts: 1 };
  if (spec.multiHost.topologies.includes(tpu.topology)) {
    const chips = tpu.topology.split('x').map(Number).reduce((a, b) => a * b, 1);
    const { machineType, chipsPerVm } = spec.multiHost;
    return { ...tpu, acceleratorLabel: spec.acceleratorLabel, machineType, chipsPerVm, hosts: chips / chipsPerVm };
  }
  const known = [...new Set([...Object.keys(spec.singleHost), ...spec.multiHost.topologies])];
  throw new UserError(`${where}: TPU ${tpu.version} has no topology "${tpu.topology}" (${known.length > 8 ? `e.g. ${known.slice(0, 8).join(', ')}, …` : known.join(', ')})`);
}

/**
 * Checks a step's distribution and TPU slice. A TPU slice sets the workers (one per host, one process each);
 * a distribution given with it must say the same.
 */
export function rankLayout(distribution: DistributionSpec | undefined, tpu: TpuSlice | undefined, where: string): RankLayout | undefined {
  if (distribution === undefined && tpu === undefined) return undefined;
  if (distribution !== undefined) {
    if (!positiveInteger(distribution.workers)) throw new UserError(`${where}: distribution.workers must be a positive integer, got ${JSON.stringify(distribution.workers)}`);
    if (distribution.processesPerWorker !== undefined && !positiveInteger(distribution.processesPerWorker)) {
      throw new UserError(`${where}: distribution.processesPerWorker must be a positive integer, got ${JSON.stringify(distribution.processesPerWorker)}`);
    }
  }
  if (tpu === undefined) {
    const processesPerWorker = distribution!.processesPerWorker ?? 1;
    return { workers: distribution!.workers, processesPerWorker, worldSize: distribution!.workers * processesPerWorker };
  }
  const slice = tpuHosts(tpu, where);
  if (distribution && (distribution.workers !== slice.hosts || (distribution.processesPerWorker ?? 1) !== 1)) {
    throw new UserError(`${where}: TPU ${tpu.version} ${tpu.topology} runs on ${slice.hosts} host(s), one process each, but distribution asks for ${distribution.workers} worker(s) × ${distribution.processesPerWorker ?? 1}; leave distribution out or make it { workers: ${slice.hosts} }`);
  }
  return { workers: slice.hosts, processesPerWorker: 1, worldSize: slice.hosts, tpu: slice };
}

/**
 * Set (to 1) in every pod of a distributed step with more than one process per worker on a cluster: the step's
 * launcher (runner/distributed-launch.ts) then starts only this worker's ranks, with the coordinator and node rank
 * the cluster gave the pod (clusterWorker), instead of all of them on this machine.
 */
export const CLUSTER_WORKER_ENV = 'MLP_CLUSTER_WORKER';

/** One worker of a cluster: its node rank and where rank 0 listens, from the pod's environment. */
export interface ClusterWorker {
  nodeRank: number;
  coordinator: Coordinator;
}

/**
 * The worker this process runs as, when CLUSTER_WORKER_ENV says it is one worker of a cluster: NODE_RANK,
 * MASTER_ADDR / MASTER_PORT and JAX_COORDINATOR_ADDRESS's port, checked (a missing or wrong one is an error naming it).
 */
export function clusterWorker(layout: RankLayout, env: NodeJS.ProcessEnv, where: string): ClusterWorker | undefined {
  if (env[CLUSTER_WORKER_ENV] !== '1') return undefined;
  const bad = (name: string, what: string) => new UserError(`${where}: ${CLUSTER_WORKER_ENV}=1 but ${name} is ${JSON.stringify(env[name] ?? null)}: ${what}`);
  const nodeRank = Number(env.NODE_RANK);
  if (!env.NODE_RANK || !Number.isInteger(nodeRank) || nodeRank < 0 || nodeRank >= layout.workers) throw bad('NODE_RANK', `not a node rank of ${layout.workers} worker(s)`);
  if (!env.MASTER_ADDR) throw bad('MASTER_ADDR', 'the coordinator (rank 0) host is needed');
  const port = (name: string, text: string | undefined): number => {
    const n = Number(text);
    if (!text || !Number.isInteger(n) || n < 1 || n > 65535) throw bad(name, 'not a port');
    return n;
  };
  const torchPort = port('MASTER_PORT', env.MASTER_PORT);
  const jaxPort = port('JAX_COORDINATOR_ADDRESS', /:(\d+)$/.exec(env.JAX_COORDINATOR_ADDRESS ?? '')?.[1]);
  return { nodeRank, coordinator: { address: env.MASTER_ADDR, torchPort, jaxPort } };
}

/**
 * A step's `resources` are one worker's (a pod, a Vertex AI replica), whatever its processes: with
 * processesPerWorker M > 1 and G GPUs per worker, each process takes G / M of them (LOCAL_RANK picks which), so G
 * must be a multiple of M.
 */
export function checkWorkerGpus(layout: RankLayout, accelerator: { type: string; count: number } | undefined, where: string): void {
  const m = layout.processesPerWorker;
  if (m > 1 && accelerator && accelerator.count % m !== 0) {
    throw new UserError(`${where}: resources.accelerator asks for ${accelerator.count} × ${accelerator.type} per worker, which its ${m} processes (distribution.processesPerWorker) cannot share evenly; resources are per worker, so give a multiple of ${m} GPUs`);
  }
}

/**
 * The distribution and TPU slice a node runs its container component with, as JSON `{ distribution?, tpu? }`, in
 * the environment of the local runner's executor process (spec.ts containerDistributionEnv): it replaces the
 * registered component's pair (`pipeline.add(..., { distribution, tpu })`).
 */
export const CONTAINER_DISTRIBUTION_ENV = 'MLP_CONTAINER_DISTRIBUTION';

/** The pair CONTAINER_DISTRIBUTION_ENV holds; anything else in it is an error naming the variable. */
export function parseContainerDistribution(text: string): { distribution?: DistributionSpec; tpu?: TpuSlice } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).some((k) => k !== 'distribution' && k !== 'tpu')) {
    throw new UserError(`${CONTAINER_DISTRIBUTION_ENV} is not {"distribution"?, "tpu"?} JSON: ${text.slice(0, 80)}`);
  }
  return v as { distribution?: DistributionSpec; tpu?: TpuSlice };
}

/** Where rank 0 listens: the torch.distributed store (MASTER_PORT) and the JAX coordinator. */
export interface Coordinator {
  address: string;
  torchPort: number;
  jaxPort: number;
}

/**
 * The environment contract of one rank (docs/architecture.md "Distributed steps" has it as a table). Ranks are
 * numbered worker by worker: rank = nodeRank × processesPerWorker + localRank.
 */
export function rankEnvironment(layout: RankLayout, rank: number, coordinator: Coordinator): Record<string, string> {
  const nodeRank = Math.floor(rank / layout.processesPerWorker);
  return {
    WORLD_SIZE: String(layout.worldSize),
    RANK: String(rank),
    NODE_RANK: String(nodeRank),
    LOCAL_RANK: String(rank % layout.processesPerWorker),
    LOCAL_WORLD_SIZE: String(layout.processesPerWorker),
    MASTER_ADDR: coordinator.address,
    MASTER_PORT: String(coordinator.torchPort),
    JAX_COORDINATOR_ADDRESS: `${coordinator.address}:${coordinator.jaxPort}`,
    JAX_PROCESS_ID: String(rank),
    JAX_NUM_PROCESSES: String(layout.worldSize),
    JOB_COMPLETION_INDEX: String(nodeRank),
  };
}
