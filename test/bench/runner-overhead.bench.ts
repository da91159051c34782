// Benchmark: per-node overhead of the local runner for a no-op component, executed (a worker process per
// node, MLMD records, atomic publish) and cached (cache lookup + a CACHED execution), on SQLite.
// Run: npm run bench:runner [-- --nodes 20 --repeats 3 --json]

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pipeline } from '../../pipelines/dsl/pipeline';
import { NoOp } from './noop-component';
import { openMetadataStore } from '../../runtime/metadata';
import { runPipeline } from '../../runtime/runner/local-runner';
import { pipeline as testPipeline } from '../fixtures/pipelines/retry-pipeline';
import { parseArgs } from 'util';
import { median } from './median';

const NOOP_MODULE = path.join(__dirname, 'noop-component.ts');

function chain(nodes: number): Pipeline {
  const p = new Pipeline({ name: 'bench-noop' });
  let prev: ReturnType<typeof p.add<typeof NoOp>> | undefined;
  for (let i = 0; i < nodes; i++) {
    prev = p.add(`n${i}`, NoOp, { parameters: { index: i }, inputs: prev ? { previous: prev.outputs.out } : {} });
  }
  return p;
}


async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { nodes: { type: 'string', default: '20' }, repeats: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const nodes = Number(flags.nodes);
  const repeats = Number(flags.repeats);
  const executed: number[] = [];
  const cached: number[] = [];
  const testCached: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-'));
    const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
    try {
      const p = chain(nodes);
      // A chain runs one node at a time, so wall time / nodes is the per-node overhead.
      let t = performance.now();
      const first = await runPipeline(p, { root, store, modules: [NOOP_MODULE], parallelism: 1 });
      executed.push((performance.now() - t) / nodes);
      if (first.state !== 'COMPLETE') throw new Error(`bench run failed: ${JSON.stringify(first.nodes.find((n) => n.error))}`);
      t = performance.now();
      const second = await runPipeline(p, { root, store, modules: [NOOP_MODULE], parallelism: 1 });
      cached.push((performance.now() - t) / nodes);
      if (!second.nodes.every((n) => n.state === 'cached')) throw new Error('second run was not fully cached');

      const testModule = path.join(__dirname, '../fixtures/pipelines/retry-pipeline.ts');
      await runPipeline(testPipeline, { root, store, modules: [testModule] });
      t = performance.now();
      await runPipeline(testPipeline, { root, store, modules: [testModule] });
      testCached.push(performance.now() - t);
    } finally {
      await store.close();
      await fs.promises.rm(root, { recursive: true, force: true });
    }
  }
  const result = {
    nodes,
    repeats,
    executedMsPerNode: Number(median(executed).toFixed(1)),
    cachedMsPerNode: Number(median(cached).toFixed(2)),
    testPipelineCachedRerunMs: Number(median(testCached).toFixed(1)),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  };
  if (flags.json) console.log(JSON.stringify(result));
  else {
    console.log(`no-op chain of ${nodes} nodes, median of ${repeats} repeats (${result.machine})`);
    console.log(`executed: ${result.executedMsPerNode} ms per node (worker process, MLMD records, atomic publish)`);
    console.log(`cached:   ${result.cachedMsPerNode} ms per node (cache lookup + CACHED execution)`);
    console.log(`test pipeline (6 nodes) cached rerun: ${result.testPipelineCachedRerunMs} ms`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
