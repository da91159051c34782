// A metadata store on a filesystem that fills up mid-run (a real small tmpfs, filled while a node runs): the
// run stops with one line naming the store and the cause, and the run and the node end FAILED with that
// reason — at once when the store can be written again, otherwise at the next run, which reads the reason
// from the run log. Mounting a tmpfs needs root, as these tests (and the project's CI container) run.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../../../runtime/core/errors';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, ExecutionState, type MetadataStore } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';
import type { NodeResult, RunReporter } from '../../../runtime/runner/run-types';
import { pipeline as retryPipeline } from '../../fixtures/pipelines/retry-pipeline';
import { runCli, startCli } from '../../support/cli';
import { waitFor } from '../../support/wait-for';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');
const FULL = /^metadata store \S+metadata\.sqlite: database or disk is full \(SQLITE_FULL\)$/;

let dir: string;
let meta: string;
let root: string;
let metadataFile: string;
let filler: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-full-'));
  meta = path.join(dir, 'meta');
  root = path.join(dir, 'root');
  metadataFile = path.join(meta, 'metadata.sqlite');
  filler = path.join(meta, 'filler');
  fs.mkdirSync(meta);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', meta]);
});
afterEach(async () => {
  execFileSync('umount', [meta]);
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** Writes to the filler file until the filesystem refuses even a single page. */
function fillFilesystem(): void {
  const fd = fs.openSync(filler, 'a');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

const slowDir = () => path.join(root, 'retry-test', 'slow', 'copy');
const slowStarted = () => fs.existsSync(slowDir()) && fs.readdirSync(slowDir()).some((d) => fs.existsSync(path.join(slowDir(), d, 'started.txt')));

/** The run log's lines that carry an error. */
function loggedErrors(runId: string): { msg: string; node?: string; error: string }[] {
  const text = fs.readFileSync(path.join(root, '.runs', runId, 'run.log'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => typeof e.error === 'string');
}

async function runRecords(store: MetadataStore, runId: string) {
  const [run] = await store.getContexts({ type: CONTEXT_RUN, name: runId });
  const executions = await store.getExecutions({ contextId: run.id });
  return { run, executions };
}

test('the store can be written again after the failure: the run and the node are marked FAILED with the reason at once', async () => {
  const store = await openMetadataStore(`sqlite:${metadataFile}`);
  const failed: NodeResult[] = [];
  const reporter: RunReporter = {
    runStarted() {},
    nodeStarted() {},
    nodeRetrying() {},
    nodeWaiting() {},
    nodeFinished(r) {
      // The first node the full store failed: space comes back before the runner records the run's end.
      if (r.state === 'failed' && failed.push(r) === 1) fs.rmSync(filler);
    },
    runFinished() {},
    runAborted() {},
  };
  try {
    // One node at a time: the slow node's end is the first thing written after the filesystem is full.
    const run = runPipeline(retryPipeline, { root, store, modules: [MODULE], parameters: { sleepMs: 1500 }, reporter, parallelism: 1 });
    const outcome = run.then(() => undefined, (err: unknown) => err);
    await waitFor('the slow node to start', slowStarted);
    fillFilesystem();
    const err = await outcome;
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    const [reason, rest] = message.split('; ');
    expect(reason).toMatch(FULL);
    expect(rest).toMatch(/^run retry-test-\S+ is marked FAILED$/);
    expect(message).not.toContain('\n');

    expect(failed.map((r) => [r.id, r.error])).toEqual([['slow', reason]]);
    const runId = rest.split(' ')[1];
    const { run: runCtx, executions } = await runRecords(store, runId);
    expect(runCtx.customProperties).toMatchObject({ state: 'FAILED', error: reason });
    expect(executions.filter((e) => e.lastKnownState === ExecutionState.RUNNING)).toEqual([]);
    const slow = executions.find((e) => e.customProperties?.node_id === 'slow')!;
    expect(slow).toBeDefined();
    expect(ExecutionState[slow.lastKnownState]).toBe('FAILED');
    expect(slow.customProperties?.error).toBe(reason);
    // Its output is ABANDONED and not left on disk looking complete.
    const outputs = await store.getArtifacts({ uri: path.join(slowDir(), String(slow.id)) });
    expect(outputs.map((a) => ArtifactState[a.state])).toEqual(['ABANDONED']);
    expect(fs.existsSync(outputs[0].uri)).toBe(false);
    // The run log says it too.
    expect(loggedErrors(runId)).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'run finished', error: reason, state: 'FAILED' })]));
  } finally {
    if (fs.existsSync(filler)) fs.rmSync(filler);
    await store.close();
  }
}, 300_000);

test('the store stays full: `mlp run` fails in one line, and the next run marks the run and node FAILED with the reason from the run log', async () => {
  const args = ['run', MODULE, '--root', root, '--metadata', `sqlite:${metadataFile}`, '--param', 'sleepMs=1500', '--parallelism', '1', '--json'];
  const first = startCli(args);
  await waitFor('the slow node to start', slowStarted);
  fillFilesystem();
  const failed = await first.done;
  expect(failed.code).toBe(1);
  const lines = failed.stderr.split('\n').filter((l) => l.startsWith('mlp: '));
  expect(lines).toHaveLength(1);
  const [reason, rest] = lines[0].slice('mlp: error: '.length).split('; ');
  expect(lines[0].startsWith('mlp: error: ')).toBe(true);
  expect(reason).toMatch(FULL);
  const runId = /^run (\S+) could not be marked FAILED, the next run on this host marks it \(the reason is in (\S+)\)$/.exec(rest)![1];
  expect(loggedErrors(runId)).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'run finished', error: reason })]));

  fs.rmSync(filler);
  const next = await runCli(args);
  expect({ code: next.code, stderr: next.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('error') });
  const store = await openMetadataStore(`sqlite:${metadataFile}`);
  try {
    const { run, executions } = await runRecords(store, runId);
    expect(run.customProperties).toMatchObject({ state: 'FAILED', error: reason });
    expect(executions.filter((e) => e.lastKnownState === ExecutionState.RUNNING)).toEqual([]);
    const slow = executions.find((e) => e.customProperties?.node_id === 'slow')!;
    expect({ state: ExecutionState[slow.lastKnownState], error: slow.customProperties?.error }).toEqual({ state: 'FAILED', error: reason });
    expect((await runRecords(store, JSON.parse(next.stdout).runId)).run.customProperties?.state).toBe('COMPLETE');
  } finally {
    await store.close();
  }
}, 300_000);
