// Sharded steps (issue 20 §3): a component that can split its work declares `sharding`; a node asks for it with
// `pipeline.add(C, { shards: N | 'auto' })`. The work then runs as N shard executions, each writing a partial
// state (mergeable sketches, accumulators, part files) to its own folder, and one merge that reads them all in
// shard order and writes the outputs the unsharded executor would. Lineage stays one execution per node: the
// merge is the execution the driver and publisher record (with the shard count as a property); shards are not
// executions of their own.
//
// The step contract every engine uses (the local runner, Argo withParam, KFP ParallelFor, Airflow .expand):
//   mlp component shard plan  <Name> --executor-input <json> --shards-dir <uri> --out <file> [--shards N|auto] [cloud step flags]
//       → <file>: a JSON list of shard items "i/N" ("0/4", "1/4", …); [] when the node's outputs are cached
//   mlp component shard run   <Name> --executor-input <json> --shards-dir <uri> --shard i/N
//       → <shards-dir>/<plan id>/<i>/ holds shard i's partial state
//   mlp component shard merge <Name> --executor-input <json> --shards-dir <uri> [cloud step flags]
//       → the node's outputs published from the N partial states (or the cached ones), its ExecutorOutput written
// <Name> is the component's name, as in `mlp component run <Name>` (the ExecutorInput does not carry it); plan
// writes <shards-dir>/plan.json (the count and a fresh plan id), which run checks its "i/N" against and merge reads
// N from; the plan id keeps the states of an earlier plan of the same folder out of this plan's merge.

import type { ExecutorContext, InputPorts, OutputPorts, ParameterSchema } from './component';
import { UserError } from './errors';

/** Shard `index` (0-based) of `count`. */
export interface ShardRef {
  index: number;
  count: number;
}

/** What a node asks for: a shard count, or `auto` (the component's autoShards decides from the input size). */
export type ShardsOption = number | 'auto';

export const MAX_SHARDS = 256;

export interface ShardingSpec<I extends InputPorts = InputPorts, O extends OutputPorts = OutputPorts, P extends ParameterSchema = ParameterSchema> {
  /** The shard count for `shards: 'auto'`, from the size of the inputs (1 ≤ n ≤ MAX_SHARDS). */
  autoShards(ctx: ExecutorContext<I, O, P>): Promise<number>;
  /**
   * Shard `shard.index` of `shard.count`: reads its part of the inputs and writes its partial state under
   * `partialDir` (a local folder, created empty). Never writes the outputs.
   */
  partial(ctx: ExecutorContext<I, O, P>, shard: ShardRef, partialDir: string): Promise<void>;
  /**
   * Reads every shard's partial state (`partialDirs[i]` is shard i's folder, all `count` of them) and writes the
   * outputs and their properties exactly as the unsharded executor would.
   */
  merge(ctx: ExecutorContext<I, O, P>, partialDirs: string[]): Promise<void>;
}

/** "i/N" as the engines pass it to `mlp component shard run --shard`. */
export function shardItem(shard: ShardRef): string {
  return `${shard.index}/${shard.count}`;
}

/** Parses "i/N" (0 ≤ i < N ≤ MAX_SHARDS); `where` names the flag or field in the error. */
export function parseShardItem(text: string, where: string): ShardRef {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index >= count) {
    throw new UserError(`${where}: "${text}" is not a shard "i/N" with 0 ≤ i < N ≤ ${MAX_SHARDS}`);
  }
  return { index, count };
}

/** Checks a node's `shards` option; `where` names the node. */
export function checkShardsOption(value: unknown, where: string): ShardsOption {
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SHARDS) {
    throw new UserError(`${where}: shards must be a whole number from 1 to ${MAX_SHARDS} or "auto", got ${JSON.stringify(value)}`);
  }
  return value;
}
