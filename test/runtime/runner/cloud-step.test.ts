// Cloud steps (runtime/runner/cloud-step.ts): `mlp component run` with the metadata store, as Argo, Composer
// and Vertex steps run it. Steps are chained the way the compiled engines chain them (each input's URI and
// metadata taken from its producer's ExecutorOutput), against a real SQLite store: a second run is a cache
// hit handing on the first run's artifacts, recorded as CACHED with lineage; a failure leaves FAILED and
// ABANDONED and no files; a killed attempt is abandoned by the retry; resolver steps find artifacts (or
// report not-found, which dependents drop); the Tuner's fan-out phases replay the oracle and publish what the
// Tuner would.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent, type AnyComponent } from '../../../runtime/core/component';
import { ProduceNumbers, ScaleNumbers, Tuner } from '../../../runtime/components';
import { storageFor } from '../../../runtime/storage';
import { Examples, ExampleStatistics } from '../../../runtime/core/artifact-types';
import type { ExecutorInput, ExecutorOutput } from '../../../runtime/core/executor-io';
import { UserError } from '../../../runtime/core/errors';
import { ArtifactState, ExecutionState, EventType } from '../../../runtime/metadata/types';
import { runResolverStep, runStep } from '../../../runtime/runner/cloud-step';
import { dropUnresolved } from '../../../runtime/runner/step-protocol';
import { Publisher } from '../../../runtime/runner/publisher';
import { cacheKey, cacheMaterial } from '../../../runtime/runner/cache';
import { CONTEXT_RUN, registerTypes } from '../../../runtime/runner/mlmd-types';
import { collectTrials, suggestTrials, type TrialResultFile } from '../../../runtime/runner/tuner-fanout';
import { useTempStore } from '../../support/temp-store';

const t = useTempStore('mlp-cloud-step-');
const quiet = () => undefined;

/** A step's ExecutorInput as a compiled engine fills it in: inputs from the producers' ExecutorOutputs. */
function stepInput(params: Record<string, unknown>, inputs: Record<string, { from: ExecutorOutput; port: string }>, outputs: Record<string, string>, outputFile: string): ExecutorInput {
  return {
    inputs: {
      parameterValues: params,
      artifacts: Object.fromEntries(Object.entries(inputs).map(([port, { from, port: out }]) => [port, { artifacts: from.artifacts![out].artifacts }])),
    },
    outputs: { artifacts: Object.fromEntries(Object.entries(outputs).map(([port, uri]) => [port, { artifacts: [{ uri }] }])), outputFile },
  };
}

async function runPipeline(runId: string, opts: { noCache?: boolean } = {}) {
  const scope = (node: string) => ({ store: t.store, pipeline: 'cloud', runId, nodeId: node, noCache: opts.noCache, log: quiet });
  const dir = path.join(t.root, runId);
  const produced = await runStep(ProduceNumbers, stepInput({ count: 20, seed: 1 }, {}, { numbers: path.join(dir, 'produce', 'numbers') }, path.join(dir, 'produce.json')), scope('produce'));
  const fromFile = JSON.parse(fs.readFileSync(path.join(dir, 'produce.json'), 'utf8')) as ExecutorOutput;
  expect(fromFile).toEqual(produced.output);
  const scaled = await runStep(ScaleNumbers, stepInput({ factor: 2 }, { numbers: { from: fromFile, port: 'numbers' } }, { scaled: path.join(dir, 'scale', 'scaled') }, path.join(dir, 'scale.json')), scope('scale'));
  return { produced, scaled, dir };
}

