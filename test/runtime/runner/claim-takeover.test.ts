// The final writes of an execution are compare-and-sets on RUNNING (MetadataStore.endExecution), on SQLite and
// on a real PostgreSQL: a claim holder that stalled past its lease while another runner took the claim over
// wakes to a refusal (one COMPLETE execution for the cache key, its own outputs ABANDONED and their files
// removed), and its renewals report the claim lost; output properties the store would refuse fail the step
// before anything is published, and a refusal inside Publisher.complete leaves FAILED and ABANDONED.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../../runtime/core/component';
import { Examples } from '../../../runtime/core/artifact-types';
import type { ExecutorInput } from '../../../runtime/core/executor-io';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, ExecutionState, type MetadataStore } from '../../../runtime/metadata/types';
import { holdClaim } from '../../../runtime/runner/claim';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { abandonExecution } from '../../../runtime/runner/recovery';
import { runStep } from '../../../runtime/runner/cloud-step';
import { cacheKey, cacheMaterial } from '../../../runtime/runner/cache';
import { registerTypes } from '../../../runtime/runner/mlmd-types';
import { Publisher } from '../../../runtime/runner/publisher';
import { metadataBackends } from '../../support/postgres';
import { waitFor } from '../../support/wait-for';
import { pipeline as retryPipeline } from '../../fixtures/pipelines/retry-pipeline';

const RETRY_MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');

