// Folding CACHED executions into the execution whose outputs they reused, on lineage a real SQLite store
// answers: a store written as TFX writes one (no cached_from_execution property), a cache hit of an
// execution without outputs (several could be its source: the property decides, else it stays shown), and a
// CACHED execution whose inputs differ from every execution that ran (stays shown: nothing disappears).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { foldCachedReuses } from '../../../runtime/metadata/cached-reuses';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, EventType, ExecutionState, TypeKind, type Artifact, type MetadataStore } from '../../../runtime/metadata/types';

let dir: string;
let store: MetadataStore;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cached-reuses-'));
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.sqlite')}`);
  await store.putType({ kind: TypeKind.ARTIFACT, name: 'Examples' });
  for (const name of ['ExampleGen', 'Trainer', 'Notify']) await store.putType({ kind: TypeKind.EXECUTION, name });
});
afterEach(async () => {
  await store.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const live = ArtifactState.LIVE;

/** An execution with inputs (existing artifacts) and outputs (existing ones, or new ones by URI) on ports. */
async function record(
  type: string,
  state: ExecutionState,
  inputs: [Artifact, string][],
  outputs: [Artifact | string, string][],
  customProperties: Record<string, number | string> = {},
): Promise<{ id: number; outputs: Artifact[] }> {
  const outs = outputs.map(([a, port]) => ({ artifact: typeof a === 'string' ? { type: 'Examples', uri: a, state: live } : a, port }));
  const result = await store.putExecution({ type, lastKnownState: state, customProperties }, [
    ...inputs.map(([artifact, port]) => ({ artifact, event: { type: EventType.INPUT, path: [{ key: port }, { index: 0 }] } })),
    ...outs.map(({ artifact, port }) => ({ artifact, event: { type: EventType.OUTPUT, path: [{ key: port }, { index: 0 }] } })),
  ], []);
  const ids = result.artifactIds.slice(inputs.length);
  return { id: result.executionId, outputs: outs.map(({ artifact }, i) => ({ ...artifact, id: ids[i] })) };
}

test('a store written as TFX writes one: cache hits fold into the producer by their events alone, on both sides', async () => {
  const gen = await record('ExampleGen', ExecutionState.COMPLETE, [], [['/e/1', 'examples']]);
  const [examples] = gen.outputs;
  const trainer = await record('Trainer', ExecutionState.COMPLETE, [[examples, 'examples']], [['/m/1', 'model']]);
  const [model] = trainer.outputs;
  const genHit = await record('ExampleGen', ExecutionState.CACHED, [], [[examples, 'examples']], { run_id: 'r2', node_id: 'gen' });
  const trainerHit = await record('Trainer', ExecutionState.CACHED, [[examples, 'examples']], [[model, 'model']], { run_id: 'r2', node_id: 'trainer' });

  const up = foldCachedReuses(await store.getLineage(model.id!, 'upstream'));
  expect(up.executions.map((e) => e.id)).toEqual([gen.id, trainer.id]);
  expect(up.events.every((e) => e.executionId !== genHit.id && e.executionId !== trainerHit.id)).toBe(true);
  expect(up.reusedBy).toEqual(
    new Map([
      [gen.id, [{ executionId: genHit.id, runId: 'r2', nodeId: 'gen' }]],
      [trainer.id, [{ executionId: trainerHit.id, runId: 'r2', nodeId: 'trainer' }]],
    ]),
  );
  const down = foldCachedReuses(await store.getLineage(examples.id!, 'downstream'));
  expect(down.executions.map((e) => e.id)).toEqual([trainer.id]);
  expect(down.reusedBy.get(trainer.id)).toEqual([{ executionId: trainerHit.id, runId: 'r2', nodeId: 'trainer' }]);
});

test('a cache hit of an execution without outputs: cached_from_execution picks among equal candidates; without it, it stays shown', async () => {
  const [examples] = (await record('ExampleGen', ExecutionState.COMPLETE, [], [['/e/1', 'examples']])).outputs;
  const pushA = await record('Notify', ExecutionState.COMPLETE, [[examples, 'examples']], []);
  const pushB = await record('Notify', ExecutionState.COMPLETE, [[examples, 'examples']], []);
  const named = await record('Notify', ExecutionState.CACHED, [[examples, 'examples']], [], { cached_from_execution: pushB.id });
  const unnamed = await record('Notify', ExecutionState.CACHED, [[examples, 'examples']], []);

  const down = foldCachedReuses(await store.getLineage(examples.id!, 'downstream'));
  expect(down.executions.map((e) => e.id)).toEqual([pushA.id, pushB.id, unnamed.id]);
  expect(down.reusedBy).toEqual(new Map([[pushB.id, [{ executionId: named.id }]]]));
});

test('a CACHED execution whose inputs differ from every execution that ran stays in the graph', async () => {
  const [a, b] = (await record('ExampleGen', ExecutionState.COMPLETE, [], [['/e/a', 'examples'], ['/e/b', 'other']])).outputs;
  const trainer = await record('Trainer', ExecutionState.COMPLETE, [[a, 'examples']], [['/m/1', 'model']]);
  const [model] = trainer.outputs;
  const odd = await record('Trainer', ExecutionState.CACHED, [[b, 'examples']], [[model, 'model']]);

  const up = foldCachedReuses(await store.getLineage(model.id!, 'upstream'));
  expect(up.executions.map((e) => e.id)).toEqual(expect.arrayContaining([trainer.id, odd.id]));
  expect(up.reusedBy.size).toBe(0);
  expect(up.events.filter((e) => e.executionId === odd.id)).toHaveLength(2);
});
