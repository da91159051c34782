// Data-aware caching, as TFX does it: the key is component name + version + resolved parameters + each
// input artifact's identity and content fingerprint. A hit is the newest COMPLETE/CACHED execution with that
// key whose outputs are all LIVE and still committed in storage with the recorded fingerprint — a deleted
// or altered output is a miss (and its artifact is marked DELETED), unlike KFP.

import { canonicalJson, sha256Hex } from '../core/canonical-json';
import { FINGERPRINT_PROPERTY } from '../core/launcher';
import type { AnyComponent, ExternalInputs } from '../core/component';
import {
  ArtifactState,
  EventType,
  ExecutionState,
  type Artifact,
  type Execution,
  type MetadataStore,
} from '../metadata/types';
import { storageFor } from '../storage';
import { CONTEXT_CACHE } from './mlmd-types';

export interface CacheMaterial {
  component: string;
  version: string;
  parameters: Record<string, unknown>;
  inputs: Record<string, { id: number; fingerprint: string }[]>;
  /** Data read from outside the pipeline (components with externalInputs). */
  external?: ExternalInputs;
}

export function cacheMaterial(
  component: AnyComponent,
  parameters: Record<string, unknown>,
  inputs: Record<string, Artifact[]>,
  external?: ExternalInputs,
): CacheMaterial {
  const byPort: CacheMaterial['inputs'] = {};
  for (const [port, artifacts] of Object.entries(inputs)) {
    byPort[port] = artifacts.map((a) => ({ id: a.id!, fingerprint: String(a.customProperties?.[FINGERPRINT_PROPERTY] ?? '') }));
  }
  return { component: component.name, version: component.version, parameters, inputs: byPort, ...(external ? { external } : {}) };
}

export function cacheKey(material: CacheMaterial): string {
  // The summary is for people; only the fingerprint identifies the external data.
  const { external, ...rest } = material;
  return sha256Hex(canonicalJson(external ? { ...rest, external: external.fingerprint } : rest));
}

export interface CacheHit {
  execution: Execution;
  /** Output artifacts by port. */
  outputs: Record<string, Artifact>;
}

/** A hit, or why there is none and which finished executions with the key were judged unusable. */
export type CacheLookup = { hit: CacheHit } | { hit?: undefined; why: string; judged: number[] };

/** Output artifacts of an execution by port, from its OUTPUT events (path [{key: port}, {index}]). */
export async function outputsOf(store: MetadataStore, executionId: number): Promise<Record<string, Artifact>> {
  const events = (await store.getEvents({ executionIds: [executionId] })).filter((e) => e.type === EventType.OUTPUT);
  if (events.length === 0) return {};
  const artifacts = await store.getArtifacts({ ids: events.map((e) => e.artifactId) });
  const byId = new Map(artifacts.map((a) => [a.id!, a]));
  const out: Record<string, Artifact> = {};
  for (const e of events) {
    const step = e.path?.[0];
    const a = byId.get(e.artifactId);
    if (step && 'key' in step && a) out[step.key] = a;
  }
  return out;
}

export async function lookupCache(store: MetadataStore, component: AnyComponent, key: string): Promise<CacheLookup> {
  const [ctx] = await store.getContexts({ type: CONTEXT_CACHE, name: key });
  if (!ctx) return { why: 'no earlier execution with this cache key', judged: [] };
  const candidates = await store.getExecutions({
    contextId: ctx.id,
    state: [ExecutionState.COMPLETE, ExecutionState.CACHED],
    newestFirst: true,
  });
  if (candidates.length === 0) return { why: 'earlier executions with this cache key did not complete', judged: [] };
  let why = '';
  for (const execution of candidates) {
    const outputs = await outputsOf(store, execution.id!);
    const problem = await outputProblem(store, component, outputs);
    if (!problem) return { hit: { execution, outputs } };
    why ||= `execution ${execution.id} has the same cache key but ${problem}`;
  }
  return { why, judged: candidates.map((e) => e.id!) };
}

/** Why a set of cached outputs cannot be reused, or undefined when it can. */
async function outputProblem(
  store: MetadataStore,
  component: AnyComponent,
  outputs: Record<string, Artifact>,
): Promise<string | undefined> {
  for (const port of Object.keys(component.outputs)) {
    const a = outputs[port];
    if (!a) return `has no output "${port}"`;
    if (a.state !== ArtifactState.LIVE) return `its output "${port}" (${a.uri}) is ${ArtifactState[a.state]}`;
    const commit = await storageFor(a.uri).readCommit(a.uri);
    const recorded = a.customProperties?.[FINGERPRINT_PROPERTY];
    if (!commit || (recorded !== undefined && commit.fingerprint !== recorded)) {
      // Reflect reality in the store so nothing downstream trusts the artifact again.
      await store.updateArtifactStates([a.id!], ArtifactState.DELETED);
      return commit
        ? `its output "${port}" (${a.uri}) was modified after publishing`
        : `its output "${port}" (${a.uri}) is missing from storage`;
    }
  }
  return undefined;
}

/** Human-readable differences between the cache material of an earlier execution and now. */
export function explainDifference(before: CacheMaterial, now: CacheMaterial): string[] {
  const diffs: string[] = [];
  if (before.version !== now.version) diffs.push(`component version ${before.version} → ${now.version}`);
  if (before.external?.fingerprint !== now.external?.fingerprint) {
    diffs.push(`external inputs ${before.external?.summary ?? 'none'} → ${now.external?.summary ?? 'none'}`);
  }
  const names = new Set([...Object.keys(before.parameters), ...Object.keys(now.parameters)]);
  for (const n of [...names].sort()) {
    const a = canonicalJson(before.parameters[n]);
    const b = canonicalJson(now.parameters[n]);
    if (a !== b) diffs.push(`parameter ${n} ${a} → ${b}`);
  }
  const ports = new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)]);
  for (const p of [...ports].sort()) {
    const a = (before.inputs[p] ?? []).map((x) => x.id).join(',');
    const b = (now.inputs[p] ?? []).map((x) => x.id).join(',');
    if (a !== b) diffs.push(`input ${p} artifact ${a || 'none'} → ${b || 'none'}`);
    else if (canonicalJson(before.inputs[p]) !== canonicalJson(now.inputs[p])) diffs.push(`input ${p} content changed`);
  }
  return diffs;
}
