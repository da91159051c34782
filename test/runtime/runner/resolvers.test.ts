// Resolver nodes pick artifacts from the metadata store: the previous span of what this run produced (empty
// on the first span, so an optional input is simply empty) and the latest artifact with given properties.

import * as fs from 'fs';
import * as path from 'path';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { pipeline } from '../../fixtures/pipelines/span-pipeline';
import { useTempStore } from '../../support/temp-store';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/span-pipeline.ts');
const t = useTempStore('mlp-resolver-');

async function runSpan(span: number) {
  const s = await runPipeline(pipeline, { root: t.root, store: t.store, modules: [MODULE], parameters: { span } });
  expect(s.state).toBe('COMPLETE');
  const byId = Object.fromEntries(s.nodes.map((n) => [n.id, n]));
  const report = JSON.parse(fs.readFileSync(path.join(byId.compare.outputs.report, 'report.json'), 'utf8'));
  return { byId, report };
}

test('previous-span finds nothing for the first span, then the span before the current one', async () => {
  const first = await runSpan(1);
  expect(first.byId.previous.state).toBe('resolved');
  expect(first.byId.previous.reason).toBe('no Examples of gen.outputs.numbers with a span before 1');
  expect(first.report).toEqual({ current: 1, baseline: null });

  await runSpan(3);
  const third = await runSpan(4);
  expect(third.report).toEqual({ current: 4, baseline: 3 });
  expect(third.byId.previous.reason).toMatch(/^resolved span 3 \(artifact \d+\) as the span before 4 of gen\.outputs\.numbers$/);

  // Going back to span 2 looks before it: span 1.
  const second = await runSpan(2);
  expect(second.report).toEqual({ current: 2, baseline: 1 });
});

test('latest resolves the newest LIVE artifact with the given properties from the producer node', async () => {
  const first = await runSpan(1);
  expect(first.byId['span-one'].state).toBe('resolved');
  const spanOneUri = first.byId.gen.outputs.numbers;
  await runSpan(5);
  const again = await runSpan(6);
  expect(again.byId['span-one'].outputs.result).toBe(spanOneUri);
  expect(again.byId['span-one'].reason).toMatch(/^resolved the latest Examples from node gen with \{"span":1\}: artifact \d+$/);
});
