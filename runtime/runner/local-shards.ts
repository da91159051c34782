// A sharded node in the local runner (runtime/core/sharding.ts): one attempt of the node is a plan worker, the
// N shard workers in parallel (at most one per CPU at once), each shard's log lines prefixed "[shard i/N]" in
// the node's log, then the merge worker, which writes the node's ExecutorOutput as the plain worker does. The
// driver and publisher around it are unchanged: one execution per node, the shard count recorded on it. A failing
// shard stops the others and fails the attempt with its message; the shard states are removed afterwards.

import * as fs from 'fs';
import * as os from 'os';
import type { ShardsOption } from '../core/sharding';
import { shardItem } from '../core/sharding';
import type { ExecutorJob } from './executor-process';
import { readShardPlan } from './shard-steps';
import { spawnExecutor, type RunningExecutor, type SpawnResult } from './spawn-executor';

export interface ShardedJob {
  shards: ShardsOption;
  /** A local folder for this attempt's plan and shard states (emptied first, removed at the end). */
  shardsDir: string;
  /** Shard workers at once. @default the number of CPUs */
  parallelism?: number;
}

/** Runs the node's plan, shards and merge as worker processes; the same handle as spawnExecutor gives. */
export function spawnShardedExecutor(job: ExecutorJob, sharded: ShardedJob, logFile: string, env: NodeJS.ProcessEnv = {}, onProgress?: (status: string) => void): RunningExecutor {
  const running = new Set<RunningExecutor>();
  let stopping = false;
  const start = (phase: NonNullable<ExecutorJob['shardPhase']>, prefix: string | undefined, progress?: (status: string) => void) => {
    const worker = spawnExecutor({ ...job, shardPhase: phase }, logFile, env, progress, prefix);
    running.add(worker);
    void worker.result.then(() => running.delete(worker));
    return worker;
  };
  const stopped: SpawnResult = { ok: false, error: 'stopped' };

  const phases = async (): Promise<SpawnResult> => {
    const { shardsDir } = sharded;
    await fs.promises.rm(shardsDir, { recursive: true, force: true });
    try {
      const planned = await start({ phase: 'plan', shardsDir, shards: sharded.shards }, '[plan] ').result;
      if (!planned.ok || stopping) return planned.ok ? stopped : { ...planned, error: `shard plan: ${planned.error}` };
      const { count } = await readShardPlan(shardsDir, job.component);
      const limit = Math.max(1, Math.min(count, sharded.parallelism ?? os.cpus().length));
      let next = 0;
      let done = 0;
      let failure: SpawnResult | undefined;
      const lane = async () => {
        while (next < count && !failure && !stopping) {
          const shard = { index: next++, count };
          const r = await start({ phase: 'run', shardsDir, shard }, `[shard ${shardItem(shard)}] `).result;
          if (!r.ok && !failure && !stopping) {
            failure = { ok: false, error: `shard ${shardItem(shard)}: ${r.error}` };
            // The other shards' work is wasted once one fails.
            await Promise.all([...running].map((w) => w.stop(STOP_GRACE_MS)));
          }
          if (r.ok) onProgress?.(`shards ${++done}/${count}`);
        }
      };
      await Promise.all(Array.from({ length: limit }, lane));
      if (failure) return { ...failure, shards: count };
      if (stopping) return { ...stopped, shards: count };
      // The merge is the node's own worker: its lines unprefixed, its progress the node's.
      const merged = await start({ phase: 'merge', shardsDir }, undefined, onProgress).result;
      return { ...merged, shards: count };
    } finally {
      await fs.promises.rm(shardsDir, { recursive: true, force: true });
    }
  };
  // As spawnExecutor's, the result never rejects: what goes wrong around the workers (the shards folder cannot be
  // made or removed) fails the attempt with a one-line error, which the runner records on the execution.
  const result = phases().catch((err: unknown): SpawnResult => ({ ok: false, error: `shards folder ${sharded.shardsDir}: ${String((err as Error)?.message ?? err).split('\n')[0]}` }));

  return {
    result,
    kill: (signal) => running.forEach((w) => w.kill(signal)),
    stop: async (graceMs) => {
      stopping = true;
      await Promise.all([...running].map((w) => w.stop(graceMs)));
      await result;
    },
  };
}

/** How long the other shards get to stop after one failed. */
const STOP_GRACE_MS = 10_000;
