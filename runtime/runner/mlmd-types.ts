// The MLMD types the runner records with: context types as TFX names them (pipeline, pipeline_run, node),
// a context per cache key, the standard artifact types and one execution type per component.

import type { MetadataStore } from '../metadata/types';
import { PropertyType, TypeKind } from '../metadata/types';
import { STANDARD_ARTIFACT_TYPES, type ArtifactType } from '../core/artifact-types';
import type { AnyComponent } from '../core/component';

export const CONTEXT_PIPELINE = 'pipeline';
export const CONTEXT_RUN = 'pipeline_run';
export const CONTEXT_NODE = 'node';
export const CONTEXT_CACHE = 'cache_key';

/** Registers every type a run of these components needs (idempotent; safe with concurrent runs). */
export async function registerTypes(store: MetadataStore, components: AnyComponent[]): Promise<void> {
  const artifactTypes = new Map<string, ArtifactType>();
  for (const t of STANDARD_ARTIFACT_TYPES) artifactTypes.set(t.name, t);
  for (const c of components) {
    for (const p of [...Object.values(c.inputs), ...Object.values(c.outputs)]) artifactTypes.set(p.type.name, p.type);
  }
  for (const t of artifactTypes.values()) {
    await store.putType({ kind: TypeKind.ARTIFACT, name: t.name, description: t.description, properties: { ...t.properties }, baseType: t.baseType });
  }
  for (const name of [CONTEXT_PIPELINE, CONTEXT_RUN, CONTEXT_NODE, CONTEXT_CACHE]) {
    await store.putType({ kind: TypeKind.CONTEXT, name, properties: {} });
  }
  for (const c of new Set(components)) {
    await store.putType({
      kind: TypeKind.EXECUTION,
      name: c.name,
      description: c.description,
      properties: { component_version: PropertyType.STRING },
    });
  }
}
