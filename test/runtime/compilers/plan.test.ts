// What every compiler refuses before emitting anything, each as one line naming the node: resolver nodes,
// conditions on artifact properties, unset required parameters, parameters with no single KFP type; and how
// conditions propagate to dependents.

import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ExampleStatistics } from '../../../runtime/core/artifact-types';
import { ImportSchemaGen, ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';
import * as path from 'path';
import { compilePlan, PACKAGE_ROOT, parameterInfo, relocate } from '../../../runtime/compilers/common';
import { UserError } from '../../../runtime/core/errors';

describe('compilePlan', () => {
  test('a resolver node becomes an mlp.Resolver step: strategy and type as parameters, never cached', () => {
    const p = new Pipeline({ name: 'r' });
    const a = p.add('a', ProduceNumbers);
    p.add('stats', ImportSchemaGen, { parameters: { schema_file: '/x.json' }, after: [a] });
    p.addResolver('latest-stats', { type: ExampleStatistics, strategy: { kind: 'latest', properties: { span: 3 }, producer: a } });
    const node = compilePlan(p, 'argo').nodes.find((n) => n.id === 'latest-stats')!;
    expect(node.component.name).toBe('mlp.Resolver');
    expect(node).toMatchObject({
      inputs: {},
      literals: { artifact_type: 'ExampleStatistics', strategy: { kind: 'latest', properties: { span: 3 }, producer: 'a' } },
      parameterInfo: { artifact_type: { type: 'STRING', optional: false }, strategy: { type: 'STRUCT', optional: false } },
      cache: false,
      resolver: { kind: 'latest', properties: { span: 3 }, producer: 'a' },
    });
  });

  test('files inside the package are addressed where the image installs it', () => {
    const flights = compilePlan(require('../../../pipelines/examples/flights').pipeline, 'argo');
    expect(flights.nodes.find((n) => n.id === 'schema')!.literals.schema_file).toBe('/opt/mlp/pipelines/examples/flights-schema.json');
    expect(relocate({ a: [path.join(PACKAGE_ROOT, 'x', 'y.json'), '/elsewhere', 'gs://b/x'] })).toEqual({ a: ['/opt/mlp/x/y.json', '/elsewhere', 'gs://b/x'] });
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
