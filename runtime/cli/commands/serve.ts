// `mlp serve`: the model server — TensorFlow Serving's REST API and the Open Inference Protocol v2 over the
// versions the Pusher writes to a model base path (local or gs://), with hot reload, dynamic batching,
// /metrics and, optionally, sampled request logging (traffic splits, bandits and static tables are set
// per model in the --config file). Prints
// one line when ready (what is served and where); logs go to stderr, as lines for people on a terminal and as
// JSON lines otherwise (--log-format). SIGTERM / SIGINT drain: the
// server reports not ready at once, accepts new connections for --drain-accept-seconds, answers what is in
// flight within --drain-seconds, then the process exits 0 (a second signal exits 1 at once).

import type { Command } from 'commander';
import { parseAllowedHosts } from '../../core/allowed-hosts';
import { UserError } from '../../core/errors';
import { readTokenFile, wholeNumber } from '../options';
import { ONNX_EXECUTION_PROVIDER_NAMES, ONNX_EXECUTION_PROVIDERS_ENV, onnxExecutionProviders, parseOnnxExecutionProviders } from '../../ml/onnx-execution-providers';
import { DEFAULT_BATCHING } from '../../serving/batcher';
import { DEFAULT_POLICY, readModelServerConfig, type ModelConfig } from '../../serving/config';
import { bufferedAccessLog } from '../../serving/access-log';
import { DEFAULT_DRAIN_ACCEPT_SECONDS, DEFAULT_DRAIN_SECONDS, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT } from '../../serving/http-server';
import type { ModelServerOptions } from '../../serving/model-server';
import { DEFAULT_FLUSH_SECONDS } from '../../serving/request-log';
import { chooseLogFormat, LOG_FORMATS, type LogFormat } from '../../serving/log-format';
import { isGcsUri, localPathOf } from '../../storage';

interface ServeFlags {
  modelBasePath?: string;
  modelName?: string;
  config?: string;
  port: string;
  host: string;
  pollSeconds: string;
  authTokenFile?: string;
  allowedHosts?: string;
  maxBatchSize: string;
  batchTimeoutMicros: string;
  numBatchThreads: string;
  maxEnqueuedBatches: string;
  requestTimeoutMs: string;
  maxBodyBytes: string;
  logLevel: string;
  logFormat?: string;
  requestLogDir?: string;
  requestLogSample: string;
  requestLogFlushSeconds: string;
  modelCacheDir?: string;
  drainSeconds: string;
  drainAcceptSeconds: string;
  onnxExecutionProviders?: string;
}

