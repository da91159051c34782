// The publisher, as in TFX: records what a node did in the metadata store. A cache hit becomes a CACHED
// execution pointing at the reused artifacts; an execution starts RUNNING with its INPUT events and its
// outputs registered PENDING (PENDING_OUTPUT events) at their final URIs, and ends COMPLETE with the outputs
// LIVE in one transaction — or FAILED (CANCELED when its run was canceled) with the outputs ABANDONED. Each end
// is a compare-and-set on RUNNING, so an execution another runner ended (took its claim over) is not ended twice. Every
// record is associated/attributed to the pipeline, run, node and cache-key contexts. A RUNNING execution
// started with `claim` is also the claim on its cache key (claim.ts).

import * as os from 'os';
import type { AnyComponent } from '../core/component';
import type { ExecutorOutput } from '../core/executor-io';
import { RUNTIME_VERSION } from '../core/version';
import {
  ArtifactState,
  EventType,
  ExecutionState,
  type Artifact,
  type ArtifactAndEvent,
  type Context,
  type Execution,
  type ExecutionClaim,
  type MetadataStore,
  type Properties,
  type PropertyValue,
  type PutExecutionResult,
} from '../metadata/types';
import { UserError } from '../core/errors';
import { removeScratch } from '../core/launcher';
import { joinUri, storageFor } from '../storage';
import type { CacheDecision } from './driver';
import { CONTEXT_CACHE, CONTEXT_NODE, CONTEXT_PIPELINE, CONTEXT_RUN } from './mlmd-types';

/** Execution custom property holding the KFP output parameters by name (a reuse carries its source's). */
export const OUTPUT_PARAMETERS_PROPERTY = 'outputs';

export interface PublisherScope {
  store: MetadataStore;
  pipeline: string;
  runId: string;
  /** Pipeline root (absolute path or gs:// prefix); outputs go to <root>/<pipeline>/<node>/<port>/<execution id>. */
  root: string;
}

/** What an execution starts from: the node, its parameters and inputs, the cache decision, the orchestrator's output URIs. */
type StartArgs = [
  component: AnyComponent,
  nodeId: string,
  params: Record<string, unknown>,
  inputs: Record<string, Artifact[]>,
  decision: CacheDecision,
  outputUris?: Record<string, string>,
];

/** A started execution, or (claims only) the executions in its way. */
type Begun = { started: StartedExecution; blockedBy?: undefined } | { started?: undefined; blockedBy: Execution[] };

/** A RUNNING execution and its PENDING outputs by port. */
export interface StartedExecution {
  execution: Execution & { id: number };
  outputs: Record<string, Artifact>;
  contexts: Context[];
}

/** Splits executor metadata into the type's declared properties and custom properties. */
function splitProperties(declared: Readonly<Record<string, unknown>>, metadata: Record<string, unknown>): { properties: Properties; customProperties: Properties } {
  const properties: Properties = {};
  const customProperties: Properties = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (v === null || v === undefined) continue;
    (k in declared ? properties : customProperties)[k] = v as PropertyValue;
  }
  return { properties, customProperties };
}

function inputEvents(inputs: Record<string, Artifact[]>): ArtifactAndEvent[] {
  return Object.entries(inputs).flatMap(([port, arts]) =>
    arts.map((artifact, index) => ({ artifact, event: { type: EventType.INPUT, path: [{ key: port }, { index }] } })),
  );
}

function outputEvents(outputs: Record<string, Artifact>, type: EventType): ArtifactAndEvent[] {
  return Object.entries(outputs).map(([port, artifact]) => ({ artifact, event: { type, path: [{ key: port }, { index: 0 }] } }));
}

export class Publisher {
  constructor(private readonly scope: PublisherScope) {}

  private contexts(nodeId: string, key: string): Context[] {
    const { pipeline, runId } = this.scope;
    return [
      { type: CONTEXT_PIPELINE, name: pipeline },
      { type: CONTEXT_RUN, name: runId },
      { type: CONTEXT_NODE, name: `${pipeline}.${nodeId}` },
      { type: CONTEXT_CACHE, name: key },
    ];
  }

