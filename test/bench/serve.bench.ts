// Benchmark: the model server under load. autocannon (in this process) on loopback against servers run as
// child processes: `mlp serve` with a real penguins model (trained here by the real Trainer, published as
// <base>/1/ as the Pusher does) with dynamic batching on (TF Serving's CPU starting point, our defaults:
// --max-batch-size 256 --batch-timeout-micros 0; and with a 2 ms timeout at --max-batch-size 32) and off
// (--max-batch-size 1), and a bare Node `http` server answering a constant JSON body of the same size as a
// predict response (the ceiling); and `mlp serve` with batching on serving an ONNX model (a scikit-learn
// penguins classifier exported by test/runtime/ml/onnx-models.py, run by onnxruntime-node) as
// <base>/1/model.onnx. Each POSTs a one-row :predict body (the ONNX model's row holds the four measurements it
// takes). The machine is a VM whose speed drifts
// by tens of percent within seconds, so the servers are measured in interleaved rounds (--round-seconds
// each, the order rotating per round) for --duration seconds per server and concurrency; req/s is the
// total over the rounds, p50 / p99 the median of the rounds', and the ratio to the bare server the median
// of the per-round ratios (each against the bare server's round next to it in time).
// When `taskset` exists, the servers are pinned to the last CPU and this process (autocannon) to the others.
// Targets (reported, not asserted): with batching, ≥ 50% of the bare server's requests/s at concurrency 64
// (the tfjs and the ONNX model); p99 ≤ 20 ms at concurrency 16.
// Run: npm run bench:serve -- [--duration 10] [--round-seconds 2] [--connections 1,16,64] [--json]

import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { buildOnnxModels, MEASUREMENTS } from '../runtime/ml/onnx-models';
import { penguinRows, publishVersion, trainPenguinsModel } from '../runtime/serving/helpers';
import { MLP_BIN, REPO_ROOT } from '../support/cli';
import { median } from './median';

/** The part of autocannon's (untyped) API used here. */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: { url: string; method: string; headers: Record<string, string>; body: string; connections: number; duration: number }) => Promise<AutocannonResult>;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    'round-seconds': { type: 'string', default: '2' },
    connections: { type: 'string', default: '1,16,64' },
    json: { type: 'boolean', default: false },
  },
});
const duration = Number(flags.duration);
const roundSeconds = Number(flags['round-seconds']);
const rounds = Math.max(1, Math.round(duration / roundSeconds));
const connectionCounts = flags.connections!.split(',').map(Number);

/** Progress and the table go to stderr; stdout is the table, or with --json the JSON result. */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** The request body when it is not the common one (the ONNX model takes its own inputs). */
  body?: string;
}

const cpus = os.availableParallelism();
const taskset = cpus > 1 && spawnSync('taskset', ['--version']).status === 0;
const serverCpu = String(cpus - 1);

