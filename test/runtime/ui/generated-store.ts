// A metadata store filled the way the runner fills it, without running anything: `runs` runs of a 10-node
// training pipeline (example-gen → statistics-gen → schema-gen → example-validator, transform → trainer →
// evaluator → infra-validator → pusher, bulk-inferrer), each execution with its contexts, parameters and
// events. Each trainer warm-starts from the previous run's model (TFX's base_model) and each evaluator takes
// it as its baseline, so lineage chains back through every run: the worst case for lineage queries. For the
// large-store test and the UI benchmark.

import { STANDARD_ARTIFACT_TYPES } from '../../../runtime/core/artifact-types';
import { ArtifactState, EventType, ExecutionState, TypeKind, type Artifact, type MetadataStore, type Properties } from '../../../runtime/metadata/types';
import { CONTEXT_NODE, CONTEXT_PIPELINE, CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';

export const GENERATED_PIPELINE = 'generated';

/** node → [component, inputs (port ← producing node.port), outputs (port → type)] */
const NODES: [string, string, [string, string][], [string, string][]][] = [
  ['example-gen', 'ExampleGen', [], [['examples', 'Examples']]],
  ['statistics-gen', 'StatisticsGen', [['examples', 'example-gen.examples']], [['statistics', 'ExampleStatistics']]],
  ['schema-gen', 'SchemaGen', [['statistics', 'statistics-gen.statistics']], [['schema', 'Schema']]],
  ['example-validator', 'ExampleValidator', [['statistics', 'statistics-gen.statistics'], ['schema', 'schema-gen.schema']], [['anomalies', 'ExampleAnomalies']]],
  ['transform', 'Transform', [['examples', 'example-gen.examples']], [['transform_graph', 'TransformGraph']]],
  ['trainer', 'Trainer', [['examples', 'example-gen.examples'], ['transform_graph', 'transform.transform_graph'], ['base_model', 'previous.model']], [['model', 'Model']]],
  ['evaluator', 'Evaluator', [['examples', 'example-gen.examples'], ['model', 'trainer.model'], ['baseline_model', 'previous.model']], [['evaluation', 'ModelEvaluation'], ['blessing', 'ModelBlessing']]],
  ['infra-validator', 'InfraValidator', [['model', 'trainer.model']], [['blessing', 'InfraBlessing']]],
  ['pusher', 'Pusher', [['model', 'trainer.model'], ['model_blessing', 'evaluator.blessing'], ['infra_blessing', 'infra-validator.blessing']], [['pushed_model', 'PushedModel']]],
  ['bulk-inferrer', 'BulkInferrer', [['examples', 'example-gen.examples'], ['model', 'trainer.model']], [['inference_result', 'InferenceResult']]],
];

export const NODES_PER_RUN = NODES.length;

/** What the Pusher and the validators record on their outputs (version = run number). */
function outputProperties(type: string, version: number, root: string): Properties {
  if (type === 'PushedModel') return { pushed: 1, pushed_version: version, pushed_destination: `${root}/serving/generated/${version}` };
  return type === 'ModelBlessing' || type === 'InfraBlessing' ? { blessed: 1 } : {};
}

export interface GeneratedStore {
  runIds: string[];
  /** The last run's PushedModel: the start of a deep upstream lineage. */
  lastPushedModelId: number;
  /** The first run's Examples: the start of a wide downstream lineage. */
  firstExamplesId: number;
}

export async function generateStore(store: MetadataStore, runs: number, root = '/nonexistent/generated-root'): Promise<GeneratedStore> {
  for (const t of STANDARD_ARTIFACT_TYPES) await store.putType({ kind: TypeKind.ARTIFACT, name: t.name, properties: { ...t.properties } });
  for (const name of [CONTEXT_PIPELINE, CONTEXT_RUN, CONTEXT_NODE]) await store.putType({ kind: TypeKind.CONTEXT, name });
  for (const [, component] of NODES) await store.putType({ kind: TypeKind.EXECUTION, name: component });
  const [pipelineId] = await store.putContexts([{ type: CONTEXT_PIPELINE, name: GENERATED_PIPELINE }]);

  const runIds: string[] = [];
  let previousModel: Artifact | undefined;
  let lastPushedModelId = 0;
  let firstExamplesId = 0;
  const started = Date.UTC(2026, 0, 1);
  for (let r = 0; r < runs; r++) {
    const runId = `${GENERATED_PIPELINE}-${String(r).padStart(6, '0')}`;
    runIds.push(runId);
    const startedAt = started + r * 3_600_000;
    const [runCtxId] = await store.putContexts([
      {
        type: CONTEXT_RUN,
        name: runId,
        customProperties: {
          pipeline_name: GENERATED_PIPELINE,
          state: 'COMPLETE',
          started_at: new Date(startedAt).toISOString(),
          finished_at: new Date(startedAt + 60_000).toISOString(),
          duration_ms: 60_000,
          root,
          parameters: { learning_rate: 0.01 },
        },
      },
    ]);
    await store.putParentContexts([{ parentId: pipelineId, childId: runCtxId }]);
    const outputs = new Map<string, Artifact>();
    for (const [nodeId, component, inputs, outs] of NODES) {
      const inputArtifacts = inputs
        .map(([port, source]) => [port, source === 'previous.model' ? previousModel : outputs.get(source)] as const)
        .filter((pair): pair is [string, Artifact] => pair[1] !== undefined);
      const outputArtifacts = outs.map(([port, type]): [string, Artifact] => [
        port,
        { type, uri: `${root}/${GENERATED_PIPELINE}/${nodeId}/${port}/${runId}`, state: ArtifactState.LIVE, customProperties: outputProperties(type, r + 1, root) },
      ]);

      const result = await store.putExecution(
        {
          type: component,
          name: `${runId}:${nodeId}`,
          lastKnownState: ExecutionState.COMPLETE,
          customProperties: { node_id: nodeId, run_id: runId, pipeline_name: GENERATED_PIPELINE, duration_ms: 6000, attempts: 1, parameters: { node: nodeId } },
        },
        [
          ...inputArtifacts.map(([port, artifact]) => ({ artifact, event: { type: EventType.INPUT, path: [{ key: port }, { index: 0 }] } })),
          ...outputArtifacts.map(([port, artifact]) => ({ artifact, event: { type: EventType.OUTPUT, path: [{ key: port }, { index: 0 }] } })),
        ],
        [
          { type: CONTEXT_PIPELINE, name: GENERATED_PIPELINE },
          { type: CONTEXT_RUN, name: runId },
          { type: CONTEXT_NODE, name: `${GENERATED_PIPELINE}.${nodeId}` },
        ],
      );
      outputArtifacts.forEach(([port, artifact], i) => {
        artifact.id = result.artifactIds[inputArtifacts.length + i];
        outputs.set(`${nodeId}.${port}`, artifact);
      });
    }
    previousModel = outputs.get('trainer.model');
    lastPushedModelId = outputs.get('pusher.pushed_model')!.id!;
    if (r === 0) firstExamplesId = outputs.get('example-gen.examples')!.id!;
  }
  return { runIds, lastPushedModelId, firstExamplesId };
}
