// Claims on cache keys, so two runners never execute the same work at once. A node about to execute records
// its RUNNING execution as a claim on its cache key (Publisher.claim → MetadataStore.claimExecution: one
// transaction that writes nothing when another execution with the key is RUNNING or finished since the cache
// decision). A runner that finds the key claimed waits, polling with backoff, until that execution ends and
// then decides again, which is normally a cache hit. A claim whose runner is gone is recovered as at run
// start (recovery.ts: CANCELED, PENDING outputs ABANDONED) and the waiter claims the key itself.
//
// Whether a claimant is gone: a runner on this host while its process exists (runner_host/runner_pid); one on
// another host while it renews its claim — holders refresh the execution's last-update time every renewMs,
// and a claim not renewed for leaseMs (by this host's clock) counts as abandoned. Taking over, renewing and the
// holder's final write are compare-and-sets on the execution being RUNNING (MetadataStore.endExecution,
// touchExecution), so a holder that only stalled past its lease is refused when it wakes, not recorded twice.

import * as os from 'os';
import { ExecutionState, type Artifact, type Execution, type MetadataStore } from '../metadata/types';
import type { CacheDecision, Driver, DrivenNode } from './driver';
import type { Publisher, StartedExecution } from './publisher';
import { abandonExecution, deadRunner } from './recovery';

export interface ClaimTiming {
  /** How often a holder renews its claim. */
  renewMs: number;
  /** A claim of another host not renewed for this long is taken over. */
  leaseMs: number;
  /** First and longest pause between two looks at the claim a waiter waits for. */
  pollMs: [first: number, longest: number];
}

export const CLAIM_TIMING: ClaimTiming = { renewMs: 30_000, leaseMs: 5 * 60_000, pollMs: [200, 5_000] };

export interface DecideAndClaim {
  store: MetadataStore;
  driver: Driver;
  publisher: Publisher;
  node: DrivenNode;
  params: Record<string, unknown>;
  inputs: Record<string, Artifact[]>;
  noCache: boolean;
  outputUris?: Record<string, string>;
  /** Told once per wait, with a line saying whose claim the node waits for. */
  onWait?: (message: string) => void;
  timing?: ClaimTiming;
  /** A canceled run stops waiting for another runner's claim and claims nothing. */
  cancel?: AbortSignal;
}

/**
 * The cache decision for a node and, on a miss, its RUNNING execution holding the claim on the cache key,
 * after waiting out any other runner's claim. Without cache (--no-cache, cache: false) nothing is claimed.
 * `canceled` when the run was canceled while the node waited: nothing was claimed.
 */
export async function decideAndClaim(a: DecideAndClaim): Promise<{ decision: CacheDecision; started?: StartedExecution; canceled?: true }> {
  const timing = a.timing ?? CLAIM_TIMING;
  for (;;) {
    const decision = await a.driver.decide(a.node, a.params, a.inputs, a.noCache);
    if (decision.hit) return { decision };
    const args = [a.node.component, a.node.id, a.params, a.inputs, decision, a.outputUris] as const;
    if (!decision.judged) return { decision, started: await a.publisher.start(...args) };
    const r = await a.publisher.claim(...args);
    if (r.started) return { decision, started: r.started };
    await waitForClaims(a.store, r.blockedBy, timing, a.onWait, a.cancel);
    if (a.cancel?.aborted) return { decision, canceled: true };
  }
}

/** Why the runner of a RUNNING execution is taken to be gone, or undefined while it is alive. */
function claimantGone(e: Execution, leaseMs: number): string | undefined {
  const p = e.customProperties ?? {};
  if (p.runner_host === os.hostname()) return deadRunner(p) ? 'the runner process died during this execution' : undefined;
  const renewed = e.lastUpdateTimeSinceEpoch ?? 0;
  if (Date.now() - renewed <= leaseMs) return undefined;
  return `its runner on ${String(p.runner_host ?? 'an unknown host')} stopped renewing its claim (last at ${new Date(renewed).toISOString()})`;
}

function holderOf(e: Execution): string {
  const p = e.customProperties ?? {};
  return `execution ${e.id} of run ${String(p.run_id ?? '?')} (runner ${String(p.runner_host ?? '?')} pid ${String(p.runner_pid ?? '?')})`;
}

/** Waits `ms`, or less when `cancel` fires first. */
export function sleepUnlessCanceled(ms: number, cancel?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (cancel?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    cancel?.addEventListener('abort', done);
  });
}

/**
 * Returns once one of the blocking executions is no longer RUNNING (ended, or recovered here because its
 * runner is gone), or at once when a finished one blocked the claim: either way the caller decides again.
 * Also returns when `cancel` fires.
 */
async function waitForClaims(store: MetadataStore, blockers: Execution[], timing: ClaimTiming, onWait?: (message: string) => void, cancel?: AbortSignal): Promise<void> {
  let running = blockers.filter((e) => e.lastKnownState === ExecutionState.RUNNING);
  if (running.length < blockers.length) return;
  onWait?.(`waiting for ${holderOf(running[0])}, which is executing the same work`);
  let delay = timing.pollMs[0];
  for (;;) {
    for (const e of running) {
      const gone = claimantGone(e, timing.leaseMs);
      if (gone) {
        // Taken over only while not renewed since read (a holder that woke keeps its claim); decide again either way.
        await abandonExecution(store, e, gone, true);
        return;
      }
    }
    await sleepUnlessCanceled(delay, cancel);
    if (cancel?.aborted) return;
    delay = Math.min(timing.pollMs[1], Math.ceil(delay * 1.5));
    const now = await store.getExecutions({ ids: running.map((e) => e.id!) });
    if (now.some((e) => e.lastKnownState !== ExecutionState.RUNNING) || now.length < running.length) return;
    running = now;
  }
}

/** A claim being held: `lost` fires when a renewal finds the execution no longer RUNNING (another runner took it over). */
export interface HeldClaim {
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Keeps a claim alive while its execution runs (see the lease above); `release` stops renewing and waits for
 * a renewal in flight, so none lands after the execution's final state is written. A renewal is a
 * compare-and-set on RUNNING: once it fails the claim is gone for good, renewing stops and `lost` fires (the
 * holder's final write would be refused anyway, Publisher.complete).
 */
export function holdClaim(store: MetadataStore, executionId: number, timing: ClaimTiming = CLAIM_TIMING): HeldClaim {
  const lost = new AbortController();
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = inFlight.then(async () => {
      // A failed renewal is not fatal: the next one may succeed, and the execution's own end is recorded anyway.
      const renewed = await store.touchExecution(executionId, ExecutionState.RUNNING).catch(() => true);
      if (renewed) return;
      clearInterval(timer);
      lost.abort(new Error(`execution ${executionId} lost its claim: another runner took it over`));
    });
  }, timing.renewMs);
  timer.unref();
  return {
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
