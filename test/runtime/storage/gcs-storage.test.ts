// The storage behaviour suite on gs:// against a real GCS JSON API (firebase-tools' emulator on loopback), plus
// what only GCS does: paged listing, resumable uploads, checksum verification on download, API error mapping,
// and the publish claim (a generation-conditional object) that settles concurrent publishes.

import { Bucket, File } from '@google-cloud/storage';
import type { AddressInfo } from 'net';
import { randomBytes } from 'crypto';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../../../runtime/core/errors';
import { COMMIT_MARKER, joinUri, PublishConflictError, storageFor } from '../../../runtime/storage';
import { CLAIM, GcsStorage } from '../../../runtime/storage/gcs-storage';
import { pointStorageAt, startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator';
import { failure, interruptedStorage } from './interrupt';
import { emptyDir, makeDir, readDir, removeTempDirs, storageSuite } from './storage-suite';

const BUCKET = 'mlp-test';
let emulator: GcsEmulator;
beforeAll(async () => {
  emulator = await startGcsEmulator();
});
afterAll(async () => {
  await emulator.stop();
  removeTempDirs();
});

let roots = 0;
const newRoot = () => `gs://${BUCKET}/root-${++roots}`;

storageSuite('gcs', () => ({
  // A small page size makes every listing in the suite span several pages.
  storage: new GcsStorage({ apiEndpoint: emulator.host, pageSize: 2 }),
  failingAfter: (files) => interruptedStorage('gcs', files, failure, { apiEndpoint: emulator.host }),
  newRoot,
  childEnv: { STORAGE_EMULATOR_HOST: emulator.host },
}));

describe('gcs storage specifics', () => {
  let s: GcsStorage;
  beforeAll(() => {
    s = new GcsStorage({ apiEndpoint: emulator.host, resumableThreshold: 256 * 1024, pageSize: 3 });
  });
  afterEach(() => jest.restoreAllMocks());

  test('listing follows pagination across pages', async () => {
    const root = newRoot();
    const names = Array.from({ length: 8 }, (_, i) => `f${i}.txt`);
    for (const n of names) await s.writeFile(joinUri(root, n), n);
    const getFiles = jest.spyOn(Bucket.prototype, 'getFiles');
    expect((await s.list(root)).map((e) => e.uri)).toEqual(names.map((n) => joinUri(root, n)));
    expect(getFiles).toHaveBeenCalledTimes(3);
  });

  test('files above the resumable threshold round-trip through resumable uploads, verified on download', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const small = Buffer.from('small');
    const createWriteStream = jest.spyOn(File.prototype, 'createWriteStream');
    const final = joinUri(newRoot(), 'model');
    const manifest = await s.publishDirectory(makeDir({ 'weights.bin': big, 'meta.txt': small }), final);
    const resumable = new Map(
      createWriteStream.mock.calls.map((call, i) => [path.posix.basename((createWriteStream.mock.contexts[i] as File).name), call[0]?.resumable]),
    );
    expect(resumable.get('weights.bin')).toBe(true);
    expect(resumable.get('meta.txt')).toBe(false);
    expect(manifest.files.find((f) => f.path === 'weights.bin')?.size).toBe(big.length);

    expect((await s.readFile(joinUri(final, 'weights.bin'))).equals(big)).toBe(true);
    const local = emptyDir();
    await s.downloadTree(final, local);
    expect(fs.readFileSync(path.join(local, 'weights.bin')).equals(big)).toBe(true);

    await s.writeFile(joinUri(final, '../direct.bin'), big);
    expect((await s.readFile(joinUri(final, '../direct.bin'))).equals(big)).toBe(true);
  });

  test('the emulator honours ifGenerationMatch on uploads and deletes (test/support/gcs-preconditions.ts: firebase-tools alone ignores it)', async () => {
    const file = s.client.bucket(BUCKET).file(`${newRoot().slice(`gs://${BUCKET}/`.length)}/x`);
    await file.save('one', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    await expect(file.save('two', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toMatchObject({ code: 412 });
    const generation = Number(file.metadata.generation);
    await expect(file.delete({ ifGenerationMatch: generation + 1 })).rejects.toMatchObject({ code: 412 });
    expect((await file.download())[0].toString()).toBe('one');
    await file.delete({ ifGenerationMatch: generation });
    expect((await file.exists())[0]).toBe(false);
  });

  describe('the publish claim', () => {
    const claimOf = (final: string) => joinUri(final, CLAIM);

    test('objects without a marker or claim (an interrupted publish) are replaced by the next publish', async () => {
      const final = joinUri(newRoot(), 'model');
      await s.writeFile(joinUri(final, 'stale-only.txt'), 'old');
      await s.writeFile(joinUri(final, 'w.bin'), 'old');
      await s.publishDirectory(makeDir({ 'w.bin': 'new' }), final);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([joinUri(final, COMMIT_MARKER), joinUri(final, 'w.bin')]);
      expect((await s.readFile(joinUri(final, 'w.bin'))).toString()).toBe('new');
    });

    test('a claim held by a publish on another host blocks the publish, naming the claim to delete; nothing is touched', async () => {
      const final = joinUri(newRoot(), 'model');
      const owner = { host: 'other-host', pid: 1, startedAt: '2026-01-01T00:00:00.000Z', token: 'abc' };
      await s.writeFile(claimOf(final), JSON.stringify(owner));
      await s.writeFile(joinUri(final, 'w.bin'), 'being uploaded');
      const source = makeDir({ 'w.bin': 'mine' });
      await expect(s.publishDirectory(source, final)).rejects.toThrow(
        new PublishConflictError(final, `another publish holds it (host other-host pid 1 since 2026-01-01T00:00:00.000Z); if that process is gone, delete ${claimOf(final)} and publish again`),
      );
      expect((await s.readFile(joinUri(final, 'w.bin'))).toString()).toBe('being uploaded');
      expect(readDir(source)).toEqual({ 'w.bin': 'mine' });
      // Once the user has deleted the claim as the message says, the publish goes through.
      await s.delete(claimOf(final));
      await s.publishDirectory(source, final);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([joinUri(final, COMMIT_MARKER), joinUri(final, 'w.bin')]);
    });

    test('a claim left by a dead process on this host is taken over', async () => {
      const final = joinUri(newRoot(), 'model');
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await s.writeFile(claimOf(final), JSON.stringify({ host: os.hostname(), pid: dead, startedAt: '2026-01-01T00:00:00.000Z', token: 'abc' }));
      await s.writeFile(joinUri(final, 'half.bin'), 'debris');
      const manifest = await s.publishDirectory(makeDir({ 'w.bin': 'mine' }), final);
      expect(await s.readCommit(final)).toEqual(manifest);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([joinUri(final, COMMIT_MARKER), joinUri(final, 'w.bin')]);
    });
  });

  test('an object corrupted at rest is detected by the checksum check on download', async () => {
    const content = randomBytes(64 * 1024);
    const final = joinUri(newRoot(), 'data');
    await s.publishDirectory(makeDir({ 'part-0': content }), final);
    // Flip bytes of the stored blob; the emulator still reports the crc32c/md5 it computed at upload.
    const blob = fs.readdirSync(emulator.blobDir).map((n) => path.join(emulator.blobDir, n)).find((p) => fs.readFileSync(p).equals(content));
    expect(blob).toBeDefined();
    const corrupted = Buffer.from(content);
    corrupted[1000] ^= 0xff;
    fs.writeFileSync(blob!, corrupted);

    const uri = joinUri(final, 'part-0');
    await expect(s.readFile(uri)).rejects.toThrow(new UserError(`reading ${uri}: checksum mismatch, the data was corrupted in transit or at rest`));
    await expect(s.downloadTree(final, emptyDir())).rejects.toThrow('checksum mismatch');
    const stream = await s.createReadStream(uri);
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toThrow('checksum mismatch');
  });

  test('URIs that name a folder or an invalid bucket are UserErrors', async () => {
    await expect(s.readFile(`gs://${BUCKET}/dir/`)).rejects.toThrow(`gs://${BUCKET}/dir/ names a folder, not an object`);
    await expect(s.readFile('gs://Bad_Bucket/x')).rejects.toThrow(UserError);
  });

  test('storageFor reuses one client per configuration and honours STORAGE_EMULATOR_HOST', async () => {
    const restore = pointStorageAt(emulator);
    try {
      const viaEnv = storageFor(`gs://${BUCKET}/a`);
      expect(storageFor(`gs://${BUCKET}/b`)).toBe(viaEnv);
      expect(storageFor(`gs://${BUCKET}/a`, { gcs: { pageSize: 5 } })).not.toBe(viaEnv);
      const uri = joinUri(newRoot(), 'env.txt');
      await viaEnv.writeFile(uri, 'via env');
      expect((await s.readFile(uri)).toString()).toBe('via env');
    } finally {
      restore();
    }
  });

  describe('through a proxy that injects API errors', () => {
    /** An error response; `lost`: the request reaches the emulator first (a response lost on the way back); `match`: only for such requests. */
    type Fault = { status: number; body: string; lost?: boolean; match?: (req: http.IncomingMessage) => boolean };
    let faults: Fault[] = [];
    let requests = 0;
    let proxy: http.Server;
    let flaky: GcsStorage;
    let flakyReads: GcsStorage;
    beforeAll(async () => {
      const target = new URL(emulator.host);
      proxy = http.createServer((req, res) => {
        requests++;
        const at = faults.findIndex((f) => !f.match || f.match(req));
        const fault = at < 0 ? undefined : faults.splice(at, 1)[0];
        const fail = () => res.writeHead(fault!.status, { 'content-type': 'application/json' }).end(fault!.body);
        if (fault && !fault.lost) {
          req.resume();
          fail();
          return;
        }
        const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          if (fault) {
            r.resume();
            r.on('end', fail);
            return;
          }
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        });
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const apiEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      // Backoff capped at 1 s, the smallest cap the library's upload retries accept; reads accept 20 ms.
      flaky = new GcsStorage({ apiEndpoint, resumableThreshold: 8, retryOptions: { maxRetries: 2, maxRetryDelay: 1 } });
      flakyReads = new GcsStorage({ apiEndpoint, retryOptions: { maxRetries: 2, maxRetryDelay: 0.02 } });
    });
    afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    beforeEach(() => {
      faults = [];
      requests = 0;
    });
    const apiError = (status: number, message: string): Fault => ({ status, body: JSON.stringify({ error: { code: status, message } }) });

    test('transient errors are retried: simple and resumable uploads, reads', async () => {
      const root = newRoot();
      faults = [apiError(503, 'backend unavailable')];
      await flaky.writeFile(joinUri(root, 'small'), 'tiny');
      faults = [apiError(503, 'backend unavailable')];
      await flaky.writeFile(joinUri(root, 'resumable'), 'more than eight bytes');
      faults = [apiError(429, 'slow down'), apiError(500, 'internal')];
      expect((await flakyReads.readFile(joinUri(root, 'resumable'))).toString()).toBe('more than eight bytes');
      expect(faults).toEqual([]);
      expect(await s.list(root)).toHaveLength(2);
    });

    test('a claim and a marker stored by requests whose responses were lost are recognised as ours on retry', async () => {
      const final = joinUri(newRoot(), 'model');
      const upload = (name: string) => (req: http.IncomingMessage) => req.method === 'POST' && new URL(req.url!, 'http://x').searchParams.get('name')?.endsWith(`/${name}`) === true;
      faults = [CLAIM, COMMIT_MARKER].map((name) => ({ ...apiError(503, 'backend unavailable'), lost: true, match: upload(name) }));
      const manifest = await flaky.publishDirectory(makeDir({ 'w.bin': 'mine' }), final);
      expect(faults).toEqual([]);
      expect(await s.readCommit(final)).toEqual(manifest);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([joinUri(final, COMMIT_MARKER), joinUri(final, 'w.bin')]);
    });

    test('an error that outlives the retries names the URI after maxRetries + 1 attempts', async () => {
      const uri = joinUri(newRoot(), 'x.txt');
      faults = Array.from({ length: 10 }, () => apiError(503, 'backend unavailable'));
      await expect(flakyReads.readFile(uri)).rejects.toThrow(`reading ${uri}: backend unavailable`);
      expect(requests).toBe(3);
    });

    test('missing buckets and denied permissions are UserErrors naming the URI', async () => {
      const uri = 'gs://no-such-bucket/a/b.txt';
      faults = [apiError(404, 'The specified bucket does not exist.')];
      await expect(flaky.list('gs://no-such-bucket/a')).rejects.toThrow(
        new UserError('listing gs://no-such-bucket/a: bucket gs://no-such-bucket does not exist'),
      );
      faults = [apiError(403, 'caller does not have storage.objects.get access')];
      await expect(flaky.readFile(uri)).rejects.toThrow(
        new UserError(`reading ${uri}: permission denied (caller does not have storage.objects.get access)`),
      );
    });
  });
});