let dir: string;
let store: MetadataStore;
afterEach(async () => {
  await store?.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const BACKENDS = metadataBackends('takeover', () => dir);

const quiet = () => undefined;
const fast = { renewMs: 60_000, leaseMs: 60_000, pollMs: [20, 200] as [number, number] };

/** A component whose first execution waits for the test to open its gate (the stalled holder); later ones do not. */
function gatedComponent() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let calls = 0;
  const component = defineComponent({
    name: 'test.Stalls',
    version: '1',
    description: 'The first execution waits for the test, then writes a file.',
    inputs: {},
    outputs: { out: { type: Examples } },
    parameters: z.object({}),
    executor: async ({ outputs }) => {
      if (calls++ === 0) await gate;
      // The taker removes a local output's scratch folders; a holder on another host keeps its own (in its TMPDIR).
      fs.mkdirSync(outputs.out.path, { recursive: true });
      fs.writeFileSync(path.join(outputs.out.path, 'done.txt'), 'ok');
    },
  });
  return { component, open };
}

const outUri = (runId: string) => path.join(dir, runId, 'out');
const input = (runId: string): ExecutorInput => ({ inputs: { parameterValues: {} }, outputs: { artifacts: { out: { artifacts: [{ uri: outUri(runId) }] } }, outputFile: path.join(dir, `${runId}.json`) } });

describe.each(BACKENDS)('final writes of executions on %s', (_name, address) => {
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-takeover-'));
    store = await openMetadataStore(await address());
  });

  test('a holder that stalled past its lease while another runner took its claim over is refused when it wakes: one COMPLETE execution', async () => {
    const { component, open } = gatedComponent();
    const step = (runId: string, timing = fast) => runStep(component, input(runId), { store, pipeline: 'p', runId, nodeId: 'n', log: quiet, claimTiming: timing });
    const stalled = step('run-a').then(
      () => undefined,
      (err: Error) => err,
    );
    const running = async () => (await store.getExecutions({ type: 'test.Stalls', state: ExecutionState.RUNNING }))[0];
    await waitFor('the holder to claim the key', async () => (await running()) !== undefined);
    // As if the holder ran on another host: only its renewals count there, and the taker's lease is tiny.
    const held = await running();
    await store.putExecutions([{ ...held, customProperties: { ...held.customProperties, runner_host: 'pod-that-stalled' } }]);
    const taken = await step('run-b', { ...fast, leaseMs: 1 });
    expect(taken.state).toBe('executed');

    // The stalled holder's renewals now find the claim gone.
    const renewing = holdClaim(store, held.id!, { ...fast, renewMs: 10 });
    await waitFor('a renewal to report the claim lost', async () => renewing.lost.aborted);
    await renewing.release();

    open();
    const refused = await stalled;
    const key = String(held.customProperties?.cache_key);
    expect(refused?.message).toMatch(
      new RegExp(
        `^execution ${held.id} lost its claim on cache key ${key}: another runner took it over while this one did not renew it; ` +
          'it is CANCELED \\(its runner on pod-that-stalled stopped renewing its claim \\(last at [^)]+\\)\\), its outputs are ABANDONED and the files it published were removed$',
      ),
    );
    const executions = await store.getExecutions({ type: 'test.Stalls' });
    expect(executions.map((e) => [e.customProperties?.run_id, ExecutionState[e.lastKnownState]])).toEqual([
      ['run-a', 'CANCELED'],
      ['run-b', 'COMPLETE'],
    ]);
    // The holder's output is ABANDONED and what it published once awake is gone; the taker's is LIVE.
    const states = async (runId: string) => (await store.getArtifacts({ uri: outUri(runId) })).map((a) => ArtifactState[a.state]);
    expect(await states('run-a')).toEqual(['ABANDONED']);
    expect(fs.existsSync(outUri('run-a'))).toBe(false);
    expect(await states('run-b')).toEqual(['LIVE']);
    expect(fs.readFileSync(path.join(outUri('run-b'), 'done.txt'), 'utf8')).toBe('ok');
  }, 120_000);

  test('a local run whose claim is taken over while its node runs stops the node at its next renewal and fails it', async () => {
    // The slow node sleeps far longer than the test: only the lost claim can end it.
    const timing = { renewMs: 50, leaseMs: 60_000, pollMs: [20, 200] as [number, number] };
    const run = runPipeline(retryPipeline, { root: path.join(dir, 'root'), store, modules: [RETRY_MODULE], parameters: { sleepMs: 600_000 }, claimTiming: timing });
    const slowRunning = async () => (await store.getExecutions({ type: 'test.SlowCopy', state: ExecutionState.RUNNING }))[0];
    await waitFor('the slow node to run', async () => (await slowRunning()) !== undefined);
    const held = await slowRunning();
    // The taker's path, as if this runner had stalled past its lease on another host.
    expect(await abandonExecution(store, held, 'taken over by the test')).toBe(true);
    const slow = (await run).nodes.find((n) => n.id === 'slow')!;
    expect(slow.state).toBe('failed');
    expect(slow.error).toBe(
      `execution ${held.id} lost its claim on cache key ${String(held.customProperties?.cache_key)}: another runner took it over while this one did not renew it; ` +
        `it is CANCELED (taken over by the test), its outputs are ABANDONED and its own end, FAILED (execution ${held.id} lost its claim: another runner took it over), was not recorded`,
    );
    const [after] = await store.getExecutions({ ids: [held.id!] });
    expect([ExecutionState[after.lastKnownState], after.customProperties?.error]).toEqual(['CANCELED', 'taken over by the test']);
  }, 120_000);

  test('a taker whose holder renewed after it was read does not take the claim over', async () => {
    const { component, open } = gatedComponent();
    open();
    await registerTypes(store, [component]);
    const material = cacheMaterial(component, {}, {});
    const started = await new Publisher({ store, pipeline: 'p', runId: 'r', root: '' }).start(component, 'n', {}, {}, { material, key: cacheKey(material), reason: '' }, { out: outUri('r') });
    const [read] = await store.getExecutions({ ids: [started.execution.id] });
    // The holder renews after the taker read the execution: the taker's compare-and-set on the time it read fails.
    await waitFor('a renewal at a later millisecond', async () => Date.now() > read.lastUpdateTimeSinceEpoch! && (await store.touchExecution(read.id!, ExecutionState.RUNNING)));
    expect(await store.endExecution({ ...read, id: read.id!, lastKnownState: ExecutionState.CANCELED }, [], [], read.lastUpdateTimeSinceEpoch)).toBeUndefined();
    // The holder then completes as usual.
    fs.mkdirSync(outUri('r'), { recursive: true });
    await new Publisher({ store, pipeline: 'p', runId: 'r', root: '' }).complete(component, started, { artifacts: {} }, {});
    expect((await store.getExecutions({ ids: [read.id!] }))[0].lastKnownState).toBe(ExecutionState.COMPLETE);
    // A second final write is refused: the execution is no longer RUNNING.
    expect(await store.endExecution({ ...read, id: read.id!, lastKnownState: ExecutionState.FAILED }, [], [])).toBeUndefined();
    expect((await store.getExecutions({ ids: [read.id!] }))[0].lastKnownState).toBe(ExecutionState.COMPLETE);
  });

  test('an output property the store would refuse fails the step before anything is published: FAILED, ABANDONED, no files', async () => {
    const component = defineComponent({
      name: 'test.BadSpan',
      version: '1',
      description: 'Writes its output and sets a fraction as its span.',
      inputs: {},
      outputs: { out: { type: Examples } },
      parameters: z.object({}),
      executor: async ({ outputs }) => {
        fs.writeFileSync(path.join(outputs.out.path, 'data.txt'), 'x');
        outputs.out.properties.span = 1.5;
      },
    });
    await expect(runStep(component, input('r'), { store, pipeline: 'p', runId: 'r', nodeId: 'n', log: quiet })).rejects.toThrow(
      'component test.BadSpan: property "span" of output artifact "out" is declared INT, got the number 1.5',
    );
    expect((await store.getExecutions({ type: 'test.BadSpan' })).map((e) => ExecutionState[e.lastKnownState])).toEqual(['FAILED']);
    expect((await store.getArtifacts({ uri: outUri('r') })).map((a) => ArtifactState[a.state])).toEqual(['ABANDONED']);
    expect(fs.existsSync(outUri('r'))).toBe(false);
  });

  test('a write Publisher.complete has refused by the store leaves the execution FAILED, its outputs ABANDONED and their files removed', async () => {
    const { component } = gatedComponent();
    await registerTypes(store, [component]);
    const publisher = new Publisher({ store, pipeline: 'p', runId: 'r', root: '' });
    const material = cacheMaterial(component, {}, {});
    const started = await publisher.start(component, 'n', {}, {}, { material, key: cacheKey(material), reason: '' }, { out: outUri('r') });
    fs.mkdirSync(outUri('r'), { recursive: true });
    fs.writeFileSync(path.join(outUri('r'), 'data.txt'), 'published');
    // As a caller that did not check the metadata first would hand it on.
    const output = { artifacts: { out: { artifacts: [{ uri: outUri('r'), metadata: { span: 'first' } }] } } };
    await expect(publisher.complete(component, started, output, {})).rejects.toThrow('property "span" of artifact type "Examples" is declared INT, got the string "first"');
    const [e] = await store.getExecutions({ ids: [started.execution.id] });
    expect(ExecutionState[e.lastKnownState]).toBe('FAILED');
    expect(e.customProperties?.error).toBe('the metadata store refused the execution\'s outputs: property "span" of artifact type "Examples" is declared INT, got the string "first"');
    expect((await store.getArtifacts({ uri: outUri('r') })).map((a) => ArtifactState[a.state])).toEqual(['ABANDONED']);
    expect(fs.existsSync(outUri('r'))).toBe(false);
  });
});
