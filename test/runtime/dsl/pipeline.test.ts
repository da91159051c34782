// The pipeline DSL refuses structural mistakes when the pipeline is built, naming the node and the port.

import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { defineComponent } from '../../../runtime/core/component';
import { Examples, Model } from '../../../runtime/core/artifact-types';
import { ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';

const Train = defineComponent({
  name: 'test.dsl.Train',
  version: '1',
  description: 'consumes examples, produces a model',
  inputs: { examples: { type: Examples }, base_model: { type: Model, optional: true } },
  outputs: { model: { type: Model } },
  parameters: z.object({ epochs: z.number().int().min(1).default(1) }),
  executor: () => undefined,
});

function base() {
  const p = new Pipeline({ name: 'dsl-test', parameters: z.object({ factor: z.number().default(2), deploy: z.boolean().default(false) }) });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: 10 } });
  return { p, produce };
}

test('a well-formed pipeline validates into topological order', () => {
  const { p, produce } = base();
  const scale = p.add('scale', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, parameters: { factor: p.param('factor') } });
  p.add('train', Train, { inputs: { examples: scale.outputs.scaled } });
  p.add('sum', SummarizeNumbers, { inputs: { numbers: [produce.outputs.numbers, scale.outputs.scaled] } });
  expect(p.validate().map((n) => n.id)).toEqual(['produce', 'scale', 'train', 'sum']);
});

test('a port type mismatch names the node, the port and both types', () => {
  const { p, produce } = base();
  const train = p.add('train', Train, { inputs: { examples: produce.outputs.numbers } });
  expect(() => p.add('train2', Train, { inputs: { examples: train.outputs.model as never } })).toThrow(
    'node train2: input "examples" expects Examples but train.outputs.model is Model',
  );
});

test('an unknown input port is refused with the ports that exist', () => {
  const { p, produce } = base();
  expect(() => p.add('scale', ScaleNumbers, { inputs: { nums: produce.outputs.numbers } as never })).toThrow(
    'node scale: component ScaleNumbers has no input port "nums" (ports: numbers)',
  );
});

test('an output port that does not exist (a module is not type-checked) names the port written and the real ones', () => {
  const { p, produce } = base();
  const outputs = produce.outputs as unknown as Record<string, never>;
  const expected = 'produce.outputs.stats, but node produce (ProduceNumbers) has no output port "stats" (output ports: numbers)';
  expect(() => p.add('scale', ScaleNumbers, { inputs: { numbers: outputs.stats } })).toThrow(`node scale: input "numbers" is wired to ${expected}`);
  expect(() => p.add('sum', SummarizeNumbers, { inputs: { numbers: [produce.outputs.numbers, outputs.stats] } })).toThrow(`node sum: input "numbers" is wired to ${expected}`);
  expect(() => p.addResolver('prev', { type: Examples, strategy: { kind: 'previous-span', of: outputs.stats } })).toThrow(`resolver prev: previous-span of ${expected}`);
  expect(() => when((outputs.stats as { property(name: string): never }).property('blessed'), '==', 1)).toThrow(`a condition reads a property of ${expected}`);
  // The node's real ports are as before: listed, and nothing else.
  expect(Object.keys(produce.outputs)).toEqual(['numbers']);
  expect(p.nodes.map((n) => n.id)).toEqual(['produce']);
});

test('a missing required input names the node and the port; optional inputs may stay unwired', () => {
  const { p } = base();
  p.add('train', Train, {});
  expect(() => p.validate()).toThrow('node train: required input "examples" (Examples) is not wired');
});

test('unknown and invalid parameters carry the zod path', () => {
  const { p, produce } = base();
  expect(() => p.add('scale', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, parameters: { factr: 2 } as never })).toThrow(
    'node scale: component ScaleNumbers has no parameter "factr" (parameters: factor)',
  );
  expect(() => p.add('train', Train, { inputs: { examples: produce.outputs.numbers }, parameters: { epochs: 0 } })).toThrow(
    /^node train: invalid parameter epochs: Too small: expected number to be >=1$/,
  );
  expect(() => p.add('scale2', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers }, parameters: { factor: p.param('nope' as never) } })).toThrow(
    'pipeline dsl-test has no parameter "nope"',
  );
});

test('a cycle made by late wiring is found and spelled out', () => {
  const { p, produce } = base();
  const a = p.add('a', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers } });
  const b = p.add('b', ScaleNumbers, { inputs: { numbers: a.outputs.scaled } });
  a.wire('numbers', b.outputs.scaled);
  expect(() => p.validate()).toThrow(/^pipeline dsl-test has a cycle: (a → b → a|b → a → b)$/);
});

test('duplicate node ids, bad names and negative retries are refused', () => {
  const { p } = base();
  expect(() => p.add('produce', ProduceNumbers)).toThrow('pipeline dsl-test: node id "produce" is used twice');
  expect(() => p.add('Bad_Id', ProduceNumbers)).toThrow(/node id "Bad_Id" must match/);
  expect(() => p.add('r', ProduceNumbers, { retry: { maxRetries: -1 } })).toThrow('node r: retry.maxRetries must be a whole number ≥ 0, got -1');
  expect(() => new Pipeline({ name: 'Has Spaces' })).toThrow(/pipeline name "Has Spaces" must match/);
});

test('run-time parameters are validated with defaults applied', () => {
  const { p } = base();
  expect(p.resolveParameters({ factor: 5 })).toEqual({ factor: 5, deploy: false });
  expect(() => p.resolveParameters({ factor: 'x' })).toThrow('pipeline dsl-test: invalid parameter factor: Invalid input: expected number, received string');
  expect(() => p.resolveParameters({ colour: 1 })).toThrow('pipeline dsl-test has no parameter "colour" (parameters: factor, deploy)');
});

test('a condition on an upstream artifact property adds the dependency', () => {
  const { p, produce } = base();
  const scale = p.add('scale', ScaleNumbers, { inputs: { numbers: produce.outputs.numbers } });
  const gated = p.add('gated', ProduceNumbers, { condition: when(scale.outputs.scaled.property('row_count'), '>', 5) });
  expect(gated.upstream()).toEqual([scale]);
  expect(p.validate().map((n) => n.id)).toEqual(['produce', 'scale', 'gated']);
});

test('resolvers check their strategy and depend on the node whose previous span they look for', () => {
  const { p, produce } = base();
  expect(() => p.addResolver('prev', { type: Model, strategy: { kind: 'previous-span', of: produce.outputs.numbers } })).toThrow(
    'resolver prev: previous-span of produce.outputs.numbers gives Examples, not Model',
  );
  const prev = p.addResolver('prev', { type: Examples, strategy: { kind: 'previous-span', of: produce.outputs.numbers } });
  expect(prev.upstream()).toEqual([produce]);
  const latest = p.addResolver('latest', { type: Model, strategy: { kind: 'latest', properties: { blessed: 1 } } });
  expect(latest.upstream()).toEqual([]);
  p.add('train', Train, { inputs: { examples: prev.outputs.result, base_model: latest.outputs.result } });
  expect(p.validate().map((n) => n.id)).toEqual(['produce', 'prev', 'latest', 'train']);
});
