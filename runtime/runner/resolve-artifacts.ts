// Resolution for resolver nodes: finds the artifact a ResolverStrategy asks for in the metadata store —
// the latest LIVE artifact of a type made by this pipeline (or one of its nodes) with given property
// values, the model of the latest positive blessing, or the previous span of an artifact this run
// produced, attributed to the same node.

import { ArtifactState, type Artifact, type MetadataStore } from '../metadata/types';
import type { ResolverStrategy } from '../../pipelines/dsl/resolver';
import { CONTEXT_NODE, CONTEXT_PIPELINE } from './mlmd-types';
import { CURRENT_MODEL_URI, LEGACY_CURRENT_MODEL_URI } from '../ml/blessing';

export interface Resolution {
  artifact?: Artifact;
  /** What was looked for and what was found, for --explain. */
  reason: string;
}

async function contextId(store: MetadataStore, type: string, name: string): Promise<number | undefined> {
  const [ctx] = await store.getContexts({ type, name });
  return ctx?.id;
}

function numberProperty(a: Artifact, name: string): number | undefined {
  const v = a.properties?.[name] ?? a.customProperties?.[name];
  return typeof v === 'number' ? v : undefined;
}

export async function resolveArtifact(
  store: MetadataStore,
  pipeline: string,
  typeName: string,
  strategy: ResolverStrategy,
  /** The artifact `of` (previous-span) or `excluding` (latest-blessed-model) resolved to in this run. */
  current?: Artifact,
): Promise<Resolution> {
  if (strategy.kind === 'latest') {
    const scope = strategy.producer ? `node ${strategy.producer.id}` : `pipeline ${pipeline}`;
    const ctx = strategy.producer
      ? await contextId(store, CONTEXT_NODE, `${pipeline}.${strategy.producer.id}`)
      : await contextId(store, CONTEXT_PIPELINE, pipeline);
    const filter = strategy.properties && Object.keys(strategy.properties).length ? ` with ${JSON.stringify(strategy.properties)}` : '';
    if (ctx === undefined) return { reason: `no ${typeName} from ${scope} yet` };
    const artifact = await store.getLatestArtifact(typeName, { state: ArtifactState.LIVE, contextId: ctx, properties: strategy.properties });
    return artifact
      ? { artifact, reason: `resolved the latest ${typeName} from ${scope}${filter}: artifact ${artifact.id}` }
      : { reason: `no LIVE ${typeName} from ${scope}${filter}` };
  }
  if (strategy.kind === 'latest-blessed-model') return latestBlessedModel(store, pipeline, strategy.evaluator, current);
  const of = strategy.of;
  const span = current && numberProperty(current, 'span');
  if (!current || span === undefined) return { reason: `${of} has no span to look before` };
  const ctx = await contextId(store, CONTEXT_NODE, `${pipeline}.${of.node.id}`);
  const candidates = ctx === undefined ? [] : await store.getArtifacts({ type: typeName, state: ArtifactState.LIVE, contextId: ctx, newestFirst: true });
  let best: Artifact | undefined;
  for (const a of candidates) {
    const s = numberProperty(a, 'span');
    if (s === undefined || s >= span || a.id === current.id) continue;
    // Newest first, so on equal span and version the first one seen (the newest) wins.
    const bs = best && numberProperty(best, 'span')!;
    const better = !best || s > bs! || (s === bs && (numberProperty(a, 'version') ?? 0) > (numberProperty(best, 'version') ?? 0));
    if (better) best = a;
  }
  return best
    ? { artifact: best, reason: `resolved span ${numberProperty(best, 'span')} (artifact ${best.id}) as the span before ${span} of ${of}` }
    : { reason: `no ${typeName} of ${of} with a span before ${span}` };
}

async function latestBlessedModel(store: MetadataStore, pipeline: string, evaluator: string, excluded?: Artifact): Promise<Resolution> {
  const ctx = await contextId(store, CONTEXT_NODE, `${pipeline}.${evaluator}`);
  if (ctx === undefined) return { reason: `no blessing from node ${evaluator} yet` };
  const blessings = await store.getArtifacts({ type: 'ModelBlessing', state: ArtifactState.LIVE, contextId: ctx, properties: { blessed: 1 }, newestFirst: true });
  for (const b of blessings) {
    const uri = b.customProperties?.[CURRENT_MODEL_URI] ?? b.customProperties?.[LEGACY_CURRENT_MODEL_URI];
    if (typeof uri !== 'string' || uri === excluded?.uri) continue;
    const [model] = await store.getArtifacts({ type: 'Model', uri, state: ArtifactState.LIVE });
    if (model) return { artifact: model, reason: `resolved model ${model.id}, blessed by ${evaluator} (blessing ${b.id}), as the latest blessed model` };
  }
  return { reason: `no LIVE model blessed by node ${evaluator}${excluded ? ` other than the candidate ${excluded.uri}` : ''}` };
}
