// A distributed container step on Vertex AI (issue 19 §4) as a Vertex AI CustomJob
// (google/cloud/aiplatform/v1/custom_job.proto, machine_resources.proto): worker pool 0 is the chief (one
// replica, rank 0), worker pool 1 the other workers; each replica runs the component's image and command line
// behind a `sh` prelude that gives it the environment contract of distribution.ts from the CLUSTER_SPEC Vertex AI
// sets on every replica. The KFP step around it runs the runtime image's launcher (runtime/runner/
// vertex-custom-job-launcher.ts), which creates this job and waits, as Google Cloud Pipeline Components'
// custom-job launcher does. The command line goes to the launcher as separate arguments after the payload, so
// KFP's launcher resolves every placeholder (Concat and IfPresent too) as for any container step.

import { UserError } from '../core/errors';
import { checkWorkerGpus, rankLayout, type RankLayout } from '../components/container/distribution';
import { kfpComponentIR } from '../components/container/kfp-component';
import { cpuCores } from './quantities';
import { isContainerComponent } from '../components/container/spec';
import type { CompiledNode, CompiledPipeline } from './common';

type Json = Record<string, unknown>;

export interface CustomJobOptions {
  /** Service account the replicas run as (the pipeline job's). @default - Vertex AI's Custom Code Service Agent */
  serviceAccount?: string;
  /** VPC network the job is peered to (the pipeline job's), projects/NUMBER/global/networks/NAME. */
  network?: string;
}

/** The torch.distributed store's and the JAX coordinator's ports on the chief (one replica per VM: fixed ports are free). */
export const VERTEX_TORCH_PORT = 29500;
export const VERTEX_JAX_PORT = 8476;

/**
 * What stands for the process's rank in the other ranks' command line (their scratch folders,
 * runner/vertex-custom-job-launcher.ts), so the processes of one replica write to folders of their own.
 */
export const RANK_TOKEN = '@MLP_RANK@';

/**
 * Keeps, of the arguments `K RANK0_ARGS(K)… OTHER_ARGS…`, RANK0_ARGS when $first is 1 and OTHER_ARGS otherwise, with
 * RANK_TOKEN replaced by $r (`set --` rotates them through "$@", since sh has no other list), leaving "$@" the
 * command line to run.
 */
const PICK_ARGS = [
  'total=$#; j=0',
  'while [ "$j" -lt "$total" ]; do',
  '  if [ "$j" -lt "$k" ]; then keep=$first; else keep=$((1 - first)); fi',
  '  if [ "$keep" = 1 ]; then',
  '    a=$1',
  `    while case $a in *${RANK_TOKEN}*) true ;; *) false ;; esac; do a="\${a%%${RANK_TOKEN}*}$r\${a#*${RANK_TOKEN}}"; done`,
  '    set -- "$@" "$a"',
  '  fi',
  '  shift; j=$((j + 1))',
  'done',
];

/**
 * The rank environment each replica derives from Vertex AI's CLUSTER_SPEC
 * ({"cluster": {"workerpool0": ["host:port"], ...}, "task": {"type": "workerpool1", "index": 2}, ...}) with sed,
 * which every image with a shell has: pool 0 is node rank 0, replica i of pool 1 node rank i + 1; the chief's host
 * is the coordinator. With one process per worker it runs the command line; with M > 1 it starts the replica's
 * LOCAL_WORLD_SIZE (processesPerWorker, M) processes, rank
 * NODE_RANK × M + LOCAL_RANK each, as torchrun's multi-node mode would (Vertex AI's replicas run the user's image
 * only, where the runtime's launcher is not, so the launcher is this script): rank 0 runs the rank 0 command line,
 * every other rank the other one (its arguments are `K RANK0_ARGS(K)… OTHER_ARGS…`). The first rank to fail stops
 * the others (kill 0: the replica's process group) and the replica exits non-zero; a TERM to the replica is passed
 * to its ranks the same way.
 */