function modelsFrom(flags: ServeFlags): ModelConfig[] {
  if (flags.config) {
    if (flags.modelBasePath || flags.modelName) throw new UserError('give either --config or --model-base-path with --model-name, not both');
    return readModelServerConfig(flags.config);
  }
  if (!flags.modelBasePath || !flags.modelName) throw new UserError('give --model-base-path and --model-name (or --config with a model config file)');
  if (/[/:]/.test(flags.modelName)) throw new UserError(`--model-name ${JSON.stringify(flags.modelName)}: a model name cannot contain "/" or ":"`);
  const basePath = isGcsUri(flags.modelBasePath) ? flags.modelBasePath : localPathOf(flags.modelBasePath);
  if (basePath === undefined) throw new UserError(`--model-base-path ${flags.modelBasePath}: use a local folder or gs://`);
  return [{ name: flags.modelName, basePath, policy: DEFAULT_POLICY, labels: {} }];
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** A number flag within [min, max]. */
function numberIn(flag: string, raw: string, min: number, max = Infinity): number {
  const n = Number(raw);
  if (!(raw.trim() !== '' && Number.isFinite(n) && n >= min && n <= max)) throw new UserError(`${flag} ${JSON.stringify(raw)}: expected a number ${max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`}`);
  return n;
}

function requestLogOptions(flags: ServeFlags): ModelServerOptions['requestLog'] {
  if (flags.requestLogDir === undefined) return undefined;
  return {
    dir: flags.requestLogDir,
    sample: numberIn('--request-log-sample', flags.requestLogSample, 0, 1),
    flushSeconds: numberIn('--request-log-flush-seconds', flags.requestLogFlushSeconds, 0.001),
  };
}

/** --log-format, else text when stderr is a terminal (`isTTY`) and JSON otherwise. */
export function logFormatOf(flags: Pick<ServeFlags, 'logFormat'>, isTTY: boolean): LogFormat {
  const format = chooseLogFormat(flags.logFormat, isTTY);
  if (!format) throw new UserError(`--log-format ${JSON.stringify(flags.logFormat)}: expected one of ${LOG_FORMATS.join(', ')}`);
  return format;
}

/** The server's options from the flags, checked before the server's modules (TensorFlow.js, DuckDB) load. */
function serverOptions(flags: ServeFlags, logFormat: LogFormat): Omit<ModelServerOptions, 'logger'> {
  const pollSeconds = numberIn('--poll-seconds', flags.pollSeconds, 0);
  if (!LOG_LEVELS.includes(flags.logLevel)) throw new UserError(`--log-level ${JSON.stringify(flags.logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`);
  return {
    models: modelsFrom(flags),
    host: flags.host,
    port: wholeNumber('--port', flags.port, 0),
    pollSeconds,
    authToken: flags.authTokenFile === undefined ? undefined : readTokenFile('--auth-token-file', flags.authTokenFile),
    allowedHosts: parseAllowedHosts(flags.allowedHosts),
    batching: {
      maxBatchSize: wholeNumber('--max-batch-size', flags.maxBatchSize, 1),
      batchTimeoutMicros: wholeNumber('--batch-timeout-micros', flags.batchTimeoutMicros, 0),
      numBatchThreads: wholeNumber('--num-batch-threads', flags.numBatchThreads, 1),
      maxEnqueuedBatches: wholeNumber('--max-enqueued-batches', flags.maxEnqueuedBatches, 1),
    },
    requestTimeoutMs: wholeNumber('--request-timeout-ms', flags.requestTimeoutMs, 1),
    maxBodyBytes: wholeNumber('--max-body-bytes', flags.maxBodyBytes, 1),
    // The buffered writer is for JSON at request rates; text goes through the logger a person reads.
    accessLog: logFormat === 'json' ? bufferedAccessLog(flags.logLevel) : undefined,
    requestLog: requestLogOptions(flags),
    modelCacheDir: flags.modelCacheDir,
    drain: drainOptions(flags),
  };
}

function drainOptions(flags: ServeFlags): ModelServerOptions['drain'] {
  const seconds = numberIn('--drain-seconds', flags.drainSeconds, 0);
  return { seconds, acceptSeconds: numberIn('--drain-accept-seconds', flags.drainAcceptSeconds, 0, seconds) };
}

/**
 * --onnx-execution-providers, else MLP_ONNX_EXECUTION_PROVIDERS, checked now; the choice is put in
 * MLP_ONNX_EXECUTION_PROVIDERS, which every ONNX model load in this process reads (onnx-execution-providers.ts).
 */
function useOnnxExecutionProviders(flags: ServeFlags): void {
  const providers = flags.onnxExecutionProviders === undefined ? onnxExecutionProviders() : parseOnnxExecutionProviders(flags.onnxExecutionProviders, '--onnx-execution-providers');
  process.env[ONNX_EXECUTION_PROVIDERS_ENV] = providers.join(',');
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve models over HTTP: TensorFlow Serving REST API and Open Inference Protocol v2, with hot reload of new versions; GET /mlp/v1/models reports versions, labels and traffic weights or bandit tallies')
    .option('--model-base-path <dir>', 'folder or gs:// prefix holding the model\'s <version>/ folders (the Pusher\'s destination, or <version>/model.onnx as Triton and KServe lay ONNX models out)')
    .option('--model-name <name>', 'name the model is served under (/v1/models/<name>, /v2/models/<name>)')
    .option(
      '--config <file>',
      'model config JSON (TF Serving ModelServerConfig: model_config_list.config[] with name, base_path, model_version_policy, version_labels; ' +
        'plus our optional traffic: {"split": [{"label"|"version", "weight"}]} or {"bandit": {"algorithm": "thompson"|"ucb1", "arms": [{"label"|"version"}]}} ' +
        'for requests naming no version or label (sticky per x-request-key header; rewards via POST /v1/models/<name>:feedback {"request_id", "reward" in [0, 1]}), ' +
        'and static_table: {"path": BulkInferrer predictions.parquet, "key": column} answering instances whose "key" field the table holds) instead of --model-base-path/--model-name',
    )
    .option('--port <n>', 'HTTP port (0 picks a free one, printed in the ready line)', String(DEFAULT_PORT))
    .option('--host <address>', 'address to listen on (0.0.0.0 to expose it)', '127.0.0.1')
    .option('--poll-seconds <s>', 'how often to look for new model versions (0: never)', '2')
    .option('--auth-token-file <file>', 'require Authorization: Bearer <the file\'s content> on every request but the health checks')
    .option('--allowed-hosts <list>', 'Host header names answered besides IP addresses, localhost and --host, comma-separated: name, .domain (and its subdomains) or * (any); others get 403 (DNS rebinding)')
    .option('--max-batch-size <n>', 'rows predicted together at most', String(DEFAULT_BATCHING.maxBatchSize))
    .option('--batch-timeout-micros <n>', 'how long a batch that is not full waits for more rows', String(DEFAULT_BATCHING.batchTimeoutMicros))
    .option('--num-batch-threads <n>', 'batches predicted at once', String(DEFAULT_BATCHING.numBatchThreads))
    .option('--max-enqueued-batches <n>', 'batches waiting per model version before requests are refused with 503', String(DEFAULT_BATCHING.maxEnqueuedBatches))
    .option('--request-timeout-ms <ms>', 'answer 504 when a request takes longer', '30000')
    .option('--max-body-bytes <n>', 'answer 413 to larger request bodies', String(DEFAULT_MAX_BODY_BYTES))
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (every answered request is an info line with its x-request-id and serving version; 5xx answers are warnings)`, 'info')
    .option('--log-format <format>', `${LOG_FORMATS.join(' or ')}: lines for people or JSON lines (default: text when stderr is a terminal, json otherwise)`)
    .option('--request-log-dir <dir>', 'log sampled requests with their predictions as JSON Lines files in this folder or gs:// prefix (read by `mlp monitor skew`)')
    .option('--request-log-sample <fraction>', 'fraction of requests logged, 0..1', '0.1')
    .option('--request-log-flush-seconds <s>', 'a request log file is written at least this often', String(DEFAULT_FLUSH_SECONDS))
    .option('--model-cache-dir <dir>', 'where versions of a gs:// base path are downloaded (default: <tmp>/mlp-serving-cache)')
    .option(
      '--drain-seconds <s>',
      'on SIGTERM/SIGINT: report not ready at once, answer requests in flight and on open connections (with Connection: close), and exit within this many seconds (keep it under Kubernetes\' terminationGracePeriodSeconds)',
      String(DEFAULT_DRAIN_SECONDS),
    )
    .option('--drain-accept-seconds <s>', 'how long a drain still accepts new connections (until load balancers have seen the not-ready state); at most --drain-seconds', String(DEFAULT_DRAIN_ACCEPT_SECONDS))
    .option(
      '--onnx-execution-providers <list>',
      `onnxruntime execution providers for ONNX models, comma-separated, in order of preference: ${ONNX_EXECUTION_PROVIDER_NAMES.join(', ')} ` +
        `(cuda,cpu runs on CPU the nodes CUDA lacks; a provider that cannot be loaded fails the model load, never a silent CPU fallback) (default: $${ONNX_EXECUTION_PROVIDERS_ENV}, else cpu)`,
    )
    .action(async (flags: ServeFlags) => {
      const logFormat = logFormatOf(flags, !!process.stderr.isTTY);
      const options = serverOptions(flags, logFormat);
      useOnnxExecutionProviders(flags);
      // Loaded here, not at the top: every other mlp command would pay ~0.7 s for the server's modules.
      const { serverLogger, startModelServer } = await import('../../serving/model-server');
      const server = await startModelServer({ ...options, logger: serverLogger(flags.logLevel, 2, logFormat) });
      const served = server.models.map((m) => `${m.name} versions [${m.availableVersions().join(', ')}]`).join(', ');
      process.stdout.write(`serving ${served} on ${server.url}\n`);

      // Resolves once a signal has drained the server; the command then returns and the process exits 0.
      await new Promise<void>((resolve, reject) => {
        let stopping = false;
        const onSignal = () => {
          // A second signal while draining stops at once.
          if (stopping) process.exit(1);
          stopping = true;
          server.close().then(() => {
            process.off('SIGTERM', onSignal);
            process.off('SIGINT', onSignal);
            resolve();
          }, reject);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
