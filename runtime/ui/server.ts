// The `mlp ui` web server (node:http): the JSON API under /api/ and the front end — one HTML page, its
// script and style, and Chart.js's own prebuilt bundle from node_modules — all served by the app itself,
// nothing from a CDN (the machines are offline). Read-only: GET and HEAD are answered, anything else is a
// 405. Errors are JSON `{"error": message}` with their status. Who is answered (Host, token) is
// ui-access.ts's rule; every file the API reads is inside the served pipeline root (root-files.ts).

import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { UserError } from '../core/errors';
import { HttpError } from './api/http-error';
import type { ModelServerOptions } from './api/models';
import { answerApi, PlainText } from './api/routes';
import { redactUrl } from '../core/redact-url';
import { RootFiles } from './root-files';
import { StoreAccess } from './store-access';
import { uiAccess } from './ui-access';

export interface UiServerOptions {
  /** Metadata store address (sqlite:PATH or postgres://...). */
  metadata: string;
  /** The pipeline root (local folder, file:// or gs://): the only place files are read from. */
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host names answered besides IP literals, localhost and `host` (runtime/core/allowed-hosts.ts); `*` for any. */
  allowedHosts?: string[];
  /** When set, every request needs this token (ui-access.ts: bearer header, or the cookie ?token= sets). */
  authToken?: string;
  modelServer: ModelServerOptions;
}

export interface UiServer {
  url: string;
  port: number;
  /** True while the SQLite file does not exist yet (an empty store is shown until a run creates it). */
  readonly waitingForStore: boolean;
  close(): Promise<void>;
}

interface Asset {
  body: Buffer;
  type: string;
}

interface Reply {
  status: number;
  type: string;
  body: Buffer | string;
  headers?: Record<string, string>;
}

function errorReply(status: number, message: string, headers?: Record<string, string>): Reply {
  return { status, type: 'application/json', body: JSON.stringify({ error: message }), headers };
}

/** The front end's files: next to this module in a checkout, in the source tree when running from dist/. */
function staticDir(): string {
  const here = path.join(__dirname, 'static');
  return fs.existsSync(here) ? here : path.resolve(__dirname, '..', '..', '..', 'runtime', 'ui', 'static');
}

function loadAssets(): Map<string, Asset> {
  const dir = staticDir();
  // chart.js's package exports hide dist/, so its bundle is found next to the entry point require resolves.
  const chartJs = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  const files: [string, string, string][] = [
    ['/', path.join(dir, 'index.html'), 'text/html; charset=utf-8'],
    ['/static/app.js', path.join(dir, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/static/app.css', path.join(dir, 'app.css'), 'text/css; charset=utf-8'],
    ['/static/chart.umd.min.js', chartJs, 'text/javascript; charset=utf-8'],
  ];
  return new Map(files.map(([url, file, type]) => [url, { body: fs.readFileSync(file), type }]));
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Only this server's own script and style; Chart.js sets canvas sizes through inline styles.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const assets = loadAssets();
  // Checked first: a root the UI cannot read from is a usage error, before the store is opened.
  const files = new RootFiles(opts.root);
  const access = new StoreAccess(opts.metadata);
  // Open (and check) the store before listening, so a wrong address fails the command, not the first page.
  await access.get();
  const shownAddress = redactUrl(opts.metadata);
  let port = opts.port;
  const allowed = uiAccess({ host: opts.host, allowedHosts: opts.allowedHosts ?? [], authToken: opts.authToken }, () => port);

  async function answer(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://ui.local');
    const decision = allowed(req, url);
    if (decision.kind === 'refuse') return errorReply(decision.status, decision.message, decision.headers);
    if (decision.kind === 'redirect') return { status: 303, type: 'text/plain; charset=utf-8', body: '', headers: { ...decision.headers, location: decision.location } };
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorReply(405, `${req.method} is not allowed: mlp ui is read-only (GET only)`, { allow: 'GET, HEAD' });
    if (url.pathname.startsWith('/api/')) {
      const ctx = { store: await access.get(), files, modelServer: opts.modelServer, metadata: shownAddress };
      const result = await answerApi(ctx, url.pathname, url.searchParams);
      return result instanceof PlainText
        ? { status: 200, type: 'text/plain; charset=utf-8', body: result.text }
        : { status: 200, type: 'application/json', body: JSON.stringify(result) };
    }
    const asset = assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (!asset) throw new HttpError(404, `no page ${url.pathname}; the UI is at /`);
    return { status: 200, type: asset.type, body: asset.body };
  }

  const server = http.createServer((req, res) => {
    answer(req)
      .catch((err: unknown): Reply => {
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof HttpError) return errorReply(err.status, message);
        // A UserError from a runtime module is about the data, not a bug; anything else is worth a line on stderr.
        if (!(err instanceof UserError)) process.stderr.write(`mlp ui: ${req.method} ${req.url} failed: ${err instanceof Error ? err.stack : message}\n`);
        return errorReply(500, message);
      })
      .then((reply) => {
        const length = Buffer.byteLength(reply.body);
        res.writeHead(reply.status, { ...SECURITY_HEADERS, 'content-type': reply.type, 'content-length': String(length), 'cache-control': 'no-cache', ...reply.headers });
        res.end(req.method === 'HEAD' ? undefined : reply.body);
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ({ port } = server.address() as AddressInfo);
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    get waitingForStore() {
      return access.waiting;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await access.close();
    },
  };
}
