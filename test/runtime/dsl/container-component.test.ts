// Container components in the DSL: what containerComponent refuses when a pipeline is defined (placeholders
// naming undeclared inputs or outputs, bad output parameter types), how they wire (our artifact types, so an
// Examples output feeds a KFP Dataset input and a Model does not), how placeholders resolve (strings, Concat,
// IfPresent, {{$}}), and the cache version following the container spec.

import * as path from 'path';
import { z } from 'zod';
import { Pipeline, containerComponent, loadKfpComponent } from '../../../pipelines';
import { ExampleGen, Trainer } from '../../../runtime/components';
import { Examples, Model } from '../../../runtime/core/artifact-types';
import { isContainerComponent, kfpCommandLine } from '../../../runtime/components/container';
import { fromKfpCommandPart, resolveCommandLine, type PlaceholderView } from '../../../runtime/components/container/placeholders';

const KFP_REFERENCE = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'reference', 'kfp');

test('a placeholder naming an input, output or parameter the component does not declare is refused at definition', () => {
  expect(() => containerComponent({ name: 'test.dsl.Typo', image: 'i', command: ['cat', "{{$.inputs.artifacts['exampels'].path}}"], inputs: { examples: { type: Examples } } }))
    .toThrow(`container component test.dsl.Typo: placeholder {{$.inputs.artifacts['exampels']…}} names inputs artifacts "exampels", which the component does not declare (declared: examples)`);
  expect(() => containerComponent({ name: 'test.dsl.Typo2', image: 'i', command: ['x', "{{$.outputs.parameters['m'].output_file}}"] }))
    .toThrow(/names outputs parameters "m", which the component does not declare \(declared: none\)/);
  expect(() => containerComponent({ name: 'test.dsl.Typo3', image: 'i', command: ['x', { IfPresent: { InputName: 'nope', Then: ['a'] } }] }))
    .toThrow('container component test.dsl.Typo3: IfPresent names input "nope", which the component does not declare');
  expect(() => containerComponent({ name: 'test.dsl.Empty', image: 'i', command: [] })).toThrow('container component test.dsl.Empty: command must be a non-empty list');
  expect(() => containerComponent({ name: 'test.dsl.Status', image: 'i', command: ['x'], outputParameters: { s: 'TASK_FINAL_STATUS' } }))
    .toThrow(/output parameter "s" has type TASK_FINAL_STATUS; KFP output parameters are STRING, /);
});

test('container components wire by our artifact types and carry their container spec', () => {
  const trainer = loadKfpComponent(path.join(KFP_REFERENCE, 'lightweight_python_functions_pipeline.yaml'), 'train');
  expect(isContainerComponent(trainer)).toBe(true);
  expect(isContainerComponent(Trainer)).toBe(false);
  expect(trainer.container.image).toBe('python:3.11');
  const p = new Pipeline({ name: 'wiring' });
  const examples = p.add('example-gen', ExampleGen, { parameters: { input_base: '/data' } });
  const node = p.add('train', trainer, { inputs: { dataset_one_path: examples.outputs.examples, dataset_two: examples.outputs.examples } });
  expect(node.inputs.get('dataset_two')).toHaveLength(1);
  const modelMaker = containerComponent({ name: 'test.dsl.ModelMaker', image: 'i', command: ['x', "{{$.outputs.artifacts['model'].path}}"], outputs: { model: { type: Model } } });
  const made = p.add('model-maker', modelMaker);
  expect(() => p.add('train-2', trainer, { inputs: { dataset_one_path: made.outputs.model } }))
    .toThrow('node train-2: input "dataset_one_path" expects Examples but model-maker.outputs.model is Model');
  expect(() => p.add('train-3', trainer, { parameters: { num_steps: 1.5 } })).toThrow(/node train-3: invalid parameter num_steps/);
});

test('the cache version follows the container spec: the same spec twice is one component, a changed one under the same name is refused', () => {
  const def = { name: 'test.dsl.Versioned', image: 'img:1', command: ['echo', "{{$.inputs.parameters['x']}}"], parameters: z.object({ x: z.string() }) };
  const a = containerComponent(def);
  expect(containerComponent(def).version).toBe(a.version);
  expect(() => containerComponent({ ...def, image: 'img:2' })).toThrow(/component test\.dsl\.Versioned is defined twice, as versions [0-9a-f]{16} and [0-9a-f]{16}/);
});

