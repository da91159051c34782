// The three phases of a sharded step (runtime/core/sharding.ts), for any component that declares `sharding`;
// `mlp component shard plan|run|merge <Name>` calls them on the engines, the local runner in its worker processes.
//   plan:  the shard count (a number, or `auto` through sharding.autoShards), written to <shards-dir>/plan.json;
//          as a cloud step, a cache hit plans no shards (and merge hands on the cached outputs).
//   run:   one shard's partial state, written by sharding.partial into a local folder and published (atomically,
//          with a commit marker) under <shards-dir>/<plan id>/<i>/, so gs:// works and a half-written shard is
//          never read. Every plan has a fresh id: a shard folder an earlier plan of the same shards folder left (the
//          engine re-ran the plan, a shard of the old plan finished late) is never where the merge looks.
//   merge: the component with an executor that fetches every shard's folder and calls sharding.merge: same name
//          and version, so the cache key, execution type and outputs are the component's. It is the one execution
//          recorded (with the shard count as the `shards` property); shards are not executions.
// The shard count is not part of the cache key: sharded and unsharded runs produce the same artifact.

import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getComponent, type AnyComponent } from '../core/component';
import type { ExecutorInput, ExecutorOutput } from '../core/executor-io';
import { UserError } from '../core/errors';
import { launchComponent, withExecutorContext, type LaunchOptions } from '../core/launcher';
import { MAX_SHARDS, shardItem, type ShardRef, type ShardsOption } from '../core/sharding';
import { joinUri, localPathOf, storageFor } from '../storage';
import { runStep, stepIsCached, type StepScope } from './cloud-step';
import { dropUnresolved } from './step-protocol';

/** <shards-dir>/plan.json: what plan decided, read by run (to check its "i/N") and merge (for N). */
export interface ShardPlan {
  component: string;
  /** Fresh for every plan: the shard states of this plan live under <shards-dir>/<id>/. */
  id: string;
  /** Shards planned; 0 when the outputs were cached. */
  count: number;
  cached?: true;
}

export const PLAN_FILE = 'plan.json';
const PLAN_ID = /^[0-9a-f]{16}$/;

/** Writes a plan with a fresh id. */
async function writePlan(uri: string, component: string, decided: Pick<ShardPlan, 'count' | 'cached'>): Promise<void> {
  const plan: ShardPlan = { component, id: randomBytes(8).toString('hex'), ...decided };
  await storageFor(uri).writeFile(uri, JSON.stringify(plan));
}

/** The component named, which must declare sharding. */
export function shardableComponent(name: string): AnyComponent & Required<Pick<AnyComponent, 'sharding'>> {
  const component = getComponent(name);
  if (!component.sharding) throw new UserError(`component ${name} cannot be sharded (it declares no sharding)`);
  return component as AnyComponent & Required<Pick<AnyComponent, 'sharding'>>;
}

/** The shard items "i/N" of a count. */
export function shardItems(count: number): string[] {
  return Array.from({ length: count }, (_, index) => shardItem({ index, count }));
}

/** The plan written for `component` (a name) in a shards folder. */
export async function readShardPlan(shardsDir: string, component: string): Promise<ShardPlan> {
  const uri = joinUri(shardsDir, PLAN_FILE);
  const storage = storageFor(uri);
  if (!(await storage.exists(uri))) throw new UserError(`${component}: no shard plan at ${uri} (the plan step did not run for this shards folder)`);
  let plan: ShardPlan;
  try {
    plan = JSON.parse((await storage.readFile(uri)).toString('utf8')) as ShardPlan;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new UserError(`${uri} is not a shard plan (${err.message}); run the plan step again`);
  }
  if (plan.component !== component) throw new UserError(`${uri} plans shards of ${plan.component}, not ${component}`);
  if (typeof plan.id !== 'string' || !PLAN_ID.test(plan.id)) throw new UserError(`${uri} has no plan id (written by an older runtime?); run the plan step again`);
  return plan;
}

/**
 * The plan phase: the shard items to run, after writing the plan. `shards` is the node's option as compiled
 * (default auto). With `scope` (a cloud step) a cache hit plans nothing and returns [].
 */
export async function planShards(component: AnyComponent, input: ExecutorInput, opts: { shardsDir: string; shards?: ShardsOption; scope?: StepScope; launch?: LaunchOptions }): Promise<string[]> {
  const sharding = shardableComponent(component.name).sharding;
  const planUri = joinUri(opts.shardsDir, PLAN_FILE);
  if (opts.scope && (await stepIsCached(component, input, opts.scope))) {
    await writePlan(planUri, component.name, { count: 0, cached: true });
    return [];
  }
  const shards = opts.shards ?? 'auto';
  const count = shards === 'auto' ? await withExecutorContext(component, dropUnresolved(input), opts.launch ?? {}, (ctx) => sharding.autoShards(ctx)) : shards;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new UserError(`${component.name}: ${shards === 'auto' ? 'autoShards must give' : 'shards must be'} a whole number from 1 to ${MAX_SHARDS}, got ${JSON.stringify(count)}`);
  }
  await writePlan(planUri, component.name, { count });
  return shardItems(count);
}

