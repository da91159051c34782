// Child process of the concurrent-writers test: opens the store at argv[2] (possibly creating its schema
// at the same moment as the other writer) and records argv[4] executions, each with an output artifact,
// under a shared pipeline context and its own run context. Exits non-zero on any error.
import { ArtifactState, EventType, ExecutionState, openMetadataStore, PropertyType, TypeKind } from '../../../runtime/metadata';

async function main(address: string, worker: string, count: number): Promise<void> {
  const store = await openMetadataStore(address);
  try {
    await store.putType({ kind: TypeKind.EXECUTION, name: 'Trainer' });
    await store.putType({ kind: TypeKind.ARTIFACT, name: 'Model', properties: { span: PropertyType.INT } });
    await store.putType({ kind: TypeKind.CONTEXT, name: 'pipeline' });
    await store.putType({ kind: TypeKind.CONTEXT, name: 'pipeline_run' });
    for (let i = 0; i < count; i++) {
      await store.putExecution(
        { type: 'Trainer', lastKnownState: ExecutionState.COMPLETE, customProperties: { worker, i } },
        [{ artifact: { type: 'Model', uri: `/models/${worker}/${i}`, state: ArtifactState.LIVE, properties: { span: i } }, event: { type: EventType.OUTPUT, path: [{ key: 'model' }] } }],
        [{ type: 'pipeline', name: 'shared' }, { type: 'pipeline_run', name: `run-${worker}` }],
      );
    }
  } finally {
    await store.close();
  }
}

main(process.argv[2], process.argv[3], Number(process.argv[4])).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
