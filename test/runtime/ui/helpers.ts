// The UI server started in-process for the API tests, and a fetch that returns status, type and body (JSON
// parsed when the answer is JSON) so a test can assert on any of them. The served root is the SQLite
// file's folder, as `mlp ui --root` would have it, unless a test names another.

import * as path from 'path';
import { openMetadataStore, type MetadataStore } from '../../../runtime/metadata';
import { startUiServer, type UiServer } from '../../../runtime/ui/server';

export interface Answer<T = any> {
  status: number;
  type: string;
  body: T;
}

export interface Ui {
  server: UiServer;
  get<T = any>(path: string): Promise<Answer<T>>;
  request(path: string, method: string): Promise<Answer>;
}

async function answerOf(res: Response): Promise<Answer> {
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, body: type.startsWith('application/json') ? JSON.parse(text) : text };
}

export interface UiOptions {
  /** Default: the folder of a sqlite: metadata address. */
  root?: string;
  allowedHosts?: string[];
  authToken?: string;
}

export async function startUi(metadata: string, modelServer: { url?: string; labels?: string[]; authToken?: string } = {}, opts: UiOptions = {}): Promise<Ui> {
  const root = opts.root ?? path.dirname(metadata.replace(/^sqlite:/, ''));
  const server = await startUiServer({ metadata, root, host: '127.0.0.1', port: 0, allowedHosts: opts.allowedHosts, authToken: opts.authToken, modelServer: { ...modelServer, labels: modelServer.labels ?? [] } });
  return {
    server,
    get: async (path) => answerOf(await fetch(`${server.url}${path}`)),
    request: async (path, method) => answerOf(await fetch(`${server.url}${path}`, { method })),
  };
}

/** Records runs into a SQLite store at <dir>/metadata.sqlite (closed again), then starts the UI over it (serving root `root`, default `dir`). */
export async function uiAfterRuns(dir: string, record: (store: MetadataStore) => Promise<void>, root = dir): Promise<Ui> {
  const metadata = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  const store = await openMetadataStore(metadata);
  try {
    await record(store);
  } finally {
    await store.close();
  }
  return startUi(metadata, {}, { root });
}
