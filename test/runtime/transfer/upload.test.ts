// `mlp data upload` against a real GCS JSON API (firebase-tools' emulator on loopback): a tree with a file
// above the resumable threshold, skip-if-identical reruns, changed files, checksum verification against a
// proxy that corrupts bytes in transit, retries of transient errors, per-file failures, globs, progress and
// the CLI's text and --json output.

import { File } from '@google-cloud/storage';
import { Command } from 'commander';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerDataCommand } from '../../../runtime/cli/commands/data';
import { UserError } from '../../../runtime/core/errors';
import { GcsStorage } from '../../../runtime/storage/gcs-storage';
import { UploadProgress } from '../../../runtime/transfer/progress';
import { planUpload } from '../../../runtime/transfer/upload-plan';
import { uploadPlan, type FileOutcome, type UploaderOptions, type UploadSummary } from '../../../runtime/transfer/uploader';
import { startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator';
import { isUpload, startFaultProxy, uploadOf, type FaultProxy } from './fault-proxy';

const BUCKET = 'mlp-transfer';
let emulator: GcsEmulator;
let proxy: FaultProxy;
let gcs: GcsStorage;
let dir: string;
let prefixes = 0;
const newPrefix = () => `gs://${BUCKET}/upload-${++prefixes}`;

beforeAll(async () => {
  emulator = await startGcsEmulator();
  proxy = await startFaultProxy(emulator.host);
  gcs = new GcsStorage({ apiEndpoint: emulator.host });
});
afterAll(async () => {
  await proxy.close();
  await emulator.stop();
});
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-transfer-'));
  proxy.rules = [];
  proxy.hits = 0;
});
afterEach(async () => {
  jest.restoreAllMocks();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** Writes files (relative path → content) below dir/name and returns that folder. */
function tree(name: string, files: Record<string, Buffer | string>): string {
  const root = path.join(dir, name);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}

async function upload(source: string, destination: string, opts: UploaderOptions = {}): Promise<UploadSummary & { outcomes: FileOutcome[] }> {
  const outcomes: FileOutcome[] = [];
  const summary = await uploadPlan(await planUpload(source, destination), {
    backoffMs: 10,
    ...opts,
    gcs: { apiEndpoint: emulator.host, ...opts.gcs },
    listener: { ...opts.listener, finished: (o) => outcomes.push(o) },
  });
  return { ...summary, outcomes };
}

const statusOf = (s: { outcomes: FileOutcome[] }) => Object.fromEntries(s.outcomes.map((o) => [o.rel, o.status]));

test('a tree is uploaded with relative names, the large file resumable, every object equal to its file', async () => {
  const big = randomBytes(300 * 1024 + 7);
  const files = { 'a.csv': 'x,y\n1,2\n', 'nested/deeper/b.json': '{"k":1}\n', 'nested/big.bin': big, 'empty.txt': '' };
  const src = tree('data', files);
  const createWriteStream = jest.spyOn(File.prototype, 'createWriteStream');
  const dest = newPrefix();

  const sent: number[] = [];
  const s = await upload(src, dest, {
    gcs: { resumableThreshold: 64 * 1024 },
    concurrency: 3,
    listener: { progress: (item, bytes) => item.rel === 'nested/big.bin' && sent.push(bytes) },
  });

  expect(s).toMatchObject({ files: 4, uploaded: 4, skipped: 0, failed: 0, failures: [], bytesSkipped: 0 });
  expect(s.bytesUploaded).toBe(big.length + 8 + 8);
  expect(s.outcomes.every((o) => o.attempts === 1)).toBe(true);
  // The large file reports bytes as they go, not only when done.
  expect(sent.some((b) => b > 0 && b < big.length)).toBe(true);
  expect(sent[sent.length - 1]).toBe(big.length);
  const resumable = new Map(createWriteStream.mock.calls.map((call, i) => [(createWriteStream.mock.contexts[i] as File).name, call[0]?.resumable]));
  const folder = dest.slice(`gs://${BUCKET}/`.length);
  expect(resumable.get(`${folder}/nested/big.bin`)).toBe(true);
  expect(resumable.get(`${folder}/a.csv`)).toBe(false);
  for (const [rel, content] of Object.entries(files)) {
    expect((await gcs.readFile(`${dest}/${rel}`)).equals(Buffer.from(content))).toBe(true);
  }
});

test('a rerun uploads nothing and skips every file; a changed or new file is uploaded again', async () => {
  const src = tree('data', { 'a.txt': 'alpha', 'b/c.txt': 'gamma', 'd.txt': 'delta' });
  const dest = newPrefix();
  expect(await upload(src, dest)).toMatchObject({ uploaded: 3, skipped: 0 });

  const rerun = await upload(src, dest);
  expect(rerun).toMatchObject({ files: 3, uploaded: 0, skipped: 3, failed: 0, bytesUploaded: 0, bytesSkipped: 15 });

  // Same size, different bytes: only the md5 tells them apart.
  fs.writeFileSync(path.join(src, 'b/c.txt'), 'GAMMA');
  fs.writeFileSync(path.join(src, 'e.txt'), 'epsilon');
  const changed = await upload(src, dest);
  expect(statusOf(changed)).toEqual({ 'a.txt': 'skipped', 'b/c.txt': 'uploaded', 'd.txt': 'skipped', 'e.txt': 'uploaded' });
  expect((await gcs.readFile(`${dest}/b/c.txt`)).toString()).toBe('GAMMA');
});

test('bytes corrupted in transit fail the checksum check: the object is deleted and the file uploaded again', async () => {
  const src = tree('data', { 'ok.txt': 'fine', 'target.txt': 'payload-MARKER-payload' });
  const corrupt = (body: Buffer) => Buffer.from(body.toString('latin1').replace('MARKER', 'MARKEX'), 'latin1');
  proxy.rules = [{ match: (r) => isUpload(r) && r.body.includes('MARKER'), rewrite: corrupt, times: 1 }];
  const retries: string[] = [];
  const dest = newPrefix();

  const s = await upload(src, dest, {
    gcs: { apiEndpoint: proxy.host },
    listener: { retrying: (item, attempt, error) => retries.push(`${item.rel} ${attempt} ${error}`) },
  });

  expect(proxy.hits).toBe(1);
  expect(retries).toEqual([expect.stringMatching(/^target\.txt 2 checksum mismatch after upload \(stored crc32c .+, expected .+\)/)]);
  expect(s).toMatchObject({ uploaded: 2, failed: 0 });
  expect(s.outcomes.find((o) => o.rel === 'target.txt')?.attempts).toBe(2);
  expect((await gcs.readFile(`${dest}/target.txt`)).toString()).toBe('payload-MARKER-payload');

  // With no attempts left the corrupt object is not left behind.
  proxy.rules = [{ match: (r) => isUpload(r) && r.body.includes('MARKER'), rewrite: corrupt, times: 1 }];
  const dest2 = newPrefix();
  const once = await upload(src, dest2, { gcs: { apiEndpoint: proxy.host }, attempts: 1 });
  expect(once.failures).toEqual([{ file: 'target.txt', uri: `${dest2}/target.txt`, error: expect.stringContaining('checksum mismatch') }]);
  expect(await gcs.exists(`${dest2}/target.txt`)).toBe(false);
  expect(await gcs.exists(`${dest2}/ok.txt`)).toBe(true);
});

test('a file rewritten between hashing and upload is measured again and re-uploaded with its new content', async () => {
  const src = tree('data', { 'live.log': 'version 1' });
  let rewritten = false;
  const dest = newPrefix();
  const s = await upload(src, dest, {
    listener: {
      // Called just before each upload attempt starts reading the file.
      progress: (item, bytes) => {
        if (bytes === 0 && !rewritten) fs.writeFileSync(item.abs, 'version 2');
        rewritten = true;
      },
    },
  });
  expect(s.outcomes).toEqual([expect.objectContaining({ rel: 'live.log', status: 'uploaded', attempts: 2 })]);
  expect((await gcs.readFile(`${dest}/live.log`)).toString()).toBe('version 2');
});

test('transient API errors are retried with backoff; a file that keeps failing is reported while the others succeed', async () => {
  const src = tree('data', { 'one.txt': '1', 'two.txt': '22', 'flaky.txt': 'flaky', 'down.txt': 'down' });
  proxy.rules = [
    { match: uploadOf('flaky.txt'), status: 503, times: 2 },
    { match: uploadOf('down.txt'), status: 503 },
  ];
  const retries: [string, number, number][] = [];
  const dest = newPrefix();

  // Library-level retries off (autoRetry: false; the client turns maxRetries 0 into its default 3), so the
  // uploader's own retries are what is tested.
  const s = await upload(src, dest, {
    gcs: { apiEndpoint: proxy.host, retryOptions: { autoRetry: false } },
    attempts: 3,
    listener: { retrying: (item, attempt, _e, delayMs) => retries.push([item.rel, attempt, delayMs]) },
  });

  expect(statusOf(s)).toEqual({ 'down.txt': 'failed', 'flaky.txt': 'uploaded', 'one.txt': 'uploaded', 'two.txt': 'uploaded' });
  expect(retries.filter((r) => r[0] === 'flaky.txt')).toEqual([
    ['flaky.txt', 2, 10],
    ['flaky.txt', 3, 20],
  ]);
  expect(s.outcomes.find((o) => o.rel === 'down.txt')?.attempts).toBe(3);
  expect(s.failures).toEqual([{ file: 'down.txt', uri: `${dest}/down.txt`, error: 'HTTP 503: backend unavailable' }]);
  expect((await gcs.readFile(`${dest}/flaky.txt`)).toString()).toBe('flaky');
});

test('a file that vanished after planning fails without upload attempts; the rest are uploaded', async () => {
  const src = tree('data', { 'keep.txt': 'keep', 'gone.txt': 'gone' });
  const dest = newPrefix();
  const plan = await planUpload(src, dest);
  fs.rmSync(path.join(src, 'gone.txt'));
  const s = await uploadPlan(plan, { gcs: { apiEndpoint: emulator.host } });
  expect(s).toMatchObject({ uploaded: 1, failed: 1 });
  expect(s.failures).toEqual([{ file: 'gone.txt', uri: `${dest}/gone.txt`, error: expect.stringMatching(/^cannot read .*gone\.txt: ENOENT/) }]);
});

test('globs and single files are planned with names relative to the fixed part of the path', async () => {
  const src = tree('data', { '2024-01/x.csv': 'x', '2024-02/y.csv': 'y', '2024-02/z.json': 'z', 'deep/er/w.csv': 'w', 'top.csv': 't' });
  const names = async (source: string) => (await planUpload(source, 'gs://bkt/p')).items.map((i) => i.uri);
  expect(await names(path.join(src, '2024-*/*.csv'))).toEqual(['gs://bkt/p/2024-01/x.csv', 'gs://bkt/p/2024-02/y.csv']);
  expect(await names(path.join(src, '**/*.csv'))).toEqual(['gs://bkt/p/2024-01/x.csv', 'gs://bkt/p/2024-02/y.csv', 'gs://bkt/p/deep/er/w.csv', 'gs://bkt/p/top.csv']);
  expect(await names(path.join(src, '2024-0[2]/?.json'))).toEqual(['gs://bkt/p/2024-02/z.json']);
  expect(await names(path.join(src, 'top.csv'))).toEqual(['gs://bkt/p/top.csv']);
  await expect(planUpload(path.join(src, '*.parquet'), 'gs://bkt/p')).rejects.toThrow(new UserError(`nothing to upload: ${path.join(src, '*.parquet')} matches no files`));
  await expect(planUpload(path.join(src, 'nope'), 'gs://bkt/p')).rejects.toThrow(UserError);
  await expect(planUpload(src, 's3://b/p')).rejects.toThrow(new UserError('not a gs:// URI: s3://b/p'));
});

test('progress: a bar redrawn in place on a TTY, periodic lines otherwise, retries and failures as lines', () => {
  let now = 0;
  const item = (rel: string) => ({ rel, abs: `/x/${rel}`, size: 0, uri: `gs://b/${rel}` });
  const run = (live: boolean) => {
    let out = '';
    const p = new UploadProgress({ out: { write: (t: string) => (out += t) }, live, intervalMs: 60_000, now: () => now });
    now = 0;
    p.started(4, 4_000_000);
    now = 1000;
    p.progress(item('a'), 39_999);
    expect(p.status()).toBe('40 kB / 4 MB (0%)  40 kB/s  ETA --  0/4 files');
    now = 2000;
    p.finished({ rel: 'a', uri: 'gs://b/a', size: 1_000_000, status: 'uploaded', attempts: 1 });
    p.progress(item('b'), 1_000_000);
    (p as unknown as { tick(): void }).tick();
    p.retrying(item('c'), 2, 'HTTP 503: backend unavailable', 1000);
    p.finished({ rel: 'd', uri: 'gs://b/d', size: 0, status: 'failed', attempts: 3, error: 'HTTP 403: denied' });
    p.stop();
    return out;
  };
  // 2 MB of 4 MB in 2 s: 1 MB/s, 2 s to go. (Below 1% done the ETA would be a guess: "--".)
  expect(run(true)).toBe(
    '[############............] 2 MB / 4 MB (50%)  1 MB/s  ETA 2s  1/4 files' +
      '\r\x1b[2Kretrying c (attempt 2) in 1.00s: HTTP 503: backend unavailable\n' +
      'failed d: HTTP 403: denied\n',
  );
  expect(run(false)).toBe(
    'upload: 2 MB / 4 MB (50%)  1 MB/s  ETA 2s  1/4 files\n' +
      'retrying c (attempt 2) in 1.00s: HTTP 503: backend unavailable\n' +
      'failed d: HTTP 403: denied\n',
  );
});

describe('the CLI command', () => {
  let savedHost: string | undefined;
  beforeEach(() => {
    savedHost = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = proxy.host;
  });
  afterEach(() => {
    if (savedHost === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = savedHost;
  });

  async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; error?: Error }> {
    let stdout = '';
    let stderr = '';
    const program = new Command('mlp').exitOverride();
    registerDataCommand(program, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: false } });
    for (const c of program.commands) c.exitOverride();
    const error = await program.parseAsync(['node', 'mlp', 'data', ...args]).then(() => undefined, (e: Error) => e);
    return { stdout, stderr, error };
  }

  test('prints a summary; a rejected file fails the command with its name while the others are uploaded', async () => {
    const src = tree('data', { 'a.txt': 'a', 'sub/b.txt': 'bb', 'forbidden.txt': 'no' });
    proxy.rules = [{ match: uploadOf('forbidden.txt'), status: 403 }];
    const dest = newPrefix();

    const r = await cli('upload', src, dest, '--concurrency', '2');
    expect(r.error).toEqual(new UserError('1 of 3 files failed to upload: forbidden.txt'));
    expect(r.stdout).toBe(
      `2 uploaded (3 B), 0 skipped as identical (0 B), 1 failed; 3 files to ${dest} in ${r.stdout.match(/ in (\S+) at/)![1]} at ${r.stdout.match(/ at (\S+ \S+)\n/)![1]}\n` +
        'failed files:\n' +
        `  forbidden.txt → ${dest}/forbidden.txt: HTTP 403: caller does not have storage.objects.create access\n`,
    );
    expect(r.stderr).toBe('failed forbidden.txt: HTTP 403: caller does not have storage.objects.create access\n');
    expect(await gcs.exists(`${dest}/sub/b.txt`)).toBe(true);

    // The rejection is not transient: one attempt only, even with retries left.
    expect(proxy.hits).toBe(1);
  });

  test('--json prints only the summary on stdout; a rerun reports every file skipped', async () => {
    const src = tree('data', { 'a.txt': 'a', 'b.txt': 'bb' });
    const dest = newPrefix();
    const first = await cli('upload', src, dest, '--json');
    expect(first.error).toBeUndefined();
    expect(JSON.parse(first.stdout)).toMatchObject({ source: src, destination: dest, files: 2, uploaded: 2, skipped: 0, failed: 0, bytesUploaded: 3, failures: [] });

    const second = JSON.parse((await cli('upload', src, dest, '--json')).stdout) as UploadSummary;
    expect(second).toMatchObject({ files: 2, uploaded: 0, skipped: 2, failed: 0, bytesSkipped: 3 });
    expect(Object.keys(second).sort()).toEqual(
      ['bytesPerSecond', 'bytesSkipped', 'bytesUploaded', 'destination', 'durationMs', 'failed', 'failures', 'files', 'skipped', 'source', 'uploaded'].sort(),
    );
  });

  test('a listing the credentials may not read fails the command before any upload', async () => {
    const src = tree('data', { 'a.txt': 'a' });
    proxy.rules = [{ match: (r) => r.method === 'GET' && r.url.includes('/o?'), status: 403 }];
    const dest = newPrefix();
    const r = await cli('upload', src, dest);
    expect(r.error).toEqual(
      new UserError(`listing ${dest} for existing objects: HTTP 403: caller does not have storage.objects.create access`),
    );
    expect(await gcs.exists(`${dest}/a.txt`)).toBe(false);
  });

  test('bad flag values are one-line errors naming the flag', async () => {
    expect((await cli('upload', dir, 'gs://bkt/p', '--concurrency', '0')).error).toEqual(new UserError('--concurrency "0": expected a whole number ≥ 1'));
    expect((await cli('upload', dir, 'gs://bkt/p', '--retries', 'x')).error).toEqual(new UserError('--retries "x": expected a whole number ≥ 0'));
    expect((await cli('upload', dir, 'gs://bkt/p', '--resumable-threshold', 'big')).error?.message).toMatch(/^--resumable-threshold "big": expected a number and a unit/);
    expect((await cli('upload', dir, 'gs://Bad_Bucket/p')).error).toEqual(new UserError('invalid bucket name "Bad_Bucket" in gs://Bad_Bucket/p'));
  });
});