/** Starts a child process and resolves with the URL of its ready line (the first stdout line naming one). */
function startServer(name: string, args: string[]): Promise<Server> {
  const [cmd, argv] = taskset ? ['taskset', ['-c', serverCpu, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ name, url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${stderr}`)));
  });
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A bare Node http server answering every request with the given body (read fully first, as a server must). */
function bareServerScript(body: string): string {
  return `
const http = require('http');
const body = Buffer.from(${JSON.stringify(body)});
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
});
server.listen(0, '127.0.0.1', () => console.log('bare on http://127.0.0.1:' + server.address().port));
`;
}

interface Row {
  server: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests per second of each round, in order. */
  rounds: number[];
  /** Median over rounds of requests/s relative to the bare server's round next to it. */
  vsBare?: number;
}

const BARE = 'bare node http';
const BATCHING_ON = 'mlp serve, batching on';
const ONNX = 'mlp serve onnx, batching on';

function load(url: string, body: string, connections: number, seconds: number): Promise<AutocannonResult> {
  return autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: seconds });
}

/** Every server at one concurrency: a warm-up each, then interleaved rounds with a rotating order. */
async function measure(servers: Server[], predictPath: string, body: string, connections: number): Promise<Row[]> {
  for (const server of servers) await load(`${server.url}${predictPath}`, server.body ?? body, connections, 1);
  const results = new Map<Server, AutocannonResult[]>(servers.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < servers.length; k++) {
      const server = servers[(round + k) % servers.length];
      results.get(server)!.push(await load(`${server.url}${predictPath}`, server.body ?? body, connections, roundSeconds));
    }
  }
  return servers.map((server) => {
    const rs = results.get(server)!;
    const requests = rs.reduce((t, r) => t + r.requests.total, 0);
    const row: Row = {
      server: server.name,
      connections,
      requestsPerSecond: Math.round(requests / (rounds * roundSeconds)),
      p50Ms: median(rs.map((r) => r.latency.p50)),
      p99Ms: median(rs.map((r) => r.latency.p99)),
      requests,
      non2xx: rs.reduce((t, r) => t + r.non2xx, 0),
      errors: rs.reduce((t, r) => t + r.errors, 0),
      timeouts: rs.reduce((t, r) => t + r.timeouts, 0),
      rounds: rs.map((r) => Math.round(r.requests.total / roundSeconds)),
    };
    say(`  ${row.server} c=${connections}: ${row.requestsPerSecond} req/s (rounds ${row.rounds.join(' ')}), p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (${row.requests} requests, ${row.non2xx} non-2xx, ${row.errors} errors)`);
    return row;
  });
}

/** The median over rounds of a server's requests/s relative to the bare server's in the same round. */
function ratioToBare(rows: Row[], server: string, connections: number): number | undefined {
  const at = (name: string) => rows.find((r) => r.server === name && r.connections === connections);
  const s = at(server);
  const bare = at(BARE);
  if (!s || !bare) return undefined;
  return Math.round(median(s.rounds.map((x, i) => x / bare.rounds[i])) * 1000) / 1000;
}

function table(rows: Row[]): string {
  const head = ['server', 'conns', 'req/s', 'vs bare', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'];
  const cells = rows.map((r) => [r.server, String(r.connections), String(r.requestsPerSecond), r.vsBare === undefined ? '' : r.vsBare.toFixed(2), String(r.p50Ms), String(r.p99Ms), String(r.requests), String(r.non2xx), String(r.errors)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (taskset) spawnSync('taskset', ['-pc', cpus > 2 ? `0-${cpus - 2}` : '0', String(process.pid)]);
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-serve-'));
  const servers: Server[] = [];
  try {
    let t = Date.now();
    const modelDir = await trainPenguinsModel(path.join(work, 'training'));
    const base = path.join(work, 'base');
    await fs.promises.mkdir(base, { recursive: true });
    await publishVersion(modelDir, base, 1);
    say(`trained the penguins model in ${((Date.now() - t) / 1000).toFixed(1)} s; ${cpus} CPUs${taskset ? `, servers pinned to CPU ${serverCpu}` : ''}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    const predictPath = '/v1/models/penguins:predict';
    const body = JSON.stringify({ instances: penguinRows(1).map(({ Species: _label, ...features }) => features) });
    const configs: [string, string[]][] = [
      [BATCHING_ON, []],
      ['mlp serve, batching on, 2 ms timeout', ['--max-batch-size', '32', '--batch-timeout-micros', '2000']],
      ['mlp serve, batching off', ['--max-batch-size', '1', '--batch-timeout-micros', '0']],
    ];
    let responseBody = '';
    for (const [name, args] of configs) {
      t = Date.now();
      const server = await startServer(name, [MLP_BIN, 'serve', '--model-base-path', base, '--model-name', 'penguins', '--port', '0', '--poll-seconds', '0', ...args]);
      servers.push(server);
      const probe = await fetch(`${server.url}${predictPath}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      responseBody = await probe.text();
      if (probe.status !== 200) throw new Error(`${name}: probe predict answered ${probe.status}: ${responseBody}`);
      say(`${name}: ready in ${Date.now() - t} ms at ${server.url}; response ${Buffer.byteLength(responseBody)} bytes`);
    }
    t = Date.now();
    const [row] = penguinRows(1);
    const onnx = buildOnnxModels(path.join(work, 'onnx'), [row]);
    const onnxBase = path.join(work, 'onnx-base');
    await fs.promises.mkdir(onnxBase);
    await fs.promises.rename(onnx.dirs.tabular, path.join(onnxBase, '1'));
    const onnxServer = await startServer(ONNX, [MLP_BIN, 'serve', '--model-base-path', onnxBase, '--model-name', 'penguins', '--port', '0', '--poll-seconds', '0']);
    servers.push(onnxServer);
    onnxServer.body = JSON.stringify({ instances: [Object.fromEntries(MEASUREMENTS.map((m) => [m, row[m]]))] });
    const onnxProbe = await fetch(`${onnxServer.url}${predictPath}`, { method: 'POST', body: onnxServer.body, headers: { 'content-type': 'application/json' } });
    const onnxResponse = await onnxProbe.text();
    if (onnxProbe.status !== 200) throw new Error(`${ONNX}: probe predict answered ${onnxProbe.status}: ${onnxResponse}`);
    say(`${ONNX}: model exported and ready in ${Date.now() - t} ms at ${onnxServer.url}; response ${Buffer.byteLength(onnxResponse)} bytes`);
    const bare = await startServer(BARE, ['-e', bareServerScript(responseBody)]);
    servers.unshift(bare);
    say(`${BARE}: constant ${Buffer.byteLength(responseBody)}-byte JSON body at ${bare.url}; ${rounds} rounds of ${roundSeconds} s per server and concurrency`);
    const rows: Row[] = [];
    for (const connections of connectionCounts) rows.push(...(await measure(servers, predictPath, body, connections)));
    for (const row of rows) row.vsBare = ratioToBare(rows, row.server, row.connections);

    const on16 = rows.find((r) => r.server === BATCHING_ON && r.connections === 16);
    const targets = {
      batchingVsBareAt64: ratioToBare(rows, BATCHING_ON, 64),
      batchingVsBareAt64Target: 0.5,
      onnxVsBareAt64: ratioToBare(rows, ONNX, 64),
      batchingP99At16Ms: on16?.p99Ms,
      batchingP99At16TargetMs: 20,
    };
    const result = { durationSeconds: duration, roundSeconds, rounds, cpus, pinned: taskset, loadavg: os.loadavg(), node: process.version, responseBytes: Buffer.byteLength(responseBody), requestBytes: Buffer.byteLength(body), rows, targets };
    const summary =
      `${table(rows)}\n\n` +
      `batching on vs bare at 64 connections (median of per-round ratios): ${targets.batchingVsBareAt64 === undefined ? 'n/a' : `${(targets.batchingVsBareAt64 * 100).toFixed(1)}%`} (target >= 50%)\n` +
      `onnx, batching on vs bare at 64 connections: ${targets.onnxVsBareAt64 === undefined ? 'n/a' : `${(targets.onnxVsBareAt64 * 100).toFixed(1)}%`} (target >= 50%)\n` +
      `batching on p99 at 16 connections: ${targets.batchingP99At16Ms ?? 'n/a'} ms (target <= 20 ms)\n` +
      `load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`;
    if (flags.json) {
      process.stderr.write(summary);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else process.stdout.write(summary);
  } finally {
    for (const s of servers) await stop(s).catch(() => undefined);
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
