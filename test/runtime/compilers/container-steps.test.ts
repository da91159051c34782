// Container component nodes compiled for KFP: their step is KFP's own — the component's image, command and args
// with the placeholders left for KFP's launcher (Concat / IfPresent as the KFP SDK writes them), env, resources
// with GPUs, output parameters — and equals what the KFP SDK 2.13 compiled for the same components
// (../shared/reference/kfp). What cannot work on KFP is refused in one line: recording such a step to the metadata
// store, and a bundled component reading its outputs (no commit marker). Argo and Airflow: container-wrapper.test.ts.

import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { z } from 'zod';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileKfp } from '../../../runtime/compilers/kfp';
import { containerComponent } from '../../../runtime/components/container';
import { StatisticsGen } from '../../../runtime/components';
import { Examples, Model } from '../../../runtime/core/artifact-types';
import { UserError } from '../../../runtime/core/errors';
import { kfpNodeTasks, mixed, structuralProblems, Trainer } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REFERENCE = path.join(__dirname, '..', '..', '..', '..', 'shared', 'reference', 'kfp');
const reference = (file: string): Json => parse(fs.readFileSync(path.join(REFERENCE, file), 'utf8'));

/** Compiles a one-node pipeline of `component` and returns the node's component spec and executor, as KFP names them. */
function single(name: string, component: ReturnType<typeof containerComponent>, parameters: z.ZodObject<z.ZodRawShape> = z.object({}), values: Record<string, unknown> = {}): { component: Json; executor: Json } {
  const p = new Pipeline({ name, parameters });
  p.add(name, component, { parameters: values });
  const spec = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' }) as Json;
  expect(structuralProblems(spec, p)).toEqual([]);
  return { component: spec.components[`comp-${name}`], executor: spec.deploymentSpec.executors[`exec-${name}`] };
}

describe('the KFP IR of a container component is what the KFP SDK compiles', () => {
  test('artifact output, output parameter, metadata placeholder (container_with_artifact_output.yaml)', () => {
    const name = 'container-with-artifact-output';
    const component = containerComponent({
      name: 'ContainerWithArtifactOutput',
      image: 'gcr.io/my-image',
      command: ['sh', 'run.sh'],
      args: [
        '--epochs', "{{$.inputs.parameters['num_epochs']}}",
        '--model_path', "{{$.outputs.artifacts['model'].uri}}",
        '--model_metadata', "{{$.outputs.artifacts['model'].metadata}}",
        '--model_config_path', "{{$.outputs.parameters['model_config_path'].output_file}}",
      ],
      parameters: z.object({ num_epochs: z.number().int() }),
      outputs: { model: { type: Model } },
      outputParameters: { model_config_path: 'STRING' },
    });
    const parameters = z.object({ num_epochs: z.number().int() });
    const p = new Pipeline({ name, parameters });
    p.add(name, component, { parameters: { num_epochs: p.param('num_epochs') } });
    const spec = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' }) as Json;
    const ref = reference('container_with_artifact_output.yaml');
    expect(spec.components[`comp-${name}`]).toEqual(ref.components[`comp-${name}`]);
    expect(spec.deploymentSpec.executors[`exec-${name}`]).toEqual(ref.deploymentSpec.executors[`exec-${name}`]);
  });

  test('IfPresent with an optional parameter (container_with_if_placeholder.yaml)', () => {
    const name = 'container-with-if-placeholder';
    const ifPresent = (then: string) => ({ IfPresent: { InputName: 'optional_input', Then: [then], Else: ['bye'] } });
    const compiled = single(
      name,
      containerComponent({
        name: 'ContainerWithIfPlaceholder',
        image: 'registry.access.redhat.com/ubi9/python-311:latest',
        command: ['my_program', ifPresent("{{$.inputs.parameters['optional_input']}}"), '--dataset', ifPresent("{{$.outputs.artifacts['dataset'].uri}}")],
        args: ['--output_path', "{{$.outputs.parameters['output_path'].output_file}}"],
        parameters: z.object({ optional_input: z.string().default('default') }),
        outputs: { dataset: { type: Examples } },
        outputParameters: { output_path: 'STRING' },
      }),
    );
    const ref = reference('container_with_if_placeholder.yaml');
    expect(compiled.component).toEqual(ref.components[`comp-${name}`]);
    expect(compiled.executor).toEqual(ref.deploymentSpec.executors[`exec-${name}`]);
  });

  test('Concat (container_with_concat_placeholder.yaml)', () => {
    const name = 'container-with-concat-placeholder';
    const compiled = single(
      name,
      containerComponent({
        name: 'ContainerWithConcatPlaceholder',
        image: 'registry.access.redhat.com/ubi9/python-311:latest',
        command: ['my_program', { Concat: ['prefix-', "{{$.inputs.parameters['text1']}}", "{{$.outputs.artifacts['text2'].uri}}"] }],
        args: ['--output_path', "{{$.outputs.parameters['output_path'].output_file}}"],
        parameters: z.object({ text1: z.string() }),
        outputs: { text2: { type: Examples } },
        outputParameters: { output_path: 'STRING' },
      }),
      z.object({}),
      { text1: 'hello' },
    );
    const ref = reference('container_with_concat_placeholder.yaml');
    expect(compiled.component).toEqual(ref.components[`comp-${name}`]);
    expect(compiled.executor).toEqual(ref.deploymentSpec.executors[`exec-${name}`]);
  });
});

