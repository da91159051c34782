// Cleans up after a runner that died (SIGKILL, power loss) or stopped on a metadata store it could no longer
// write: its RUNNING run and executions on this host whose process is gone become CANCELED — or FAILED with
// the reason its run log recorded — their PENDING outputs ABANDONED and any files under their URIs removed,
// so nothing a killed node wrote is LIVE or looks complete.

import * as os from 'os';
import { ArtifactState, EventType, ExecutionState, type Execution, type MetadataStore } from '../metadata/types';
import { storageFor } from '../storage';
import { isAlive } from '../storage/common';
import { removeScratch } from '../core/launcher';
import { CONTEXT_PIPELINE, CONTEXT_RUN } from './mlmd-types';
import { loggedFailure } from './run-log';

/** True for a record made by a runner process on this host that no longer exists. */
export function deadRunner(p: Record<string, unknown> | undefined): boolean {
  // Only this host's processes can be checked; other hosts' runs are left alone.
  return p?.runner_host === os.hostname() && typeof p.runner_pid === 'number' && !isAlive(p.runner_pid);
}

/**
 * Ends a RUNNING execution whose runner is gone, its PENDING outputs ABANDONED and their files removed:
 * FAILED with the reason the run's log recorded for the node when there is one (e.g. the metadata store
 * failed, so the runner could not record it), CANCELED with `otherwise` when not. With `leased` (a runner on
 * another host that stopped renewing its claim) only while the execution is not renewed since `e` was read,
 * so a holder that wakes in time keeps its claim. False, with nothing done, when the execution is no longer
 * RUNNING (or was renewed): then its holder, not this caller, decides what happens to it.
 */
export async function abandonExecution(store: MetadataStore, e: Execution, otherwise: string, leased = false): Promise<boolean> {
  const events = await store.getEvents({ executionIds: [e.id!] });
  const pendingIds = events.filter((ev) => ev.type === EventType.PENDING_OUTPUT).map((ev) => ev.artifactId);
  const pending = pendingIds.length ? await store.getArtifacts({ ids: pendingIds, state: ArtifactState.PENDING }) : [];
  const p = e.customProperties ?? {};
  const [run] = typeof p.run_id === 'string' ? await store.getContexts({ type: CONTEXT_RUN, name: p.run_id }) : [];
  const root = run?.customProperties?.root;
  const logged = typeof root === 'string' ? loggedFailure(root, String(p.run_id), String(p.node_id)) : undefined;
  // The record first, as a compare-and-set on RUNNING: from then on the holder's own final write is refused
  // (Publisher.complete), so the files removed below cannot become LIVE output.
  const ended = await store.endExecution(
    { ...e, id: e.id!, lastKnownState: logged ? ExecutionState.FAILED : ExecutionState.CANCELED, properties: {}, customProperties: { error: logged ?? otherwise } },
    pending.map((a) => ({ artifact: { ...a, state: ArtifactState.ABANDONED, properties: {}, customProperties: {} } })),
    [],
    leased ? e.lastUpdateTimeSinceEpoch : undefined,
  );
  if (!ended) return false;
  for (const a of pending) {
    await storageFor(a.uri).delete(a.uri, { recursive: true });
    await removeScratch(a.uri);
  }
  return true;
}

/** Returns the ids of the executions it abandoned. */
export async function abandonDeadExecutions(store: MetadataStore, pipeline: string): Promise<number[]> {
  const [ctx] = await store.getContexts({ type: CONTEXT_PIPELINE, name: pipeline });
  if (!ctx) return [];
  // Only this pipeline's runs still marked RUNNING, not every run it ever had: this runs at each start.
  for (const run of await store.getContexts({ type: CONTEXT_RUN, properties: { pipeline_name: pipeline, state: 'RUNNING' } })) {
    const p = run.customProperties ?? {};
    if (deadRunner(p)) {
      // A run that stopped on a failure its store could not take has the reason in its log.
      const logged = typeof p.root === 'string' ? loggedFailure(p.root, run.name) : undefined;
      const ended = logged ? { state: 'FAILED', error: logged } : { state: 'CANCELED', error: 'the runner process died' };
      await store.putContexts([{ ...run, customProperties: { ...p, ...ended } }]);
    }
  }
  const running = await store.getExecutions({ contextId: ctx.id, state: ExecutionState.RUNNING });
  const abandoned: number[] = [];
  for (const e of running.filter((x) => deadRunner(x.customProperties))) {
    if (await abandonExecution(store, e, 'the runner process died during this execution')) abandoned.push(e.id!);
  }
  return abandoned;
}
