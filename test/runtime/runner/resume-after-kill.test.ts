// Resume after SIGKILL: the runner is killed in the middle of a node, then run again. The rerun completes,
// reuses every node that had finished, abandons the killed execution, and leaves exactly one LIVE artifact
// per output port with nothing of the killed node visible.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../../support/cli';
import { waitFor } from '../../support/wait-for';
import { ArtifactState, ExecutionState } from '../../../runtime/metadata/types';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');

let root: string;
beforeEach(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-kill-'));
});
afterEach(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

function query<T>(sql: string, ...params: unknown[]): T[] {
  const file = path.join(root, 'metadata.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } catch {
    return []; // schema not created yet
  } finally {
    db.close();
  }
}

function slowScratchStarted(): boolean {
  const dir = path.join(root, 'retry-test', 'slow', 'copy');
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir).some((d) => d.includes('.scratch-') && fs.existsSync(path.join(dir, d, 'started.txt')));
}

test('SIGKILL during a node, then rerun: completes, reuses finished nodes, one LIVE artifact per port', async () => {
  const args = ['run', MODULE, '--root', root, '--param', 'sleepMs=3000', '--json'];
  const { child, done } = startCli(args);
  await waitFor('the slow node to start', slowScratchStarted, 60_000);
  child.kill('SIGKILL');
  const killed = await done;
  expect(killed.signal).toBe('SIGKILL');

  const finishedBeforeKill = query<{ node: string }>(
    `SELECT c.name AS node FROM Execution e JOIN Association a ON a.execution_id = e.id JOIN Context c ON c.id = a.context_id
     JOIN Type t ON t.id = c.type_id WHERE t.name = 'node' AND e.last_known_state = ?`,
    ExecutionState.COMPLETE,
  ).map((r) => r.node.replace('retry-test.', ''));
  expect(finishedBeforeKill).toContain('produce');
  expect(finishedBeforeKill).not.toContain('slow');

  const rerun = await runCli(args);
  expect(rerun.code).toBe(0);
  const summary = JSON.parse(rerun.stdout);
  expect(summary.state).toBe('COMPLETE');
  const states = Object.fromEntries(summary.nodes.map((n: { id: string; state: string }) => [n.id, n.state]));
  for (const n of finishedBeforeKill) expect(states[n]).toBe('cached');
  expect(states.slow).toBe('executed');
  expect(states['after-slow']).toBe('executed');

  // The killed execution is CANCELED, its output ABANDONED and gone from disk.
  const cancelled = query<{ id: number }>(
    `SELECT e.id FROM Execution e JOIN Type t ON t.id = e.type_id WHERE t.name = 'test.SlowCopy' AND e.last_known_state = ?`,
    ExecutionState.CANCELED,
  );
  expect(cancelled).toHaveLength(1);
  // (The flaky node's failed attempts are ABANDONED too, before or after the kill depending on timing.)
  const abandoned = query<{ uri: string }>('SELECT uri FROM Artifact WHERE state = ?', ArtifactState.ABANDONED).filter((a) => !a.uri.includes('/flaky/'));
  expect(abandoned).toHaveLength(1);
  expect(abandoned[0].uri).toContain('/slow/copy/');
  expect(fs.existsSync(abandoned[0].uri)).toBe(false);
  // The killed run is marked as such.
  const runStates = query<{ v: string }>(
    `SELECT p.string_value AS v FROM ContextProperty p JOIN Context c ON c.id = p.context_id JOIN Type t ON t.id = c.type_id
     WHERE t.name = 'pipeline_run' AND p.name = 'state' ORDER BY c.id`,
  ).map((r) => r.v);
  expect(runStates).toEqual(['CANCELED', 'COMPLETE']);

  // Exactly one LIVE artifact per (node, port), and only committed folders on disk.
  const live = query<{ uri: string }>('SELECT uri FROM Artifact WHERE state = ?', ArtifactState.LIVE);
  const ports = live.map((a) => path.relative(path.join(root, 'retry-test'), a.uri).split(path.sep).slice(0, 2).join('/'));
  expect(ports.sort()).toEqual(['after-slow/summary', 'flaky/count', 'produce/numbers', 'scale/scaled', 'slow/copy', 'summarize/summary']);
  for (const a of live) expect(fs.existsSync(path.join(a.uri, '_MLP_COMMITTED.json'))).toBe(true);
  // Only the completed output remains: no folder or scratch debris of the killed execution.
  expect(fs.readdirSync(path.join(root, 'retry-test', 'slow', 'copy'))).toHaveLength(1);
});
