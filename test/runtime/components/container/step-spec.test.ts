// The step spec a container step carries to its pod (runtime/components/container/step-spec.ts): through JSON it
// rebuilds the same component — ports, parameters with their defaults, output parameters, and the same version,
// so the pod's cache key is the one the component has where it is defined — and a port type the pod cannot
// name is refused when the step is compiled.

import { z } from 'zod';
import { containerComponent } from '../../../../runtime/components/container';
import { containerComponentFromStepSpec, containerStepSpec } from '../../../../runtime/components/container/step-spec';
import { Examples, Model, type ArtifactType } from '../../../../runtime/core/artifact-types';
import { UserError } from '../../../../runtime/core/errors';

test('a component rebuilt from its step spec (through JSON) has the same ports, parameters and version', () => {
  const original = containerComponent({
    name: 'StepSpecTrainer',
    image: 'python:3.12-slim',
    command: ['python3', '-m', 'train', { Concat: ['--epochs=', "{{$.inputs.parameters['epochs']}}"] }],
    args: [{ IfPresent: { InputName: 'note', Then: ['--note', "{{$.inputs.parameters['note']}}"] } }, "{{$.outputs.artifacts['model'].path}}"],
    inputs: { examples: { type: Examples }, base: { type: Model, optional: true } },
    outputs: { model: { type: Model } },
    parameters: z.object({ epochs: z.number().int().default(5).describe('Epochs'), note: z.string().optional() }),
    outputParameters: { accuracy: 'NUMBER_DOUBLE' },
    resources: { cpu: '2', memory: '8Gi', accelerator: { type: 'nvidia-l4', count: 1 } },
    env: { PYTHONUNBUFFERED: '1' },
  });
  // The same name registered again with another version would throw: the rebuilt one must match.
  const rebuilt = containerComponentFromStepSpec(JSON.parse(JSON.stringify(containerStepSpec(original, 'node t'))), '--container-spec');
  expect(rebuilt.version).toBe(original.version);
  expect(rebuilt.container).toEqual(original.container);
  expect(rebuilt.inputs).toEqual(original.inputs);
  expect(rebuilt.outputs).toEqual(original.outputs);
  expect(rebuilt.parameters.parse({})).toEqual({ epochs: 5 });
  expect(() => rebuilt.parameters.parse({ epochs: 1.5 })).toThrow();
});

test('a port of an artifact type the pod cannot rebuild is refused, naming it', () => {
  const Custom: ArtifactType = { name: 'CustomThing', properties: {}, kfpSchemaTitle: 'acme.CustomThing', description: 'A type of its own' };
  const c = containerComponent({ name: 'StepSpecCustom', image: 'python:3.12-slim', command: ['true'], outputs: { out: { type: Custom } } });
  expect(() => containerStepSpec(c, 'node x')).toThrow(UserError);
  expect(() => containerStepSpec(c, 'node x')).toThrow(/^node x: output "out" of container component StepSpecCustom has artifact type CustomThing, which is not a standard artifact type/);
});