export const RANK_PRELUDE = [
  'spec="${CLUSTER_SPEC:-}"',
  '[ -n "$spec" ] || { echo "mlp: CLUSTER_SPEC is not set: this command line runs as a Vertex AI CustomJob replica" >&2; exit 1; }',
  `pool=$(printf '%s' "$spec" | sed -n 's/.*"task" *: *{[^}]*"type" *: *"workerpool\\([0-9]\\)".*/\\1/p')`,
  `index=$(printf '%s' "$spec" | sed -n 's/.*"task" *: *{[^}]*"index" *: *\\([0-9][0-9]*\\).*/\\1/p')`,
  `chief=$(printf '%s' "$spec" | sed -n 's/.*"workerpool0" *: *\\[ *"\\([^":]*\\)[:"].*/\\1/p')`,
  'if [ -z "$pool" ] || [ -z "$index" ] || [ -z "$chief" ]; then echo "mlp: cannot read this replica\'s task and the chief from CLUSTER_SPEC: $spec" >&2; exit 1; fi',
  'if [ "$pool" = 0 ]; then node=0; else node=$((index + 1)); fi',
  'm=${LOCAL_WORLD_SIZE:-1}; k=$1; shift',
  'export NODE_RANK=$node JOB_COMPLETION_INDEX=$node MASTER_ADDR=$chief JAX_COORDINATOR_ADDRESS=$chief:$MLP_JAX_PORT',
  // One process: it becomes the replica's process, with its own exit code and signals.
  'if [ "$m" = 1 ]; then',
  '  r=$node; export RANK=$node LOCAL_RANK=0 JAX_PROCESS_ID=$node',
  '  if [ "$node" = 0 ]; then first=1; else first=0; fi',
  ...PICK_ARGS.map((line) => `  ${line}`),
  '  exec "$@"',
  'fi',
  'stopped=0',
  'trap \'if [ "$stopped" = 0 ]; then stopped=1; kill -TERM 0; fi\' TERM',
  'l=0',
  'while [ "$l" -lt "$m" ]; do',
  '  r=$((node * m + l))',
  '  (',
  '    export RANK=$r LOCAL_RANK=$l JAX_PROCESS_ID=$r',
  '    if [ "$r" = 0 ]; then first=1; else first=0; fi',
  ...PICK_ARGS.map((line) => `    ${line}`),
  '    "$@"; s=$?',
  '    if [ "$s" != 0 ]; then echo "mlp: rank $r (worker $node) exited with code $s; stopping this replica\'s other ranks" >&2; kill -TERM 0; fi',
  '    exit "$s"',
  '  ) &',
  '  l=$((l + 1))',
  'done',
  // wait returns > 128 when the trap interrupts it: wait again until every rank has exited.
  'until wait; do :; done',
  'if [ "$stopped" = 1 ]; then exit 1; fi',
].join('\n');

/** $0 of the prelude's shell (what `ps` and its error messages show). */
const PRELUDE_NAME = 'mlp-rank';
/**
 * A TPU slice's replica: its hosts are one replica of Vertex AI's, so CLUSTER_SPEC cannot tell them apart, and the
 * rank variables would be wrong; JAX finds the slice's hosts itself (jax.distributed.initialize() without
 * arguments). Every host runs the rank 0 command line (the replica is worker pool 0's).
 */
export const TPU_PRELUDE = ['k=$1; shift; first=1; r=0', ...PICK_ARGS, 'exec "$@"'].join('\n');

/** The rank layout of a distributed container step; undefined for any other node. */
export function distributedLayout(node: CompiledNode): RankLayout | undefined {
  const c = node.component;
  if (!isContainerComponent(c)) return undefined;
  return rankLayout(c.container.distribution, c.container.tpu, `node ${node.id}`);
}

/**
 * Vertex AI machine types per GPU (GKE's label) and count, with their vCPUs, smallest first (the first is the
 * default; a larger `cpu` takes the first with enough vCPUs). The accelerator-optimized machine types (A2, A3, G2)
 * come with a fixed GPU count; T4/V100/P100/P4 attach to N1 machines. Sources: Compute Engine's "GPU machine types"
 * and "Accelerator-optimized machine family" pages (https://cloud.google.com/compute/docs/gpus,
 * https://cloud.google.com/compute/docs/accelerator-optimized-machines: G2 machines g2-standard-8/12/16/32 have one
 * L4, -24 two, -48 four, -96 eight), and the MachineSpec reference for the acceleratorType names
 * (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/MachineSpec, enum AcceleratorType: NVIDIA_L4,
 * NVIDIA_TESLA_A100, NVIDIA_A100_80GB, NVIDIA_H100_80GB, NVIDIA_H100_MEGA_80GB, NVIDIA_TESLA_T4/V100/P100/P4).
 */