describe('cloud steps with the metadata store', () => {
  test('first run executes and records lineage; a second run reuses both steps and hands on the first run\'s artifacts', async () => {
    const first = await runPipeline('run-1');
    expect([first.produced.state, first.scaled.state]).toEqual(['executed', 'executed']);
    const [live] = await t.store.getArtifacts({ uri: path.join(first.dir, 'scale', 'scaled'), state: ArtifactState.LIVE });
    expect(live).toBeDefined();
    const lineage = await t.store.getLineage(live.id!, 'upstream');
    expect(lineage.executions.map((e) => e.type).sort()).toEqual(['ProduceNumbers', 'ScaleNumbers']);
    const [run] = await t.store.getContexts({ type: CONTEXT_RUN, name: 'run-1' });
    expect(run.customProperties).toMatchObject({ pipeline_name: 'cloud', orchestrator: 'cloud' });

    const second = await runPipeline('run-2');
    expect([second.produced.state, second.scaled.state]).toEqual(['cached', 'cached']);
    expect(second.produced.output.artifacts!.numbers.artifacts[0].uri).toBe(path.join(first.dir, 'produce', 'numbers'));
    expect(second.scaled.output.artifacts!.scaled.artifacts[0].uri).toBe(path.join(first.dir, 'scale', 'scaled'));
    expect(fs.existsSync(path.join(second.dir, 'scale', 'scaled'))).toBe(false);
    const cached = await t.store.getExecutions({ state: ExecutionState.CACHED });
    expect(cached.map((e) => e.customProperties?.run_id)).toEqual(['run-2', 'run-2']);

    const third = await runPipeline('run-3', { noCache: true });
    expect([third.produced.state, third.scaled.state]).toEqual(['executed', 'executed']);
  });

  test('a failing step is FAILED with its output ABANDONED and removed, and the error goes on to the engine', async () => {
    const Fails = defineComponent({
      name: 'test.CloudFails',
      version: '1',
      description: 'writes, then fails',
      inputs: {},
      outputs: { out: { type: Examples } },
      parameters: z.object({}),
      executor: async ({ outputs }) => {
        fs.writeFileSync(path.join(outputs.out.path, 'partial'), 'x');
        throw new UserError('boom');
      },
    });
    const out = path.join(t.root, 'fails', 'out');
    await expect(runStep(Fails as unknown as AnyComponent, stepInput({}, {}, { out }, path.join(t.root, 'fails.json')), { store: t.store, pipeline: 'cloud', runId: 'r', nodeId: 'fails', log: quiet })).rejects.toThrow('boom');
    const [execution] = await t.store.getExecutions({ type: 'test.CloudFails' });
    expect(execution.lastKnownState).toBe(ExecutionState.FAILED);
    expect(execution.customProperties?.error).toBe('boom');
    expect((await t.store.getArtifacts({ uri: out }))[0].state).toBe(ArtifactState.ABANDONED);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a retried step abandons the attempt that died before it and writes to the same URIs', async () => {
    const out = path.join(t.root, 'retry', 'numbers');
    const params = { count: 5, seed: 3, seed_offset: undefined };
    await registerTypes(t.store, [ProduceNumbers]);
    const material = cacheMaterial(ProduceNumbers, ProduceNumbers.parameters.parse({ count: 5, seed: 3 }), {});
    const dead = await new Publisher({ store: t.store, pipeline: 'cloud', runId: 'r', root: '' }).start(ProduceNumbers, 'produce', params, {}, { material, key: cacheKey(material), reason: '' }, { numbers: out });
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'leftover'), 'x');
    const result = await runStep(ProduceNumbers, stepInput({ count: 5, seed: 3 }, {}, { numbers: out }, path.join(t.root, 'retry.json')), { store: t.store, pipeline: 'cloud', runId: 'r', nodeId: 'produce', log: quiet });
    expect(result.state).toBe('executed');
    const [old] = await t.store.getExecutions({ ids: [dead.execution.id] });
    expect(old.lastKnownState).toBe(ExecutionState.CANCELED);
    expect(fs.existsSync(path.join(out, 'leftover'))).toBe(false);
    expect((await t.store.getArtifacts({ uri: out })).map((a) => ArtifactState[a.state]).sort()).toEqual(['ABANDONED', 'LIVE']);
  });

  test('an input that is not LIVE in the store is refused in one line', async () => {
    const ghost = { artifacts: { numbers: { artifacts: [{ uri: '/nowhere/numbers' }] } } };
    await expect(runStep(ScaleNumbers, stepInput({ factor: 2 }, { numbers: { from: ghost, port: 'numbers' } }, { scaled: path.join(t.root, 's') }, path.join(t.root, 's.json')), { store: t.store, pipeline: 'cloud', runId: 'r', nodeId: 'scale', log: quiet })).rejects.toThrow(
      new UserError('input "numbers": no LIVE artifact at /nowhere/numbers in the metadata store (did its producer run without --metadata, or was it deleted?)'),
    );
  });
});

