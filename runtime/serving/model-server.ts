// The model server: picks the TensorFlow.js backend, loads the configured models, answers the TensorFlow
// Serving REST API, the Open Inference Protocol v2 and our serving status extension (plus /metrics) on one
// HTTP port, and watches the base paths for new versions. `mlp serve` and tests start it through
// startModelServer. Optional: sampled request logging, and a seed for the random draws of traffic splits,
// bandits and log sampling.

import * as os from 'os';
import * as path from 'path';
import pino, { type Logger } from 'pino';
import { UserError } from '../core/errors';
import { selectBackend } from '../ml/backend';
import { loggerAccessLog, type AccessLog } from './access-log';
import { DEFAULT_BATCHING, type BatchingOptions } from './batcher';
import type { ModelConfig } from './config';
import { DEFAULT_DRAIN_SECONDS, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, startHttpServer, type DrainOptions, type Router } from './http-server';
import { ServerMetrics } from './metrics';
import { ModelRegistry, type ServedModel } from './model-registry';
import { humanDestination, type LogFormat } from './log-format';
import { oipRouter } from './oip-api';
import { randomSource } from './random';
import { RequestLog, type RequestLogOptions } from './request-log';
import { servingStatusRouter } from './serving-status-api';
import { tfServingRouter } from './tfserving-api';

export interface ModelServerOptions {
  models: ModelConfig[];
  /** Default 127.0.0.1: exposing the server is a deliberate choice. */
  host?: string;
  /** Default 8501 (TF Serving's REST port); 0 picks a free port. */
  port?: number;
  /** How often base paths are looked at for new versions; 0 turns hot reload off. Default 2. */
  pollSeconds?: number;
  batching?: Partial<BatchingOptions>;
  /** Default 10 MiB. */
  maxBodyBytes?: number;
  /** Default 30 s (TF Serving's REST API default). */
  requestTimeoutMs?: number;
  /** When set, every request but the health checks needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Host names answered besides IP literals, localhost and `host` (runtime/core/allowed-hosts.ts); `*` for any. */
  allowedHosts?: string[];
  /** Default: JSON lines on stderr at info level (stdout carries the CLI's ready line). */
  logger?: Logger;
  /** Where the line per answered request goes; default: through `logger` (mlp serve passes a buffered one). */
  accessLog?: AccessLog;
  /** Sampled request/prediction logging; off by default. */
  requestLog?: RequestLogOptions;
  /** Seeds traffic splits, bandits and log sampling (reproducible runs); default Math.random. */
  randomSeed?: number;
  /** Where versions of gs:// base paths are downloaded; default <tmp>/mlp-serving-cache. */
  modelCacheDir?: string;
  /** How close() drains (http-server.ts); default 25 s at most, no new connections (mlp serve accepts them for 5 s). */
  drain?: DrainOptions;
}

export interface ModelServer {
  url: string;
  port: number;
  models: ServedModel[];
  /**
   * Drains: reports not ready at once, answers in-flight requests and closes connections as the drain options
   * say (http-server.ts), then stops polling and unloads the models. A later call, with shorter drain
   * options, shortens the drain under way; every call resolves when the server has stopped.
   */
  close(drain?: DrainOptions): Promise<void>;
}

/**
 * Logs on stderr: JSON with Cloud Logging's `severity` next to pino's numeric level (access-log.ts writes the
 * same shape), or those records as lines for people (log-format.ts).
 */
export function serverLogger(level = 'info', fd = 2, format: LogFormat = 'json'): Logger {
  const destination = format === 'text' ? humanDestination(fd) : pino.destination(fd);
  return pino({ level, base: { component: 'model-server' }, formatters: { level: (label, number) => ({ level: number, severity: label.toUpperCase() }) } }, destination);
}

function metricsRouter(metrics: ServerMetrics): Router {
  return (path) =>
    path === '/metrics'
      ? { method: 'GET', api: 'metrics', handle: async () => ({ body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }) }
      : undefined;
}

export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const logger = opts.logger ?? serverLogger();
  const accessLog = opts.accessLog ?? loggerAccessLog(logger);
  const backend = await selectBackend();
  logger.info({ backend: backend.name, skipped: backend.skipped }, 'TensorFlow.js backend selected');
  const metrics = new ServerMetrics();
  const batching = { ...DEFAULT_BATCHING, ...opts.batching };
  const random = randomSource(opts.randomSeed);
  const requestLog = opts.requestLog && new RequestLog(opts.requestLog, random, logger);
  const cacheDir = opts.modelCacheDir ?? path.join(os.tmpdir(), 'mlp-serving-cache');
  const registry = new ModelRegistry(opts.models, { batching, metrics, logger, random, requestLog, cacheDir });
  metrics.watchQueues(() => registry.all().flatMap((m) => m.queueDepths().map((q) => ({ model: m.name, ...q }))));
  await registry.start().catch(async (err: Error) => {
    await requestLog?.close();
    throw err;
  });
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? DEFAULT_PORT;
  const http = await startHttpServer({
    host,
    port,
    routers: [tfServingRouter(registry), oipRouter(registry), servingStatusRouter(registry), metricsRouter(metrics)],
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    authToken: opts.authToken,
    allowedHosts: opts.allowedHosts,
    metrics,
    logger,
    accessLog,
  }).catch(async (err: Error) => {
    await registry.close();
    await requestLog?.close();
    throw new UserError(`cannot listen on ${host}:${port}: ${err.message}`);
  });
  const pollSeconds = opts.pollSeconds ?? 2;
  if (pollSeconds > 0) registry.startPolling(pollSeconds * 1000);
  logger.info({ url: http.url, models: registry.all().map((m) => ({ name: m.name, versions: m.availableVersions() })), batching }, 'model server listening');
  let stopped: Promise<void> | undefined;
  const stop = async (drain: DrainOptions) => {
    logger.info({ drainSeconds: drain.seconds, acceptSeconds: drain.acceptSeconds }, 'draining');
    registry.drain();
    await http.close(drain);
    // Every answered request's access line is out before the server says it stopped.
    accessLog.flush();
    await registry.close();
    // After the last request: every logged request reaches a file.
    await requestLog?.close();
    logger.info('stopped');
  };
  return {
    url: http.url,
    port: http.port,
    models: registry.all(),
    close: (drain = opts.drain ?? { seconds: DEFAULT_DRAIN_SECONDS, acceptSeconds: 0 }) => {
      if (stopped) void http.close(drain);
      return (stopped ??= stop(drain));
    },
  };
}
