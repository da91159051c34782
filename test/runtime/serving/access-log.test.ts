// The access log's two writers: mlp serve's buffered one formats the line itself, so it must write exactly
// what serverLogger's pino writes for the same fields (MlMonitoring's log-based metrics and any log query
// read both), keep the level rules (5xx at warn, lines below the level dropped), and hold lines until a
// flush.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { bufferedAccessLog, loggerAccessLog, type AccessLine } from '../../../runtime/serving/access-log';
import { serverLogger } from '../../../runtime/serving/model-server';

const LINES: AccessLine[] = [
  { method: 'POST', path: '/v1/models/penguins:predict', status: 200, ms: 1.3, model: 'penguins', version: 2, api: 'predict', requestId: '0b8a3c1e-5d7f-4e2a-9c1b-2f3e4d5a6b7c' },
  { method: 'GET', path: '/v1/models/nope', status: 404, ms: 0.1, api: 'status', requestId: 'caller-"id"\\ünïcode' },
  { method: 'PUT', path: '/v2/models/"quoted"\u0001', status: 405, ms: 0, model: 'penguins', api: 'infer', requestId: 'x' },
  { method: 'POST', path: '/v1/models/penguins:predict', status: 503, ms: 12.5, model: 'penguins', version: 1, api: 'predict', requestId: 'y' },
  { method: 'POST', path: '/v1/models/penguins:predict', status: 504, ms: 30000.2, model: 'penguins', api: 'predict', requestId: 'z' },
  { method: 'GET', path: '/v1/models/\ud800lone\udfffsurrogates\u001f\u007f\u2028', status: 200, ms: 0.4, api: 'status', requestId: 'tab\there\nnewline' },
];

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-access-log-'));
});
afterAll(() => fs.promises.rm(dir, { recursive: true, force: true }));

/** The JSON lines written to a fresh file by `write`, without their (clock) time. */
async function linesWritten(name: string, write: (fd: number) => void | Promise<void>): Promise<Record<string, unknown>[]> {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  await write(fd);
  const text = await fs.promises.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const { time, ...rest } = JSON.parse(l);
      expect(typeof time).toBe('number');
      return rest;
    });
}

describe.each(['info', 'warn', 'error', 'silent'])('at level %s', (level) => {
  test('the buffered access log writes the same lines, keys in the same order, as serverLogger through pino', async () => {
    const viaPino = await linesWritten(`pino-${level}`, async (fd) => {
      const logger = serverLogger(level, fd);
      const log = loggerAccessLog(logger);
      for (const l of LINES) log.write(l);
      // serverLogger's destination writes asynchronously, and flush() does not wait for the writes in flight:
      // end the stream and wait for it to close, after which every line is in the file.
      const stream = (logger as unknown as Record<symbol, NodeJS.WritableStream>)[pino.symbols.streamSym]!;
      await new Promise((resolve) => {
        stream.once('close', resolve);
        stream.end();
      });
    });
    const buffered = await linesWritten(`buffered-${level}`, (fd) => {
      const log = bufferedAccessLog(level, fd);
      for (const l of LINES) log.write(l);
      log.flush();
    });
    expect(buffered).toEqual(viaPino);
    expect(buffered.map((l) => Object.keys(l))).toEqual(viaPino.map((l) => Object.keys(l)));
    const expected = { info: 6, warn: 2, error: 0, silent: 0 }[level];
    expect(buffered).toHaveLength(expected!);
    if (level === 'info') {
      expect(buffered[0]).toEqual({ level: 30, severity: 'INFO', component: 'model-server', event: 'request', ...LINES[0], msg: 'request' });
      expect(buffered[3]).toMatchObject({ level: 40, severity: 'WARN', status: 503, msg: 'request failed' });
      expect(buffered[1]).not.toHaveProperty('model');
      expect(buffered[1]).not.toHaveProperty('version');
    }
  });
});

test('lines wait in the buffer until a flush', async () => {
  const file = path.join(dir, 'held');
  const log = bufferedAccessLog('info', fs.openSync(file, 'w'));
  log.write(LINES[0]);
  expect(await fs.promises.readFile(file, 'utf8')).toBe('');
  log.flush();
  expect(JSON.parse(await fs.promises.readFile(file, 'utf8'))).toMatchObject({ event: 'request', requestId: LINES[0].requestId });
});

test('an unknown level is refused', () => {
  expect(() => bufferedAccessLog('loud')).toThrow('unknown log level "loud"');
});
