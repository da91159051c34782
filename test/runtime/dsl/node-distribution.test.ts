// `pipeline.add(id, component, { distribution, tpu })` (issue 19 §1): a node runs its container component
// distributed, or on a TPU slice, without a second component. The override replaces the component's pair, is
// checked as a component's own is, changes the cache key, and takes effect everywhere: the local runner (2 ranks
// ran, rank 0's output published), Argo (a JobSet), Vertex AI (a CustomJob) and Composer (refused, naming the node).

import * as fs from 'fs';
import * as path from 'path';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileArgo } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileKfp } from '../../../runtime/compilers/kfp';
import { isContainerComponent } from '../../../runtime/components/container';
import { ProduceNumbers } from '../../../runtime/components/demo/produce-numbers';
import { getComponent } from '../../../runtime/core/component';
import { UserError } from '../../../runtime/core/errors';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { pipeline, RankWriter } from '../../fixtures/container/node-distribution-pipeline';
import { useTempStore } from '../../support/temp-store';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MODULE = path.join(__dirname, '..', '..', 'fixtures', 'container', 'node-distribution-pipeline.ts');
const t = useTempStore('mlp-node-distribution-');

const nodeComponent = (p: Pipeline, id: string) => p.nodes.find((n) => n.id === id)!.component;

test('the node runs the component with its distribution; the component itself (and its other nodes) are unchanged', () => {
  const p = pipeline();
  const pair = nodeComponent(p, 'pair');
  const single = nodeComponent(p, 'single');
  expect(isContainerComponent(pair) && pair.container.distribution).toEqual({ workers: 2 });
  expect(single).toBe(RankWriter);
  expect(RankWriter.container.distribution).toBeUndefined();
  expect(getComponent(RankWriter.name)).toBe(RankWriter);
  // Another distribution is another cache key, as for a component defined with it.
  expect(pair.name).toBe(RankWriter.name);
  expect(pair.version).not.toBe(RankWriter.version);
});

test('a node setting tpu runs a slice: the pair replaces the component\'s own distribution', () => {
  const p = new Pipeline({ name: 'to-tpu' });
  p.add('slice', RankWriter, { tpu: { version: 'v5p', topology: '2x2x2' } });
  const c = nodeComponent(p, 'slice');
  expect(isContainerComponent(c) && [c.container.distribution, c.container.tpu]).toEqual([undefined, { version: 'v5p', topology: '2x2x2' }]);
});

test('refused in one line naming the node: a bad distribution or slice, and a component that is not a container component', () => {
  const add = (component: Parameters<Pipeline['add']>[1], options: Json) => () => new Pipeline({ name: 'bad' }).add('train', component, options);
  expect(add(RankWriter, { distribution: { workers: 0 } })).toThrow(
    new UserError('node train: container component NodeDistributionRankWriter: distribution.workers must be a positive integer, got 0'),
  );
  expect(add(RankWriter, { tpu: { version: 'v5e', topology: '3x3' } })).toThrow(/^node train: container component NodeDistributionRankWriter: TPU v5e has no topology "3x3"/);
  expect(add(ProduceNumbers, { distribution: { workers: 2 } })).toThrow(
    new UserError('node train: distribution is set, but component ProduceNumbers is not a container component (only container components run distributed)'),
  );
  expect(add(ProduceNumbers, { tpu: { version: 'v5e', topology: '4x4' } })).toThrow(
    new UserError('node train: tpu is set, but component ProduceNumbers is not a container component (only container components run distributed)'),
  );
});

test('locally the node runs 2 ranks and publishes rank 0\'s output; the other node runs one process', async () => {
  const result = await runPipeline(pipeline(), { root: t.root, store: t.store, modules: [MODULE], parallelism: 1, localExec: 'subprocess' });
  const node = (id: string) => result.nodes.find((n) => n.id === id)!;
  expect(node('pair').state).toBe('executed');
  expect(fs.readFileSync(path.join(node('pair').outputs.model, 'rank.txt'), 'utf8')).toBe('rank 0 of 2');
  expect(fs.readFileSync(path.join(node('single').outputs.model, 'rank.txt'), 'utf8')).toBe('rank undefined of undefined');
}, 120_000);

test('Argo compiles the node to a JobSet of 2 pods; the other node stays one step', () => {
  const wf = compileArgo(compilePlan(pipeline(), 'argo'), { image: 'us-docker.pkg.dev/p/r/mlp:1', pipelineRoot: 'gs://b/root' }) as Json;
  const names = wf.spec.templates.map((x: Json) => x.name);
  expect(names).toEqual(expect.arrayContaining(['single', 'pair-jobset', 'pair']));
  expect(names).not.toContain('single-jobset');
  const manifest = wf.spec.templates.find((x: Json) => x.name === 'pair-jobset').resource.manifest as string;
  expect(manifest).toMatch(/parallelism: 2\n/);
});

test('Vertex AI runs the node as a CustomJob of a chief and one worker', () => {
  const spec = compileKfp(compilePlan(pipeline(), 'kfp'), { image: 'us-docker.pkg.dev/p/r/mlp:1' }) as Json;
  const args: string[] = spec.deploymentSpec.executors['exec-pair'].container.args;
  const payload = JSON.parse(args[args.indexOf('--payload') + 1]);
  expect(payload.jobSpec.workerPoolSpecs.map((p: Json) => p.replicaCount)).toEqual([1, 1]);
  expect(spec.deploymentSpec.executors['exec-single'].container.args).not.toContain('--payload');
});

test('Composer refuses the node, naming it', () => {
  expect(() => compileAirflow(compilePlan(pipeline(), 'airflow'), { image: 'us-docker.pkg.dev/p/r/mlp:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600 })).toThrow(
    /^node pair: container component NodeDistributionRankWriter is a distributed step \(distribution\), which the Composer \(Airflow\) target does not run/,
  );
});
