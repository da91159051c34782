// A distributed container step run locally (issue 19 §2): PyTorch DistributedDataParallel (gloo, CPU) with 2
// workers on penguins Examples ends with the same weights as 1 worker on the same global batches, rank 0's
// Model is published and each rank's lines are in the node log with its prefix; a rank that exits 1 fails the
// node with its message while the other rank, blocked as in a collective, is stopped.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runPipeline } from '../../../../runtime/runner/local-runner';
import { ddpPipeline, DdpTrainer1, DdpTrainer2 } from '../../../fixtures/container/penguins-ddp-pipeline';
import { useTempStore } from '../../../support/temp-store';

const MODULE = path.join(__dirname, '../../../fixtures/container/penguins-ddp-pipeline.ts');
const t = useTempStore('mlp-container-ddp-');

jest.setTimeout(300_000);

async function train(trainer: typeof DdpTrainer1, parameters: Record<string, unknown> = {}) {
  const result = await runPipeline(ddpPipeline(`ddp-${trainer.name.toLowerCase()}`, trainer, parameters), { root: t.root, store: t.store, modules: [MODULE], parallelism: 1 });
  return result.nodes.find((n) => n.id === 'trainer')!;
}

type Weights = Record<string, number[] | number[][]>;
const weights = (modelDir: string): Weights => JSON.parse(fs.readFileSync(path.join(modelDir, 'weights.json'), 'utf8'));

test('2 DDP workers train to the weights of 1 worker on the same global batches; rank 0 publishes the Model', async () => {
  const one = await train(DdpTrainer1);
  expect({ state: one.state, error: one.error }).toEqual({ state: 'executed', error: undefined });
  const two = await train(DdpTrainer2);
  expect({ state: two.state, error: two.error }).toEqual({ state: 'executed', error: undefined });

  const w1 = weights(one.outputs.model);
  const w2 = weights(two.outputs.model);
  expect(Object.keys(w2).sort()).toEqual(Object.keys(w1).sort());
  const flat = (w: Weights) => Object.keys(w).sort().flatMap((k) => (w[k] as unknown[]).flat() as number[]);
  const [a, b] = [flat(w1), flat(w2)];
  expect(a.length).toBe(4 * 16 + 16 + 16 * 3 + 3);
  expect(b.length).toBe(a.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  expect(worst).toBeLessThan(1e-5);
  // Rank 0's output is the published artifact.
  expect(fs.existsSync(path.join(two.outputs.model, '_MLP_COMMITTED.json'))).toBe(true);

  const log = fs.readFileSync(two.logFile!, 'utf8');
  expect(log).toMatch(/2 ranks \(2 worker\(s\) × 1 process\(es\)\), coordinator 127\.0\.0\.1/);
  expect(log).toMatch(/^\[rank 0\] trained on \d+ examples with 2 rank\(s\)/m);
  expect(log).toMatch(/^\[rank 0\] epoch 5\/5 loss/m);
  const [execution] = await t.store.getExecutions({ ids: [two.executionId!] });
  expect((execution.customProperties?.outputs as { examples_per_second: number }).examples_per_second).toBeGreaterThan(0);
});

test('a rank that exits 1 fails the node with its message and the other rank is stopped', async () => {
  const pidDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ddp-pids-'));
  try {
    const node = await train(DdpTrainer2, { fail_rank: 1, pid_dir: pidDir });
    expect(node.state).toBe('failed');
    expect(node.error).toMatch(/container component PenguinsDdpTrainer2: rank 1 of 2 \(worker 1\) exited with code 1; last stderr lines: .*rank 1: loss is NaN \(deliberate failure\); the ranks still running were stopped/);
    const pid = Number(fs.readFileSync(path.join(pidDir, 'rank-0.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    const log = fs.readFileSync(node.logFile!, 'utf8');
    expect(log).toMatch(/^\[rank 1\] rank 1: failing on purpose$/m);
    expect(log).not.toMatch(/rank 0 was not stopped/);
    expect(await t.store.getArtifacts({})).toEqual(expect.not.arrayContaining([expect.objectContaining({ uri: node.outputs.model })]));
  } finally {
    await fs.promises.rm(pidDir, { recursive: true, force: true });
  }
});
