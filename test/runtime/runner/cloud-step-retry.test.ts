// A retried cloud step (runtime/runner/cloud-step.ts) retires the earlier attempt of the same step with a
// compare-and-set on RUNNING, on SQLite and on a real PostgreSQL: an earlier attempt that completes after the
// retry read it as RUNNING, but before the retry's write, keeps its COMPLETE record and its LIVE files, and the
// retry is a cache hit on them instead of canceling it and deleting what it published. With `cache: false` a
// retry of a step that completed in this run adopts that execution's outputs: its files and records stay as
// they were, also when the completed attempt recorded itself while the retry was starting.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../../runtime/core/component';
import { Examples } from '../../../runtime/core/artifact-types';
import type { ExecutorInput } from '../../../runtime/core/executor-io';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, ExecutionState, type MetadataStore } from '../../../runtime/metadata/types';
import { UserError } from '../../../runtime/core/errors';
import { runStep } from '../../../runtime/runner/cloud-step';
import { metadataBackends } from '../../support/postgres';
import { waitFor } from '../../support/wait-for';

let dir: string;
let store: MetadataStore;
afterEach(async () => {
  await store?.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const BACKENDS = metadataBackends('retry', () => dir);

const quiet = () => undefined;
const fast = { renewMs: 60_000, leaseMs: 60_000, pollMs: [20, 200] as [number, number] };
/** The store writes a retry makes when it retires an earlier attempt (old and new code alike make one of them). */
const WRITES = new Set(['endExecution', 'putExecution', 'putExecutions', 'putArtifacts', 'updateExecutionState', 'updateArtifactStates']);

describe.each(BACKENDS)('a retried cloud step on %s', (_name, address) => {
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cloud-retry-'));
    store = await openMetadataStore(await address());
  });

  test('an earlier attempt that completes between the retry\'s read and its write stays COMPLETE with its LIVE files; the retry is a cache hit on them', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const component = defineComponent({
      name: 'test.Attempts',
      version: '1',
      description: 'The first attempt waits for the test; each writes which attempt it was.',
      inputs: {},
      outputs: { out: { type: Examples } },
      parameters: z.object({}),
      executor: async ({ outputs }) => {
        const attempt = ++calls;
        if (attempt === 1) await gate;
        fs.writeFileSync(path.join(outputs.out.path, 'attempt.txt'), `attempt ${attempt}`);
      },
    });
    const out = path.join(dir, 'r', 'out');
    const input: ExecutorInput = { inputs: { parameterValues: {} }, outputs: { artifacts: { out: { artifacts: [{ uri: out }] } }, outputFile: path.join(dir, 'r.json') } };
    const scope = (s: MetadataStore) => ({ store: s, pipeline: 'p', runId: 'r', nodeId: 'n', log: quiet, claimTiming: fast });

    const first = runStep(component, input, scope(store));
    const running = async () => (await store.getExecutions({ type: 'test.Attempts', state: ExecutionState.RUNNING }))[0];
    await waitFor('the first attempt to run', async () => (await running()) !== undefined);
    const earlier = await running();

    // The retry sees the first attempt RUNNING; just before its first write the first attempt completes.
    let completed = false;
    const racing = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (!completed && WRITES.has(String(prop))) {
            completed = true;
            open();
            expect((await first).state).toBe('executed');
          }
          return value.apply(target, args);
        };
      },
    });
    const retry = await runStep(component, input, scope(racing));
    expect(completed).toBe(true);

    const [after] = await store.getExecutions({ ids: [earlier.id!] });
    expect(ExecutionState[after.lastKnownState]).toBe('COMPLETE');
    expect(after.name).toBe(`r:n:attempt-${earlier.id}`);
    const artifacts = await store.getArtifacts({ uri: out });
    expect(artifacts.map((a) => ArtifactState[a.state])).toEqual(['LIVE']);
    expect(fs.readFileSync(path.join(out, 'attempt.txt'), 'utf8')).toBe('attempt 1');
    // The retry reuses what the first attempt published and executes nothing.
    expect(retry.state).toBe('cached');
    expect(retry.output.artifacts!.out.artifacts[0].uri).toBe(out);
    expect(calls).toBe(1);
    const executions = await store.getExecutions({ type: 'test.Attempts' });
    expect(executions.map((e) => [e.name, ExecutionState[e.lastKnownState]])).toEqual([
      [`r:n:attempt-${earlier.id}`, 'COMPLETE'],
      ['r:n', 'CACHED'],
    ]);
  }, 120_000);

  describe('after the step completed in this run (cache: false unless the test says otherwise)', () => {
    let calls: number;
    const component = defineComponent({
      name: 'test.Uncached',
      version: '1',
      description: 'Writes which attempt it was, with its label.',
      inputs: {},
      outputs: { out: { type: Examples } },
      parameters: z.object({ label: z.string() }),
      executor: async ({ outputs, parameters }) => {
        fs.writeFileSync(path.join(outputs.out.path, 'attempt.txt'), `attempt ${++calls} ${parameters.label}`);
      },
    });
    const out = () => path.join(dir, 'r', 'out');
    const outputFile = () => path.join(dir, 'r.json');
    const input = (label = 'a'): ExecutorInput => ({ inputs: { parameterValues: { label } }, outputs: { artifacts: { out: { artifacts: [{ uri: out() }] } }, outputFile: outputFile() } });
    const scope = (s: MetadataStore, noCache = true) => ({ store: s, pipeline: 'p', runId: 'r', nodeId: 'n', noCache, log: quiet, claimTiming: fast });
    /** What the metadata store and the file system say about the step's output. */
    const snapshot = async () => ({
      executions: (await store.getExecutions({ type: 'test.Uncached' })).map((e) => ({ id: e.id, name: e.name, state: ExecutionState[e.lastKnownState], updated: e.lastUpdateTimeSinceEpoch })),
      artifacts: await store.getArtifacts({ uri: out() }),
      files: Object.fromEntries(fs.readdirSync(out()).sort().map((f) => [f, fs.readFileSync(path.join(out(), f), 'utf8')])),
    });
    beforeEach(() => (calls = 0));

    test('a retry of the step that completed in this run adopts its outputs: the LIVE artifact, its files and its execution are untouched', async () => {
      const first = await runStep(component, input(), scope(store));
      expect(first.state).toBe('executed');
      const before = await snapshot();
      expect(before.artifacts.map((a) => ArtifactState[a.state])).toEqual(['LIVE']);
      expect(before.files['attempt.txt']).toBe('attempt 1 a');

      const retry = await runStep(component, input(), scope(store));
      expect(retry.state).toBe('adopted');
      expect(retry.executionId).toBe(first.executionId);
      expect(retry.output).toEqual(first.output);
      expect(JSON.parse(fs.readFileSync(outputFile(), 'utf8'))).toEqual(first.output);
      expect(calls).toBe(1);
      expect(await snapshot()).toEqual(before);
      expect(before.executions.map((e) => [e.name, e.state])).toEqual([['r:n', 'COMPLETE']]);
    }, 120_000);

    test.each([
      ['off', true],
      ['on', false],
    ])('a retry with other parameters than the completed execution is refused in one line and changes nothing (cache %s)', async (_cache, noCache) => {
      const first = await runStep(component, input('a'), scope(store, noCache));
      const before = await snapshot();
      const retry = runStep(component, input('b'), scope(store, noCache));
      await expect(retry).rejects.toThrow(UserError);
      await expect(retry).rejects.toThrow(new RegExp(`^step n of run r already completed as execution ${first.executionId} with other parameters or inputs \\(cache key \\w+, this attempt \\w+\\); start a new run to execute it again$`));
      expect(calls).toBe(1);
      expect(await snapshot()).toEqual(before);
    }, 120_000);

    test('an attempt that records itself and completes while the retry starts is adopted, not overwritten', async () => {
      // The retry looks (no earlier attempt); just before it records itself, a concurrent attempt of the same
      // step records itself under the same name and completes.
      let other: Awaited<ReturnType<typeof runStep>> | undefined;
      let before!: Awaited<ReturnType<typeof snapshot>>;
      const racing = new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            if (!other && prop === 'putExecution') {
              other = await runStep(component, input(), scope(store));
              before = await snapshot();
            }
            return value.apply(target, args);
          };
        },
      });
      const retry = await runStep(component, input(), scope(racing));
      expect(other?.state).toBe('executed');
      expect(retry.state).toBe('adopted');
      expect(retry.executionId).toBe(other!.executionId);
      expect(retry.output).toEqual(other!.output);
      expect(calls).toBe(1);
      expect(await snapshot()).toEqual(before);
      expect(before.files['attempt.txt']).toBe('attempt 1 a');
      expect(before.artifacts.map((a) => ArtifactState[a.state])).toEqual(['LIVE']);
    }, 120_000);
  });
});
