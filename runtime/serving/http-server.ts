// The model server's HTTP layer on node:http, independent of what the routes do: the Host check (DNS
// rebinding), routing to the APIs, the optional bearer token, the request body limit (413), the per-request deadline (408 while the body is
// still arriving, 504 after), JSON error bodies with the right status, metrics and structured logs per
// request, a request id on every response (x-request-id: the caller's own, else a new one), HEAD on GET routes,
// and a drain on close (see close()). No input can crash it: every failure of a handler becomes a response.

import * as http from 'http';
import type { AddressInfo } from 'net';
import { randomUUID } from 'crypto';
import type { Logger } from 'pino';
import { HOST_REFUSED_MESSAGE, HOST_REFUSED_STATUS, hostCheck } from '../core/allowed-hosts';
import { bearerOf, tokenCheck } from '../core/bearer-token';
import type { AccessLog } from './access-log';
import type { ServerMetrics } from './metrics';
import { RequestError } from './request-error';
import { parseTolerantJson, stringifyTolerantJson } from './tolerant-json';

export interface Reply {
  status?: number;
  /** JSON-encoded unless contentType is given (then sent as the text or the Buffer it is). */
  body: unknown;
  contentType?: string;
  /** Further response headers (lower-case names). */
  headers?: Record<string, string>;
  /** The model version that answered, sent as the x-model-version header. */
  version?: number;
  /** The body holds NaN or ±Infinity: written as TF Serving's bare tokens (tolerant-json.ts) instead of null. */
  nonFinite?: boolean;
}

export interface Route {
  method: 'GET' | 'POST';
  /** For metrics and logs: predict, classify, regress, infer, status, metadata, health, metrics... */
  api: string;
  /** A served model's name (only served ones: a label from the URL would let callers create metric series). */
  model?: string;
  /** Answered without the bearer token: health checks, which probes call without credentials. */
  public?: boolean;
  /** `body()` reads and parses the JSON request body; handlers call it only once they know the target exists. */
  handle(body: () => Promise<unknown>, info: RequestInfo): Promise<Reply>;
  /** Parses the body's bytes instead of parseJsonBody (OIP's binary tensor data); throws RequestErrors. */
  parseBody?(bytes: Buffer, header: (name: string) => string | undefined): unknown;
}

/** What handlers know of a request besides its body. */
export interface RequestInfo {
  /** The x-request-id the response carries: the caller's, or a new UUID. */
  requestId: string;
  /** x-request-key: makes a traffic split sticky (the same key gets the same version). */
  routingKey?: string;
}

/** A route for a URL path, or undefined when the path is not one of this API's. */
export type Router = (path: string) => Route | undefined;

export interface HttpServerOptions {
  host: string;
  port: number;
  routers: Router[];
  maxBodyBytes: number;
  requestTimeoutMs: number;
  authToken?: string;
  /** Host names answered besides IP literals, localhost and `host` (runtime/core/allowed-hosts.ts). */
  allowedHosts?: string[];
  metrics: ServerMetrics;
  logger: Logger;
  /** The line per answered request (`event: request`). */
  accessLog: AccessLog;
}

/** How a close drains the server. */
export interface DrainOptions {
  /** The longest a drain takes: connections still open then are closed. */
  seconds: number;
  /**
   * How long new connections are still accepted (at most `seconds`): a load balancer may send requests for a
   * few seconds after a readiness check first fails, and they should not be refused.
   */
  acceptSeconds: number;
}

export interface HttpServer {
  port: number;
  url: string;
  /**
   * Drains, then resolves: every response from now on carries `Connection: close` and idle keep-alive
   * connections are closed; new connections are accepted for `acceptSeconds`, then the listener closes;
   * requests in flight (and requests arriving on open connections) are answered until all connections
   * have closed or `seconds` have passed, when the rest are closed. A later call can only shorten the drain.
   */
  close(drain: DrainOptions): Promise<void>;
}

/** TensorFlow Serving's REST port. */
export const DEFAULT_PORT = 8501;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A drain's default length: under Kubernetes' default terminationGracePeriodSeconds (30), leaving time to exit. */
export const DEFAULT_DRAIN_SECONDS = 25;
/** How long `mlp serve` accepts new connections after SIGTERM by default: endpoint removal reaching load balancers. */
export const DEFAULT_DRAIN_ACCEPT_SECONDS = 5;

const MODEL_VERSION_HEADER = 'x-model-version';
const REQUEST_ID_HEADER = 'x-request-id';
/** Makes traffic routing sticky per key (RequestInfo.routingKey). */
export const ROUTING_KEY_HEADER = 'x-request-key';
/** Longer ids are refused: they are echoed, logged and remembered for :feedback. */
const MAX_REQUEST_ID_LENGTH = 128;