const GPU_MACHINES: Record<string, Record<number, [machineType: string, vcpus: number][]>> = {
  'nvidia-l4': { 1: [['g2-standard-8', 8], ['g2-standard-12', 12], ['g2-standard-16', 16], ['g2-standard-32', 32]], 2: [['g2-standard-24', 24]], 4: [['g2-standard-48', 48]], 8: [['g2-standard-96', 96]] },
  'nvidia-tesla-a100': { 1: [['a2-highgpu-1g', 12]], 2: [['a2-highgpu-2g', 24]], 4: [['a2-highgpu-4g', 48]], 8: [['a2-highgpu-8g', 96]] },
  'nvidia-a100-80gb': { 1: [['a2-ultragpu-1g', 12]], 2: [['a2-ultragpu-2g', 24]], 4: [['a2-ultragpu-4g', 48]], 8: [['a2-ultragpu-8g', 96]] },
  'nvidia-h100-80gb': { 8: [['a3-highgpu-8g', 208]] },
  'nvidia-h100-mega-80gb': { 8: [['a3-megagpu-8g', 208]] },
  'nvidia-tesla-t4': { 1: [['n1-standard-8', 8]], 2: [['n1-standard-16', 16]], 4: [['n1-standard-32', 32]] },
  'nvidia-tesla-v100': { 1: [['n1-standard-8', 8]], 2: [['n1-standard-16', 16]], 4: [['n1-standard-32', 32]], 8: [['n1-standard-64', 64]] },
  'nvidia-tesla-p100': { 1: [['n1-standard-8', 8]], 2: [['n1-standard-16', 16]], 4: [['n1-standard-32', 32]] },
  'nvidia-tesla-p4': { 1: [['n1-standard-8', 8]], 2: [['n1-standard-16', 16]], 4: [['n1-standard-32', 32]] },
};

/** CPU-only replicas: the smallest N2 standard machine with the vCPUs asked for. */
const N2_STANDARD_VCPUS = [2, 4, 8, 16, 32, 48, 64, 80, 96, 128];

/**
 * machineSpec of every replica: the TPU slice's machine and topology, the GPU machine, or an N2 machine for the cpu.
 * A TPU slice is `machineType` (the slice's VM type, e.g. ct5lp-hightpu-4t) with `tpuTopology` (MachineSpec.tpu_topology:
 * "the TPU topologies available from GKE", machine_resources.proto / the MachineSpec reference above) in one pool of
 * one replica, without acceleratorType: Vertex AI provisions the slice's hosts. That a multi-host slice is one replica
 * (not one per host) is this module's reading of Vertex AI's TPU training page, which the stored docs here could not
 * show; the request body test checks the fields against the proto, not this.
 */
function machineSpec(node: CompiledNode, layout: RankLayout): Json {
  const res = node.resources;
  checkWorkerGpus(layout, res?.accelerator, `node ${node.id}`);
  if (layout.tpu) return { machineType: layout.tpu.machineType, tpuTopology: layout.tpu.topology };
  const cpu = res?.cpu ? cpuCores(node.id, res.cpu) : undefined;
  if (res?.accelerator) {
    const { type, count } = res.accelerator;
    const byCount = GPU_MACHINES[type];
    if (!byCount) throw new UserError(`node ${node.id}: GPU ${type} has no Vertex AI machine type here (known: ${Object.keys(GPU_MACHINES).join(', ')})`);
    const machines = byCount[count];
    if (!machines) throw new UserError(`node ${node.id}: Vertex AI has no machine with ${count} × ${type} (counts: ${Object.keys(byCount).join(', ')})`);
    const machine = machines.find(([, vcpus]) => cpu === undefined || cpu <= vcpus);
    if (!machine) {
      const [name, vcpus] = machines.at(-1)!;
      throw new UserError(`node ${node.id}: cpu ${res.cpu} is more than the ${vcpus} vCPUs of ${name}, the largest machine of ${count} × ${type}`);
    }
    return { machineType: machine[0], acceleratorType: type.toUpperCase().replace(/-/g, '_'), acceleratorCount: count };
  }
  if (cpu === undefined) throw new UserError(`node ${node.id}: a distributed step on Vertex AI needs resources.cpu (or a GPU or TPU slice) to choose its machine type`);
  const vcpus = N2_STANDARD_VCPUS.find((n) => n >= cpu);
  if (vcpus === undefined) throw new UserError(`node ${node.id}: cpu ${res!.cpu} is more than the largest N2 machine (${N2_STANDARD_VCPUS.at(-1)} vCPUs)`);
  return { machineType: `n2-standard-${vcpus}` };
}

