// Integration tests of the embedded local runner on a real SQLite MLMD store and local files: first run,
// fully cached rerun (state CACHED in the MLMD tables), retry with backoff, a crashing executor process,
// deleted outputs invalidating exactly their node and its dependents, and --no-cache / per-node cache off.

import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { ArtifactState, ExecutionState } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { pipeline as retryPipeline } from '../../fixtures/pipelines/retry-pipeline';
import { pipeline as crashPipeline } from '../../fixtures/pipelines/crash-pipeline';
import { useTempStore } from '../../support/temp-store';

const RETRY_MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');
const CRASH_MODULE = path.join(__dirname, '../../fixtures/pipelines/crash-pipeline.ts');

const t = useTempStore('mlp-runner-');

function states(s: RunSummary): Record<string, string> {
  return Object.fromEntries(s.nodes.map((n) => [n.id, n.state]));
}

/** Execution states of one run straight from the MLMD tables, as a SQL console user would see them. */
function executionStatesInDb(runId: string): number[] {
  const db = new Database(path.join(t.root, 'metadata.sqlite'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT e.last_known_state AS s FROM Execution e
         JOIN Association a ON a.execution_id = e.id
         JOIN Context c ON c.id = a.context_id
         JOIN Type t ON t.id = c.type_id
         WHERE t.name = 'pipeline_run' AND c.name = ?`,
      )
      .all(runId)
      .map((r) => (r as { s: number }).s);
  } finally {
    db.close();
  }
}

test('first run executes every node, retries the flaky one, and a rerun is fully cached', async () => {
  const first = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  expect(first.state).toBe('COMPLETE');
  expect(new Set(Object.values(states(first)))).toEqual(new Set(['executed']));
  const flaky = first.nodes.find((n) => n.id === 'flaky')!;
  expect(flaky.attempts).toBe(2);
  const count = await fs.promises.readFile(path.join(flaky.outputs.count, 'count.txt'), 'utf8');
  expect(count).toBe('50');

  const second = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  expect(second.state).toBe('COMPLETE');
  expect(Object.values(states(second)).every((s) => s === 'cached')).toBe(true);
  // Same artifacts reused, not copies.
  for (const n of second.nodes) expect(n.outputs).toEqual(first.nodes.find((f) => f.id === n.id)!.outputs);
  const dbStates = executionStatesInDb(second.runId);
  expect(dbStates).toHaveLength(retryPipeline.nodes.length);
  expect(dbStates.every((s) => s === ExecutionState.CACHED)).toBe(true);
  expect(executionStatesInDb(first.runId).every((s) => s === ExecutionState.COMPLETE)).toBe(true);
});

test('deleting one cached output reruns exactly that node and its dependents', async () => {
  const first = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  const scaled = first.nodes.find((n) => n.id === 'scale')!.outputs.scaled;
  await fs.promises.rm(scaled, { recursive: true });

  const second = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  expect(states(second)).toEqual({
    produce: 'cached',
    scale: 'executed',
    summarize: 'executed',
    flaky: 'cached',
    slow: 'cached',
    'after-slow': 'cached',
  });
  expect(second.nodes.find((n) => n.id === 'scale')!.reason).toMatch(/missing from storage/);
  // The vanished artifact is no longer LIVE in the store.
  const [gone] = await t.store.getArtifacts({ uri: scaled });
  expect(gone.state).toBe(ArtifactState.DELETED);
});

test('a changed parameter is explained and invalidates the node and its dependents only', async () => {
  await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  const second = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE], parameters: { sleepMs: 5 } });
  expect(states(second)).toMatchObject({ produce: 'cached', slow: 'executed', 'after-slow': 'executed', scale: 'cached' });
  expect(second.nodes.find((n) => n.id === 'slow')!.reason).toContain('parameter sleepMs 0 → 5');
  expect(second.nodes.find((n) => n.id === 'after-slow')!.reason).toMatch(/input numbers artifact \d+ → \d+/);
});

test('--no-cache executes everything again', async () => {
  await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE] });
  const again = await runPipeline(retryPipeline, { root: t.root, store: t.store, modules: [RETRY_MODULE], noCache: true });
  expect(Object.values(states(again)).every((s) => s === 'executed')).toBe(true);
  expect(again.nodes[0].reason).toContain('--no-cache');
});

test('a crashing executor process fails its node and dependents; the runner and other branches carry on', async () => {
  const s = await runPipeline(crashPipeline, { root: t.root, store: t.store, modules: [CRASH_MODULE] });
  expect(s.state).toBe('FAILED');
  expect(states(s)).toEqual({ produce: 'executed', crash: 'failed', 'after-crash': 'upstream_failed', healthy: 'executed' });
  const crash = s.nodes.find((n) => n.id === 'crash')!;
  expect(crash.error).toBe('executor process killed by SIGKILL');
  // The crashed node's output is neither LIVE in the store nor present on disk.
  const [execution] = await t.store.getExecutions({ ids: [crash.executionId!] });
  expect(execution.lastKnownState).toBe(ExecutionState.FAILED);
  const abandoned = await t.store.getArtifacts({ state: ArtifactState.ABANDONED });
  expect(abandoned).toHaveLength(1);
  expect(fs.existsSync(abandoned[0].uri)).toBe(false);
  // Finished work of the failed run is recorded and reusable.
  const rerun = await runPipeline(crashPipeline, { root: t.root, store: t.store, modules: [CRASH_MODULE] });
  expect(states(rerun)).toMatchObject({ produce: 'cached', healthy: 'cached', crash: 'failed' });
});

test('a node with caching turned off always executes', async () => {
  const { Pipeline } = await import('../../../pipelines/dsl/pipeline');
  const { ProduceNumbers } = await import('../../../runtime/components');
  const p = new Pipeline({ name: 'no-cache-node' });
  p.add('produce', ProduceNumbers, { parameters: { count: 3 }, cache: false });
  await runPipeline(p, { root: t.root, store: t.store });
  const again = await runPipeline(p, { root: t.root, store: t.store });
  expect(again.nodes[0].state).toBe('executed');
  expect(again.nodes[0].reason).toBe('cache disabled for this node');
});