  private execution(component: AnyComponent, nodeId: string, state: ExecutionState, decision: CacheDecision, params: Record<string, unknown>, extra: Properties): Execution {
    return {
      type: component.name,
      name: `${this.scope.runId}:${nodeId}`,
      lastKnownState: state,
      properties: { component_version: component.version },
      customProperties: {
        node_id: nodeId,
        pipeline_name: this.scope.pipeline,
        run_id: this.scope.runId,
        cache_key: decision.key,
        cache_material: decision.material as unknown as PropertyValue,
        parameters: params as PropertyValue,
        runtime_version: RUNTIME_VERSION,
        ...extra,
      },
    };
  }

  /** Records a cache hit; returns the new CACHED execution's id. */
  async recordCached(component: AnyComponent, nodeId: string, params: Record<string, unknown>, inputs: Record<string, Artifact[]>, decision: CacheDecision, durationMs: number): Promise<number> {
    const source = decision.hit!.execution;
    const reusedOutputs = source.customProperties?.[OUTPUT_PARAMETERS_PROPERTY];
    const execution = this.execution(component, nodeId, ExecutionState.CACHED, decision, params, {
      cached_from_execution: Number(source.customProperties?.cached_from_execution ?? source.id),
      duration_ms: durationMs,
      ...(reusedOutputs !== undefined ? { [OUTPUT_PARAMETERS_PROPERTY]: reusedOutputs } : {}),
    });
    const events = [...inputEvents(inputs), ...outputEvents(decision.hit!.outputs, EventType.OUTPUT)];
    return (await this.scope.store.putExecution(execution, events, this.contexts(nodeId, decision.key))).executionId;
  }

  /**
   * Records a RUNNING execution with its inputs and PENDING outputs, so a killed run leaves a trace to clean up.
   * Outputs go to <root>/<pipeline>/<node>/<port>/<execution id>, or to `outputUris` when the orchestrator
   * chose them (a cloud step's ExecutorInput).
   */
  async start(...args: StartArgs): Promise<StartedExecution> {
    return (await this.begin(args)).started!;
  }

  /**
   * As start, but as a claim on the cache key: the RUNNING execution is recorded only when no other execution
   * with the key is RUNNING and none finished since the decision (MetadataStore.claimExecution); otherwise
   * nothing is written and the executions in the way are returned. Only for a decision that consulted the cache.
   */
  claim(...args: StartArgs): Promise<Begun> {
    const { key, judged } = args[4];
    if (!judged) throw new Error(`claim on cache key ${key} without a cache lookup to judge against`);
    return this.begin(args, { context: { type: CONTEXT_CACHE, name: key }, judged });
  }

  private async begin([component, nodeId, params, inputs, decision, outputUris]: StartArgs, claim?: ExecutionClaim): Promise<Begun> {
    const { store, pipeline, runId, root } = this.scope;
    const contexts = this.contexts(nodeId, decision.key);
    const execution = this.execution(component, nodeId, ExecutionState.RUNNING, decision, params, { runner_host: os.hostname(), runner_pid: process.pid });
    const first = claim
      ? await store.claimExecution(execution, inputEvents(inputs), contexts, claim)
      : { claimed: await store.putExecution(execution, inputEvents(inputs), contexts) };
    if (!first.claimed) return { blockedBy: first.blockedBy };
    const { executionId } = first.claimed;
    const outputs: Record<string, Artifact> = {};
    for (const [port, spec] of Object.entries(component.outputs)) {
      outputs[port] = {
        type: spec.type.name,
        uri: outputUris?.[port] ?? joinUri(root, pipeline, nodeId, port, String(executionId)),
        name: `${pipeline}:${runId}:${nodeId}:${port}`,
        state: ArtifactState.PENDING,
      };
    }
    const started = { ...execution, id: executionId };
    const res = await store.putExecution(started, outputEvents(outputs, EventType.PENDING_OUTPUT), contexts);
    Object.values(outputs).forEach((a, i) => (a.id = res.artifactIds[i]));
    return { started: { execution: started, outputs, contexts } };
  }