/** Where shard `index` of `plan` publishes its partial state. */
export function shardDir(shardsDir: string, plan: Pick<ShardPlan, 'id'>, index: number): string {
  return joinUri(shardsDir, plan.id, String(index));
}

/**
 * The run phase: shard `shard` of the plan's count writes its partial state to a local folder, published under
 * <shards-dir>/<plan id>/<i>/ (replacing what a killed earlier attempt of this shard left there).
 */
export async function runShard(component: AnyComponent, input: ExecutorInput, opts: { shardsDir: string; shard: ShardRef; launch?: LaunchOptions }): Promise<void> {
  const sharding = shardableComponent(component.name).sharding;
  const plan = await readShardPlan(opts.shardsDir, component.name);
  if (plan.count !== opts.shard.count) {
    throw new UserError(`${component.name}: shard ${shardItem(opts.shard)} does not belong to the plan at ${joinUri(opts.shardsDir, PLAN_FILE)} (${plan.cached ? 'cached, no shards' : `${plan.count} shards`})`);
  }
  const target = shardDir(opts.shardsDir, plan, opts.shard.index);
  // A local shards folder holds the work folder too: publishing is then a rename, and a shard stopped mid-way (no
  // finally runs on SIGTERM) leaves its work where whoever removes the shards folder (the local runner) removes it.
  const localShards = localPathOf(opts.shardsDir);
  const workBase = localShards ? path.join(localShards, plan.id) : os.tmpdir();
  await fs.promises.mkdir(workBase, { recursive: true });
  const local = await fs.promises.mkdtemp(path.join(workBase, localShards ? `.${opts.shard.index}.work-` : 'mlp-shard-'));
  try {
    await withExecutorContext(component, dropUnresolved(input), opts.launch ?? {}, (ctx) => sharding.partial(ctx, opts.shard, local));
    await storageFor(target).delete(target, { recursive: true });
    await storageFor(target).publishDirectory(local, target);
  } finally {
    await fs.promises.rm(local, { recursive: true, force: true });
  }
}

/**
 * The component with an executor that merges the planned shards' partial states: same name and version, so the
 * cache key, execution type and outputs are the component's. A shard folder that is missing (or was never
 * completely published) is an error naming the shard, never a merge of fewer shards.
 */
export function mergingComponent(component: AnyComponent, shardsDir: string, plan: ShardPlan): AnyComponent {
  const sharding = shardableComponent(component.name).sharding;
  return {
    ...component,
    executor: async (ctx) => {
      if (plan.cached) throw new UserError(`${component.name}: the plan found the outputs cached, but they no longer are; run the node again`);
      const cleanups: string[] = [];
      try {
        const dirs: string[] = [];
        for (let index = 0; index < plan.count; index++) {
          const uri = shardDir(shardsDir, plan, index);
          const storage = storageFor(uri);
          if (!(await storage.readCommit(uri))) throw new UserError(`${component.name}: shard ${shardItem({ index, count: plan.count })} has no partial state at ${uri} (it did not run or did not finish)`);
          const local = localPathOf(uri);
          if (local) {
            dirs.push(local);
            continue;
          }
          const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-shard-'));
          cleanups.push(dir);
          await storage.downloadTree(uri, dir);
          dirs.push(dir);
        }
        ctx.log(`merging ${plan.count} shards`);
        await sharding.merge(ctx, dirs);
      } finally {
        for (const dir of cleanups) await fs.promises.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The merge phase: the outputs from the shards' partial states, as a cloud step (cache, lineage: one execution
 * with the `shards` property) or plainly. Returns the ExecutorOutput (also written to its outputFile).
 */
export async function mergeShards(component: AnyComponent, input: ExecutorInput, opts: { shardsDir: string; scope?: StepScope; launch?: LaunchOptions }): Promise<ExecutorOutput> {
  const plan = await readShardPlan(opts.shardsDir, component.name);
  const merging = mergingComponent(component, opts.shardsDir, plan);
  if (opts.scope) return (await runStep(merging, input, { ...opts.scope, properties: { ...opts.scope.properties, shards: plan.count } })).output;
  return launchComponent(merging, dropUnresolved(input), opts.launch);
}
