// Benchmark (issue 19 §2): examples/s of a PyTorch DistributedDataParallel step (gloo, CPU, one thread per
// worker: torch.set_num_threads(1)) with 2 local workers vs 1 worker, on penguins Examples, through `runPipeline`
// as `mlp run` runs it (test/fixtures/container/penguins-ddp-pipeline.ts). The rate is the script's own: global
// examples trained / wall time of the training loop between two barriers (process start, torch import and the
// gloo rendezvous excluded). Rounds alternate 1 and 2 workers; reported are the medians and the median of the
// rounds' ratios (target ≥ 1.6×), with the load average before and after (the machine is shared).
// Run: npm run bench:distributed -- [--hidden 1024] [--layers 2] [--epochs 50] [--batch-size 256 (the whole train split: the most compute per all-reduce)] [--repeats 3] [--json]

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { openMetadataStore } from '../../runtime/metadata';
import { runPipeline } from '../../runtime/runner/local-runner';
import { ddpPipeline, DdpTrainer1, DdpTrainer2 } from '../fixtures/container/penguins-ddp-pipeline';
import { median } from './median';

const { values: flags } = parseArgs({
  options: {
    hidden: { type: 'string', default: '1024' },
    layers: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '50' },
    'batch-size': { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const parameters = { hidden: Number(flags.hidden), layers: Number(flags.layers), epochs: Number(flags.epochs), batch_size: Number(flags['batch-size']) };
const MODULE = require.resolve('../fixtures/container/penguins-ddp-pipeline');

function say(line: string): void {
  if (!flags.json) process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-distributed-'));
  const store = await openMetadataStore(`sqlite:${path.join(work, 'metadata.sqlite')}`);
  const loadBefore = os.loadavg();
  const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const ratios: number[] = [];
  try {
    const rate = async (trainer: typeof DdpTrainer1, workers: 1 | 2): Promise<number> => {
      const summary = await runPipeline(ddpPipeline(`bench-ddp-${workers}`, trainer, parameters), { root: path.join(work, 'root'), store, modules: [MODULE], parallelism: 1, noCache: true });
      const node = summary.nodes.find((n) => n.id === 'trainer')!;
      if (node.state !== 'executed') throw new Error(`${workers} worker(s): trainer ${node.state}: ${node.error}`);
      const [execution] = await store.getExecutions({ ids: [node.executionId!] });
      const r = (execution.customProperties?.outputs as { examples_per_second: number }).examples_per_second;
      rates[workers].push(r);
      return r;
    };
    for (let i = 0; i < Number(flags.repeats); i++) {
      const one = await rate(DdpTrainer1, 1);
      const two = await rate(DdpTrainer2, 2);
      ratios.push(two / one);
      say(`round ${i + 1}: 1 worker ${one.toFixed(0)} examples/s, 2 workers ${two.toFixed(0)} examples/s, ${(two / one).toFixed(2)}×`);
    }
  } finally {
    await store.close();
    await fs.promises.rm(work, { recursive: true, force: true });
  }
  const result = {
    parameters,
    cpus: os.cpus().length,
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    oneWorkerExamplesPerSecond: median(rates[1]),
    twoWorkersExamplesPerSecond: median(rates[2]),
    speedup: median(ratios),
    target: 1.6,
  };
  if (flags.json) console.log(JSON.stringify(result));
  else say(`median: 1 worker ${result.oneWorkerExamplesPerSecond.toFixed(0)}, 2 workers ${result.twoWorkersExamplesPerSecond.toFixed(0)} examples/s, speedup ${result.speedup.toFixed(2)}× (target ≥ 1.6×); load average ${result.loadAverageBefore.join(' ')} before, ${result.loadAverageAfter.join(' ')} after, ${result.cpus} CPUs`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
