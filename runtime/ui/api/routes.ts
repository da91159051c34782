// The JSON API: every endpoint, its URL pattern and the module that answers it. All are GET (the UI is
// read-only); path segments are URL-decoded before they reach a handler.

import type { MetadataStore } from '../../metadata/types';
import type { RootFiles } from '../root-files';
import { artifactDetail, artifactTypes, listArtifacts } from './artifacts';
import { anomalies, compareStatistics, statistics } from './data-health';
import { evaluationDetail } from './evaluations';
import { badRequest, notFound } from './http-error';
import { DEFAULT_HOPS, directionOf, lineageOf, MAX_HOPS } from './lineage';
import { modelRunDetail } from './model-runs';
import { listModels, type ModelServerOptions } from './models';
import { idOf, numberParam } from './query';
import { getNode, getRun, listPipelines, listRuns, nodeLog, runLog } from './runs';
import { listTuning, tuningDetail } from './tuning';

export interface ApiContext {
  store: MetadataStore;
  /** The served pipeline root: every file a handler reads goes through it. */
  files: RootFiles;
  modelServer: ModelServerOptions;
  /** Shown by /api/info: which store this is. */
  metadata: string;
}

/** A reply that is plain text (logs) rather than JSON. */
export class PlainText {
  constructor(readonly text: string) {}
}

type Handler = (ctx: ApiContext, params: string[], q: URLSearchParams) => Promise<unknown>;

const artifactId = (p: string[]) => idOf(p[0], 'artifact');

const ROUTES: [RegExp, Handler][] = [
  [/^\/api\/info$/, async (ctx) => ({ metadata: ctx.metadata, backend: ctx.store.backend, schemaVersion: await ctx.store.schemaVersion(), modelServer: ctx.modelServer.url ?? null })],
  [/^\/api\/pipelines$/, (ctx) => listPipelines(ctx.store)],
  [/^\/api\/runs$/, (ctx, _, q) => listRuns(ctx.store, q)],
  [/^\/api\/runs\/([^/]+)$/, (ctx, p) => getRun(ctx.store, ctx.files, p[0])],
  [/^\/api\/runs\/([^/]+)\/log$/, async (ctx, p) => new PlainText(await runLog(ctx.store, ctx.files, p[0]))],
  [/^\/api\/runs\/([^/]+)\/nodes\/([^/]+)$/, (ctx, p) => getNode(ctx.store, ctx.files, p[0], p[1])],
  [/^\/api\/runs\/([^/]+)\/nodes\/([^/]+)\/log$/, async (ctx, p) => new PlainText(await nodeLog(ctx.store, ctx.files, p[0], p[1]))],
  [/^\/api\/artifact-types$/, (ctx) => artifactTypes(ctx.store)],
  [/^\/api\/artifacts$/, (ctx, _, q) => listArtifacts(ctx.store, q)],
  [/^\/api\/artifacts\/([^/]+)$/, (ctx, p) => artifactDetail(ctx.store, artifactId(p))],
  [
    /^\/api\/artifacts\/([^/]+)\/lineage$/,
    (ctx, p, q) => lineageOf(ctx.store, artifactId(p), directionOf(q.get('direction')), numberParam(q, 'hops', DEFAULT_HOPS, 1, MAX_HOPS)),
  ],
  [/^\/api\/artifacts\/([^/]+)\/statistics$/, (ctx, p, q) => statistics(ctx.store, ctx.files, artifactId(p), q)],
  [/^\/api\/artifacts\/([^/]+)\/anomalies$/, (ctx, p) => anomalies(ctx.store, ctx.files, artifactId(p))],
  [/^\/api\/artifacts\/([^/]+)\/evaluation$/, (ctx, p) => evaluationDetail(ctx.store, ctx.files, artifactId(p))],
  [/^\/api\/artifacts\/([^/]+)\/tuning$/, (ctx, p) => tuningDetail(ctx.store, ctx.files, artifactId(p))],
  [/^\/api\/artifacts\/([^/]+)\/model-run$/, (ctx, p) => modelRunDetail(ctx.store, ctx.files, artifactId(p))],
  [/^\/api\/statistics\/compare$/, (ctx, _, q) => compareStatistics(ctx.store, ctx.files, q)],
  [/^\/api\/models$/, (ctx, _, q) => listModels(ctx.store, q, ctx.modelServer)],
  [/^\/api\/tuning$/, (ctx, _, q) => listTuning(ctx.store, ctx.files, q)],
];

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed URL escape in ${JSON.stringify(segment)}`);
  }
}

/** Answers an /api/ path; an unknown one is a 404 like an unknown id. */
export async function answerApi(ctx: ApiContext, pathname: string, q: URLSearchParams): Promise<unknown> {
  for (const [pattern, handler] of ROUTES) {
    const m = pattern.exec(pathname);
    if (m) return handler(ctx, m.slice(1).map(decoded), q);
  }
  throw notFound(`no API endpoint ${pathname}`);
}
