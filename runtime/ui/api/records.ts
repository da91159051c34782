// How MLMD records look in API answers: enum codes as their names (what a person reads), and the few
// facts the pages link by (an execution's run and node), plus reading a property wherever the writer put
// it (declared or custom: TFX declares some, our components add others as custom properties).

import { ArtifactState, ExecutionState, type Artifact, type Execution, type PropertyValue } from '../../metadata/types';

type WithProperties = Pick<Artifact, 'properties' | 'customProperties'>;

export function propertyOf(record: WithProperties, name: string): PropertyValue | undefined {
  return record.properties?.[name] ?? record.customProperties?.[name];
}

export type ArtifactView = Omit<Artifact, 'state'> & { id: number; state: string };
export type ExecutionView = Omit<Execution, 'lastKnownState'> & { id: number; state: string; runId?: string; nodeId?: string };

export function artifactView(a: Artifact): ArtifactView {
  return { ...a, id: a.id!, state: ArtifactState[a.state] ?? String(a.state) };
}

export function executionView(e: Execution): ExecutionView {
  const { lastKnownState, ...rest } = e;
  const runId = e.customProperties?.run_id;
  const nodeId = e.customProperties?.node_id;
  return {
    ...rest,
    id: e.id!,
    state: ExecutionState[lastKnownState] ?? String(lastKnownState),
    ...(typeof runId === 'string' ? { runId } : {}),
    ...(typeof nodeId === 'string' ? { nodeId } : {}),
  };
}

export { isInputEvent, isOutputEvent, isPendingOutput, portOf } from '../../metadata/events';