  /**
   * Turns the outputs LIVE with the executor's metadata and the execution COMPLETE, in one transaction, only
   * while the execution is still RUNNING (a compare-and-set, MetadataStore.endExecution). When it is not —
   * another runner took its claim over after it stopped renewing it (claim.ts), or retired it — nothing is
   * recorded, the files published at its outputs are removed (the taker ABANDONED their artifacts) and the
   * refusal is thrown. When the store refuses the write, the execution ends FAILED, its outputs ABANDONED and
   * their files removed, and that is thrown (the launcher checked the properties before publishing).
   */
  async complete(component: AnyComponent, started: StartedExecution, output: ExecutorOutput, extra: Properties): Promise<Record<string, Artifact>> {
    const live: Record<string, Artifact> = {};
    for (const [port, a] of Object.entries(started.outputs)) {
      const metadata = output.artifacts?.[port]?.artifacts?.[0]?.metadata ?? {};
      live[port] = { ...a, state: ArtifactState.LIVE, ...splitProperties(component.outputs[port].type.properties, metadata) };
    }
    // KFP output parameters (container components) are recorded on the execution as KFP's launcher records them.
    const outputs: Properties = output.parameterValues ? { [OUTPUT_PARAMETERS_PROPERTY]: output.parameterValues as PropertyValue } : {};
    const execution = { ...started.execution, lastKnownState: ExecutionState.COMPLETE, customProperties: { ...started.execution.customProperties, ...outputs, ...extra } };
    let ended: PutExecutionResult | undefined;
    try {
      ended = await this.scope.store.endExecution(execution, outputEvents(live, EventType.OUTPUT), started.contexts);
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      // The record first (a store that is down fails here too, and the runner records the end later).
      await this.fail(started, { ...extra, error: `the metadata store refused the execution's outputs: ${why}` });
      await this.removeOutputs(started);
      throw err;
    }
    if (!ended) {
      await this.removeOutputs(started);
      throw await this.refusal(started, 'the files it published were removed');
    }
    return live;
  }

  /** Why an execution's final write was refused: it is no longer RUNNING. */
  private async refusal(started: StartedExecution, after: string): Promise<UserError> {
    const { id, customProperties } = started.execution;
    const [now] = await this.scope.store.getExecutions({ ids: [id] });
    const error = now?.customProperties?.error;
    const state = now ? `it is ${ExecutionState[now.lastKnownState]}${error === undefined ? '' : ` (${String(error)})`}` : 'it no longer exists';
    return new UserError(
      `execution ${id} lost its claim on cache key ${String(customProperties?.cache_key)}: another runner took it over while this one did not renew it; ${state}, its outputs are ABANDONED and ${after}`,
    );
  }

  /**
   * Removes the files at a failed execution's outputs, except at a URI where another execution recorded an
   * output of its own (a later attempt of the same cloud step writes to the same URIs, see cloud-step.ts).
   */
  private async removeOutputs(started: StartedExecution): Promise<void> {
    const own = new Set(Object.values(started.outputs).map((a) => a.id));
    for (const a of Object.values(started.outputs)) {
      const others = (await this.scope.store.getArtifacts({ uri: a.uri, state: [ArtifactState.PENDING, ArtifactState.LIVE] })).filter((x) => !own.has(x.id));
      if (others.length) continue;
      await storageFor(a.uri).delete(a.uri, { recursive: true });
      await removeScratch(a.uri);
    }
  }

  /**
   * Marks the execution FAILED and its outputs ABANDONED. When it is no longer RUNNING (another runner took its
   * claim over) nothing is written and that is thrown, as by complete, naming the error it would have recorded.
   */
  fail(started: StartedExecution, extra: Properties): Promise<void> {
    return this.end(started, ExecutionState.FAILED, extra);
  }

  /** Marks the execution CANCELED (its run was canceled while it ran) and its outputs ABANDONED; refused as fail. */
  cancel(started: StartedExecution, extra: Properties): Promise<void> {
    return this.end(started, ExecutionState.CANCELED, extra);
  }

  /** One compare-and-set on RUNNING: an execution another runner already ended keeps that end. */
  private async end(started: StartedExecution, state: ExecutionState.FAILED | ExecutionState.CANCELED, extra: Properties): Promise<void> {
    const execution = { ...started.execution, lastKnownState: state, customProperties: { ...started.execution.customProperties, ...extra } };
    const abandoned = Object.values(started.outputs).map((a) => ({ artifact: { ...a, state: ArtifactState.ABANDONED } }));
    if (await this.scope.store.endExecution(execution, abandoned, [])) return;
    const own = extra.error === undefined ? '' : ` (${String(extra.error)})`;
    throw await this.refusal(started, `its own end, ${ExecutionState[state]}${own}, was not recorded`);
  }
}
