// A local pipeline with `shards: 3` on Transform and BulkInferrer writes the same artifacts as the same pipeline
// unsharded: the transform graph byte for byte, the materialized examples and the predictions row for row (the
// Trainer between them is seeded, so both runs train the same model from the same graph). Each sharded node is
// one execution recorded with its shard count.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import type { ShardsOption } from '../../../runtime/core/sharding';
import { BulkInferrer, SchemaGen, StatisticsGen, Trainer, Transform } from '../../../runtime/components';
import { PREDICTIONS_FILE } from '../../../runtime/components/bulk-inferrer';
import { sqlString } from '../../../runtime/data/duckdb';
import { openMetadataStore } from '../../../runtime/metadata';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { TRANSFORM_GRAPH_FILE } from '../../../runtime/transform/graph';
import { TransformSpec } from '../../../runtime/transform/spec';
import { addPenguinsExampleGen } from '../../fixtures/penguins-example-gen';
import { CUSTOM_CONFIG, LABEL, PENGUINS_SPEC, QUICK_HP, sqlRows } from './helpers';

let root: string;
beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-sharded-ml-'));
});
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

function pipeline(shards?: ShardsOption): Pipeline {
  const p = new Pipeline({ name: 'sharded-ml' });
  const sharded = shards === undefined ? {} : { shards };
  const examples = addPenguinsExampleGen(p).outputs.examples;
  const statistics = p.add('statistics-gen', StatisticsGen, { inputs: { examples } });
  const schema = p.add('schema-gen', SchemaGen, { inputs: { statistics: statistics.outputs.statistics } });
  const transform = p.add('transform', Transform, {
    inputs: { examples },
    parameters: { spec: TransformSpec.parse([...PENGUINS_SPEC, { kind: 'bucketize', feature: 'Flipper Length (mm)', num_buckets: 4, output: 'flipper' }]), materialize: true, keep_columns: [LABEL] },
    ...sharded,
  });
  const trainer = p.add('trainer', Trainer, {
    inputs: { examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema },
    parameters: { custom_config: CUSTOM_CONFIG, hyperparameters: { ...QUICK_HP, epochs: 2 } },
  });
  p.add('bulk-inferrer', BulkInferrer, { inputs: { examples, model: trainer.outputs.model }, parameters: { split: 'eval' }, ...sharded });
  return p;
}

async function runIn(name: string, shards?: ShardsOption) {
  const dir = path.join(root, name);
  const store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.sqlite')}`);
  try {
    const summary = await runPipeline(pipeline(shards), { root: path.join(dir, 'pipeline-root'), store, parallelism: 2 });
    expect(summary.state).toBe('COMPLETE');
    const node = (id: string) => summary.nodes.find((n) => n.id === id)!;
    const ids = [node('transform').executionId!, node('bulk-inferrer').executionId!];
    const executions = (await store.getExecutions({ ids })).sort((a, b) => ids.indexOf(a.id!) - ids.indexOf(b.id!));
    return { outputs: (id: string, port: string) => node(id).outputs[port], executions };
  } finally {
    await store.close();
  }
}

const rowsOf = (glob: string) => sqlRows(`SELECT * FROM read_parquet(${sqlString(glob)})`);

test('shards: 3 on Transform and BulkInferrer writes the unsharded run\'s graph, transformed examples and predictions', async () => {
  const unsharded = await runIn('unsharded');
  const sharded = await runIn('sharded', 3);
  const graph = (run: typeof sharded) => fs.readFileSync(path.join(run.outputs('transform', 'transform_graph'), TRANSFORM_GRAPH_FILE), 'utf8');
  expect(graph(sharded)).toBe(graph(unsharded));
  for (const split of ['train', 'eval']) {
    const transformed = (run: typeof sharded) => rowsOf(path.join(run.outputs('transform', 'transformed_examples'), `Split-${split}`, '*.parquet'));
    expect(await transformed(sharded)).toEqual(await transformed(unsharded));
  }
  const predictions = (run: typeof sharded) => rowsOf(path.join(run.outputs('bulk-inferrer', 'inference_result'), 'Split-eval', PREDICTIONS_FILE));
  const expected = await predictions(unsharded);
  expect(expected.length).toBeGreaterThan(50);
  expect(await predictions(sharded)).toEqual(expected);
  // One execution per sharded node, with its shard count; the unsharded run's have none.
  expect(sharded.executions.map((e) => e.customProperties?.shards)).toEqual([3, 3]);
  expect(unsharded.executions.map((e) => e.customProperties?.shards)).toEqual([undefined, undefined]);
}, 600_000);
