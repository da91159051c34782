// The embedded local runner: executes a pipeline's nodes in topological order, independent nodes in
// parallel (bounded), each executed node in its own worker process through the KFP container contract.
// It schedules and retries; the driver (driver.ts) resolves inputs and cache hits, the publisher
// (publisher.ts) records executions, artifacts, events and contexts as MLMD does; a sharded node's worker is a
// plan, parallel shard workers and a merge (local-shards.ts), still one execution. A canceled run (cancel(),
// which `mlp run` calls on SIGINT/SIGTERM) starts no further node, stops its workers and records the
// interrupted executions and the run CANCELED.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import type { ExecutorOutput } from '../core/executor-io';
import { UserError } from '../core/errors';
import { formatZodIssues } from '../core/executor-io';
import { RUNTIME_VERSION } from '../core/version';
import { removeScratch } from '../core/launcher';
import type { Artifact, Context, MetadataStore, Properties } from '../metadata/types';
import { MetadataStoreError } from '../metadata/store-error';
import { joinUri, localPathOf, storageFor } from '../storage';
import { ArtifactPropertyRef, PipelineParam, type Condition, type Pipeline, type PipelineNode } from '../../pipelines/dsl/pipeline';
import { decideAndClaim, holdClaim, sleepUnlessCanceled, type ClaimTiming } from './claim';
import { buildExecutorInput, collectInputs, Driver } from './driver';
import { Publisher, type StartedExecution } from './publisher';
import { CONTEXT_PIPELINE, CONTEXT_RUN, registerTypes } from './mlmd-types';
import { abandonDeadExecutions } from './recovery';
import { resolveArtifact } from './resolve-artifacts';
import { spawnExecutor, type RunningExecutor } from './spawn-executor';
import { spawnShardedExecutor } from './local-shards';
import type { NodeResult, RunReporter, RunSummary } from './run-types';
import { combineReporters, RunLogReporter, runLogDir, runLogUri, uploadRunLogs } from './run-log';
import { checkLocalExecution, LOCAL_EXEC_ENV, type LocalExecMode } from '../components/container/local-exec';
import { containerDistributionEnv } from '../components/container/spec';

export interface RunOptions {
  /** Pipeline root: local folder or gs:// prefix under which outputs are written. */
  root: string;
  store: MetadataStore;
  /** Pipeline parameter values (validated against the pipeline's schema). */
  parameters?: Record<string, unknown>;
  /** Ignore the cache for every node. @default false */
  noCache?: boolean;
  /** Nodes running at once. @default number of CPUs */
  parallelism?: number;
  /** Modules the worker processes load so user components register themselves (e.g. the pipeline module). */
  modules?: string[];
  reporter?: RunReporter;
  /** How claims on cache keys are renewed and waited for (tests shorten it). @default CLAIM_TIMING */
  claimTiming?: ClaimTiming;
  /**
   * How container components run (`mlp run --local-exec`): as local processes or on a Docker/Podman engine.
   * @default - a step's localCommand as a process, else its image on an engine
   */
  localExec?: LocalExecMode;
}

interface NodeOutcome {
  result: NodeResult;
  /** Output artifacts by port, for downstream nodes and conditions. */
  artifacts: Record<string, Artifact>;
}

const NOOP_REPORTER: RunReporter = {
  runStarted() {},
  nodeStarted() {},
  nodeRetrying() {},
  nodeWaiting() {},
  nodeFinished() {},
  runFinished() {},
  runAborted() {},
};

/** How long a canceled run's worker (and what it started) gets after SIGTERM before SIGKILL. */
const WORKER_GRACE_MS = 10_000;

