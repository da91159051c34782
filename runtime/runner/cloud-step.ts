// A pipeline step run by a distributed engine (Argo Workflows, Cloud Composer, Vertex AI Pipelines) with the
// metadata store at hand: `mlp component run <Name> --executor-input ... --metadata ... --pipeline P
// --run-id R --node N`. It does for one node what the local runner does (local-runner.ts): the driver looks
// the node's inputs up in the store and decides whether a cached execution can stand in for it; a hit is
// recorded as a CACHED execution and its artifacts are handed on; a miss is recorded RUNNING with PENDING
// outputs, runs through the same launcher, and ends COMPLETE with LIVE outputs (or FAILED/ABANDONED). So
// caching and lineage behave in the cloud as they do locally — including claims on cache keys (claim.ts): a
// step whose work another step (of any run) is executing waits for it and is then a cache hit; steps run on
// other hosts, so a claim counts as abandoned when its holder stops renewing it. An engine's retry of a step
// that already completed in this run never executes it again: with cache on it is a cache hit on that
// attempt, with cache off (`cache: false`) it adopts that attempt's outputs (retireEarlierAttempts). An engine
// stopping the step's pod (SIGTERM) while it holds its claim gets it recorded CANCELED, not RUNNING forever
// (exitOnSignals).
//
// The ExecutorOutput always names the artifacts the step's dependents must read: the ones it produced, or the
// cached ones from an earlier run (at that run's URIs). The compilers therefore take every input artifact's
// URI and metadata from the producer's ExecutorOutput, never from a URI pattern.
//
// Resolver nodes run here too (`mlp component run mlp.Resolver`): the strategy is a parameter, the artifact
// it is relative to (previous-span's `of`, latest-blessed-model's `excluding`) the optional input `current`.
// A resolver that finds nothing still reports one artifact, marked `mlp_resolved: false`, because the engines
// pass exactly one artifact per task output; every step drops such inputs before it runs (dropUnresolved),
// so the optional input is empty, as locally.

import * as os from 'os';
import type { AnyComponent } from '../core/component';
import { formatZodIssues, type ExecutorInput, type ExecutorOutput } from '../core/executor-io';
import { UserError } from '../core/errors';
import { launchComponent, removeScratch, writeFileAtomic } from '../core/launcher';
import { RUNTIME_VERSION } from '../core/version';
import { ArtifactState, EventType, ExecutionState, type Artifact, type Execution, type MetadataStore, type Properties } from '../metadata/types';
import { NodeConflictError } from '../metadata/store-error';
import { storageFor } from '../storage';
import type { ResolverStrategy } from '../../pipelines/dsl/resolver';
import { dropUnresolved, RESOLVED_PROPERTY, RESOLVER_COMPONENT, RESOLVER_CURRENT_PORT, type CompiledStrategy } from './step-protocol';
import { decideAndClaim, holdClaim, type ClaimTiming } from './claim';
import { abandonExecution } from './recovery';
import { outputsOf } from './cache';
import { buildExecutorInput, Driver, type CacheDecision } from './driver';
import { CONTEXT_NODE, CONTEXT_PIPELINE, CONTEXT_RUN, registerTypes } from './mlmd-types';
import { OUTPUT_PARAMETERS_PROPERTY, Publisher, type StartedExecution } from './publisher';
import { resolveArtifact } from './resolve-artifacts';

export interface StepScope {
  store: MetadataStore;
  pipeline: string;
  runId: string;
  nodeId: string;
  /** The node has caching turned off (compiled from `cache: false`). */
  noCache?: boolean;
  log?: (line: string) => void;
  /** How claims on cache keys are renewed and waited for (tests shorten it). @default CLAIM_TIMING */
  claimTiming?: ClaimTiming;
  /** Recorded on the execution when it runs (a sharded step's merge records its shard count). */
  properties?: Properties;
  /**
   * The process is the step (`mlp component run`): while it holds its claim, SIGTERM or SIGINT records the
   * execution CANCELED (a compare-and-set, refused once another attempt took the claim over), removes its
   * outputs and exits 143 / 130 (exitOnSignals).
   */
  exitOnSignal?: boolean;
}