/** A single-valued header (a repeated one counts as its first value). */
function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A URL path segment decoded (model names and labels may be percent-encoded); undefined when malformed. */
export function decodePathSegment(s: string): string | undefined {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Largest unread request body that is drained (read and dropped) rather than cut off by closing. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** A request body parsed as JSON (NaN and Infinity accepted); RequestErrors for a body empty or not JSON. */
export function parseJsonBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new RequestError(400, 'request body is empty; expected a JSON object');
  try {
    return parseTolerantJson(text);
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The request body read and parsed by `parse`; a RequestError for a body too large or one `parse` refuses. */
function readBody(req: http.IncomingMessage, limit: number, parse: (bytes: Buffer) => unknown): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // One promise per body, parsed where it ends: this runs for every request.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      // Refused as too large already: what arrived is not parsed.
      if (size > limit) return;
      try {
        // A small body arrives in one chunk, used as it is (concat would copy it).
        resolve(parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', (err) => reject(new RequestError(400, `reading the request body failed: ${err.message}`)));
  });
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, `request body is larger than the limit of ${limit} bytes`);
}

/** Reads and drops the rest of a request body; a body still not complete after `ms` has its connection closed. */
function discardBody(req: http.IncomingMessage, ms: number): void {
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), ms);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/** A promise that a timer resolves; fireWithin only ever brings the moment forward. */
function deferredTimer() {
  let resolve!: () => void;
  const fired = new Promise<void>((r) => (resolve = r));
  let at = Infinity;
  let timer: NodeJS.Timeout | undefined;
  return {
    fired,
    fireWithin(ms: number) {
      if (Date.now() + ms >= at) return;
      at = Date.now() + ms;
      clearTimeout(timer);
      timer = setTimeout(resolve, ms);
    },
    cancel: () => clearTimeout(timer),
  };
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { metrics, logger } = opts;
  const tokenMatches = opts.authToken === undefined ? undefined : tokenCheck(opts.authToken);
  const hostAllowed = hostCheck(opts.host, opts.allowedHosts ?? []);
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const urlPath = query < 0 ? url : url.slice(0, query);
    let route: Route | undefined;
    let reply: Reply;
    const headers: Record<string, string> = {};
    const info: RequestInfo = { requestId: header(req, REQUEST_ID_HEADER) || randomUUID(), routingKey: header(req, ROUTING_KEY_HEADER) };
    try {
      if (info.requestId.length > MAX_REQUEST_ID_LENGTH) {
        const given = info.requestId;
        info.requestId = randomUUID();
        throw new RequestError(400, `${REQUEST_ID_HEADER} is ${given.length} characters long; the limit is ${MAX_REQUEST_ID_LENGTH}`);
      }
      // Before routing: a refused Host learns nothing, not even which paths exist.
      if (!hostAllowed(req.headers.host)) throw new RequestError(HOST_REFUSED_STATUS, HOST_REFUSED_MESSAGE);
      for (const router of opts.routers) if (!route) route = router(urlPath);
      if (!route) throw new RequestError(404, `Malformed request: ${method} ${urlPath}`);
      // HEAD is answered as GET, without the body (RFC 9110).
      if (method !== route.method && !(method === 'HEAD' && route.method === 'GET')) {
        headers.allow = route.method === 'GET' ? 'GET, HEAD' : route.method;
        throw new RequestError(405, `${method} is not allowed on ${urlPath}; use ${route.method}`);
      }
      if (tokenMatches && !route.public && !tokenMatches(bearerOf(req.headers.authorization))) {
        headers['www-authenticate'] = 'Bearer';
        throw new RequestError(401, 'missing or wrong bearer token (Authorization: Bearer <token>)');
      }
      reply = await withDeadline(route, req, info, opts);
    } catch (err) {
      reply = errorReply(err, method, urlPath, logger);
    }
    const status = reply.status ?? 200;
    if (reply.version !== undefined) headers[MODEL_VERSION_HEADER] = String(reply.version);
    headers[REQUEST_ID_HEADER] = info.requestId;
    if (draining) headers.connection = 'close';
    // A body that was not read (refused before reading, or too large) must not stay on the connection. Up to
    // DRAIN_LIMIT it is read and discarded, so a client still uploading gets the answer instead of a reset
    // (closing with unread data makes the kernel send RST), for at most the request timeout; beyond that
    // the connection is closed. A body that already missed its deadline (408) is not waited for again.
    if (!req.complete) {
      const declared = Number(req.headers['content-length']);
      if (status !== 408 && Number.isFinite(declared) && declared <= DRAIN_LIMIT) discardBody(req, opts.requestTimeoutMs);
      else headers.connection = 'close';
    }
    // A string body goes out in one write with the header block (Node joins them); a Buffer would take a
    // writev of two parts.
    const body = reply.contentType ? (Buffer.isBuffer(reply.body) ? reply.body : String(reply.body)) : reply.nonFinite ? stringifyTolerantJson(reply.body) : JSON.stringify(reply.body);
    Object.assign(headers, reply.headers);
    headers['content-type'] = reply.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    if (!res.destroyed) res.writeHead(status, headers).end(method === 'HEAD' ? undefined : body);

    const seconds = (performance.now() - started) / 1000;
    const model = route?.model ?? '';
    const api = route?.api ?? 'unknown';
    metrics.requestAnswered(model, reply.version === undefined ? '' : String(reply.version), api, status, seconds);
    opts.accessLog.write({ method, path: urlPath, status, ms: Math.round(seconds * 1e4) / 10, model: route?.model, version: reply.version, api, requestId: info.requestId });
  }

  // A request is in flight until it is answered (or its connection dropped by a bug in answering), whether
  // or not its client is still there: a drain waits for every handler to finish.
  const answered = () => {
    if (--inFlight === 0) drained?.();
  };
  // The drain's two moments (the listener closes; the rest is cut off) as timers a later close can bring forward.
  const acceptEnd = deferredTimer();
  const deadline = deferredTimer();
  let drainDone: Promise<void> | undefined;
  let drainEnded = false;
  function drain(options: DrainOptions): Promise<void> {
    // After the drain nothing is scheduled: a timer would only keep the process alive.
    if (drainEnded) return drainDone!;
    acceptEnd.fireWithin(Math.min(options.acceptSeconds, options.seconds) * 1000);
    deadline.fireWithin(options.seconds * 1000);
    if (drainDone) return drainDone;
    draining = true;
    server.closeIdleConnections();
    drainDone = (async () => {
      await acceptEnd.fired;
      // Node closes the idle connections with the listener; the others close after their answer (Connection: close).
      const closed = new Promise<void>((done) => server.close(() => done()));
      const answeredAll = (async () => {
        if (inFlight > 0) await new Promise<void>((done) => (drained = done));
        server.closeIdleConnections();
        await closed;
      })();
      if (await Promise.race([answeredAll.then(() => false), deadline.fired.then(() => true)])) {
        logger.warn({ inFlight }, 'drain deadline reached: closing the connections still open');
        server.closeAllConnections();
        await closed;
      }
      deadline.cancel();
      drainEnded = true;
    })();
    return drainDone;
  }

  const server = http.createServer((req, res) => {
    inFlight++;
    answer(req, res).then(answered, (err) => {
      // Only a bug in answering itself gets here; the connection is dropped rather than the process.
      logger.error({ err }, 'answering a request failed');
      res.destroy();
      answered();
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      // After listening, errors are about single connections (e.g. out of file descriptors): logged, not fatal.
      server.on('error', (err) => logger.error({ err }, 'HTTP server error'));
      const { port } = server.address() as AddressInfo;
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolve({ port, url: `http://${host}:${port}`, close: drain });
    });
  });
}

