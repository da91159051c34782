// Claims on cache keys with real `mlp run` processes on one root, on SQLite and on a real PostgreSQL: two
// runs started together execute each node once between them (the other run waits and reuses it), and a run
// waiting for a claim whose runner is SIGKILLed recovers the claim and executes the node itself.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { ExecutionState } from '../../../runtime/metadata/types';
import { CONTEXT_PIPELINE } from '../../../runtime/runner/mlmd-types';
import { runCli, startCli } from '../../support/cli';
import { usePostgres } from '../../support/postgres';
import { waitFor } from '../../support/wait-for';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');
const NODES = ['produce', 'scale', 'summarize', 'flaky', 'slow', 'after-slow'];

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-claims-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** A new empty PostgreSQL database per test, so no test sees another's cache. */
const freshPostgres = usePostgres('claims');

const BACKENDS: [string, () => Promise<string[]>][] = [
  ['sqlite', async () => []],
  ['postgres', async () => ['--metadata', await freshPostgres()]],
];

function metadataOf(root: string, metadataArgs: string[]): string {
  return metadataArgs[1] ?? `sqlite:${path.join(root, 'metadata.sqlite')}`;
}

/** Executions of the pipeline by node and state name. */
async function executionsByNode(metadata: string): Promise<Record<string, string[]>> {
  const store = await openMetadataStore(metadata);
  try {
    const [ctx] = await store.getContexts({ type: CONTEXT_PIPELINE, name: 'retry-test' });
    const byNode: Record<string, string[]> = {};
    for (const e of await store.getExecutions({ contextId: ctx.id })) {
      const node = String(e.customProperties?.node_id);
      (byNode[node] ??= []).push(ExecutionState[e.lastKnownState]);
    }
    for (const states of Object.values(byNode)) states.sort();
    return byNode;
  } finally {
    await store.close();
  }
}

describe.each(BACKENDS)('claims on %s', (_name, metadataArgs) => {
  test('two runs of one pipeline started together on one root execute each node once between them', async () => {
    const root = path.join(dir, 'root');
    const extra = await metadataArgs();
    const args = ['run', MODULE, '--root', root, ...extra, '--param', 'sleepMs=1500', '--json'];
    const results = await Promise.all([runCli(args), runCli(args)]);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('error') });
    const summaries = results.map((r) => JSON.parse(r.stdout) as { state: string; nodes: { id: string; state: string }[] });
    expect(summaries.map((s) => s.state)).toEqual(['COMPLETE', 'COMPLETE']);
    // Per node: one run executed it, the other reused that execution.
    const statesByNode = Object.fromEntries(NODES.map((id) => [id, summaries.map((s) => s.nodes.find((n) => n.id === id)!.state).sort()]));
    expect(statesByNode).toEqual(Object.fromEntries(NODES.map((id) => [id, ['cached', 'executed']])));
    const recorded = await executionsByNode(metadataOf(root, extra));
    expect(recorded).toEqual(Object.fromEntries(NODES.map((id) => [id, ['CACHED', 'COMPLETE']])));
    // One output folder per port: nothing was computed twice.
    for (const id of ['produce', 'slow']) {
      const port = id === 'produce' ? 'numbers' : 'copy';
      expect(fs.readdirSync(path.join(root, 'retry-test', id, port))).toHaveLength(1);
    }
  }, 300_000);

  test('a run waiting for a claim whose runner is SIGKILLed recovers the claim and executes the node itself', async () => {
    const root = path.join(dir, 'root');
    const extra = await metadataArgs();
    const metadata = metadataOf(root, extra);
    // Both runs have the same parameters, so the same cache keys; the slow node sleeps far longer than the
    // test, so the claimant is certainly still in it when killed, and the waiter is stopped once it took over.
    const args = ['run', MODULE, '--root', root, ...extra, '--param', 'sleepMs=600000', '--json'];
    const slowDir = path.join(root, 'retry-test', 'slow', 'copy');
    const slowStarted = () => (fs.existsSync(slowDir) ? fs.readdirSync(slowDir).filter((d) => fs.existsSync(path.join(slowDir, d, 'started.txt'))).length : 0);
    const claimant = startCli(args);
    await waitFor('the first run to start its slow node', () => slowStarted() === 1);
    const [killedFolder] = fs.readdirSync(slowDir);
    const waiter = startCli(args);
    try {
      let waiterErr = '';
      waiter.child.stderr!.on('data', (d) => (waiterErr += d));
      await waitFor('the second run to wait for the slow node', () => /slow: waiting for execution \d+ of run retry-test-/.test(waiterErr));
      claimant.child.kill('SIGKILL');
      expect((await claimant.done).signal).toBe('SIGKILL');
      // The waiter removes the dead claim's files and starts the node itself.
      await waitFor('the waiter to take the claim over', () => slowStarted() === 1 && !fs.readdirSync(slowDir).includes(killedFolder));
    } finally {
      waiter.child.kill('SIGKILL');
      await waiter.done;
    }
    const store = await openMetadataStore(metadata);
    try {
      const slow = await store.getExecutions({ type: 'test.SlowCopy' });
      expect(slow.map((e) => ExecutionState[e.lastKnownState])).toEqual(['CANCELED', 'RUNNING']);
      expect(slow[0].customProperties).toMatchObject({ runner_pid: claimant.child.pid, error: 'the runner process died during this execution' });
      expect(slow[1].customProperties?.runner_pid).toBe(waiter.child.pid);
    } finally {
      await store.close();
    }
    expect((await executionsByNode(metadata)).produce).toEqual(['CACHED', 'COMPLETE']);
  }, 300_000);
});