describe('placeholders', () => {
  const view: PlaceholderView = {
    executorInput: {
      inputs: {
        parameterValues: { text: 'hello', n: 3, flags: { a: true } },
        artifacts: { data: { artifacts: [{ uri: '/in/data', metadata: { span: 1 } }] } },
      },
      outputs: {
        artifacts: { model: { artifacts: [{ uri: '/out/model/model' }] } },
        parameters: { m: { outputFile: '/work/parameters/m/data' } },
        outputFile: '/work/executor_output.json',
      },
    },
    paths: { inputs: { data: ['/in/data/file.csv'] }, outputs: { model: '/out/model/model' } },
  };
  const resolve = (parts: Parameters<typeof resolveCommandLine>[0]) => resolveCommandLine(parts, view, 'c');

  test('inside strings, as KFP renders them (strings as they are, other values as JSON)', () => {
    expect(resolve([
      "--text={{$.inputs.parameters['text']}}",
      "{{$.inputs.parameters['n']}}",
      "{{$.inputs.parameters['flags']}}",
      "{{$.inputs.artifacts['data'].path}}",
      "{{$.inputs.artifacts['data'].uri}}",
      "{{$.inputs.artifacts['data'].metadata}}",
      "{{$.outputs.artifacts['model'].path}}",
      "{{$.outputs.parameters['m'].output_file}}",
    ])).toEqual(['--text=hello', '3', '{"a":true}', '/in/data/file.csv', '/in/data/file.csv', '{"span":1}', '/out/model/model', '/work/parameters/m/data']);
    expect(JSON.parse(resolve(['{{$}}'])[0])).toEqual(view.executorInput);
  });

  test('Concat joins, IfPresent splices Then or Else (or nothing), nested', () => {
    expect(resolve([{ Concat: ['a-', "{{$.inputs.parameters['text']}}", { IfPresent: { InputName: 'missing', Then: 'x', Else: ['-b', '-c'] } }] }])).toEqual(['a-hello-b-c']);
    expect(resolve(['x', { IfPresent: { InputName: 'data', Then: ['--data', "{{$.inputs.artifacts['data'].path}}"] } }, 'y'])).toEqual(['x', '--data', '/in/data/file.csv', 'y']);
    expect(resolve(['x', { IfPresent: { InputName: 'absent', Then: ['--absent'] } }])).toEqual(['x']);
  });

  test('a placeholder naming nothing given, or one not supported, is an error', () => {
    expect(() => resolve(["{{$.inputs.parameters['absent']}}"])).toThrow(`c: {{$.inputs.parameters['absent']}} names parameter "absent", which has no value (give it, or wrap the argument in IfPresent)`);
    expect(() => resolve(["{{$.inputs.artifacts['nope'].path}}"])).toThrow(`c: {{$.inputs.artifacts['nope'].path}} names input artifact "nope", which is not given`);
    expect(() => resolve(['{{$.pipeline_root}}'])).toThrow(/^c: unsupported placeholder \{\{\$\.pipeline_root\}\}/);
  });

  test("the KFP SDK's JSON forms read into structures and write back byte for byte", () => {
    const ir = '{"IfPresent": {"InputName": "optional_input", "Then": ["{{$.inputs.parameters[\'optional_input\']}}"], "Else": ["bye"]}}';
    const part = fromKfpCommandPart(ir, 'f');
    expect(part).toEqual({ IfPresent: { InputName: 'optional_input', Then: ["{{$.inputs.parameters['optional_input']}}"], Else: ['bye'] } });
    expect(kfpCommandLine([part])).toEqual([ir]);
    expect(kfpCommandLine([{ Concat: ['é', 'b'] }])).toEqual(['{"Concat": ["\\u00e9", "b"]}']);
    expect(() => fromKfpCommandPart('{"Concat": [', 'f')).toThrow(/^f: \{"Concat": \[… looks like a Concat\/IfPresent structure but is not JSON/);
  });
});
