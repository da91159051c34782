// Artifacts: their types with counts, a page of artifacts (by type and state, newest first), and one
// artifact with the execution that made it and the executions that used it.

import { ArtifactState, TypeKind, type MetadataStore } from '../../metadata/types';
import type { CachedReuse } from '../../metadata/cached-reuses';
import { badRequest } from './http-error';
import { reusesAround } from './lineage';
import { artifactById, consumersOf, producerOf } from './provenance';
import { pageFrom, pageOf, type PageOf } from './query';
import { artifactView, executionView, type ArtifactView, type ExecutionView } from './records';

export interface ArtifactDetail {
  artifact: ArtifactView;
  /** The execution that made it, and the port it came out of; absent for an artifact nothing produced. */
  producer?: { execution: ExecutionView; port: string; reusedBy?: CachedReuse[] };
  /** Newest first; a CACHED consumer is folded into the consumer whose outputs it reused (`reusedBy`), as in the lineage. */
  consumers: { execution: ExecutionView; port: string; reusedBy?: CachedReuse[] }[];
}

export async function artifactTypes(store: MetadataStore): Promise<{ name: string; count: number }[]> {
  const types = await store.getTypes(TypeKind.ARTIFACT);
  const counted = await Promise.all(types.map(async (t) => ({ name: t.name, count: await store.countArtifacts({ type: t.name }) })));
  return counted.sort((a, b) => a.name.localeCompare(b.name));
}

function stateOf(value: string | null): ArtifactState | undefined {
  if (value === null || value === '') return undefined;
  const state = ArtifactState[value.toUpperCase() as keyof typeof ArtifactState];
  if (state === undefined) throw badRequest(`state=${value}: expected one of ${Object.keys(ArtifactState).filter((k) => isNaN(Number(k))).join(', ')}`);
  return state;
}

export async function listArtifacts(store: MetadataStore, q: URLSearchParams): Promise<PageOf<ArtifactView>> {
  const page = pageOf(q);
  const filter = { type: q.get('type') || undefined, state: stateOf(q.get('state')) };
  const [rows, total] = await Promise.all([
    store.getArtifacts({ ...filter, newestFirst: true, limit: page.limit + 1, offset: page.offset }),
    store.countArtifacts(filter),
  ]);
  return pageFrom(rows.map(artifactView), page, total);
}

export async function artifactDetail(store: MetadataStore, id: number): Promise<ArtifactDetail> {
  const artifact = await artifactById(store, id);
  const [producer, consumers, reuses] = await Promise.all([producerOf(store, id), consumersOf(store, id), reusesAround(store, id)]);
  const port = producer?.outputs.find((o) => o.artifact.id === id)?.port ?? '';
  const folded = new Set([...reuses.values()].flat().map((r) => r.executionId));
  const withReuses = (executionId: number) => (reuses.has(executionId) ? { reusedBy: reuses.get(executionId) } : {});
  return {
    artifact: artifactView(artifact),
    ...(producer ? { producer: { execution: executionView(producer.execution), port, ...withReuses(producer.execution.id!) } } : {}),
    consumers: consumers.filter((c) => !folded.has(c.execution.id!)).map((c) => ({ execution: executionView(c.execution), port: c.port, ...withReuses(c.execution.id!) })),
  };
}
