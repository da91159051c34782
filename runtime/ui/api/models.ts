// Models: the versions the Pusher pushed (PushedModel artifacts with pushed = 1), grouped by model — the
// name a model server serves them under, the folder above the version folder, as `mlp run` suggests it —
// each with the run, model, blessings and evaluation it came from (one hop up the lineage at a time), and,
// when a model server is configured, what that server serves now.

import * as path from 'path';
import type { Artifact, MetadataStore } from '../../metadata/types';
import { liveStatus, type LiveStatus } from './model-server-status';
import { onPort, producerOf } from './provenance';
import { pageFrom, pageOf, type PageOf } from './query';
import { propertyOf } from './records';

export interface Verdict {
  artifactId: number;
  blessed: boolean;
}

export interface PushedVersion {
  artifactId: number;
  version: string;
  destination: string;
  pushedAt?: number;
  runId?: string;
  model?: { artifactId: number; uri: string };
  blessing?: Verdict;
  infraBlessing?: Verdict;
  evaluation?: { artifactId: number; metrics: Record<string, number> };
}

export interface ModelView {
  name: string;
  basePath: string;
  versions: PushedVersion[];
  live?: LiveStatus;
}

export interface ModelServerOptions {
  url?: string;
  labels: string[];
  /** Sent as `Authorization: Bearer <token>` to a server started with --auth-token-file. */
  authToken?: string;
}

const verdict = (a: Artifact): Verdict => {
  const blessed = propertyOf(a, 'blessed');
  return { artifactId: a.id!, blessed: blessed === 1 || blessed === true };
};

/** Headline metrics the Evaluator copies onto its evaluation artifact's properties (numbers only). */
function headline(a: Artifact): Record<string, number> {
  const all = { ...a.customProperties, ...a.properties };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, number] => typeof e[1] === 'number' && e[0] !== 'slices'));
}

async function pushedVersion(store: MetadataStore, pushed: Artifact): Promise<PushedVersion> {
  const pusher = await producerOf(store, pushed.id!);
  const model = onPort(pusher?.inputs ?? [], 'model');
  const blessing = onPort(pusher?.inputs ?? [], 'model_blessing');
  const infraBlessing = onPort(pusher?.inputs ?? [], 'infra_blessing');
  const evaluator = blessing ? await producerOf(store, blessing.id!) : undefined;
  const evaluation = onPort(evaluator?.outputs ?? [], 'evaluation');
  const runId = pusher?.execution.customProperties?.run_id;
  return {
    artifactId: pushed.id!,
    version: String(propertyOf(pushed, 'pushed_version') ?? ''),
    destination: String(propertyOf(pushed, 'pushed_destination') ?? ''),
    pushedAt: pushed.createTimeSinceEpoch,
    ...(typeof runId === 'string' ? { runId } : {}),
    ...(model ? { model: { artifactId: model.id!, uri: model.uri } } : {}),
    ...(blessing ? { blessing: verdict(blessing) } : {}),
    ...(infraBlessing ? { infraBlessing: verdict(infraBlessing) } : {}),
    ...(evaluation ? { evaluation: { artifactId: evaluation.id!, metrics: headline(evaluation) } } : {}),
  };
}

export async function listModels(store: MetadataStore, q: URLSearchParams, server: ModelServerOptions): Promise<PageOf<ModelView> & { serverUrl?: string }> {
  const page = pageOf(q);
  const rows = await store.getArtifacts({ type: 'PushedModel', properties: { pushed: 1 }, newestFirst: true, limit: page.limit + 1, offset: page.offset });
  const shown = pageFrom(rows, page);
  const byBase = new Map<string, ModelView>();
  for (const pushed of shown.items) {
    const version = await pushedVersion(store, pushed);
    // Destinations are local paths or gs:// URIs, '/'-separated either way.
    const basePath = path.posix.dirname(version.destination);
    let model = byBase.get(basePath);
    if (!model) byBase.set(basePath, (model = { name: path.posix.basename(basePath), basePath, versions: [] }));
    model.versions.push(version);
  }
  const models = [...byBase.values()];
  if (server.url) await Promise.all(models.map(async (m) => (m.live = await liveStatus(server.url!, m.name, server.labels, server.authToken))));
  return { ...shown, items: models, ...(server.url ? { serverUrl: server.url } : {}) };
}
