// What every compiler refuses before emitting anything, each as one line naming the node: resolver nodes,
// conditions on artifact properties, unset required parameters, parameters with no single KFP type; and how
// conditions propagate to dependents.

import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ExampleStatistics } from '../../../runtime/core/artifact-types';
import { ImportSchemaGen, ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';
import { compilePlan, parameterInfo } from '../../../runtime/compilers/common';
import { UserError } from '../../../runtime/core/errors';

describe('compilePlan', () => {
  test('a resolver node is refused, naming the node and the target', () => {
    const p = new Pipeline({ name: 'r' });
    p.add('a', ProduceNumbers);
    p.addResolver('latest-stats', { type: ExampleStatistics, strategy: { kind: 'latest' } });
    expect(() => compilePlan(p, 'argo')).toThrow(new UserError('node latest-stats: resolver nodes are not supported by the argo compiler yet'));
  });

  test('a condition on an artifact property is refused', () => {
    const p = new Pipeline({ name: 'c' });
    const a = p.add('a', ProduceNumbers);
    p.add('b', ScaleNumbers, { inputs: { numbers: a.outputs.numbers }, condition: when(a.outputs.numbers.property('span'), '>', 0) });
    expect(() => compilePlan(p, 'kfp')).toThrow(new UserError('node b: conditions on artifact properties are not supported by the kfp compiler yet'));
  });

  test('an unset required parameter is refused', () => {
    const p = new Pipeline({ name: 's' });
    p.add('schema', ImportSchemaGen);
    expect(() => compilePlan(p, 'airflow')).toThrow(new UserError('node schema: required parameter schema_file of ImportSchemaGen is not set'));
  });

  test('parameter types: integers inside number unions are numbers; mixed types are refused', () => {
    const info = parameterInfo(z.object({ n: z.union([z.number().int(), z.number()]), e: z.enum(['a', 'b']).optional(), l: z.literal('x').nullable() }), 'pipeline x');
    expect(info).toEqual({ n: { type: 'NUMBER_DOUBLE', optional: false }, e: { type: 'STRING', optional: true }, l: { type: 'STRING', optional: false } });
    expect(() => parameterInfo(z.object({ v: z.union([z.string(), z.number()]) }), 'node x')).toThrow(
      new UserError('node x: parameter "v" has no single KFP type (JSON Schema types: string, number)'),
    );
  });

  test('a node inherits the conditions of the nodes it depends on, once each', () => {
    const p = new Pipeline({ name: 'w', parameters: z.object({ go: z.boolean().default(true) }) });
    const a = p.add('a', ProduceNumbers, { condition: when(p.param('go'), '==', true) });
    const b = p.add('b', ScaleNumbers, { inputs: { numbers: a.outputs.numbers }, condition: when(p.param('go'), '==', true) });
    p.add('c', SummarizeNumbers, { inputs: { numbers: b.outputs.scaled } });
    p.add('d', ProduceNumbers);
    const plan = compilePlan(p, 'argo');
    expect(Object.fromEntries(plan.nodes.map((n) => [n.id, n.conditions]))).toEqual({
      a: [{ param: 'go', op: '==', value: true }],
      b: [{ param: 'go', op: '==', value: true }],
      c: [{ param: 'go', op: '==', value: true }],
      d: [],
    });
  });
});