/**
 * Runs the route's handler under the request deadline: 408 while the request's body is still arriving, else
 * 504. One promise and one timer per request (this runs for every request, so no race/finally chains).
 */
function withDeadline(route: Route, req: http.IncomingMessage, info: RequestInfo, opts: HttpServerOptions): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        req.complete
          ? new RequestError(504, `request not answered within ${opts.requestTimeoutMs} ms`)
          : new RequestError(408, `request body not received within ${opts.requestTimeoutMs} ms`),
      );
    }, opts.requestTimeoutMs);
    // After the deadline the handler's result is dropped (a settled promise ignores later calls).
    const parse = route.parseBody ? (bytes: Buffer) => route.parseBody!(bytes, (name) => header(req, name)) : parseJsonBody;
    route.handle(() => readBody(req, opts.maxBodyBytes, parse), info).then(
      (reply) => {
        clearTimeout(timer);
        resolve(reply);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function errorReply(err: unknown, method: string, urlPath: string, logger: Logger): Reply {
  if (err instanceof RequestError) return { status: err.status, body: { error: err.message } };
  const e = err instanceof Error ? err : new Error(String(err));
  logger.error({ method, path: urlPath, err: e }, 'request failed with an internal error');
  return { status: 500, body: { error: `internal error: ${e.message}` } };
}
