// An artifact's lineage as a person reads it: the execution that produced something shown once, with the
// CACHED executions that reused its outputs folded into it as a list. The store keeps every CACHED
// execution with its INPUT and OUTPUT events (as TFX records a cache hit), so without folding each rerun
// adds a branch and the lineage of a model grows with every run. Both `mlp lineage` and the UI use this.

import { isInputEvent, isOutputEvent, portOf } from './events';
import { ExecutionState, type Event, type Execution, type LineageGraph } from './types';

/** A CACHED execution folded into the execution whose outputs it reused. */
export interface CachedReuse {
  executionId: number;
  runId?: string;
  nodeId?: string;
}

export interface FoldedLineage extends LineageGraph {
  /** By the id of an execution shown: the CACHED executions folded into it, oldest first. */
  reusedBy: Map<number, CachedReuse[]>;
}

function cachedReuse(e: Execution): CachedReuse {
  const { run_id: runId, node_id: nodeId } = e.customProperties ?? {};
  return { executionId: e.id!, ...(typeof runId === 'string' ? { runId } : {}), ...(typeof nodeId === 'string' ? { nodeId } : {}) };
}

/** What the graph shows of an execution: its inputs and outputs by artifact and port (a pending output is no link). */
function signatureOf(events: Event[]): string {
  const links = events.filter((e) => isInputEvent(e) || isOutputEvent(e)).map((e) => `${isInputEvent(e) ? 'in' : 'out'}:${e.artifactId}:${portOf(e)}`);
  return [...new Set(links)].sort().join(' ');
}

/**
 * Folds each CACHED execution into the execution that really ran with the same type and the same inputs
 * and outputs in this graph (a cache hit records OUTPUT events to the artifacts it reused and INPUT events
 * to the same inputs). When several could be it (an execution with no outputs), the one its
 * `cached_from_execution` property names wins; a CACHED execution that matches none stays in the graph,
 * so nothing recorded disappears from the picture.
 */
export function foldCachedReuses(graph: LineageGraph): FoldedLineage {
  const eventsOf = new Map<number, Event[]>(graph.executions.map((e) => [e.id!, []]));
  for (const event of graph.events) eventsOf.get(event.executionId)?.push(event);
  const ran = new Map<string, Execution[]>();
  for (const e of graph.executions) {
    if (e.lastKnownState === ExecutionState.CACHED) continue;
    const key = `${e.type}|${signatureOf(eventsOf.get(e.id!)!)}`;
    ran.set(key, [...(ran.get(key) ?? []), e]);
  }
  const reusedBy = new Map<number, CachedReuse[]>();
  const folded = new Set<number>();
  for (const e of [...graph.executions].sort((a, b) => a.id! - b.id!)) {
    if (e.lastKnownState !== ExecutionState.CACHED) continue;
    const candidates = ran.get(`${e.type}|${signatureOf(eventsOf.get(e.id!)!)}`) ?? [];
    const named = candidates.find((c) => c.id === Number(e.customProperties?.cached_from_execution));
    const source = named ?? (candidates.length === 1 ? candidates[0] : undefined);
    if (!source) continue;
    reusedBy.set(source.id!, [...(reusedBy.get(source.id!) ?? []), cachedReuse(e)]);
    folded.add(e.id!);
  }
  return {
    artifacts: graph.artifacts,
    executions: graph.executions.filter((e) => !folded.has(e.id!)),
    events: graph.events.filter((e) => !folded.has(e.executionId)),
    reusedBy,
  };
}
