// The runner names each input artifact of an ExecutorInput by its MLMD id, in the resource-name form Vertex AI
// Pipelines uses, so executors can record input ids as TFX's do (the Evaluator's current_model_id).
import { Model } from '../../../runtime/core/artifact-types';
import { artifactIdOfName } from '../../../runtime/core/executor-io';
import { defineComponent } from '../../../runtime/core/component';
import { ArtifactState } from '../../../runtime/metadata';
import { buildExecutorInput } from '../../../runtime/runner/driver';
import { z } from 'zod';

const Judge = defineComponent({
  name: 'test.Judge',
  version: '1',
  description: 'takes models',
  inputs: { model: { type: Model } },
  outputs: {},
  parameters: z.object({}),
  executor: async () => undefined,
});

test('inputs are named metadataStores/default/artifacts/<id>, and that name (or Vertex’s) gives the id back', () => {
  const input = buildExecutorInput(Judge, {}, { model: [{ id: 12, type: 'Model', uri: '/m', name: 'p:r:trainer:model', state: ArtifactState.LIVE, properties: {}, customProperties: {} }] }, {}, '/out.json');
  const [artifact] = input.inputs!.artifacts!.model.artifacts;
  expect(artifact.name).toBe('metadataStores/default/artifacts/12');
  expect(artifactIdOfName(artifact.name)).toBe(12);
  expect(artifactIdOfName('projects/p/locations/us-central1/metadataStores/default/artifacts/345')).toBe(345);
  expect(artifactIdOfName('p:r:trainer:model')).toBeUndefined();
  expect(artifactIdOfName(undefined)).toBeUndefined();
});
