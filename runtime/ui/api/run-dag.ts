// A run's DAG from what was recorded: one node per pipeline node, with its state, duration, parameters and
// artifacts from its execution, and its outcome from the run log (skipped and resolver nodes have no
// execution). Edges are the pipeline's structure as the run log records it (each node's upstream nodes), so
// nodes that never ran are connected too. Runs logged before the log had it, or whose log is missing, get
// edges from the artifacts instead: an input produced in this run links its producer to its consumer; an
// input a resolver node picked (from an earlier run) links the resolver.

import { ArtifactState, ExecutionState } from '../../metadata/types';
import { formatDuration } from '../../runner/progress';
import type { NodeState } from '../../runner/run-types';
import { layout } from './graph-layout';
import type { ExecutionIO, PortArtifact } from './provenance';
import type { RunLogContents } from './run-log-file';

/** What the runner reports, plus what an execution says about a node the log does not (yet) cover. */
export type DagNodeState = NodeState | 'running' | 'pending' | 'canceled' | 'unknown';

export interface PortRef {
  port: string;
  artifactId: number;
  type: string;
  uri: string;
  state: string;
}

export interface DagNode {
  id: string;
  /** The component (execution type); absent for nodes without an execution. */
  component?: string;
  state: DagNodeState;
  durationMs?: number;
  /** As `mlp run` prints it. */
  duration?: string;
  attempts?: number;
  executionId?: number;
  /** For a cached node: the execution whose outputs it reused. */
  cachedFromExecution?: number;
  reason?: string;
  error?: string;
  parameters?: unknown;
  inputs: PortRef[];
  outputs: PortRef[];
  layer: number;
  order: number;
}

export interface Dag {
  nodes: DagNode[];
  edges: { from: string; to: string }[];
}

const STATE_OF_EXECUTION: Record<ExecutionState, DagNodeState> = {
  [ExecutionState.UNKNOWN]: 'unknown',
  [ExecutionState.NEW]: 'pending',
  [ExecutionState.RUNNING]: 'running',
  [ExecutionState.COMPLETE]: 'executed',
  [ExecutionState.FAILED]: 'failed',
  [ExecutionState.CACHED]: 'cached',
  [ExecutionState.CANCELED]: 'canceled',
};

const portRefs = (list: PortArtifact[]): PortRef[] =>
  list.map(({ port, artifact }) => ({ port, artifactId: artifact.id!, type: artifact.type, uri: artifact.uri, state: ArtifactState[artifact.state] }));

const numberOr = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `running`: whether the run is still going, so a node with no record yet is pending rather than unknown. */
export function buildDag(executions: ExecutionIO[], log: RunLogContents | undefined, running: boolean): Dag {
  const byNode = new Map<string, ExecutionIO>();
  // Newest last, so a node that somehow has two executions in one run shows the latest.
  for (const io of [...executions].sort((a, b) => a.execution.id! - b.execution.id!)) {
    const nodeId = io.execution.customProperties?.node_id;
    if (typeof nodeId === 'string') byNode.set(nodeId, io);
  }
  const ids = [...(log?.nodes ?? [])];
  for (const id of byNode.keys()) if (!ids.includes(id)) ids.push(id);

  const edges = log?.upstream ? structureEdges(ids, log.upstream) : artifactEdges(byNode, log);
  const places = layout(ids, edges);
  const nodes = ids.map((id): DagNode => {
    const io = byNode.get(id);
    const logged = log?.finished.get(id);
    const e = io?.execution;
    const custom = e?.customProperties ?? {};
    const durationMs = logged?.durationMs ?? numberOr(custom.duration_ms);
    return {
      id,
      ...(e ? { component: e.type, executionId: e.id } : {}),
      state: logged?.state ?? (e ? STATE_OF_EXECUTION[e.lastKnownState] : running ? 'pending' : 'unknown'),
      ...(durationMs !== undefined ? { durationMs, duration: formatDuration(durationMs) } : {}),
      attempts: logged?.attempts ?? numberOr(custom.attempts),
      cachedFromExecution: numberOr(custom.cached_from_execution),
      reason: logged?.reason,
      error: logged?.error ?? (typeof custom.error === 'string' ? custom.error : undefined),
      parameters: custom.parameters,
      inputs: portRefs(io?.inputs ?? []),
      outputs: portRefs(io?.outputs ?? []),
      ...places.get(id)!,
    };
  });
  return { nodes, edges };
}

/** One edge per upstream dependency the runner recorded: inputs, condition references, explicit ordering. */
function structureEdges(ids: string[], upstream: Record<string, string[]>): Dag['edges'] {
  return ids.flatMap((to) => (upstream[to] ?? []).map((from) => ({ from, to })));
}

/** Edges only between nodes that recorded artifacts, so nodes without an execution stay unconnected. */
function artifactEdges(byNode: Map<string, ExecutionIO>, log: RunLogContents | undefined): Dag['edges'] {
  const producers = new Map<number, string>();
  for (const [nodeId, io] of byNode) for (const o of io.outputs) producers.set(o.artifact.id!, nodeId);
  const resolved = new Map<string, string>();
  for (const [nodeId, entry] of log?.finished ?? []) {
    if (entry.state === 'resolved') for (const uri of Object.values(entry.outputs ?? {})) resolved.set(uri, nodeId);
  }
  const edges: Dag['edges'] = [];
  const seen = new Set<string>();
  for (const [nodeId, io] of byNode) {
    for (const input of io.inputs) {
      const from = producers.get(input.artifact.id!) ?? resolved.get(input.artifact.uri);
      if (from === undefined || from === nodeId || seen.has(`${from}\n${nodeId}`)) continue;
      seen.add(`${from}\n${nodeId}`);
      edges.push({ from, to: nodeId });
    }
  }
  return edges;
}