describe('claims on cache keys between cloud steps', () => {
  /** A component whose executor waits for the test to open its gate, so a step can be held mid-execution. */
  function gatedComponent() {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const component = defineComponent({
      name: 'test.Gated',
      version: '1',
      description: 'Waits for the test, then writes a file.',
      inputs: {},
      outputs: { out: { type: Examples } },
      parameters: z.object({}),
      executor: async ({ outputs }) => {
        await gate;
        fs.writeFileSync(path.join(outputs.out.path, 'done.txt'), 'ok');
      },
    });
    return { component, open };
  }
  const fast = { renewMs: 60_000, leaseMs: 60_000, pollMs: [20, 200] as [number, number] };
  const step = (component: AnyComponent, runId: string, log: (line: string) => void, timing = fast) =>
    runStep(component, stepInput({}, {}, { out: path.join(t.root, runId, 'out') }, path.join(t.root, `${runId}.json`)), { store: t.store, pipeline: 'cloud', runId, nodeId: 'gated', log, claimTiming: timing });
  const runningExecution = async () => (await t.store.getExecutions({ type: 'test.Gated', state: ExecutionState.RUNNING }))[0];
  async function until(cond: () => Promise<boolean> | boolean): Promise<void> {
    while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
  }

  test('a step whose work another run\'s step is executing waits for it and is then a cache hit on its outputs', async () => {
    const { component, open } = gatedComponent();
    const first = step(component, 'run-a', quiet);
    await until(async () => (await runningExecution()) !== undefined);
    const lines: string[] = [];
    const second = step(component, 'run-b', (line) => lines.push(line));
    await until(() => lines.some((l) => l.startsWith('gated: waiting for execution')));
    open();
    const [a, b] = await Promise.all([first, second]);
    expect([a.state, b.state]).toEqual(['executed', 'cached']);
    expect(b.output.artifacts!.out.artifacts[0].uri).toBe(path.join(t.root, 'run-a', 'out'));
    expect((await t.store.getExecutions({ type: 'test.Gated' })).map((e) => ExecutionState[e.lastKnownState])).toEqual(['COMPLETE', 'CACHED']);
  });

  test('a claim its holder on another host stopped renewing is taken over, with the reason recorded', async () => {
    const { component, open } = gatedComponent();
    const stalled = step(component, 'run-a', quiet).then(() => undefined, (err: Error) => err);
    await until(async () => (await runningExecution()) !== undefined);
    // As if the holder ran elsewhere: its host cannot be checked, only its renewals, and the lease is short.
    const held = await runningExecution();
    await t.store.putExecutions([{ ...held, customProperties: { ...held.customProperties, runner_host: 'pod-that-vanished' } }]);
    const taker = step(component, 'run-b', quiet, { ...fast, leaseMs: 1 });
    await until(async () => (await t.store.getExecutions({ ids: [held.id!] }))[0].lastKnownState === ExecutionState.CANCELED);
    const [old] = await t.store.getExecutions({ ids: [held.id!] });
    expect(String(old.customProperties?.error)).toMatch(/^its runner on pod-that-vanished stopped renewing its claim \(last at \d{4}-/);
    // The taker runs the same gated executor. (How the stalled holder ends, once it wakes, is its own affair.)
    open();
    expect((await taker).state).toBe('executed');
    await stalled;
    const record = (await t.store.getExecutions({ type: 'test.Gated' })).find((e) => e.customProperties?.run_id === 'run-b')!;
    expect(ExecutionState[record.lastKnownState]).toBe('COMPLETE');
  });
});

describe('resolver steps', () => {
  const resolverInput = (strategy: unknown, type: string, current: ExecutorOutput | undefined, port: string, outputFile: string): ExecutorInput => ({
    inputs: { parameterValues: { artifact_type: type, strategy }, artifacts: current ? { current: { artifacts: current.artifacts![port].artifacts } } : {} },
    outputs: { artifacts: { result: { artifacts: [{ uri: path.join(t.root, 'resolver', 'result') }] } }, outputFile },
  });

  test('latest finds the newest LIVE artifact of a node; previous-span finds nothing before span 0 and says so', async () => {
    const { produced } = await runPipeline('run-1');
    const scope = { store: t.store, pipeline: 'cloud', runId: 'run-1', nodeId: 'r', log: quiet };
    const latest = await runResolverStep(resolverInput({ kind: 'latest', producer: 'produce' }, 'Examples', undefined, '', path.join(t.root, 'latest.json')), scope);
    expect(latest.output.artifacts!.result.artifacts[0]).toMatchObject({ uri: produced.output.artifacts!.numbers.artifacts[0].uri, metadata: { span: 0 } });
    expect(JSON.parse(fs.readFileSync(path.join(t.root, 'latest.json'), 'utf8'))).toEqual(latest.output);

    const previous = await runResolverStep(resolverInput({ kind: 'previous-span', of: { node: 'produce', port: 'numbers' } }, 'Examples', produced.output, 'numbers', path.join(t.root, 'prev.json')), scope);
    expect(previous.output.artifacts!.result.artifacts).toEqual([
      { uri: path.join(t.root, 'resolver', 'result'), metadata: { mlp_resolved: false, mlp_reason: 'no Examples of produce.outputs.numbers with a span before 0' } },
    ]);
    // A dependent drops the not-found marker: its optional input is empty, as in the local runner.
    const dependent = dropUnresolved({ inputs: { artifacts: { baseline: { artifacts: previous.output.artifacts!.result.artifacts } } }, outputs: {} });
    expect(dependent.inputs!.artifacts!.baseline.artifacts).toEqual([]);
  });

  test('latest with a property filter and no match reports not found', async () => {
    await runPipeline('run-1');
    const r = await runResolverStep(resolverInput({ kind: 'latest', properties: { span: 7 } }, ExampleStatistics.name, undefined, '', path.join(t.root, 'x.json')), { store: t.store, pipeline: 'cloud', runId: 'run-1', nodeId: 'r', log: quiet });
    expect(r.output.artifacts!.result.artifacts[0].metadata).toMatchObject({ mlp_resolved: false });
  });
});

describe('Tuner fan-out phases', () => {
  const space = { learning_rate: { type: 'double', min: 0.001, max: 0.1, scale: 'log' }, units: { type: 'discrete', values: ['8', '16'] } };
  /** The Tuner's three inputs, published and LIVE in the store (their content does not matter to collect). */
  let upstream: Record<string, { artifacts: { uri: string }[] }> = {};
  beforeEach(async () => {
    await registerTypes(t.store, [Tuner]);
    upstream = {};
    for (const [port, type] of [['examples', 'Examples'], ['transform_graph', 'TransformGraph'], ['schema', 'Schema']]) {
      const uri = path.join(t.root, 'upstream', port);
      const staging = fs.mkdtempSync(path.join(t.root, 'staging-'));
      fs.writeFileSync(path.join(staging, 'file'), port);
      const manifest = await storageFor(uri).publishDirectory(staging, uri);
      await t.store.putArtifacts([{ type, uri, state: ArtifactState.LIVE, customProperties: { mlp_fingerprint: manifest.fingerprint } }]);
      upstream[port] = { artifacts: [{ uri }] };
    }
  });
  const tunerInput = (dir: string): ExecutorInput => ({
    inputs: {
      parameterValues: { search_space: space, algorithm: 'bayesian', max_trials: 5, max_parallel_trials: 2, objective: { metric: 'val_loss', goal: 'MINIMIZE' }, seed: 4 },
      artifacts: upstream,
    },
    outputs: {
      artifacts: { best_hyperparameters: { artifacts: [{ uri: path.join(dir, 'best') }] }, tuner_results: { artifacts: [{ uri: path.join(dir, 'results') }] } },
      outputFile: path.join(dir, 'tuner.json'),
    },
  });
  const result = (trialId: string, round: number, hyperparameters: Record<string, unknown>, value: number | undefined): TrialResultFile =>
    value === undefined
      ? { trialId, round, hyperparameters: hyperparameters as never, status: 'FAILED', error: 'diverged', intermediate: [] }
      : { trialId, round, hyperparameters: hyperparameters as never, status: 'COMPLETED', value, intermediate: [{ step: 1, value }] };

  test('rounds of at most P trials, replayed from earlier results; collect publishes the best as the Tuner does', async () => {
    const trialsDir = path.join(t.root, 'trials');
    const input = tunerInput(t.root);
    const values = [0.5, 0.3, undefined, 0.2, 0.4];
    const seen: string[] = [];
    for (let round = 1; ; round++) {
      const trials = await suggestTrials(input, { trialsDir, round, perRound: 2 });
      if (trials.length === 0) break;
      expect(trials.length).toBeLessThanOrEqual(2);
      for (const trial of trials) {
        seen.push(trial.trialId);
        fs.mkdirSync(trialsDir, { recursive: true });
        fs.writeFileSync(path.join(trialsDir, `${trial.trialId}.json`), JSON.stringify(result(trial.trialId, round, trial.hyperparameters, values[seen.length - 1])));
      }
      // Asking again for the same round gives the same trials (a retried suggest pod).
      if (round === 2) expect((await suggestTrials(input, { trialsDir, round, perRound: 2 })).map((s) => s.trialId)).toEqual(trials.map((s) => s.trialId));
    }
    expect(seen).toEqual(['trial-1', 'trial-2', 'trial-3', 'trial-4', 'trial-5']);

    await collectTrials(input, { trialsDir, scope: { store: t.store, pipeline: 'p', runId: 'r', nodeId: 'tuner', log: quiet } });
    const best = JSON.parse(fs.readFileSync(path.join(t.root, 'best', 'best_hyperparameters.json'), 'utf8'));
    expect(best).toMatchObject({ trial_id: 'trial-4', objective: { metric: 'val_loss', goal: 'MINIMIZE', value: 0.2 } });
    const table = JSON.parse(fs.readFileSync(path.join(t.root, 'results', 'trials.json'), 'utf8'));
    expect(table.trials.map((r: { status: string }) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED', 'COMPLETED', 'COMPLETED']);
    const [execution] = await t.store.getExecutions({ type: 'Tuner' });
    expect(execution.lastKnownState).toBe(ExecutionState.COMPLETE);
    const events = await t.store.getEvents({ executionIds: [execution.id!] });
    expect(events.filter((e) => e.type === EventType.OUTPUT)).toHaveLength(2);

    // The same Tuner in a later run: round 1 finds the cache hit, no trial runs, collect reuses the outputs.
    const laterDir = path.join(t.root, 'later-trials');
    const scope = { store: t.store, pipeline: 'p', runId: 'r2', nodeId: 'tuner', log: quiet };
    expect(await suggestTrials(tunerInput(path.join(t.root, 'later')), { trialsDir: laterDir, round: 1, perRound: 2, scope })).toEqual([]);
    expect(await suggestTrials(tunerInput(path.join(t.root, 'later')), { trialsDir: laterDir, round: 2, perRound: 2 })).toEqual([]);
    await collectTrials(tunerInput(path.join(t.root, 'later')), { trialsDir: laterDir, scope });
    expect(JSON.parse(fs.readFileSync(path.join(t.root, 'later', 'tuner.json'), 'utf8')).artifacts.best_hyperparameters.artifacts[0].uri).toBe(path.join(t.root, 'best'));
  });
});
