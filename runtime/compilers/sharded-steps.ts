// What the Argo, KFP and Airflow compilers share for a sharded node (runtime/core/sharding.ts): the names of its
// plan step and shard steps beside the merge step (which keeps the node's own name, so dependents wire to it as
// to any step), the run's shards folder under the pipeline root, and the `mlp component shard` command lines.

import { UserError } from '../core/errors';
import type { CompiledNode, CompiledPipeline } from './common';

export type ShardPhase = 'plan' | 'run' | 'merge';

/** The steps a sharded node adds beside its merge step (named as the node): plan, the fan-out and one shard. */
export function shardStepNames(id: string): { plan: string; fanOut: string; shard: string } {
  return { plan: `${id}-plan`, fanOut: `${id}-shards`, shard: `${id}-shard` };
}

/** Sharded nodes of a pipeline (`shards` set and not 1). */
export const isSharded = (node: CompiledNode): boolean => node.shards !== undefined;

/** Where one run's shards write their partial states: beside the node's outputs, per run. */
export function shardsDir(root: string, plan: CompiledPipeline, node: CompiledNode, runId: string): string {
  return `${root.replace(/\/+$/, '')}/${plan.name}/${node.id}/shards/${runId}`;
}

/** `mlp component shard <phase> <Name> --executor-input`: the ExecutorInput follows, then the phase's arguments. */
export function shardCommand(node: CompiledNode, phase: ShardPhase): string[] {
  return ['mlp', 'component', 'shard', phase, node.component.name, '--executor-input'];
}

/** The plan's arguments after the ExecutorInput (before any cloud step flags): it writes the shard items to `out`. */
export function planArgs(node: CompiledNode, dir: string, out: string): string[] {
  return ['--shards-dir', dir, '--out', out, '--shards', String(node.shards)];
}

/** One shard's arguments after the ExecutorInput: `item` is the engine's spelling of one "i/N" the plan wrote. */
export function shardRunArgs(dir: string, item: string): string[] {
  return ['--shards-dir', dir, '--shard', item];
}

/** The merge's arguments after the ExecutorInput (before any cloud step flags). */
export function mergeArgs(dir: string): string[] {
  return ['--shards-dir', dir];
}

/** A node id that is the name of a step a sharded node adds would make two steps of one name: refused. */
export function refuseShardStepClashes(plan: CompiledPipeline, target: string): void {
  const ids = new Set(plan.nodes.map((n) => n.id));
  for (const node of plan.nodes.filter(isSharded)) {
    const clash = Object.values(shardStepNames(node.id)).find((name) => ids.has(name));
    if (clash) throw new UserError(`pipeline ${plan.name}: node id "${clash}" names a step the ${target} compiler adds for sharded node ${node.id}; rename the node`);
  }
}
