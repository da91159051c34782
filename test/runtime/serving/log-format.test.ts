// mlp serve's logs: lines for people on a terminal (run under a real pseudo-terminal with util-linux
// `script`), JSON lines when stderr is not one or with --log-format json. And a --model-base-path that is a
// version folder or a pipeline root is refused naming the folder the server expected, instead of waiting
// forever for a first version.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { logFormatOf } from '../../../runtime/cli/commands/serve';
import { humanLogLine } from '../../../runtime/serving/log-format';
import { MLP_BIN, runCli } from '../../support/cli';
import { publishVersion, request, until, writeLinearBundle } from './helpers';

let dir: string;
let base: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serve-log-'));
  const bundle = path.join(dir, 'bundle');
  await writeLinearBundle(bundle);
  base = path.join(dir, 'serving', 'lin');
  await publishVersion(bundle, base, 1);
}, 60_000);
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('the format: --log-format when given, else text on a terminal and JSON otherwise', () => {
  expect(logFormatOf({}, true)).toBe('text');
  expect(logFormatOf({}, false)).toBe('json');
  expect(logFormatOf({ logFormat: 'json' }, true)).toBe('json');
  expect(logFormatOf({ logFormat: 'text' }, false)).toBe('text');
  expect(() => logFormatOf({ logFormat: 'pretty' }, true)).toThrow('--log-format "pretty": expected one of text, json');
});

test('a record as a line for people: time, severity, message, fields, an error\'s stack below', () => {
  const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
  const json = JSON.stringify({ level: 30, severity: 'INFO', time, component: 'model-server', model: 'lin', versions: [1, 2], path: '/a b', msg: 'loaded' });
  expect(humanLogLine(`${json}\n`)).toBe('03:04:05.067 INFO  loaded  model=lin versions=[1,2] path="/a b"\n');
  const err = JSON.stringify({ level: 50, severity: 'ERROR', time, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:2)' }, msg: 'failed' });
  expect(humanLogLine(err)).toBe('03:04:05.067 ERROR failed  err=boom\n    at f (x.ts:1:2)\n');
});

/** Runs `mlp serve` on a pseudo-terminal, asks for the model once, and returns what the terminal showed. */
async function serveOnTerminal(extra: string[]): Promise<string> {
  const args = [MLP_BIN, 'serve', '--model-base-path', base, '--model-name', 'lin', '--port', '0', '--poll-seconds', '0', '--drain-seconds', '0', '--drain-accept-seconds', '0', ...extra];
  const command = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let shown = '';
  child.stdout.on('data', (d) => (shown += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await until('the ready line', () => /serving lin versions \[1\] on http:\/\/\S+/.test(shown), 60_000);
    const url = /on (http:\/\/\S+)/.exec(shown)![1];
    expect((await request(`${url}/v1/models/lin`)).status).toBe(200);
    await until('the access line', () => /\/v1\/models\/lin/.test(shown), 30_000);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
  return shown.replace(/\r/g, '');
}

test('on a terminal the log is lines for people; with --log-format json it is JSON lines', async () => {
  const text = await serveOnTerminal([]);
  const logLines = text.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
  expect(logLines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO  model server listening {2}url=http:\/\/\S+ models=\[\{"name":"lin","versions":\[1\]\}\]/));
  expect(logLines).toContainEqual(expect.stringMatching(/ INFO  request {2}event=request method=GET path=\/v1\/models\/lin status=200 ms=[\d.]+ model=lin api=\S+ requestId=\S+$/));
  expect(text).not.toMatch(/^\{"level"/m);

  const json = await serveOnTerminal(['--log-format', 'json']);
  const records = json.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  expect(records).toContainEqual(expect.objectContaining({ severity: 'INFO', msg: 'model server listening' }));
  expect(records).toContainEqual(expect.objectContaining({ event: 'request', path: '/v1/models/lin', status: 200 }));
}, 180_000);

/** The error line mlp prints last (the log lines before it, such as the TensorFlow.js backend chosen, are not at issue). */
const lastLine = (stderr: string): string => stderr.trimEnd().split('\n').pop()!;

test('a version folder or a pipeline root as --model-base-path says which folder was expected', async () => {
  const version = await runCli(['serve', '--model-base-path', path.join(base, '1'), '--model-name', 'lin', '--port', '0']);
  expect(version.code).toBe(1);
  expect(lastLine(version.stderr)).toBe(`mlp: error: model lin: base path ${path.join(base, '1')} is a model version folder (it has signature.json); a base path is the folder holding the <version>/ folders: ${base}`);

  await fs.promises.writeFile(path.join(dir, 'metadata.sqlite'), '');
  const root = await runCli(['serve', '--model-base-path', dir, '--model-name', 'lin', '--port', '0']);
  expect(root.code).toBe(1);
  expect(lastLine(root.stderr)).toBe(`mlp: error: model lin: base path ${dir} is a pipeline root (it has metadata.sqlite); a base path is the folder a Pusher pushes <version>/ folders to: ${base}`);
}, 120_000);
