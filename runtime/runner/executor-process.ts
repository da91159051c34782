// Entry point of a runner worker process: receives one job over IPC (component name, modules that define
// it, ExecutorInput file), runs it through the same launcher `mlp component run` uses, replies and exits.
// A separate process per execution, so a crashing executor cannot take the runner down.

import * as fs from 'fs';
import { getComponent, type StepIdentity } from '../core/component';
import { launchComponent, parseExecutorInput } from '../core/launcher';
import { UserError } from '../core/errors';
import type { ShardRef, ShardsOption } from '../core/sharding';
import { loadComponentModules } from './component-modules';
import { mergeShards, planShards, runShard } from './shard-steps';

export interface ExecutorJob {
  component: string;
  /** Modules to load first so user-defined components register themselves. */
  modules: string[];
  executorInputPath: string;
  step: StepIdentity;
  /** A phase of a sharded node (shard-steps.ts) instead of the whole executor; the local runner's shard workers. */
  shardPhase?: { phase: 'plan'; shardsDir: string; shards: ShardsOption } | { phase: 'run'; shardsDir: string; shard: ShardRef } | { phase: 'merge'; shardsDir: string };
}

export type ExecutorReply =
  | { ok: true }
  | { ok: false; message: string; userError: boolean; stack?: string };

/** Sent any number of times before the reply: the executor's progress status (ExecutorContext.progress). */
export interface ExecutorProgress {
  progress: string;
}

async function runJob(job: ExecutorJob): Promise<ExecutorReply> {
  try {
    loadComponentModules(job.component, job.modules);
    const input = parseExecutorInput(JSON.parse(await fs.promises.readFile(job.executorInputPath, 'utf8')), job.executorInputPath);
    const launch = {
      log: (line: string) => process.stdout.write(`${line}\n`),
      progress: (status: string) => process.send!({ progress: status } satisfies ExecutorProgress),
      step: job.step,
    };
    const component = getComponent(job.component);
    const shard = job.shardPhase;
    if (!shard) await launchComponent(component, input, launch);
    else if (shard.phase === 'plan') await planShards(component, input, { shardsDir: shard.shardsDir, shards: shard.shards, launch });
    else if (shard.phase === 'run') await runShard(component, input, { shardsDir: shard.shardsDir, shard: shard.shard, launch });
    else await mergeShards(component, input, { shardsDir: shard.shardsDir, launch });
    return { ok: true };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, message: e.message, userError: e instanceof UserError, stack: e.stack };
  }
}

// An orphaned worker (its runner was killed) must stop before it publishes anything.
process.once('disconnect', () => process.exit(70));

process.once('message', (job: ExecutorJob) => {
  void runJob(job).then((reply) => {
    process.send!(reply, () => process.exit(reply.ok ? 0 : 1));
  });
});
