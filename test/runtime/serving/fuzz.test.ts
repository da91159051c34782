// Fuzzing the model server over HTTP on loopback with a real penguins model (trained once by the real
// Trainer): a few thousand random requests — random JSON-ish text, truncated JSON, wrong types, huge numbers,
// bare NaN / Infinity tokens, deeply nested values, both "instances" and "inputs", unknown fields, invalid
// UTF-8, random paths under /v1/models/... and /v2/models/..., random methods — sent with bounded
// concurrency. Every answer must be a 2xx, a 4xx with a JSON {"error": "<non-empty>"} body, or a deliberate
// 503 (a full batch queue, or a readiness answer); never another 5xx and never a dropped connection. Then the
// server still answers a valid predict and /v2/health/live. Also a 50 MB body (declared and chunked) is a 413
// with a message and the server stays up.
// The PRNG is seeded: FUZZ_SEED=<n> reproduces a run; a failure names the seed and the failing requests.

import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { memoryLogger, penguinRows, publishVersion, request, trainPenguinsModel } from './helpers';
import { createRng } from '../../../runtime/core/prng';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 16;

const FEATURES = ['Island', 'Sex', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
const ODD_KEYS = ['Species', 'Wings', '__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'island', 'Body Mass', '\u0000', '😀', 'a'.repeat(300)];

/** Raw JSON text: numbers as literal tokens (huge, NaN, Infinity...) that JSON.stringify cannot write. */
type Raw = { raw: string };

interface Fuzzer {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

function fuzzer(rand: () => number): Fuzzer {
  return {
    int: (n) => Math.floor(rand() * n),
    pick: (xs) => xs[Math.floor(rand() * xs.length)],
    chance: (p) => rand() < p,
  };
}

function randomString(f: Fuzzer, max = 12): string {
  const alphabet = ['a', 'Z', ' ', '"', '\\', '\n', '{', '}', '\u00e9', '\ud83d\ude00', '\ud800', '\u0000', 'Dream', 'Biscoe', 'Torgersen', 'MALE', 'FEMALE'];
  return Array.from({ length: f.int(max) }, () => f.pick(alphabet)).join('');
}

function randomNumberToken(f: Fuzzer): Raw {
  return {
    raw: f.pick([
      'NaN', '-NaN', 'Infinity', '-Infinity', '+Infinity', 'infinity', 'nan', '1e309', '-1e309', '1e-400', '9007199254740993', '-0', '0',
      '1.7976931348623157e308', '123456789012345678901234567890', '4000', '181', '39.1', '-5', '0x10', '1_000', '.5', '5.', '01', '1e', 'Inf',
    ]),
  };
}

function randomValue(f: Fuzzer, depth: number): unknown {
  switch (f.int(depth > 0 ? 10 : 7)) {
    case 0: return null;
    case 1: return f.chance(0.5);
    case 2: return randomNumberToken(f);
    case 3: return (f.chance(0.5) ? 1 : -1) * f.int(100000) / f.pick([1, 10, 1000]);
    case 4: return randomString(f);
    case 5: return { b64: f.pick(['RHJlYW0=', 'not base64!', '', 'QQ==', '====']) };
    case 6: return f.pick(['Dream', 'Biscoe', 'Torgersen', 'MALE', 'FEMALE', 'Atlantis', '']);
    case 7: return Array.from({ length: f.int(4) }, () => randomValue(f, depth - 1));
    case 8: return randomObject(f, depth - 1);
    default: {
      // A deep nest.
      const n = f.pick([10, 100, 1000, 5000]);
      return { raw: (f.chance(0.5) ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)) };
    }
  }
}

function randomKey(f: Fuzzer): string {
  return f.chance(0.8) ? f.pick(FEATURES) : f.chance(0.7) ? f.pick(ODD_KEYS) : randomString(f);
}

function randomObject(f: Fuzzer, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = f.int(7); i > 0; i--) Object.defineProperty(o, randomKey(f), { value: randomValue(f, depth), enumerable: true, configurable: true, writable: true });
  return o;
}

/** A plausible penguin row: mostly right, sometimes with one field of the wrong type, missing or extra. */
function randomRow(f: Fuzzer): Record<string, unknown> {
  const row: Record<string, unknown> = {
    Island: f.pick(['Dream', 'Biscoe', 'Torgersen']),
    Sex: f.pick(['MALE', 'FEMALE', null]),
    'Beak Length (mm)': 30 + f.int(300) / 10,
    'Beak Depth (mm)': 13 + f.int(80) / 10,
    'Flipper Length (mm)': 170 + f.int(60),
    'Body Mass (g)': 2700 + f.int(3600),
  };
  if (f.chance(0.5)) {
    const k = f.chance(0.8) ? f.pick(FEATURES) : f.pick(ODD_KEYS);
    if (f.chance(0.3)) delete row[k];
    else Object.defineProperty(row, k, { value: randomValue(f, 2), enumerable: true, configurable: true, writable: true });
  }
  return row;
}

function randomV2Input(f: Fuzzer): Record<string, unknown> {
  const input: Record<string, unknown> = {
    name: f.chance(0.85) ? f.pick(FEATURES) : randomKey(f),
    datatype: f.pick(['BYTES', 'FP32', 'FP64', 'INT64', 'INT32', 'BOOL', 'UINT8', 'STRING', 'bogus']),
    shape: f.chance(0.8) ? [f.int(4) - 1, ...(f.chance(0.3) ? [1] : [])] : randomValue(f, 1),
    data: f.chance(0.8) ? Array.from({ length: f.int(4) }, () => randomValue(f, 1)) : randomValue(f, 2),
  };
  if (f.chance(0.2)) delete input[f.pick(['name', 'datatype', 'shape', 'data'])];
  if (f.chance(0.1)) input.parameters = randomValue(f, 1);
  return input;
}

/** JSON text of a value with Raw tokens written as they are and random whitespace. */
function write(f: Fuzzer, v: unknown): string {
  const ws = () => (f.chance(0.05) ? f.pick([' ', '\n', '\t', '\r\n  ']) : '');
  if (v !== null && typeof v === 'object' && 'raw' in v && Object.keys(v).length === 1 && typeof (v as Raw).raw === 'string') return (v as Raw).raw;
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => write(f, x)).join(`,${ws()}`)}${ws()}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${write(f, x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** A random request body (undefined: none). */
function randomBody(f: Fuzzer): string | Buffer | undefined {
  const kind = f.int(14);
  const structured = (): unknown => {
    switch (f.int(8)) {
      case 0: return { instances: Array.from({ length: 1 + f.int(4) }, () => randomRow(f)) };
      case 1: return { instances: f.chance(0.5) ? Array.from({ length: f.int(4) }, () => randomValue(f, 2)) : randomValue(f, 3) };
      case 2: return { inputs: Object.fromEntries(FEATURES.filter(() => f.chance(0.7)).map((k) => [k, Array.from({ length: 1 + f.int(3) }, () => (f.chance(0.7) ? randomRow(f)[k] : randomValue(f, 1)))])) };
      case 3: return { inputs: Array.from({ length: f.int(7) }, () => randomV2Input(f)), ...(f.chance(0.3) ? { outputs: randomValue(f, 2), id: randomValue(f, 0) } : {}) };
      case 4: return { instances: [randomRow(f)], inputs: randomObject(f, 1) };
      case 5: return { examples: Array.from({ length: 1 + f.int(3) }, () => randomRow(f)), context: f.chance(0.5) ? { Island: 'Dream' } : randomValue(f, 2) };
      case 6: return { signature_name: f.pick(['serving_default', '', 'other', 7]), instances: [randomRow(f)], [randomKey(f)]: randomValue(f, 2) };
      default: return f.chance(0.5) ? randomObject(f, 3) : randomValue(f, 3);
    }
  };
  switch (kind) {
    case 0: return undefined;
    case 1: return f.pick(['', ' ', '\n', 'null', '[]', '{}', '""', '0', 'NaN', 'Infinity', 'true', '"instances"', '{"instances": null}']);
    case 2: {
      // Random JSON-ish characters.
      const chars = '{}[]":,. 0123456789eE+-truefalsnulNaInfity\\\n';
      return Array.from({ length: f.int(200) }, () => chars[f.int(chars.length)]).join('');
    }
    case 3: return Buffer.from(Array.from({ length: 1 + f.int(64) }, () => f.int(256)));
    case 4:
    case 5: {
      // Truncated JSON.
      const text = write(f, structured());
      return text.slice(0, f.int(text.length));
    }
    default: return write(f, structured());
  }
}

function randomSegment(f: Fuzzer): string {
  if (f.chance(0.6)) return 'penguins';
  return f.pick(['penguins', 'nope', '%ZZ', '%70enguins', 'pen%2Fguins', '..', '', 'a'.repeat(2000), encodeURIComponent(randomString(f).replace(/[\ud800-\udfff]/g, 'x'))]);
}

function randomPath(f: Fuzzer): string {
  const version = () => f.pick(['1', '1', '1', '1', '2', '0', '-1', '01', 'abc', '99999999999999999999999', '1e3', '']);
  let p: string;
  if (f.chance(0.55)) {
    const scope = f.pick(['', '', '', '', '', '', `/versions/${version()}`, `/labels/${f.pick(['stable', 'canary', '%ZZ', ''])}`]);
    const action = f.pick([':predict', ':predict', ':predict', ':classify', ':regress', ':feedback', '/metadata', '', ':bogus', '/', ':predict/extra']);
    p = `/v1/models/${randomSegment(f)}${scope}${action}`;
  } else {
    const scope = f.pick(['', '', '', '', `/versions/${version()}`]);
    const action = f.pick(['/infer', '/infer', '/infer', '/ready', '', '/bogus', '/infer/']);
    p = `/v2/models/${randomSegment(f)}${scope}${action}`;
  }
  if (f.chance(0.05)) p += `?${f.pick(['a=1', '%ZZ', 'version=2&x', ''])}`;
  return p;
}

interface Answer {
  status: number;
  text: string;
}

function send(url: string, agent: http.Agent, method: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
function violation(method: string, a: Answer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(a.text);
  } catch {
    json = undefined;
  }
  const error = json !== null && typeof json === 'object' ? (json as { error?: unknown }).error : undefined;
  if (a.status >= 200 && a.status < 300) return undefined;
  if (a.status >= 400 && a.status < 500) {
    if (method === 'HEAD') return undefined; // no body by definition
    return typeof error === 'string' && error.length > 0 ? undefined : `${a.status} without a JSON {"error": "..."} message`;
  }
  if (a.status === 503) {
    if (typeof error === 'string' && /batch queue .* is full/.test(error)) return undefined;
    if (json !== null && typeof json === 'object' && (json as { ready?: unknown }).ready === false) return undefined;
    if (method === 'HEAD') return undefined;
    return `503 that is neither backpressure nor readiness`;
  }
  return `unexpected status ${a.status}`;
}

/**
 * Sends a big body (declared with content-length, or chunked) over a raw socket and resolves with the answer.
 * The server answers 413 and closes while the body is still being written, so the writes then fail (EPIPE /
 * ECONNRESET): Node's HTTP client reports that error instead of the answer, a raw socket still reads it.
 */
function sendHuge(url: string, bytes: number, chunked: boolean): Promise<Answer> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    const finish = () => {
      const text = Buffer.concat(received).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer; received ${JSON.stringify(text.slice(0, 200))}`));
      const length = /^content-length: *(\d+)$/im.exec(m[2]);
      resolve({ status: Number(m[1]), text: length ? m[3].slice(0, Number(length[1])) : m[3] });
    };
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
    socket.on('data', (d: Buffer) => {
      answered = true; // the rest of the body is not wanted
      received.push(d);
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(`POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n${chunked ? 'transfer-encoding: chunked' : `content-length: ${bytes}`}\r\n\r\n`);
    const size = 64 * 1024;
    const payload = Buffer.alloc(size, 'a');
    payload.write('{"instances": [{"Island": "');
    const chunk = chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), payload, Buffer.from('\r\n')]) : payload;
    let sent = 0;
    let answered = false;
    // Small chunks, one at a time, each after the last was written: the server has read all that was sent when
    // it answers. It closes the connection at once after a 413 (no lingering close), so data of ours it has not
    // read would make its kernel reset the connection and drop the answer before we read it.
    const pump = () => {
      if (socket.destroyed || answered) return;
      if (sent >= bytes) return void (chunked ? socket.end('0\r\n\r\n') : socket.end());
      sent += size;
      socket.write(chunk, () => setTimeout(pump, 1));
    };
    // A declared length is refused before the body is read: the answer comes before any of it is sent. The
    // wait is long so a slow machine's answer is not raced by our writes (it costs nothing when the answer comes).
    if (chunked) pump();
    else {
      const wait = setTimeout(pump, 5_000);
      socket.on('close', () => clearTimeout(wait));
    }
  });
}

let root: string;
let server: ModelServer;
let url: string;
const validBody = () => ({ instances: penguinRows(2) });

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-fuzz-'));
  const modelDir = await trainPenguinsModel(path.join(root, 'training'));
  const base = path.join(root, 'base');
  await fs.promises.mkdir(base, { recursive: true });
  await publishVersion(modelDir, base, 1);
  // A short batch queue, so backpressure (a deliberate 503) can happen under the fuzzer's concurrency.
  server = await startModelServer({
    models: [{ name: 'penguins', basePath: base, policy: DEFAULT_POLICY, labels: {} }],
    port: 0,
    pollSeconds: 0,
    logger: memoryLogger().logger,
    batching: { maxBatchSize: 8, batchTimeoutMicros: 500, maxEnqueuedBatches: 4 },
  });
  url = server.url;
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (root) await fs.promises.rm(root, { recursive: true, force: true });
});

test(`${REQUESTS} random requests: each is a 2xx, a 4xx with a JSON error or a deliberate 503 (seed: FUZZ_SEED=${SEED})`, async () => {
  const f = fuzzer(createRng(SEED));
  const requests = Array.from({ length: REQUESTS }, (_, i) => {
    const method = f.chance(0.8) ? (f.chance(0.8) ? 'POST' : 'GET') : f.pick(['PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'post']);
    const headers: Record<string, string> = {};
    if (f.chance(0.3)) headers['content-type'] = f.pick(['application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x']);
    if (f.chance(0.05)) headers['x-request-id'] = f.chance(0.5) ? 'r'.repeat(200) : randomString(f).replace(/[^\x20-\x7e]/g, '');
    if (f.chance(0.05)) headers['x-request-key'] = 'k'.repeat(f.int(300));
    // Unknown methods cannot be sent by Node's client ('post' is upper-cased by it); keep the bodies of methods that take one.
    return { i, method: method.toUpperCase(), path: randomPath(f), headers, body: method === 'GET' || method === 'HEAD' ? (f.chance(0.1) ? randomBody(f) : undefined) : randomBody(f) };
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const failures: string[] = [];
  const counts = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++];
      let why: string | undefined;
      let answer: Answer | undefined;
      try {
        answer = await send(`${url}${r.path}`, agent, r.method, r.body, r.headers);
        counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
        why = violation(r.method, answer);
      } catch (err) {
        why = `no answer: ${(err as Error).message}`;
      }
      if (why) {
        const body = r.body === undefined ? '(none)' : Buffer.isBuffer(r.body) ? `hex ${r.body.toString('hex')}` : JSON.stringify(r.body.length > 500 ? `${r.body.slice(0, 500)}...(${r.body.length} chars)` : r.body);
        failures.push(`FUZZ_SEED=${SEED} request #${r.i}: ${why}\n  ${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers)}\n  body: ${body}\n  answer: ${answer ? `${answer.status} ${answer.text.slice(0, 300)}` : '-'}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  if (failures.length || process.env.FUZZ_VERBOSE) process.stderr.write(`fuzz seed ${SEED}: ${failures.length} failures; statuses ${JSON.stringify(Object.fromEntries(counts))}\n${failures.slice(0, 20).join('\n')}\n`);
  expect(failures.slice(0, 10)).toEqual([]);
  // The fuzzer reached the model: some requests were predicted and many refused.
  expect(counts.get(200) ?? 0).toBeGreaterThan(20);
  expect(counts.get(400) ?? 0).toBeGreaterThan(100);

  const predicted = await request(`${url}/v1/models/penguins:predict`, { body: validBody() });
  expect(predicted.status).toBe(200);
  expect(predicted.json.predictions).toHaveLength(2);
  expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200, json: { live: true } });
}, 90_000);

test('a 50 MB body is a 413 with a message (declared or chunked) and the server stays up', async () => {
  for (const chunked of [false, true]) {
    const r = await sendHuge(`${url}/v1/models/penguins:predict`, 50 * 1024 * 1024, chunked);
    expect({ chunked, status: r.status, json: JSON.parse(r.text) }).toEqual({ chunked, status: 413, json: { error: `request body is larger than the limit of ${10 * 1024 * 1024} bytes` } });
  }
  expect((await request(`${url}/v1/models/penguins:predict`, { body: validBody() })).status).toBe(200);
  expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200, json: { live: true } });
}, 60_000);