export interface StepResult {
  /** `adopted`: an earlier attempt of the step (cache off) completed in this run; its outputs are handed on. */
  state: 'executed' | 'cached' | 'adopted' | 'resolved';
  executionId?: number;
  reason: string;
  output: ExecutorOutput;
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

async function ensureRunContext(store: MetadataStore, pipeline: string, runId: string): Promise<void> {
  const [pipelineCtx] = await store.putContexts([{ type: CONTEXT_PIPELINE, name: pipeline }]);
  const [existing] = await store.getContexts({ type: CONTEXT_RUN, name: runId });
  if (existing) return;
  // Steps of one run start in parallel: putContexts is get-or-create, so the race is harmless.
  const [runCtx] = await store.putContexts([
    {
      type: CONTEXT_RUN,
      name: runId,
      customProperties: { pipeline_name: pipeline, started_at: new Date().toISOString(), runtime_version: RUNTIME_VERSION, orchestrator: 'cloud' },
    },
  ]);
  await store.putParentContexts([{ parentId: pipelineCtx, childId: runCtx }]);
}

/** The LIVE artifact recorded at a URI: what an upstream step (or a resolver) handed on. */
async function liveArtifact(store: MetadataStore, port: string, uri: string): Promise<Artifact> {
  const [artifact] = await store.getArtifacts({ uri, state: ArtifactState.LIVE, newestFirst: true, limit: 1 });
  if (!artifact) {
    throw new UserError(`input "${port}": no LIVE artifact at ${uri} in the metadata store (did its producer run without --metadata, or was it deleted?)`);
  }
  return artifact;
}

/**
 * Earlier attempts of this node in this run (the engine retried the step, or reran it): one still RUNNING is
 * CANCELED with its PENDING outputs ABANDONED and their files removed, so the new attempt starts clean at the
 * same URIs; every other earlier one is renamed (renameAttempt), since an execution's name is unique per type
 * and the new attempt records under <run>:<node>. One that COMPLETED (before, or after it was read and
 * before the cancel: the cancel is a compare-and-set on RUNNING, recovery.ts abandonExecution, and files are
 * removed only after it won) keeps its record and LIVE files and is returned: the step already happened in
 * this run, and runStep does not execute it again at the same URIs, which would remove and overwrite them.
 *
 * At most one execution is named <run>:<node> at a time (the store's unique key), and every earlier one read
 * here has ended, so one that completes later can only be an attempt that records itself after this read: the
 * new attempt's own insert under that name then fails (isAttemptConflict) and runStep looks again.
 */
async function retireEarlierAttempts(store: MetadataStore, component: AnyComponent, scope: StepScope, log: (line: string) => void): Promise<Execution | undefined> {
  const { pipeline, runId, nodeId } = scope;
  const [nodeCtx] = await store.getContexts({ type: CONTEXT_NODE, name: `${pipeline}.${nodeId}` });
  if (!nodeCtx) return undefined;
  const name = `${runId}:${nodeId}`;
  const earlier = (await store.getExecutions({ contextId: nodeCtx.id, type: component.name })).filter((e) => e.name === name);
  if (earlier.length === 0) return undefined;
  for (const e of earlier.filter((x) => x.lastKnownState === ExecutionState.RUNNING)) {
    if (await abandonExecution(store, e, 'a later attempt of this step started (the engine retried it)')) log(`${nodeId}: abandoned execution ${e.id} of an earlier attempt`);
    else log(`${nodeId}: execution ${e.id} of an earlier attempt ended on its own before it could be abandoned; its end stands`);
  }
  // Read again: every earlier attempt has ended now, and only its name changes (its end is as recorded).
  const ended = await store.getExecutions({ ids: earlier.map((x) => x.id!) });
  for (const e of ended.filter((x) => x.lastKnownState !== ExecutionState.COMPLETE)) await renameAttempt(store, scope, e);
  return ended.find((e) => e.lastKnownState === ExecutionState.COMPLETE);
}

/** Renames an ended attempt and its outputs <…>:attempt-<id>, freeing <run>:<node> for the next attempt. */
async function renameAttempt(store: MetadataStore, { pipeline, runId, nodeId }: StepScope, e: Execution): Promise<void> {
  const name = `${runId}:${nodeId}`;
  const events = await store.getEvents({ executionIds: [e.id!] });
  const outputIds = events.filter((ev) => ev.type === EventType.PENDING_OUTPUT || ev.type === EventType.OUTPUT).map((ev) => ev.artifactId);
  const outputs = outputIds.length ? await store.getArtifacts({ ids: outputIds }) : [];
  // Artifact names (<pipeline>:<run>:<node>:<port>) are unique per type too.
  const renamed = outputs.filter((a) => a.name?.startsWith(`${pipeline}:${name}:`)).map((a) => ({ ...a, name: `${a.name}:attempt-${e.id}` }));
  if (renamed.length) await store.putArtifacts(renamed);
  await store.putExecutions([{ ...e, name: `${name}:attempt-${e.id}` }]);
}

/** The store's refusal (sql.ts putNode) of a second execution named <run>:<node>: another attempt recorded itself first. */
function isAttemptConflict(err: unknown, component: AnyComponent, scope: StepScope): boolean {
  return err instanceof NodeConflictError && err.label === 'execution' && err.nodeType === component.name && err.nodeName === `${scope.runId}:${scope.nodeId}`;
}

/** The refusal of a retry whose step completed in this run with other parameters or inputs: it is not that step. */
function refuseOtherStep(complete: Execution, key: string, scope: StepScope): void {
  const recorded = complete.customProperties?.cache_key;
  if (recorded === key) return;
  throw new UserError(
    `step ${scope.nodeId} of run ${scope.runId} already completed as execution ${complete.id} with other parameters or inputs (cache key ${String(recorded)}, this attempt ${key}); start a new run to execute it again`,
  );
}

/**
 * The outputs of this step's COMPLETE execution in this run, for a retry that adopts it (cache off). Refused
 * when an output is no longer LIVE: executing again at its URIs would overwrite what the store says it produced.
 */
async function adoptedOutput(store: MetadataStore, component: AnyComponent, complete: Execution, scope: StepScope): Promise<ExecutorOutput> {
  const outputs = await outputsOf(store, complete.id!);
  for (const port of Object.keys(component.outputs)) {
    const a = outputs[port];
    if (!a || a.state !== ArtifactState.LIVE) {
      throw new UserError(
        `step ${scope.nodeId} of run ${scope.runId} already completed as execution ${complete.id}, but its output "${port}" is ${a ? `${ArtifactState[a.state]} (${a.uri})` : 'not recorded'}; start a new run to execute it again`,
      );
    }
  }
  const parameterValues = complete.customProperties?.[OUTPUT_PARAMETERS_PROPERTY];
  return { ...outputOf(outputs), ...(parameterValues !== undefined ? { parameterValues: parameterValues as Record<string, unknown> } : {}) };
}

function outputOf(artifacts: Record<string, Artifact>): ExecutorOutput {
  return {
    artifacts: Object.fromEntries(
      Object.entries(artifacts).map(([port, a]) => [port, { artifacts: [{ uri: a.uri, metadata: { ...a.customProperties, ...a.properties } }] }]),
    ),
  };
}

/**
 * Whether the step's outputs are cached: what runStep would decide, without recording anything (the first phase
 * of a fanned-out step — the Tuner's suggest, a sharded step's plan — skips its work on a hit).
 */
export async function stepIsCached(component: AnyComponent, rawInput: ExecutorInput, scope: StepScope): Promise<boolean> {
  const input = dropUnresolved(rawInput);
  const params = component.parameters.safeParse(input.inputs?.parameterValues ?? {});
  if (!params.success) throw new UserError(`component ${component.name}: invalid parameter ${formatZodIssues(params.error.issues)}`);
  const inputs: Record<string, Artifact[]> = {};
  for (const port of Object.keys(component.inputs)) {
    inputs[port] = [];
    for (const a of input.inputs?.artifacts?.[port]?.artifacts ?? []) {
      const [artifact] = await scope.store.getArtifacts({ uri: a.uri, state: ArtifactState.LIVE, newestFirst: true, limit: 1 });
      if (!artifact) return false;
      inputs[port].push(artifact);
    }
  }
  const decision = await new Driver(scope.store, scope.pipeline).decide({ id: scope.nodeId, component, cache: !scope.noCache }, params.data as Record<string, unknown>, inputs, false);
  return !!decision.hit;
}

/** How long a signaled step may take to record its cancel and remove its outputs before it exits regardless. */
export const CANCEL_BOUND_MS = 10_000;

/** Removes a failed or canceled attempt's outputs and the scratch folders its executor wrote them in. */
async function removeOutputs(outputUris: Record<string, string>): Promise<void> {
  for (const uri of Object.values(outputUris)) {
    await storageFor(uri).delete(uri, { recursive: true }).catch(() => undefined);
    await removeScratch(uri);
  }
}

interface SignalExit {
  /** Once a signal came: never settles (the process exits when `cancel` is done). */
  readonly exiting?: Promise<never>;
  /** Back to Node's default (exit at once), outside the claimed window. */
  remove(): void;
}

/**
 * SIGTERM / SIGINT (an engine stopping the pod: SIGTERM, then SIGKILL after its grace period, 30 s by default)
 * run `cancel`, log the line it returns and exit 128 + the signal's number (143, 130), as a canceled local run
 * does. The executor runs in this process and is not interrupted: the handler runs at its next await, and an
 * executor that never yields is killed by the engine's SIGKILL as before. A second signal, or a `cancel` that
 * takes longer than CANCEL_BOUND_MS, exits at once.
 */
function exitOnSignals(cancel: (signal: NodeJS.Signals) => Promise<string>, log: (line: string) => void): SignalExit {
  const handle: { exiting?: Promise<never>; remove(): void } = {
    remove: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
  function onSignal(signal: NodeJS.Signals): void {
    const code = 128 + os.constants.signals[signal];
    if (handle.exiting) {
      log(`${signal} again: exiting at once; the cancel may not be recorded`);
      process.exit(code);
    }
    setTimeout(() => {
      log(`${signal}: the cancel was not recorded within ${CANCEL_BOUND_MS / 1000} s; exiting without it`);
      process.exit(code);
    }, CANCEL_BOUND_MS);
    handle.exiting = cancel(signal)
      .then(log, (err: Error) => log(`${signal}: could not record the cancel: ${err.message.split('\n')[0]}`))
      .then(() => process.exit(code));
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return handle;
}

/** Runs one component step with the driver and publisher against the metadata store. */
export async function runStep(component: AnyComponent, rawInput: ExecutorInput, scope: StepScope): Promise<StepResult> {
  const { store, pipeline, runId, nodeId } = scope;
  const log = scope.log ?? stderrLog;
  const input = dropUnresolved(rawInput);
  const outputFile = input.outputs.outputFile;
  const started = Date.now();

  await registerTypes(store, [component]);
  await ensureRunContext(store, pipeline, runId);

  const params = component.parameters.safeParse(input.inputs?.parameterValues ?? {});
  if (!params.success) throw new UserError(`component ${component.name}: invalid parameter ${formatZodIssues(params.error.issues)}`);
  const parameters = params.data as Record<string, unknown>;
  const inputs: Record<string, Artifact[]> = {};
  for (const port of Object.keys(component.inputs)) {
    inputs[port] = [];
    for (const a of input.inputs?.artifacts?.[port]?.artifacts ?? []) inputs[port].push(await liveArtifact(store, port, a.uri));
  }
  const outputUris: Record<string, string> = {};
  for (const port of Object.keys(component.outputs)) {
    const given = input.outputs.artifacts?.[port]?.artifacts ?? [];
    if (given.length !== 1) throw new UserError(`component ${component.name}: ExecutorInput must give exactly one URI for output "${port}", got ${given.length}`);
    outputUris[port] = given[0].uri;
  }

  const node = { id: nodeId, component, cache: !scope.noCache };
  const driver = new Driver(store, pipeline);
  const publisher = new Publisher({ store, pipeline, runId, root: '' });
  let claimed: { decision: CacheDecision; run: StartedExecution };
  for (;;) {
    // Before claiming: an earlier attempt of this very step must not hold the claim this attempt waits for.
    const complete = await retireEarlierAttempts(store, component, scope, log);
    if (complete) {
      refuseOtherStep(complete, (await driver.decide(node, parameters, inputs, true)).key, scope);
      if (scope.noCache) {
        const output = await adoptedOutput(store, component, complete, scope);
        if (outputFile) await writeFileAtomic(outputFile, JSON.stringify(output, null, 2));
        const reason = `execution ${complete.id} of an earlier attempt completed this step in this run; its outputs are handed on, nothing is executed again`;
        log(`${nodeId}: adopted (${reason})`);
        return { state: 'adopted', executionId: complete.id, reason, output };
      }
      // With cache on, the decision below is a hit on its outputs (recorded CACHED), or, when they were deleted
      // or altered since (then marked DELETED, no longer LIVE), a miss that executes again.
      await renameAttempt(store, scope, complete);
    }
    try {
      const { decision, started: run } = await decideAndClaim({
        store,
        driver,
        publisher,
        node,
        params: parameters,
        inputs,
        noCache: false,
        outputUris,
        onWait: (message) => log(`${nodeId}: ${message}`),
        timing: scope.claimTiming,
      });
      if (!run) {
        const executionId = await publisher.recordCached(component, nodeId, parameters, inputs, decision, Date.now() - started);
        const output = outputOf(decision.hit!.outputs);
        if (outputFile) await writeFileAtomic(outputFile, JSON.stringify(output, null, 2));
        log(`${nodeId}: cached (${decision.reason})`);
        return { state: 'cached', executionId, reason: decision.reason, output };
      }
      claimed = { decision, run };
      break;
    } catch (err) {
      if (!isAttemptConflict(err, component, scope)) throw err;
      log(`${nodeId}: another attempt of this step recorded itself after this one looked; looking again`);
    }
  }
  const { decision, run } = claimed;

  const extra = (error?: string): Properties => ({ ...scope.properties, duration_ms: Date.now() - started, runner_host: os.hostname(), ...(error ? { error } : {}) });
  const claim = holdClaim(store, run.execution.id, scope.claimTiming);
  // The execution's end once its recording began (complete or fail): a signal then lets it finish.
  let ending: Promise<unknown> | undefined;
  const signals = scope.exitOnSignal
    ? exitOnSignals(async (signal) => {
        if (ending) {
          await ending.catch(() => undefined);
          return `${nodeId}: ${signal} while execution ${run.execution.id}'s end was being recorded; that end stands`;
        }
        await claim.release();
        try {
          await publisher.cancel(run, extra(`canceled by ${signal} while it executed (the engine stopped the step)`));
        } catch (err) {
          // Refused: another attempt took the claim over, and its record and files are its own.
          if (err instanceof UserError) return `${nodeId}: ${signal}: nothing recorded: ${err.message}`;
          throw err;
        }
        await removeOutputs(outputUris);
        return `${nodeId}: ${signal}: execution ${run.execution.id} recorded CANCELED, its outputs ABANDONED and removed`;
      }, log)
    : undefined;
  let output: ExecutorOutput;
  try {
    // Leftovers of a killed attempt at the same URIs must not be mistaken for output.
    for (const uri of Object.values(outputUris)) await storageFor(uri).delete(uri, { recursive: true });
    output = await launchComponent(component, buildExecutorInput(component, parameters, inputs, run.outputs, outputFile ?? ''), { log, step: { pipeline, node: nodeId } }).finally(() => claim.release());
  } catch (err) {
    // A signaled step ends as the signal handler records it, not as failed.
    if (signals?.exiting) await signals.exiting;
    await (ending = publisher.fail(run, extra((err as Error).message.split('\n')[0]))).finally(() => signals?.remove());
    await removeOutputs(outputUris);
    throw err;
  }
  // The executor ran in this process and cannot be interrupted: a signal during it stops the step here.
  if (signals?.exiting) await signals.exiting;
  await (ending = publisher.complete(component, run, output, extra())).finally(() => signals?.remove());
  log(`${nodeId}: executed (${decision.reason})`);
  return { state: 'executed', executionId: run.execution.id, reason: decision.reason, output };
}

/** A resolver step: picks the artifact its strategy asks for from the store and hands it on (or a not-found marker). */
export async function runResolverStep(rawInput: ExecutorInput, scope: StepScope): Promise<StepResult> {
  const { store, pipeline } = scope;
  const log = scope.log ?? stderrLog;
  const input = dropUnresolved(rawInput);
  const values = input.inputs?.parameterValues ?? {};
  const typeName = values.artifact_type;
  const strategy = values.strategy as CompiledStrategy | undefined;
  if (typeof typeName !== 'string' || !strategy || typeof strategy !== 'object') {
    throw new UserError(`${RESOLVER_COMPONENT}: parameters artifact_type (string) and strategy (object) are required`);
  }
  const [given] = input.inputs?.artifacts?.[RESOLVER_CURRENT_PORT]?.artifacts ?? [];
  const current = given ? await liveArtifact(store, RESOLVER_CURRENT_PORT, given.uri) : undefined;
  const [placeholder] = input.outputs.artifacts?.result?.artifacts ?? [];
  if (!placeholder) throw new UserError(`${RESOLVER_COMPONENT}: ExecutorInput must give one URI for output "result"`);
  // resolveArtifact reads node ids (and a printable name for previous-span's `of`) from the DSL objects.
  const dsl = (strategy.kind === 'latest'
    ? { ...strategy, producer: strategy.producer ? { id: strategy.producer } : undefined }
    : strategy.kind === 'previous-span'
      ? { kind: 'previous-span', of: { node: { id: strategy.of.node }, port: strategy.of.port, toString: () => `${strategy.of.node}.outputs.${strategy.of.port}` } }
      : { kind: 'latest-blessed-model', evaluator: strategy.evaluator }) as unknown as ResolverStrategy;
  const { artifact, reason } = await resolveArtifact(store, pipeline, typeName, dsl, current);
  const output: ExecutorOutput = {
    artifacts: {
      result: {
        artifacts: [artifact ? { uri: artifact.uri, metadata: { ...artifact.customProperties, ...artifact.properties } } : { uri: placeholder.uri, metadata: { [RESOLVED_PROPERTY]: false, mlp_reason: reason } }],
      },
    },
  };
  if (input.outputs.outputFile) await writeFileAtomic(input.outputs.outputFile, JSON.stringify(output, null, 2));
  log(`${scope.nodeId}: resolved (${reason})`);
  return { state: 'resolved', reason, output };
}