describe('a pipeline mixing bundled and container components, for KFP', () => {
  test('each container step runs its own image with env and resources (GPU from its default), wired by artifacts, cached by KFP', () => {
    const p = mixed();
    const spec = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' }) as Json;
    expect(structuralProblems(spec, p)).toEqual([]);
    expect(spec.deploymentSpec.executors['exec-trainer'].container).toEqual({
      image: Trainer.container.image,
      command: ['python3', '-m', 'trainer'],
      args: ['--examples', "{{$.inputs.artifacts['examples'].path}}", '--model', "{{$.outputs.artifacts['model'].path}}", '--epochs', "{{$.inputs.parameters['epochs']}}"],
      env: [{ name: 'PYTHONUNBUFFERED', value: '1' }],
      resources: {
        cpuLimit: 4,
        resourceCpuLimit: '4',
        memoryLimit: 17.179869184,
        resourceMemoryLimit: '16Gi',
        accelerator: { type: 'NVIDIA_L4', count: '1', resourceType: 'NVIDIA_L4', resourceCount: '1' },
      },
    });
    // The bundled step still runs the runtime image.
    expect(spec.deploymentSpec.executors['exec-example-gen'].container.image).toBe('img:1');
    expect(spec.deploymentSpec.executors['exec-scorer'].container).toMatchObject({ image: 'us-docker.pkg.dev/p/ml/scorer:7', command: ['python3', '-m', 'scorer', '--model', "{{$.inputs.artifacts['model'].path}}", '--out', "{{$.outputs.artifacts['evaluation'].path}}"] });
    expect(spec.components['comp-trainer'].inputDefinitions).toEqual({
      parameters: { epochs: { parameterType: 'NUMBER_INTEGER', defaultValue: 5, isOptional: true } },
      artifacts: { examples: { artifactType: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' } } },
    });
    expect(kfpNodeTasks(spec).scorer).toMatchObject({
      dependentTasks: ['trainer'],
      inputs: { artifacts: { model: { taskOutputArtifact: { producerTask: 'trainer', outputArtifactKey: 'model' } } } },
      cachingOptions: { enableCache: true },
    });
  });

  test('--gpu on a container node overrides the accelerator of its default resources', () => {
    const spec = compileKfp(compilePlan(mixed(), 'kfp', { resources: { trainer: { accelerator: { type: 'nvidia-tesla-t4', count: 2 } } } }), { image: 'img:1' }) as Json;
    expect(spec.deploymentSpec.executors['exec-trainer'].container.resources).toMatchObject({
      resourceCpuLimit: '4',
      accelerator: { type: 'NVIDIA_TESLA_T4', count: '2', resourceType: 'NVIDIA_TESLA_T4', resourceCount: '2' },
    });
  });

  test('refused: recording a container step to the metadata store', () => {
    expect(() => compileKfp(compilePlan(mixed(), 'kfp'), { image: 'img:1', metadataAddress: 'postgres://u@10.0.0.3/mlmd' })).toThrow(
      new UserError(`node trainer runs container component TorchTrainer (image ${Trainer.container.image}), which cannot record to --metadata-address: no mlp runtime runs in its image; compile without --metadata-address (KFP caches the step and Vertex ML Metadata records its lineage)`),
    );
  });

  test('refused: a bundled component reading a container step\'s output (it has no commit marker)', () => {
    const p = new Pipeline({ name: 'byo-stats' });
    const Producer = containerComponent({ name: 'CsvToParquet', image: 'python:3.11-slim', command: ['python3', 'make.py', "{{$.outputs.artifacts['examples'].path}}"], outputs: { examples: { type: Examples } } });
    const made = p.add('make', Producer);
    p.add('statistics-gen', StatisticsGen, { inputs: { examples: made.outputs.examples } });
    expect(() => compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' })).toThrow(
      new UserError('node statistics-gen (StatisticsGen) reads input "examples" from node make, a container component step, whose outputs KFP writes without the commit marker StatisticsGen requires of its inputs; read it from a container component instead'),
    );
  });

  test('refused: a TASK_FINAL_STATUS parameter (only exit tasks take one)', () => {
    const Notify = containerComponent({
      name: 'Notify',
      image: 'python:3.11-slim',
      command: ['python3', 'notify.py', "{{$.inputs.parameters['status']}}"],
      parameters: z.object({ status: z.record(z.string(), z.unknown()).optional() }),
      parameterTypes: { status: 'TASK_FINAL_STATUS' },
    });
    const p = new Pipeline({ name: 'notify' });
    p.add('notify', Notify);
    expect(() => compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' })).toThrow(
      'node notify: parameter "status" of container component Notify is a TASK_FINAL_STATUS, which only an exit task takes; the kfp compiler does not make nodes exit tasks',
    );
  });
});
