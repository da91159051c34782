// Stopping a cloud step (`mlp component run ... --metadata`) as an engine stops its pod — SIGTERM, or SIGINT —
// while it executes, on SQLite and a real PostgreSQL: the real CLI process records its execution CANCELED (its
// claim on the cache key released: nothing is RUNNING any more), its outputs ABANDONED and its files and scratch
// folders gone, exits 143 / 130, and a retry of the step then runs normally. A stopped attempt whose claim a
// later attempt (the engine's retry) already took over records nothing and leaves the taker's files alone.
// While the cancel cannot be recorded (the store's table is locked), a second signal, or the cancel's bound
// running out, exits at once with the execution left as it was (on PostgreSQL: SQLite's calls block the process).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, EventType, ExecutionState, type Execution, type MetadataStore } from '../../../runtime/metadata/types';
import { scratchPrefix } from '../../../runtime/core/launcher';
import { CANCEL_BOUND_MS } from '../../../runtime/runner/cloud-step';
import { DONE_FILE, PARTIAL_FILE } from '../../fixtures/components/wait-for-release';
import { startCli } from '../../support/cli';
import { metadataBackends } from '../../support/postgres';
import { waitFor } from '../../support/wait-for';

jest.setTimeout(180_000);

const MODULE = path.join(__dirname, '../../fixtures/components/wait-for-release.ts');
const TYPE = 'test.WaitForRelease';

let dir: string;
let store: MetadataStore;
let metadata: string;
const started: ReturnType<typeof startCli>[] = [];
afterEach(async () => {
  // A failed test may leave a step waiting for its release file: let it finish before the folder goes.
  if (dir) fs.writeFileSync(path.join(dir, 'release'), '');
  await Promise.all(started.splice(0).map((r) => r.done));
  await store?.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const BACKENDS = metadataBackends('signal', () => dir);

const out = () => path.join(dir, 'root', 'out');
const release = () => path.join(dir, 'release');

/** One attempt of the step `wait` of run `run-1`, as an engine starts it (every attempt at the same URIs). */
function startStep(attempt: string): ReturnType<typeof startCli> {
  const input = { inputs: { parameterValues: { releaseFile: release() } }, outputs: { artifacts: { out: { artifacts: [{ uri: out() }] } }, outputFile: path.join(dir, `${attempt}.json`) } };
  const step = startCli(['component', 'run', TYPE, '--module', MODULE, '--executor-input', JSON.stringify(input), '--metadata', metadata, '--pipeline', 'p', '--run-id', 'run-1', '--node', 'wait']);
  started.push(step);
  return step;
}

/** The scratch folders next to the output, with the pid each executor wrote in its partial file. */
function scratchPids(): string[] {
  const prefix = path.basename(scratchPrefix(out()));
  const parent = path.dirname(out());
  if (!fs.existsSync(parent)) return [];
  return fs
    .readdirSync(parent)
    .filter((e) => e.startsWith(prefix))
    .map((e) => path.join(parent, e, PARTIAL_FILE))
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f, 'utf8'));
}

async function executions(): Promise<Execution[]> {
  return store.getExecutions({ type: TYPE });
}

/** Waits until the attempt's process holds the claim (RUNNING in the store) and its executor wrote its partial file. */
async function waitUntilExecuting(pid: number, except: number[] = []): Promise<Execution> {
  let running: Execution | undefined;
  await waitFor(`process ${pid} executing the step`, async () => {
    running = (await executions()).find((e) => e.lastKnownState === ExecutionState.RUNNING && !except.includes(e.id!));
    return !!running && scratchPids().includes(String(pid));
  });
  return running!;
}

