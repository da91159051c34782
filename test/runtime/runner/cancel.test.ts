// Canceling a run with real `mlp run` processes: Ctrl-C (SIGINT to the terminal's process group) or SIGTERM in
// the middle of a node marks the run and the interrupted execution CANCELED, its outputs ABANDONED and gone,
// stops the worker and what it started, prints what was left and the command that resumes it, and exits
// 130/143; that command then completes the run reusing the finished nodes. A run waiting for the canceled
// node's claim takes it over (on SQLite and a real PostgreSQL); a canceled waiter claims nothing. A second
// signal exits at once and the next run marks the run CANCELED.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, EventType, ExecutionState, type MetadataStore } from '../../../runtime/metadata/types';
import { CONTEXT_PIPELINE, CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { SAME_SIGNAL_MS } from '../../../runtime/cli/commands/run';
import { HOLD_PIDS_FILE } from '../../fixtures/pipelines/cancel-pipeline';
import { runCli, startCli } from '../../support/cli';
import { usePostgres } from '../../support/postgres';
import { waitFor } from '../../support/wait-for';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/cancel-pipeline.ts');

jest.setTimeout(180_000);

const freshPostgres = usePostgres('cancel');

let root: string;
let release: string;
/** `--metadata <address>` for a test on PostgreSQL; the root's SQLite file otherwise. */
let metadataArgs: string[];
beforeEach(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cancel-'));
  release = path.join(root, 'release');
  metadataArgs = [];
});
afterEach(async () => {
  // A failed test may leave a run waiting for its release file: let it finish before the folder goes.
  fs.writeFileSync(release, '');
  await Promise.all(started.splice(0).map((r) => r.done));
  await fs.promises.rm(root, { recursive: true, force: true });
});

const started: ReturnType<typeof startCli>[] = [];
/** startCli, awaited after the test whatever happened. */
function start(...a: Parameters<typeof startCli>): ReturnType<typeof startCli> {
  const run = startCli(...a);
  started.push(run);
  return run;
}

const args = (...extra: string[]) => ['run', MODULE, '--root', root, ...metadataArgs, '--param', `releaseFile=${release}`, '--json', ...extra];
const holdDir = () => path.join(root, 'cancel-test', 'hold', 'copy');

/** The pids the hold node's worker recorded (its own and its child's) once it waits, else undefined. */
function holdPids(): { worker: number; child: number }[] {
  if (!fs.existsSync(holdDir())) return [];
  return fs
    .readdirSync(holdDir())
    .map((d) => path.join(holdDir(), d, HOLD_PIDS_FILE))
    .filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
}

/** Parent pid and state letter of every process (Linux /proc). */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(d), { ppid: Number(ppid), state });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/** Every process descending from `pid`. */
function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length) {
    frontier = [...table].filter(([, p]) => frontier.includes(p.ppid)).map(([child]) => child);
    found.push(...frontier);
  }
  return found;
}

/** Processes of `pids` still running (a zombie has ended). */
function stillRunning(pids: number[]): number[] {
  const table = processTable();
  return pids.filter((p) => table.has(p) && table.get(p)!.state !== 'Z');
}