/** The environment every replica gets: the component's own, then the contract's values that are the same on every replica. */
function replicaEnv(node: CompiledNode, layout: RankLayout): { name: string; value: string }[] {
  const c = node.component;
  if (!isContainerComponent(c)) throw new Error(`node ${node.id} is not a container component`);
  const contract: Record<string, string> = {
    WORLD_SIZE: String(layout.worldSize),
    LOCAL_WORLD_SIZE: String(layout.processesPerWorker),
    JAX_NUM_PROCESSES: String(layout.worldSize),
    MASTER_PORT: String(VERTEX_TORCH_PORT),
    MLP_JAX_PORT: String(VERTEX_JAX_PORT),
  };
  const perReplica = ['NODE_RANK', 'RANK', 'JOB_COMPLETION_INDEX', 'JAX_PROCESS_ID', 'LOCAL_RANK', 'MASTER_ADDR', 'JAX_COORDINATOR_ADDRESS'];
  const clash = Object.keys(c.container.env).find((k) => k in contract || perReplica.includes(k));
  if (clash) throw new UserError(`node ${node.id}: container component ${c.name} sets env ${clash}, which a distributed step's replicas get from the launcher`);
  return Object.entries({ ...c.container.env, ...contract }).map(([name, value]) => ({ name, value }));
}

/**
 * The CustomJob request body of a distributed step, without its command line: every replica's containerSpec
 * command is the rank prelude, and the launcher appends the step's command lines (resolved by KFP) to it as
 * `K RANK0_ARGS(K)… OTHER_ARGS…` (customJobRequest). A replica's resources are one worker's, whatever its processes.
 */
export function customJobPayload(plan: CompiledPipeline, node: CompiledNode, opts: CustomJobOptions): Json {
  const layout = distributedLayout(node);
  if (!layout || !isContainerComponent(node.component)) throw new Error(`node ${node.id} is not a distributed container step`);
  // A TPU slice is one replica of its machine type with the slice's topology: Vertex AI provisions its hosts.
  const replicas = layout.tpu ? [1] : [1, layout.workers - 1].filter((n) => n > 0);
  const env = layout.tpu ? Object.entries(node.component.container.env).map(([name, value]) => ({ name, value })) : replicaEnv(node, layout);
  const containerSpec = { imageUri: node.component.container.image, command: ['sh', '-c', layout.tpu ? TPU_PRELUDE : RANK_PRELUDE, PRELUDE_NAME], ...(env.length ? { env } : {}) };
  const machine = machineSpec(node, layout);
  return {
    displayName: `${plan.name}-${node.id}`,
    jobSpec: {
      workerPoolSpecs: replicas.map((replicaCount) => ({ machineSpec: machine, replicaCount, containerSpec })),
      ...(opts.serviceAccount ? { serviceAccount: opts.serviceAccount } : {}),
      ...(opts.network ? { network: opts.network } : {}),
    },
  };
}

/** The component's command line as KFP IR writes it (placeholders, Concat and IfPresent as strings), for the launcher's arguments. */
export function stepCommandLine(node: CompiledNode): string[] {
  if (!isContainerComponent(node.component)) throw new Error(`node ${node.id} is not a container component`);
  const container = kfpComponentIR(node.component).executor.container as { command: string[]; args?: string[] };
  return [...container.command, ...(container.args ?? [])];
}
