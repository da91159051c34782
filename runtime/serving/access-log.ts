// mlp serve's access log: a JSON line per answered request (`event: request`, the line MlMonitoring's
// log-based metrics count; constructs/ml-monitoring.ts LOG_CONTRACT), at info, or at warn for a 5xx.
//
// Two writers with one line shape. loggerAccessLog sends the line through a pino logger (tests' memory
// loggers; a server given no access log). bufferedAccessLog is mlp serve's: the line is formatted here, in
// exactly the JSON serverLogger's pino writes (tested field for field), because at this rate pino's generic
// serializer cost more than a microsecond and a half per request; and lines are handed to stderr in blocks
// of ~16 KB, or at least once a second, like nginx's `access_log ... buffer= flush=`, through a synchronous
// sonic-boom (partial writes, EAGAIN on a full pipe). Pending lines are written on flush() (the server calls
// it before saying it stopped) and on process exit; a SIGKILL loses at most a block.

import pino, { type Logger } from 'pino';

/** What the access line says about one answered request. */
export interface AccessLine {
  method: string;
  path: string;
  status: number;
  ms: number;
  /** The served model (undefined when the path named none this server serves). */
  model?: string;
  version?: number;
  api: string;
  requestId: string;
}

export interface AccessLog {
  write(line: AccessLine): void;
  /** Writes pending lines now. */
  flush(): void;
}

/** The message of the access line: 5xx answers are warnings (the server failed), the rest info. */
function message(status: number): string {
  return status >= 500 ? 'request failed' : 'request';
}

/** Access lines through a pino logger. */
export function loggerAccessLog(logger: Logger): AccessLog {
  return {
    write(line) {
      const fields = { event: 'request', ...line };
      if (line.status >= 500) logger.warn(fields, message(line.status));
      else logger.info(fields, message(line.status));
    },
    flush: () => logger.flush(),
  };
}

const BLOCK_CHARS = 16_000;
const FLUSH_MS = 1000;
const INFO = 30;
const WARN = 40;

/** Strings JSON writes as they are between quotes: no quote, backslash, control character or surrogate. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A JSON string literal; the test is cheaper than JSON.stringify for the plain strings requests carry. */
function quoted(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * mlp serve's access log on `fd` (stderr): the JSON serverLogger writes ({"level","severity","time",
 * "component",...fields,"msg"}), lines below `level` (a pino level name) dropped.
 */
export function bufferedAccessLog(level: string, fd = 2): AccessLog {
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : pino.levels.values[level];
  if (threshold === undefined) throw new Error(`unknown log level ${JSON.stringify(level)}`);
  const out = pino.destination({ dest: fd, sync: true });
  let lines: string[] = [];
  let chars = 0;
  const flush = () => {
    if (lines.length === 0) return;
    const block = lines.join('');
    lines = [];
    chars = 0;
    out.write(block);
  };
  setInterval(flush, FLUSH_MS).unref();
  process.once('exit', flush);
  return {
    write(l) {
      const warn = l.status >= 500;
      if ((warn ? WARN : INFO) < threshold) return;
      // Optional fields are left out when undefined, as pino leaves them out.
      const text =
        `{"level":${warn ? `${WARN},"severity":"WARN"` : `${INFO},"severity":"INFO"`},"time":${Date.now()},"component":"model-server",` +
        `"event":"request","method":${quoted(l.method)},"path":${quoted(l.path)},"status":${l.status},"ms":${l.ms},` +
        `${l.model === undefined ? '' : `"model":${quoted(l.model)},`}${l.version === undefined ? '' : `"version":${l.version},`}` +
        `"api":${quoted(l.api)},"requestId":${quoted(l.requestId)},"msg":"${message(l.status)}"}\n`;
      lines.push(text);
      chars += text.length;
      if (chars >= BLOCK_CHARS) flush();
    },
    flush,
  };
}
