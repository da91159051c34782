// An artifact's lineage as a graph to draw: upstream (what made it, back to the raw examples and the
// hyperparameters), downstream (what used it) or both, from the store's getLineage. Edges follow the data
// (artifact → consuming execution → output artifact). Hops are bounded so a long chain of runs (each
// evaluation takes the previous blessed model as its baseline) stays a quick answer; `truncated` says when
// the graph goes on. A CACHED execution is folded into the execution whose outputs it reused (`reusedBy`),
// so reruns that hit the cache do not widen the graph.

import { foldCachedReuses, type CachedReuse } from '../../metadata/cached-reuses';
import type { Artifact, Event, Execution, LineageDirection, LineageGraph, MetadataStore } from '../../metadata/types';
import { ArtifactState, ExecutionState } from '../../metadata/types';
import { layout } from './graph-layout';
import { badRequest } from './http-error';
import { artifactById } from './provenance';
import { isInputEvent, isOutputEvent, portOf } from './records';

export const DEFAULT_HOPS = 10;
export const MAX_HOPS = 100;

export interface LineageNode {
  /** "a<id>" for artifacts, "e<id>" for executions. */
  key: string;
  kind: 'artifact' | 'execution';
  id: number;
  type: string;
  state: string;
  /** Executions: the run and node they belong to, for links. */
  runId?: string;
  nodeId?: string;
  uri?: string;
  /** Executions: the CACHED executions that reused this one's outputs, oldest first (absent when none). */
  reusedBy?: CachedReuse[];
  layer: number;
  order: number;
}

export interface LineageView {
  root: number;
  direction: LineageDirection | 'both';
  hops: number;
  nodes: LineageNode[];
  edges: { from: string; to: string; port: string }[];
  truncated: boolean;
}

export function directionOf(value: string | null): LineageDirection | 'both' {
  const direction = value ?? 'both';
  if (direction !== 'upstream' && direction !== 'downstream' && direction !== 'both') {
    throw badRequest(`direction=${direction}: expected upstream, downstream or both`);
  }
  return direction;
}

/**
 * The CACHED executions folded into the artifact's producer and consumers (one hop of its lineage each way),
 * by the id of the execution they reused: the artifact's page lists them as its lineage shows them.
 */
export async function reusesAround(store: MetadataStore, artifactId: number): Promise<Map<number, CachedReuse[]>> {
  const graphs = await Promise.all((['upstream', 'downstream'] as const).map((d) => store.getLineage(artifactId, d, 1)));
  return new Map(graphs.flatMap((g) => [...foldCachedReuses(g).reusedBy]));
}

/** Whether the graph of one direction goes on: an artifact in it has a producer (upstream) or consumer (downstream) left out. */
async function goesOn(store: MetadataStore, graph: LineageGraph, direction: LineageDirection): Promise<boolean> {
  const inGraph = new Set(graph.executions.map((e) => e.id!));
  const events = await store.getEvents({ artifactIds: graph.artifacts.map((a) => a.id!) });
  return events.some((e) => !inGraph.has(e.executionId) && (direction === 'upstream' ? isOutputEvent(e) : isInputEvent(e)));
}

export async function lineageOf(store: MetadataStore, artifactId: number, direction: LineageDirection | 'both', hops: number): Promise<LineageView> {
  await artifactById(store, artifactId);
  const directions: LineageDirection[] = direction === 'both' ? ['upstream', 'downstream'] : [direction];
  const graphs = await Promise.all(directions.map((d) => store.getLineage(artifactId, d, hops)));
  const artifacts = new Map<number, Artifact>();
  const executions = new Map<number, Execution>();
  const events = new Map<number, Event>();
  for (const g of graphs) {
    g.artifacts.forEach((a) => artifacts.set(a.id!, a));
    g.executions.forEach((e) => executions.set(e.id!, e));
    g.events.forEach((e) => events.set(e.id!, e));
  }
  const folded = foldCachedReuses({ artifacts: [...artifacts.values()], executions: [...executions.values()], events: [...events.values()] });
  const edges = folded.events
    .filter((e) => artifacts.has(e.artifactId) && executions.has(e.executionId))
    .map((e) =>
      isInputEvent(e) ? { from: `a${e.artifactId}`, to: `e${e.executionId}`, port: portOf(e) } : { from: `e${e.executionId}`, to: `a${e.artifactId}`, port: portOf(e) },
    );
  const keys = [...folded.artifacts.map((a) => `a${a.id}`), ...folded.executions.map((e) => `e${e.id}`)];
  const places = layout(keys, edges);
  const nodes: LineageNode[] = [
    ...folded.artifacts.map((a) => ({ key: `a${a.id}`, kind: 'artifact' as const, id: a.id!, type: a.type, state: ArtifactState[a.state], uri: a.uri, ...places.get(`a${a.id}`)! })),
    ...folded.executions.map((e) => {
      const { run_id: runId, node_id: nodeId } = e.customProperties ?? {};
      const reusedBy = folded.reusedBy.get(e.id!);
      return {
        key: `e${e.id}`,
        kind: 'execution' as const,
        id: e.id!,
        type: e.type,
        state: ExecutionState[e.lastKnownState],
        ...(typeof runId === 'string' ? { runId } : {}),
        ...(typeof nodeId === 'string' ? { nodeId } : {}),
        ...(reusedBy ? { reusedBy } : {}),
        ...places.get(`e${e.id}`)!,
      };
    }),
  ];
  const truncated = (await Promise.all(graphs.map((g, i) => goesOn(store, g, directions[i])))).some(Boolean);
  return { root: artifactId, direction, hops, nodes, edges, truncated };
}
