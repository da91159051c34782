// The destination of mlp serve's access log (a JSON line per answered request, the `request` line of
// MlMonitoring's log contract): lines are collected and handed to stderr in blocks of ~16 KB, or at least
// once a second, like nginx's `access_log ... buffer= flush=`. Why not sonic-boom's own minLength
// buffering: it measures and concatenates every line as it arrives, which under load cost as much as the
// rest of the line's work; here a block is joined once and written through a plain synchronous sonic-boom,
// which still does the writing (partial writes, EAGAIN on a full pipe). Pending lines are written on
// flush() (the server calls it before saying it stopped) and on process exit; a SIGKILL loses at most a block.

import pino from 'pino';

const BLOCK_CHARS = 16_000;
const FLUSH_MS = 1000;

export interface AccessLogDestination {
  write(line: string): void;
  /** Writes the pending lines now (pino's logger.flush calls it with a callback). */
  flush(done?: () => void): void;
}

export function accessLogDestination(fd = 2): AccessLogDestination {
  const out = pino.destination({ dest: fd, sync: true });
  let lines: string[] = [];
  let chars = 0;
  const flush = (done?: () => void) => {
    if (lines.length > 0) {
      const block = lines.join('');
      lines = [];
      chars = 0;
      out.write(block);
    }
    done?.();
  };
  setInterval(flush, FLUSH_MS).unref();
  process.once('exit', () => flush());
  return {
    write(line) {
      lines.push(line);
      chars += line.length;
      if (chars >= BLOCK_CHARS) flush();
    },
    flush,
  };
}