describe.each(BACKENDS)('a cloud step stopped by a signal on %s', (_name, address) => {
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cloud-signal-'));
    metadata = await address();
    store = await openMetadataStore(metadata);
  });

  test.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s while it executes: exit %d, CANCELED, claim released, no output left; a retry then runs normally', async (signal, code) => {
    const first = startStep('first');
    const execution = await waitUntilExecuting(first.child.pid!);
    first.child.kill(signal);
    const r = await first.done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(new RegExp(`wait: ${signal}: execution ${execution.id} recorded CANCELED, its outputs ABANDONED and removed`));

    const [canceled] = await store.getExecutions({ ids: [execution.id!] });
    expect(canceled.lastKnownState).toBe(ExecutionState.CANCELED);
    expect(String(canceled.customProperties?.error)).toMatch(new RegExp(`canceled by ${signal}`));
    // The claim is the RUNNING execution: none is left to wait for.
    expect(await store.getExecutions({ type: TYPE, state: ExecutionState.RUNNING })).toEqual([]);
    const events = await store.getEvents({ executionIds: [execution.id!] });
    const outputs = await store.getArtifacts({ ids: events.filter((e) => e.type === EventType.PENDING_OUTPUT).map((e) => e.artifactId) });
    expect(outputs.map((a) => a.state)).toEqual([ArtifactState.ABANDONED]);
    expect(fs.existsSync(out())).toBe(false);
    expect(scratchPids()).toEqual([]);
    expect(fs.readdirSync(path.dirname(out()))).toEqual([]);

    fs.writeFileSync(release(), '');
    const retry = await startStep('retry').done;
    expect(retry.stderr).toMatch(/wait: executed/);
    expect(retry.code).toBe(0);
    expect(fs.readFileSync(path.join(out(), DONE_FILE), 'utf8')).toBe('done');
    const states = (await executions()).map((e) => [e.id === execution.id, ExecutionState[e.lastKnownState]]);
    expect(states.sort()).toEqual([
      [false, 'COMPLETE'],
      [true, 'CANCELED'],
    ]);
  });

  test("SIGTERM after a later attempt took the claim over records nothing and leaves the taker's execution and files alone", async () => {
    const first = startStep('first');
    const firstExecution = await waitUntilExecuting(first.child.pid!);
    // The engine's retry of the step cancels the first attempt (compare-and-set) and executes itself.
    const second = startStep('second');
    const secondExecution = await waitUntilExecuting(second.child.pid!, [firstExecution.id!]);
    const [taken] = await store.getExecutions({ ids: [firstExecution.id!] });
    expect(taken.lastKnownState).toBe(ExecutionState.CANCELED);

    first.child.kill('SIGTERM');
    const r = await first.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/wait: SIGTERM: nothing recorded: execution \d+ lost its claim/);
    const [after] = await store.getExecutions({ ids: [firstExecution.id!] });
    expect(after).toEqual(taken);
    const [taker] = await store.getExecutions({ ids: [secondExecution.id!] });
    expect(taker.lastKnownState).toBe(ExecutionState.RUNNING);
    expect(scratchPids()).toEqual([String(second.child.pid)]);

    fs.writeFileSync(release(), '');
    const done = await second.done;
    expect(done.code).toBe(0);
    expect(fs.readFileSync(path.join(out(), DONE_FILE), 'utf8')).toBe('done');
    const [completed] = await store.getExecutions({ ids: [secondExecution.id!] });
    expect(completed.lastKnownState).toBe(ExecutionState.COMPLETE);
  });
});

describe('a stopped cloud step whose cancel cannot be recorded (PostgreSQL, its Execution table locked)', () => {
  const postgres = BACKENDS.find(([name]) => name === 'postgres')![1];
  let locker: Client;
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cloud-signal-'));
    metadata = await postgres();
    store = await openMetadataStore(metadata);
    locker = new Client({ connectionString: metadata });
    await locker.connect();
  });
  afterEach(async () => {
    await locker.query('ROLLBACK');
    await locker.end();
  });

  /** Starts the step, locks the Execution table and sends SIGTERM; returns once the cancel waits for the lock. */
  async function stopWhileLocked(): Promise<{ step: ReturnType<typeof startCli>; execution: Execution }> {
    const step = startStep('first');
    const execution = await waitUntilExecuting(step.child.pid!);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE Execution IN ACCESS EXCLUSIVE MODE');
    step.child.kill('SIGTERM');
    await waitFor('the cancel waiting for the lock', async () => (await locker.query('SELECT 1 FROM pg_locks WHERE NOT granted')).rowCount! > 0);
    return { step, execution };
  }

  async function unlockedState(id: number): Promise<ExecutionState> {
    await locker.query('ROLLBACK');
    return (await store.getExecutions({ ids: [id] }))[0].lastKnownState;
  }

  test('a second SIGTERM exits 143 at once, saying the cancel may not be recorded', async () => {
    const { step, execution } = await stopWhileLocked();
    step.child.kill('SIGTERM');
    const r = await step.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM again: exiting at once; the cancel may not be recorded/);
    expect(await unlockedState(execution.id!)).toBe(ExecutionState.RUNNING);
  });

  test(`a cancel not recorded within CANCEL_BOUND_MS (${CANCEL_BOUND_MS} ms) exits 143 without it`, async () => {
    const { step, execution } = await stopWhileLocked();
    const r = await step.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM: the cancel was not recorded within \d+ s; exiting without it/);
    expect(await unlockedState(execution.id!)).toBe(ExecutionState.RUNNING);
  });
});