function newRunId(pipeline: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${pipeline}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Fails early, with the path, when the pipeline root cannot be written. */
async function checkRootWritable(root: string): Promise<void> {
  const local = localPathOf(root);
  if (!local) return;
  const probe = path.join(local, `.write-probe-${process.pid}`);
  try {
    await fs.promises.mkdir(local, { recursive: true });
    await fs.promises.writeFile(probe, '');
    await fs.promises.rm(probe);
  } catch (err) {
    throw new UserError(`pipeline root ${root} is not writable: ${(err as Error).message}`);
  }
}

function compare(left: unknown, op: Condition['op'], right: unknown): boolean {
  switch (op) {
    case '==': return left === right;
    case '!=': return left !== right;
    case '<': return (left as number) < (right as number);
    case '<=': return (left as number) <= (right as number);
    case '>': return (left as number) > (right as number);
    case '>=': return (left as number) >= (right as number);
  }
}

export class LocalRunner {
  private readonly store: MetadataStore;
  /** Progress for people plus the structured run log (always written). */
  private readonly reporter: RunReporter;
  private runId = '';
  /** The first metadata store failure: no node starts after it and the run ends FAILED with it. */
  private storeFailure?: MetadataStoreError;
  /** Executions whose end the store could not take, with what to record when it can. */
  private readonly unrecorded: { run: StartedExecution; extra: Properties }[] = [];
  private params: Record<string, unknown> = {};
  private logDir = '';
  private driver!: Driver;
  private publisher!: Publisher;
  /** The root as an absolute path when local, so recorded URIs do not depend on the working directory. */
  private readonly root: string;
  /** The signal that canceled the run (see cancel). */
  private canceledBy?: string;
  private readonly cancelation = new AbortController();
  /** Workers running now, for killWorkers. */
  private readonly workers = new Set<RunningExecutor>();

  constructor(private readonly pipeline: Pipeline, private readonly opts: RunOptions) {
    this.store = opts.store;
    this.root = localPathOf(opts.root) ?? opts.root;
    const upstreamOf = (id: string) => this.pipeline.node(id).upstream().map((u) => u.id);
    this.reporter = combineReporters(new RunLogReporter(() => this.logDir, upstreamOf), opts.reporter ?? NOOP_REPORTER);
  }

  /** The run's id, once run() has chosen it. */
  get id(): string {
    return this.runId;
  }

  /**
   * Cancels the run (`signal` names why, e.g. SIGINT): no node starts after it, waits for other runners' claims
   * and retry pauses end, and each running worker is stopped (SIGTERM to its process group, SIGKILL after
   * WORKER_GRACE_MS). run() then records the interrupted executions CANCELED, their outputs ABANDONED and
   * deleted (their claims released, so a waiting runner takes over), and the run CANCELED.
   */
  cancel(signal: string): void {
    if (this.canceledBy) return;
    this.canceledBy = signal;
    this.cancelation.abort();
  }

  /** SIGKILL to every running worker's process group at once, for a caller about to exit without waiting. */
  killWorkers(): void {
    for (const w of this.workers) w.kill('SIGKILL');
  }

  async run(): Promise<RunSummary> {
    const started = Date.now();
    const order = this.pipeline.validate();
    this.params = this.pipeline.resolveParameters(this.opts.parameters ?? {});
    const nodeParams = new Map(order.map((n) => [n, this.resolveNodeParameters(n)]));
    checkLocalExecution(order.map((n) => n.component), this.opts.localExec);
    await checkRootWritable(this.root);

    this.runId = newRunId(this.pipeline.name);
    this.logDir = runLogDir(this.root, this.runId);

    try {
      await registerTypes(this.store, order.filter((n) => !n.resolver).map((n) => n.component));
      await abandonDeadExecutions(this.store, this.pipeline.name);
    } catch (err) {
      // Nothing of this run is recorded yet: the store's own words are the whole story.
      throw err instanceof MetadataStoreError ? new UserError(err.message) : err;
    }
    let runCtx: Context | undefined;
    let summary: RunSummary;
    try {
      const [pipelineCtxId] = await this.store.putContexts([{ type: CONTEXT_PIPELINE, name: this.pipeline.name }]);
      const ctx: Context = {
        type: CONTEXT_RUN,
        name: this.runId,
        customProperties: {
          pipeline_name: this.pipeline.name,
          state: 'RUNNING',
          started_at: new Date(started).toISOString(),
          parameters: this.params,
          root: this.root,
          runtime_version: RUNTIME_VERSION,
          runner_host: os.hostname(),
          runner_pid: process.pid,
        },
      };
      const [runCtxId] = await this.store.putContexts([ctx]);
      runCtx = ctx;
      this.reporter.runStarted(this.runId, this.pipeline.name, order.map((n) => n.id));
      await this.store.putParentContexts([{ parentId: pipelineCtxId, childId: runCtxId }]);
      this.driver = new Driver(this.store, this.pipeline.name);
      this.publisher = new Publisher({ store: this.store, pipeline: this.pipeline.name, runId: this.runId, root: this.root });
      const outcomes = await this.schedule(order, nodeParams);
      if (this.storeFailure) throw this.storeFailure;
      summary = await this.finish(order, outcomes, runCtx, started);
    } catch (err) {
      const failure = err instanceof MetadataStoreError ? await this.abort(err, runCtx, started) : err;
      // The logs show how far the run got; the run's own error is the one to report.
      await uploadRunLogs(this.root, this.runId).catch(() => undefined);
      throw failure;
    }
    await uploadRunLogs(this.root, this.runId);
    return summary;
  }

  /**
   * After the metadata store failed: the reason goes to the run log first (recovery reads it there if the
   * store cannot take it), then the unrecorded executions and the run are marked FAILED with it if the store
   * can still be written. Returns the one-line error the run ends with.
   */
  private async abort(failure: MetadataStoreError, runCtx: Context | undefined, started: number): Promise<UserError> {
    if (!runCtx) return new UserError(failure.message);
    const durationMs = Date.now() - started;
    this.reporter.runAborted(failure.message, durationMs);
    try {
      for (const { run, extra } of this.unrecorded) {
        await this.publisher.fail(run, extra);
        for (const a of Object.values(run.outputs)) await storageFor(a.uri).delete(a.uri, { recursive: true });
      }
      const finished = { state: 'FAILED', error: failure.message, finished_at: new Date().toISOString(), duration_ms: durationMs };
      await this.store.putContexts([{ ...runCtx, customProperties: { ...runCtx.customProperties, ...finished } }]);
      return new UserError(`${failure.message}; run ${this.runId} is marked FAILED`);
    } catch (err) {
      if (!(err instanceof MetadataStoreError)) throw err;
      return new UserError(`${failure.message}; run ${this.runId} could not be marked FAILED, the next run on this host marks it (the reason is in ${path.join(this.logDir, 'run.log')})`);
    }
  }

  /** Records how the run ended and reports it; nodes a cancel kept from starting are reported canceled here. */
  private async finish(order: PipelineNode[], outcomes: Map<PipelineNode, NodeOutcome>, runCtx: Context, started: number): Promise<RunSummary> {
    const nodes = order.map((n) => {
      const outcome = outcomes.get(n);
      if (outcome) return outcome.result;
      if (!this.canceledBy) throw new Error(`node ${n.id} ended without an outcome`);
      const result: NodeResult = { id: n.id, component: n.component.name, state: 'canceled', durationMs: 0, attempts: 0, outputs: {}, reason: 'the run was canceled before the node started', error: `canceled by ${this.canceledBy} before it started` };
      this.reporter.nodeFinished(result);
      return result;
    });
    const canceled = nodes.some((n) => n.state === 'canceled');
    const summary: RunSummary = {
      runId: this.runId,
      pipeline: this.pipeline.name,
      state: canceled ? 'CANCELED' : nodes.every((n) => n.state !== 'failed' && n.state !== 'upstream_failed') ? 'COMPLETE' : 'FAILED',
      ...(canceled ? { canceledBy: this.canceledBy } : {}),
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      root: this.root,
      parameters: this.params,
      logDir: this.logDir,
      nodes,
    };
    await this.store.putContexts([
      {
        ...runCtx,
        customProperties: {
          ...runCtx.customProperties,
          state: summary.state,
          ...(canceled ? { error: `canceled by ${this.canceledBy}` } : {}),
          finished_at: new Date().toISOString(),
          duration_ms: summary.durationMs,
        },
      },
    ]);
    this.reporter.runFinished(summary);
    return summary;
  }

  /** Substitutes pipeline parameters and validates each node's parameters before anything runs. */
  private resolveNodeParameters(node: PipelineNode): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node.parameters)) raw[k] = v instanceof PipelineParam ? this.params[v.name] : v;
    const r = node.component.parameters.safeParse(raw);
    if (!r.success) throw new UserError(`node ${node.id}: invalid parameter ${formatZodIssues(r.error.issues)}`);
    return r.data as Record<string, unknown>;
  }

  /** Runs the nodes; after a metadata store failure or a cancel it starts no more and returns once the running ones end. */
  private async schedule(order: PipelineNode[], nodeParams: Map<PipelineNode, Record<string, unknown>>): Promise<Map<PipelineNode, NodeOutcome>> {
    const limit = Math.max(1, this.opts.parallelism ?? os.cpus().length);
    const outcomes = new Map<PipelineNode, NodeOutcome>();
    const pending = new Set(order);
    const active = new Set<Promise<void>>();
    while ((pending.size > 0 && !this.storeFailure && !this.canceledBy) || active.size > 0) {
      for (const node of order) {
        if (active.size >= limit || this.storeFailure || this.canceledBy) break;
        if (!pending.has(node) || !node.upstream().every((u) => outcomes.has(u))) continue;
        pending.delete(node);
        const p: Promise<void> = this.processNode(node, nodeParams.get(node)!, outcomes)
          .then((o) => {
            outcomes.set(node, o);
            this.reporter.nodeFinished(o.result);
          })
          .finally(() => active.delete(p));
        active.add(p);
      }
      if (active.size > 0) await Promise.race(active);
    }
    return outcomes;
  }

  private blockedBy(node: PipelineNode, outcomes: Map<PipelineNode, NodeOutcome>): NodeResult | undefined {
    const ups = node.upstream().map((u) => outcomes.get(u)!.result);
    const failed = ups.find((u) => u.state === 'failed' || u.state === 'upstream_failed');
    const base = { id: node.id, component: node.component.name, durationMs: 0, attempts: 0, outputs: {} };
    if (failed) return { ...base, state: 'upstream_failed', reason: `upstream node ${failed.id} ${failed.state === 'failed' ? 'failed' : 'did not run'}` };
    const skipped = ups.find((u) => u.state === 'skipped');
    if (skipped) return { ...base, state: 'skipped', reason: `upstream node ${skipped.id} was skipped` };
    if (node.condition) {
      const { left, op, right } = node.condition;
      let value: unknown;
      let what: string;
      if (left instanceof ArtifactPropertyRef) {
        const a = outcomes.get(left.channel.node)!.artifacts[left.channel.port];
        value = a?.properties?.[left.property] ?? a?.customProperties?.[left.property];
        what = `${left.channel}.${left.property}`;
      } else {
        value = this.params[left.name];
        what = `parameter ${left.name}`;
      }
      if (!compare(value, op, right)) {
        return { ...base, state: 'skipped', reason: `condition ${what} ${op} ${JSON.stringify(right)} is false (value ${JSON.stringify(value)})` };
      }
    }
    return undefined;
  }

  private async processNode(node: PipelineNode, params: Record<string, unknown>, outcomes: Map<PipelineNode, NodeOutcome>): Promise<NodeOutcome> {
    const blocked = this.blockedBy(node, outcomes);
    if (blocked) return { result: blocked, artifacts: {} };
    this.reporter.nodeStarted(node.id);
    const started = Date.now();
    try {
      return node.resolver ? await this.resolveNode(node, outcomes, started) : await this.driveNode(node, params, outcomes, started);
    } catch (err) {
      if (err instanceof MetadataStoreError) return this.storeFailed(node, err, started);
      if (node.resolver || !(err instanceof UserError)) throw err;
      return {
        result: { id: node.id, component: node.component.name, state: 'failed', durationMs: Date.now() - started, attempts: 0, outputs: {}, reason: 'the driver could not prepare the node', error: err.message },
        artifacts: {},
      };
    }
  }

  /** The node's outcome when the metadata store failed under it; the run stops (see schedule and abort). */
  private storeFailed(node: PipelineNode, failure: MetadataStoreError, started: number, run?: StartedExecution, extra: Properties = {}): NodeOutcome {
    this.storeFailure ??= failure;
    if (run) this.unrecorded.push({ run, extra: { ...extra, error: failure.message } });
    return {
      result: { id: node.id, component: node.component.name, state: 'failed', durationMs: Date.now() - started, attempts: 0, executionId: run?.execution.id, outputs: {}, reason: 'the metadata store failed', error: failure.message },
      artifacts: {},
    };
  }

  private async resolveNode(node: PipelineNode, outcomes: Map<PipelineNode, NodeOutcome>, started: number): Promise<NodeOutcome> {
    const strategy = node.resolver!;
    const related = strategy.kind === 'previous-span' ? strategy.of : strategy.kind === 'latest-blessed-model' ? strategy.excluding : undefined;
    const current = related ? outcomes.get(related.node)!.artifacts[related.port] : undefined;
    const typeName = node.component.outputs.result.type.name;
    const { artifact, reason } = await resolveArtifact(this.store, this.pipeline.name, typeName, strategy, current);
    return {
      result: {
        id: node.id,
        component: node.component.name,
        state: 'resolved',
        durationMs: Date.now() - started,
        attempts: 0,
        outputs: artifact ? { result: artifact.uri } : {},
        reason,
      },
      artifacts: artifact ? { result: artifact } : {},
    };
  }

  private async driveNode(node: PipelineNode, params: Record<string, unknown>, outcomes: Map<PipelineNode, NodeOutcome>, started: number): Promise<NodeOutcome> {
    const component = node.component;
    const inputs = collectInputs(node, (ch) => outcomes.get(ch.node)!.artifacts[ch.port]);
    const { decision, started: run, canceled: canceledWaiting } = await decideAndClaim({
      store: this.store,
      driver: this.driver,
      publisher: this.publisher,
      node,
      params,
      inputs,
      noCache: !!this.opts.noCache,
      onWait: (message) => this.reporter.nodeWaiting(node.id, message),
      timing: this.opts.claimTiming,
      cancel: this.cancelation.signal,
    });
    const base = { id: node.id, component: component.name, reason: decision.reason };
    if (canceledWaiting) {
      const error = `canceled by ${this.canceledBy} while waiting for another runner executing the same work`;
      return { result: { ...base, state: 'canceled', durationMs: Date.now() - started, attempts: 0, outputs: {}, error }, artifacts: {} };
    }
    if (!run) {
      const executionId = await this.publisher.recordCached(component, node.id, params, inputs, decision, Date.now() - started);
      const outputs = decision.hit!.outputs;
      return {
        result: { ...base, state: 'cached', durationMs: Date.now() - started, attempts: 0, executionId, outputs: Object.fromEntries(Object.entries(outputs).map(([p, a]) => [p, a.uri])) },
        artifacts: outputs,
      };
    }

    const nodeDir = path.join(this.logDir, node.id);
    const logFile = path.join(this.logDir, `${node.id}.log`);
    const outputFile = path.join(nodeDir, 'executor-output.json');
    const inputFile = path.join(nodeDir, 'executor-input.json');
    await fs.promises.mkdir(nodeDir, { recursive: true });
    await fs.promises.writeFile(inputFile, JSON.stringify(buildExecutorInput(component, params, inputs, run.outputs, outputFile), null, 2));

    const claim = holdClaim(this.store, run.execution.id, this.opts.claimTiming);
    const { attempts, error, canceled, shards } = await this.executeWithRetries(node, inputFile, logFile, Object.values(run.outputs), claim.lost).finally(() => claim.release());
    const durationMs = Date.now() - started;
    // Where the log is kept: a remote root's copy appears when the run ends (uploadRunLogs). A sharded node's
    // execution records its shard count (the shards are not executions of their own).
    const extra = { attempts, duration_ms: durationMs, log_uri: joinUri(runLogUri(this.root, this.runId), `${node.id}.log`), ...(shards === undefined ? {} : { shards }) };
    const result = { ...base, durationMs, attempts, executionId: run.execution.id, logFile };
    let live: Record<string, Artifact>;
    try {
      if (canceled) {
        // As after a failure: nothing the stopped worker wrote may be taken for output.
        for (const a of Object.values(run.outputs)) {
          await storageFor(a.uri).delete(a.uri, { recursive: true });
          await removeScratch(a.uri);
        }
        const why = `canceled by ${this.canceledBy} ${attempts ? `during attempt ${attempts}` : 'before its worker started'}`;
        await this.publisher.cancel(run, { ...extra, error: why });
        return { result: { ...result, state: 'canceled', outputs: {}, error: why }, artifacts: {} };
      }
      if (error !== undefined) {
        await this.publisher.fail(run, { ...extra, error });
        return { result: { ...result, state: 'failed', outputs: {}, error }, artifacts: {} };
      }
      const output = JSON.parse(await fs.promises.readFile(outputFile, 'utf8')) as ExecutorOutput;
      live = await this.publisher.complete(component, run, output, extra);
    } catch (err) {
      // The store refused the outputs, or another runner took the claim over: complete recorded what it could.
      if (err instanceof UserError) return { result: { ...result, state: 'failed', outputs: {}, error: err.message }, artifacts: {} };
      if (!(err instanceof MetadataStoreError)) throw err;
      return this.storeFailed(node, err, started, run, { ...extra, ...(error ? { executor_error: error } : {}) });
    }
    return {
      result: { ...result, state: 'executed', outputs: Object.fromEntries(Object.entries(live).map(([p, a]) => [p, a.uri])) },
      artifacts: live,
    };
  }

  /**
   * Runs the executor in a worker process, retrying with exponential backoff per the node's policy. On a
   * cancel it stops the worker and returns `canceled` (with the attempts started) unless the attempt succeeded.
   */
  private async executeWithRetries(node: PipelineNode, inputFile: string, logFile: string, outputs: Artifact[], claimLost: AbortSignal): Promise<{ attempts: number; error?: string; canceled?: true; shards?: number }> {
    const retry = node.retry;
    const maxAttempts = 1 + (retry?.maxRetries ?? 0);
    for (let attempt = 1; ; attempt++) {
      if (this.canceledBy) return { attempts: attempt - 1, canceled: true };
      const job = { component: node.component.name, modules: this.opts.modules ?? [], executorInputPath: inputFile, step: { pipeline: this.pipeline.name, node: node.id } };
      const env = {
        MLP_RUN_ID: this.runId,
        MLP_NODE_ID: node.id,
        MLP_ATTEMPT: String(attempt),
        ...(this.opts.localExec ? { [LOCAL_EXEC_ENV]: this.opts.localExec } : {}),
        // A node's distribution / tpu, which the worker's component (found by name) does not have.
        ...containerDistributionEnv(node.component),
      };
      const onProgress = (status: string) => this.reporter.nodeProgress?.(node.id, status);
      // A sharded node (shards: N > 1 or auto) runs as plan, parallel shard workers and a merge (local-shards.ts).
      const worker = node.shards !== undefined && node.shards !== 1
        ? spawnShardedExecutor(job, { shards: node.shards, shardsDir: path.join(path.dirname(inputFile), 'shards') }, logFile, env, onProgress)
        : spawnExecutor(job, logFile, env, onProgress);
      this.workers.add(worker);
      const stopOnCancel = () => void worker.stop(WORKER_GRACE_MS);
      this.cancelation.signal.addEventListener('abort', stopOnCancel);
      // Another runner took the claim over (this one stalled past its lease): its work would be refused anyway.
      claimLost.addEventListener('abort', stopOnCancel);
      const r = await worker.result;
      this.cancelation.signal.removeEventListener('abort', stopOnCancel);
      claimLost.removeEventListener('abort', stopOnCancel);
      if (this.canceledBy || claimLost.aborted) await worker.stop(WORKER_GRACE_MS); // returns once nothing the worker started is left
      this.workers.delete(worker);
      const shards = r.shards === undefined ? {} : { shards: r.shards };
      if (r.ok) return { attempts: attempt, ...shards };
      if (this.canceledBy) return { attempts: attempt, canceled: true };
      const error = claimLost.aborted ? (claimLost.reason as Error).message : (r.error ?? 'executor failed');
      // Leftovers of a failed attempt must not be mistaken for output; a worker killed mid-way (a sharded node's
      // other shards are stopped when one fails) leaves its scratch folders too.
      for (const a of outputs) {
        await storageFor(a.uri).delete(a.uri, { recursive: true });
        await removeScratch(a.uri);
      }
      if (attempt >= maxAttempts || claimLost.aborted) return { attempts: attempt, error, ...shards };
      const delay = Math.min(
        (retry?.maxBackoffSeconds ?? 60) * 1000,
        (retry?.backoffSeconds ?? 1) * 1000 * Math.pow(retry?.backoffFactor ?? 2, attempt - 1),
      );
      this.reporter.nodeRetrying(node.id, attempt, error, delay);
      await sleepUnlessCanceled(delay, this.cancelation.signal);
    }
  }
}

export async function runPipeline(pipeline: Pipeline, opts: RunOptions): Promise<RunSummary> {
  return new LocalRunner(pipeline, opts).run();
}
