// Where an artifact came from and where it went, one hop at a time: the execution that produced it, the
// executions that consumed it, and any execution's inputs and outputs by port. The pages use it to link an
// evaluation to its blessing, a pushed model to the evaluation behind it, statistics to their anomalies.

import { ExecutionState, type Artifact, type Event, type Execution, type MetadataStore } from '../../metadata/types';
import { notFound } from './http-error';
import { isInputEvent, isOutputEvent, isPendingOutput, portOf } from './records';

export interface PortArtifact {
  port: string;
  artifact: Artifact;
}

export interface ExecutionIO {
  execution: Execution;
  inputs: PortArtifact[];
  outputs: PortArtifact[];
}

export async function artifactById(store: MetadataStore, id: number): Promise<Artifact> {
  const [artifact] = await store.getArtifacts({ ids: [id] });
  if (!artifact) throw notFound(`no artifact with id ${id}`);
  return artifact;
}

/** An artifact that must be of one type for a page (statistics of a Schema make no sense): else a 404 saying why. */
export async function artifactOfType(store: MetadataStore, id: number, type: string): Promise<Artifact> {
  const artifact = await artifactById(store, id);
  if (artifact.type !== type) throw notFound(`artifact ${id} is of type ${artifact.type}, not ${type}`);
  return artifact;
}

/** Inputs and outputs by port of each execution, with two queries whatever their number. */
export async function executionIO(store: MetadataStore, executions: Execution[], known: Event[] = []): Promise<Map<number, ExecutionIO>> {
  const ids = executions.map((e) => e.id!);
  const events = known.length ? known : ids.length ? await store.getEvents({ executionIds: ids }) : [];
  const artifactIds = [...new Set(events.map((e) => e.artifactId))];
  const artifacts = new Map((artifactIds.length ? await store.getArtifacts({ ids: artifactIds }) : []).map((a) => [a.id!, a]));
  const io = new Map<number, ExecutionIO>(executions.map((e) => [e.id!, { execution: e, inputs: [], outputs: [] }]));
  for (const event of events) {
    const entry = io.get(event.executionId);
    const artifact = artifacts.get(event.artifactId);
    if (!entry || !artifact) continue;
    if (isInputEvent(event)) entry.inputs.push({ port: portOf(event), artifact });
    // A completed output has both its PENDING_OUTPUT and its OUTPUT event: list it once.
    else if ((isOutputEvent(event) || isPendingOutput(event)) && !entry.outputs.some((o) => o.artifact.id === artifact.id)) {
      entry.outputs.push({ port: portOf(event), artifact });
    }
  }
  return io;
}

/**
 * The execution that made the artifact. A cache hit records OUTPUT events to the artifacts it reuses, so
 * several executions may claim an artifact: the one that really ran (not CACHED) wins, else the first.
 */
export async function producerOf(store: MetadataStore, artifactId: number): Promise<ExecutionIO | undefined> {
  const events = (await store.getEvents({ artifactIds: [artifactId] })).filter((e) => isOutputEvent(e) || isPendingOutput(e));
  if (events.length === 0) return undefined;
  const executions = await store.getExecutions({ ids: [...new Set(events.map((e) => e.executionId))] });
  const producer = executions.find((e) => e.lastKnownState !== ExecutionState.CACHED) ?? executions[0];
  return producer ? (await executionIO(store, [producer])).get(producer.id!) : undefined;
}

/** Executions that took the artifact as input, newest first, with the port they took it on. */
export async function consumersOf(store: MetadataStore, artifactId: number): Promise<{ execution: Execution; port: string }[]> {
  const events = (await store.getEvents({ artifactIds: [artifactId] })).filter(isInputEvent);
  if (events.length === 0) return [];
  const executions = await store.getExecutions({ ids: [...new Set(events.map((e) => e.executionId))], newestFirst: true });
  return executions.map((execution) => ({ execution, port: portOf(events.find((e) => e.executionId === execution.id)!) }));
}

/** The artifact on a port of an execution's outputs (or inputs). */
export function onPort(list: PortArtifact[], port: string): Artifact | undefined {
  return list.find((p) => p.port === port)?.artifact;
}
