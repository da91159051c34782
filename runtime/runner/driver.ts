// The driver, as in TFX: before a node runs it gathers the node's input artifacts, decides from the metadata
// store whether a cached execution can stand in for it (and says why or why not), and builds the KFP
// ExecutorInput the component will receive. Shared by every orchestrator that talks to the metadata store.

import type { AnyComponent } from '../core/component';
import { artifactResourceName, type ExecutorInput } from '../core/executor-io';
import { UserError } from '../core/errors';
// The schemaTitles the compilers give, so a step sees the same ExecutorInput locally and on every engine.
import { kfpArtifactType } from '../compilers/kfp-artifact-types';
import { ExecutionState, type Artifact, type MetadataStore } from '../metadata/types';
import type { OutputChannel, PipelineNode } from '../../pipelines/dsl/pipeline';
import { cacheKey, cacheMaterial, explainDifference, lookupCache, type CacheHit, type CacheMaterial } from './cache';
import { CONTEXT_NODE } from './mlmd-types';

/** The node's input artifacts by port; `artifactOf` gives what an upstream channel produced in this run. */
export function collectInputs(node: PipelineNode, artifactOf: (ch: OutputChannel) => Artifact | undefined): Record<string, Artifact[]> {
  const inputs: Record<string, Artifact[]> = {};
  for (const [port, channels] of node.inputs) {
    inputs[port] = [];
    for (const ch of channels) {
      const a = artifactOf(ch);
      // A resolver may find nothing (e.g. no previous span yet): that input is then simply empty.
      if (a) inputs[port].push(a);
      else if (!ch.node.resolver) throw new UserError(`node ${node.id}: input "${port}" has no artifact from ${ch}`);
    }
    if (inputs[port].length === 0 && !node.component.inputs[port].optional) {
      throw new UserError(`node ${node.id}: required input "${port}" resolved to no artifact (${channels.join(', ')})`);
    }
  }
  return inputs;
}

/** What the driver reads of a node: a PipelineNode, or its id, component and cache flag in a cloud step. */
export type DrivenNode = Pick<PipelineNode, 'id' | 'component' | 'cache'>;

export interface CacheDecision {
  material: CacheMaterial;
  key: string;
  hit?: CacheHit;
  /** Why the node will run or be reused (what --explain prints). */
  reason: string;
  /**
   * Set on a miss when the cache was consulted: the finished executions with this key that were judged
   * unusable. The node then claims the key (claim.ts) rather than executing alongside another runner.
   */
  judged?: number[];
}

export class Driver {
  constructor(private readonly store: MetadataStore, private readonly pipeline: string) {}

  async decide(node: DrivenNode, params: Record<string, unknown>, inputs: Record<string, Artifact[]>, noCache: boolean): Promise<CacheDecision> {
    const external = node.component.externalInputs ? await node.component.externalInputs(params) : undefined;
    const material = cacheMaterial(node.component, params, inputs, external);
    const key = cacheKey(material);
    if (noCache) return { material, key, reason: 'cache disabled for this run (--no-cache)' };
    if (!node.cache) return { material, key, reason: 'cache disabled for this node' };
    const lookup = await lookupCache(this.store, node.component, key);
    if (lookup.hit) {
      const { execution } = lookup.hit;
      // Point at the execution that produced the outputs, not at an earlier reuse of them.
      const source = Number(execution.customProperties?.cached_from_execution ?? execution.id);
      const runOf = execution.customProperties?.run_id;
      const reason = `reused outputs of execution ${source}${runOf ? ` (last used by run ${runOf})` : ''}: same component version, parameters and input artifacts`;
      return { material, key, hit: lookup.hit, reason };
    }
    return { material, key, reason: await this.missReason(node, material, lookup.why), judged: lookup.judged };
  }

  private async missReason(node: DrivenNode, material: CacheMaterial, why: string): Promise<string> {
    const [nodeCtx] = await this.store.getContexts({ type: CONTEXT_NODE, name: `${this.pipeline}.${node.id}` });
    if (!nodeCtx) return 'first execution of this node';
    const [prev] = await this.store.getExecutions({ contextId: nodeCtx.id, state: [ExecutionState.COMPLETE, ExecutionState.CACHED], newestFirst: true, limit: 1 });
    const before = prev?.customProperties?.cache_material as CacheMaterial | undefined;
    if (!prev || !before) return `cache miss: ${why}`;
    const diffs = explainDifference(before, material);
    return diffs.length ? `cache miss: since execution ${prev.id}: ${diffs.join('; ')}` : `cache miss: ${why}`;
  }
}

/** The KFP ExecutorInput for one execution: parameters, input artifacts with their metadata, output URIs. */
export function buildExecutorInput(
  component: AnyComponent,
  params: Record<string, unknown>,
  inputs: Record<string, Artifact[]>,
  outputs: Record<string, Artifact>,
  outputFile: string,
): ExecutorInput {
  return {
    inputs: {
      parameterValues: params,
      artifacts: Object.fromEntries(
        Object.entries(inputs).map(([port, arts]) => [
          port,
          {
            artifacts: arts.map((a) => ({
              name: a.id === undefined ? a.name : artifactResourceName(a.id),
              type: kfpArtifactType(component.inputs[port].type, `component ${component.name} input ${port}`),
              uri: a.uri,
              metadata: { ...a.customProperties, ...a.properties },
            })),
          },
        ]),
      ),
    },
    outputs: {
      artifacts: Object.fromEntries(
        Object.entries(outputs).map(([port, a]) => [port, { artifacts: [{ name: a.name, type: kfpArtifactType(component.outputs[port].type, `component ${component.name} output ${port}`), uri: a.uri }] }]),
      ),
      outputFile,
    },
  };
}