async function withStore<T>(fn: (store: MetadataStore) => Promise<T>): Promise<T> {
  const store = await openMetadataStore(metadataArgs[1] ?? `sqlite:${path.join(root, 'metadata.sqlite')}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Run states in the order the runs started, and each node's executions as run → state names. */
async function recorded(): Promise<{ runs: { name: string; state: unknown; error: unknown }[]; executions: Record<string, string[]> }> {
  return withStore(async (store) => {
    const runs = (await store.getContexts({ type: CONTEXT_RUN })).sort((a, b) => a.id! - b.id!).map((c) => ({ name: c.name, state: c.customProperties?.state, error: c.customProperties?.error }));
    const [pipeline] = await store.getContexts({ type: CONTEXT_PIPELINE, name: 'cancel-test' });
    const executions: Record<string, string[]> = {};
    for (const e of (await store.getExecutions({ contextId: pipeline.id })).sort((a, b) => a.id! - b.id!)) {
      (executions[String(e.customProperties?.node_id)] ??= []).push(ExecutionState[e.lastKnownState]);
    }
    return { runs, executions };
  });
}

/** The hold node's CANCELED executions' outputs: their states, and whether anything is left at their URIs. */
async function canceledHoldOutputs(): Promise<{ state: string; onDisk: boolean }[]> {
  return withStore(async (store) => {
    const canceled = await store.getExecutions({ type: 'test.Hold', state: ExecutionState.CANCELED });
    const events = await store.getEvents({ executionIds: canceled.map((e) => e.id!) });
    const ids = events.filter((e) => e.type === EventType.PENDING_OUTPUT).map((e) => e.artifactId);
    return (await store.getArtifacts({ ids })).map((a) => ({ state: ArtifactState[a.state], onDisk: fs.existsSync(a.uri) }));
  });
}

const nodeStates = (s: RunSummary) => Object.fromEntries(s.nodes.map((n) => [n.id, n.state]));

test('Ctrl-C during a node: the run and the node CANCELED, workers gone, what was left and the resume command printed; resuming reuses the finished nodes', async () => {
  // Own process group, so the signal goes to mlp's group as a terminal's Ctrl-C does.
  const { child, done } = start(args(), { detached: true });
  await waitFor('the hold node to start', () => holdPids().length > 0);
  const [pids] = holdPids();
  const processes = descendants(child.pid!);
  expect(processes).toEqual(expect.arrayContaining([pids.worker, pids.child]));
  // As under `npx mlp run`: the terminal signals the group and npm forwards the same Ctrl-C to mlp.
  process.kill(-child.pid!, 'SIGINT');
  process.kill(child.pid!, 'SIGINT');
  const r = await done;

  expect(r.code).toBe(130);
  const summary = JSON.parse(r.stdout) as RunSummary;
  expect(summary).toMatchObject({ state: 'CANCELED', canceledBy: 'SIGINT' });
  expect(nodeStates(summary)).toEqual({ produce: 'executed', scale: 'executed', hold: 'canceled', after: 'canceled' });
  expect(r.stderr).toContain(`mlp: SIGINT: canceling run ${summary.runId}, stopping its running nodes (Ctrl-C again exits at once)`);
  const report = r.stderr.slice(r.stderr.indexOf(`mlp: run ${summary.runId} was canceled`)).trim().split('\n');
  expect(report).toEqual([
    `mlp: run ${summary.runId} was canceled by SIGINT; 2 nodes finished (a rerun reuses them from the cache), 2 left:`,
    '  hold   canceled by SIGINT during attempt 1',
    '  after  canceled by SIGINT before it started',
    `mlp: resume with: mlp ${args().join(' ')}`,
  ]);
  expect(r.stderr).not.toMatch(/\n\s+at /);

  // The worker and the process it started are gone.
  expect(stillRunning(processes)).toEqual([]);
  // What the store says: the run and the interrupted execution CANCELED, its output ABANDONED and deleted.
  const before = await recorded();
  expect(before.runs).toEqual([{ name: summary.runId, state: 'CANCELED', error: 'canceled by SIGINT' }]);
  expect(before.executions).toEqual({ produce: ['COMPLETE'], scale: ['COMPLETE'], hold: ['CANCELED'] });
  expect(await canceledHoldOutputs()).toEqual([{ state: 'ABANDONED', onDisk: false }]);
  expect(fs.readdirSync(holdDir())).toEqual([]); // no scratch folder either
  // The monitoring line says how the run ended.
  const log = fs.readFileSync(path.join(summary.logDir, 'run.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(log.at(-1)).toMatchObject({ event: 'run_finished', pipeline: 'cancel-test', state: 'CANCELED' });

  // The printed command resumes the run: the finished nodes come from the cache.
  fs.writeFileSync(release, '');
  const resumed = await runCli(report.at(-1)!.replace('mlp: resume with: mlp ', '').split(' '));
  expect(resumed.code).toBe(0);
  expect(nodeStates(JSON.parse(resumed.stdout))).toEqual({ produce: 'cached', scale: 'cached', hold: 'executed', after: 'executed' });
  expect((await recorded()).runs.map((run) => run.state)).toEqual(['CANCELED', 'COMPLETE']);
});

test.each(['sqlite', 'postgres'])('SIGTERM while another run waits for the node: exits 143, the claim is released and the waiting run executes the node (%s)', async (backend) => {
  if (backend === 'postgres') metadataArgs = ['--metadata', await freshPostgres()];
  const first = start(args());
  await waitFor('the hold node to start', () => holdPids().length > 0);
  const processes = descendants(first.child.pid!);
  const second = start(args());
  let secondErr = '';
  second.child.stderr!.on('data', (d) => (secondErr += d));
  await waitFor('the second run to wait for the first run\'s claim', () => /hold: waiting for execution \d+ of run/.test(secondErr));

  first.child.kill('SIGTERM');
  const r = await first.done;
  expect(r.code).toBe(143);
  expect(JSON.parse(r.stdout)).toMatchObject({ state: 'CANCELED', canceledBy: 'SIGTERM' });
  expect(r.stderr).toContain('  hold   canceled by SIGTERM during attempt 1');
  if (backend === 'postgres') {
    // The resume command names the store without its password.
    const shown = args().map((a) => (a === metadataArgs[1] ? `'${a.replace(':mlp-test@', ':***@')}'` : a));
    expect(r.stderr).toContain(`mlp: resume with: mlp ${shown.join(' ')} (give the password where *** stands)`);
    expect(r.stderr + r.stdout).not.toContain(':mlp-test@');
  }
  expect(stillRunning(processes)).toEqual([]);

  // The waiting run claims the key the canceled execution held and executes the node itself.
  await waitFor('the second run to execute the hold node', () => holdPids().length > 0);
  fs.writeFileSync(release, '');
  const s = await second.done;
  expect(s.code).toBe(0);
  expect(nodeStates(JSON.parse(s.stdout))).toEqual({ produce: 'cached', scale: 'cached', hold: 'executed', after: 'executed' });
  const { runs, executions } = await recorded();
  expect(runs.map((run) => run.state)).toEqual(['CANCELED', 'COMPLETE']);
  expect(executions.hold).toEqual(['CANCELED', 'COMPLETE']);
  expect(await canceledHoldOutputs()).toEqual([{ state: 'ABANDONED', onDisk: false }]);
});

test('SIGTERM to a run waiting for another run\'s claim: it stops waiting, claims nothing, and the other run goes on', async () => {
  const first = start(args());
  await waitFor('the hold node to start', () => holdPids().length > 0);
  const second = start(args());
  let secondErr = '';
  second.child.stderr!.on('data', (d) => (secondErr += d));
  await waitFor('the second run to wait for the first run\'s claim', () => /hold: waiting for execution \d+ of run/.test(secondErr));

  second.child.kill('SIGTERM');
  const s = await second.done;
  expect(s.code).toBe(143);
  expect(nodeStates(JSON.parse(s.stdout))).toEqual({ produce: 'cached', scale: 'cached', hold: 'canceled', after: 'canceled' });
  expect(s.stderr).toContain('  hold   canceled by SIGTERM while waiting for another runner executing the same work');

  fs.writeFileSync(release, '');
  const f = await first.done;
  expect(f.code).toBe(0);
  expect(nodeStates(JSON.parse(f.stdout))).toEqual({ produce: 'executed', scale: 'executed', hold: 'executed', after: 'executed' });
  const { runs, executions } = await recorded();
  expect(runs.map((run) => run.state)).toEqual(['COMPLETE', 'CANCELED']);
  expect(executions.hold).toEqual(['COMPLETE']); // the canceled waiter recorded no execution of its own
});

test('a second Ctrl-C while canceling exits at once, killing the workers; the next run marks the run CANCELED', async () => {
  // The worker outlives SIGTERM, so canceling waits for it and the second Ctrl-C arrives meanwhile.
  const { child, done } = start(args('--param', 'ignoreSigterm=true'), { detached: true });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitFor('the hold node to start', () => holdPids().length > 0);
  const processes = descendants(child.pid!);
  process.kill(-child.pid!, 'SIGINT');
  await waitFor('the cancel to start', () => stderr.includes('mlp: SIGINT: canceling run'));
  // A person's second Ctrl-C, not the first one delivered again.
  await new Promise((r) => setTimeout(r, SAME_SIGNAL_MS + 100));
  process.kill(-child.pid!, 'SIGINT');
  const r = await done;

  expect(r.code).toBe(130);
  const runId = /canceling run (\S+),/.exec(r.stderr)![1];
  expect(r.stderr).toContain(`mlp: SIGINT again: exiting now; run ${runId} stays RUNNING until the next run of cancel-test on this host marks it CANCELED`);
  await waitFor('the killed worker and its child to be gone', () => stillRunning(processes).length === 0, 30_000);
  expect((await recorded()).executions.hold).toEqual(['RUNNING']);

  fs.writeFileSync(release, '');
  const next = await runCli(args());
  expect(next.code).toBe(0);
  const { runs, executions } = await recorded();
  expect(runs.map((run) => [run.state, run.error])).toEqual([['CANCELED', 'the runner process died'], ['COMPLETE', undefined]]);
  expect(executions.hold).toEqual(['CANCELED', 'COMPLETE']);
  expect(await canceledHoldOutputs()).toEqual([{ state: 'ABANDONED', onDisk: false }]);
});
