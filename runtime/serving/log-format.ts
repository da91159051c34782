// How mlp serve's logs read. JSON lines (what Cloud Logging and the access-log metrics parse) when stderr is
// not a terminal or with --log-format json; on a terminal, one line per record for people: time, severity,
// message, then the other fields as key=value (an error's stack on the lines below).

import * as fs from 'fs';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** --log-format when given, else text on a terminal and JSON otherwise. */
export function chooseLogFormat(flag: string | undefined, isTTY: boolean): LogFormat | undefined {
  if (flag === undefined) return isTTY ? 'text' : 'json';
  return (LOG_FORMATS as readonly string[]).includes(flag) ? (flag as LogFormat) : undefined;
}

/** Fields every record has, shown by position (time, severity, message) or not at all. */
const SHOWN_APART = new Set(['level', 'severity', 'time', 'component', 'msg', 'pid', 'hostname']);

function shownValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One JSON log line (as pino writes it) as a line for people. */
export function humanLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const severity = String(record.severity ?? record.level ?? '').padEnd(5);
  const time = typeof record.time === 'number' ? `${clock(record.time)} ` : '';
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(record)) {
    if (SHOWN_APART.has(k) || v === undefined) continue;
    const err = v as { message?: unknown; stack?: unknown };
    if (k === 'err' && err && typeof err === 'object' && typeof err.message === 'string') {
      fields.push(`err=${shownValue(err.message)}`);
      if (typeof err.stack === 'string') stack = `\n${err.stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}`;
    } else {
      fields.push(`${k}=${shownValue(v)}`);
    }
  }
  return `${time}${severity} ${record.msg ?? ''}${fields.length ? `  ${fields.join(' ')}` : ''}${stack}\n`;
}

/** A pino destination writing each record to `fd` as humanLogLine shows it. */
export function humanDestination(fd: number): { write(line: string): void } {
  return { write: (line) => void fs.writeSync(fd, humanLogLine(line)) };
}
