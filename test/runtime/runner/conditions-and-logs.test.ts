// Conditions skip a node and everything that depends on it; the structured run log records every event and
// the pipeline's structure.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../../../runtime/components';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { useTempStore } from '../../support/temp-store';

const t = useTempStore('mlp-cond-');

function gatedPipeline(): Pipeline {
  const p = new Pipeline({ name: 'gated', parameters: z.object({ deploy: z.boolean().default(false), count: z.number().int().default(4) }) });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: p.param('count') } });
  const big = p.add('only-if-big', ScaleNumbers, {
    inputs: { numbers: produce.outputs.numbers },
    condition: when(produce.outputs.numbers.property('row_count'), '>=', 10),
  });
  p.add('after-big', SummarizeNumbers, { inputs: { numbers: big.outputs.scaled } });
  p.add('deploy', SummarizeNumbers, { inputs: { numbers: produce.outputs.numbers }, condition: when(p.param('deploy'), '==', true) });
  return p;
}

test('false conditions skip the node and its dependents, with the reason', async () => {
  const s = await runPipeline(gatedPipeline(), { root: t.root, store: t.store });
  expect(s.state).toBe('COMPLETE');
  const byId = Object.fromEntries(s.nodes.map((n) => [n.id, n]));
  expect(byId['only-if-big'].state).toBe('skipped');
  expect(byId['only-if-big'].reason).toBe('condition produce.outputs.numbers.row_count >= 10 is false (value 4)');
  expect(byId['after-big'].state).toBe('skipped');
  expect(byId['after-big'].reason).toBe('upstream node only-if-big was skipped');
  expect(byId.deploy.reason).toBe('condition parameter deploy == true is false (value false)');
});

test('true conditions run the nodes', async () => {
  const s = await runPipeline(gatedPipeline(), { root: t.root, store: t.store, parameters: { deploy: true, count: 12 } });
  expect(s.nodes.map((n) => n.state)).toEqual(['executed', 'executed', 'executed', 'executed']);
});

test('every run writes a JSON-lines run log next to the node logs', async () => {
  const s = await runPipeline(gatedPipeline(), { root: t.root, store: t.store });
  const lines = fs.readFileSync(path.join(s.logDir, 'run.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ msg: 'run started', runId: s.runId, pipeline: 'gated' });
  // The pipeline's structure: each node's upstream nodes, by input or by condition reference.
  expect(lines[0].upstream).toEqual({ produce: [], 'only-if-big': ['produce'], 'after-big': ['only-if-big'], deploy: ['produce'] });
  expect(lines.filter((l) => l.msg === 'node finished').map((l) => [l.node, l.state])).toEqual(
    expect.arrayContaining([['produce', 'executed'], ['only-if-big', 'skipped'], ['after-big', 'skipped'], ['deploy', 'skipped']]),
  );
  expect(lines.at(-1)).toMatchObject({ msg: 'run finished', event: 'run_finished', state: 'COMPLETE' });
  expect(fs.readFileSync(path.join(s.logDir, 'produce.log'), 'utf8')).toContain('wrote 4 numbers');
});
