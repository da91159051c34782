// The artifact-store behaviour suite, written once and run against every backend (local disk and gs:// on the
// emulator): files and streams, listing, deletion, tree copies, and atomic publish with commit markers.

import { fork } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import { UserError } from '../../../runtime/core/errors';
import { COMMIT_MARKER, fingerprintOf, joinUri, PublishConflictError, type ArtifactStorage } from '../../../runtime/storage';

export interface Backend {
  storage: ArtifactStorage;
  /** A storage whose publishDirectory dies (throws) after writing `files` files of the artifact. */
  failingAfter(files: number): ArtifactStorage;
  /** A fresh, empty root URI for one test. */
  newRoot(): string;
  /** Environment for a child process that publishes to this backend (crash tests). */
  childEnv: NodeJS.ProcessEnv;
}

const tempDirs: string[] = [];

/** Removes the directories made by makeDir/emptyDir; each test file calls it in its afterAll. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A local directory holding the given files ('/'-separated relative paths). */
export function makeDir(files: Record<string, string | Buffer>, base = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(base, 'mlp-storage-src-'));
  tempDirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

export function emptyDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-storage-dst-'));
  tempDirs.push(dir);
  return dir;
}

/** Relative path → content of every file below a local directory. */
export function readDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const abs = path.join(dir, rel);
    if (fs.statSync(abs).isFile()) out[rel.split(path.sep).join('/')] = fs.readFileSync(abs, 'utf8');
  }
  return out;
}

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

const CHILD = path.join(__dirname, 'publish-child.ts');

/** Runs publish-child.ts, waits until it has written `files` files, SIGKILLs it, and waits for it to be gone. */
export async function killMidPublish(env: NodeJS.ProcessEnv, localDir: string, finalUri: string, files: number): Promise<void> {
  const child = fork(CHILD, [localDir, finalUri, String(files)], {
    env: { ...process.env, ...env },
    execArgv: ['-r', 'sucrase/register/ts'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const paused = await new Promise<boolean>((resolve) => {
    child.once('message', () => resolve(true));
    child.once('exit', () => resolve(false));
  });
  if (!paused) throw new Error(`publish child exited before pausing: ${stderr}`);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

export function storageSuite(name: string, setup: () => Backend): void {
  describe(`${name} storage`, () => {
    let b: Backend;
    let s: ArtifactStorage;
    beforeAll(() => {
      b = setup();
      s = b.storage;
    });

    test('writes and reads whole files, strings and buffers, creating parents', async () => {
      const root = b.newRoot();
      await s.writeFile(joinUri(root, 'a/b/c.txt'), 'hello');
      await s.writeFile(joinUri(root, 'bin'), Buffer.from([0, 1, 2, 255]));
      expect((await s.readFile(joinUri(root, 'a/b/c.txt'))).toString()).toBe('hello');
      expect([...(await s.readFile(joinUri(root, 'bin')))]).toEqual([0, 1, 2, 255]);
      await s.writeFile(joinUri(root, 'a/b/c.txt'), 'replaced');
      expect((await s.readFile(joinUri(root, 'a/b/c.txt'))).toString()).toBe('replaced');
    });

    test('streams data in and out', async () => {
      const root = b.newRoot();
      const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
      await pipeline(Readable.from(chunks), await s.createWriteStream(joinUri(root, 'streamed.bin')));
      // The write stream finishes only once the data is stored: it is readable right away.
      const received: Buffer[] = [];
      await pipeline(
        await s.createReadStream(joinUri(root, 'streamed.bin')),
        new Writable({
          write(chunk, _enc, cb) {
            received.push(chunk);
            cb();
          },
        }),
      );
      expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    });

    test('missing files are a UserError naming the URI', async () => {
      const missing = joinUri(b.newRoot(), 'nope.txt');
      await expect(s.readFile(missing)).rejects.toThrow(UserError);
      await expect(s.readFile(missing)).rejects.toThrow(missing);
      await expect(s.createReadStream(missing)).rejects.toThrow(missing);
    });

    test('exists: files, folders with files, and missing paths', async () => {
      const root = b.newRoot();
      await s.writeFile(joinUri(root, 'dir/file.txt'), 'x');
      expect(await s.exists(joinUri(root, 'dir/file.txt'))).toBe(true);
      expect(await s.exists(joinUri(root, 'dir'))).toBe(true);
      expect(await s.exists(joinUri(root, 'dir/other.txt'))).toBe(false);
      expect(await s.exists(joinUri(root, 'di'))).toBe(false);
    });

    test('lists every file below a prefix, recursively, sorted, with sizes; not siblings sharing the name', async () => {
      const root = b.newRoot();
      for (const [rel, content] of Object.entries({ 'a/2.txt': '22', 'a/1.txt': '1', 'a/sub/3.txt': '333', 'ab/x.txt': 'x' })) {
        await s.writeFile(joinUri(root, rel), content);
      }
      expect(await s.list(joinUri(root, 'a'))).toEqual([
        { uri: joinUri(root, 'a/1.txt'), size: 1 },
        { uri: joinUri(root, 'a/2.txt'), size: 2 },
        { uri: joinUri(root, 'a/sub/3.txt'), size: 3 },
      ]);
      expect(await s.list(joinUri(root, 'a') + '/')).toHaveLength(3);
      expect((await s.list(root)).map((e) => e.uri)).toContain(joinUri(root, 'ab/x.txt'));
      expect(await s.list(joinUri(root, 'missing'))).toEqual([]);
    });

    test('deletes a file, a whole folder recursively, and ignores missing targets', async () => {
      const root = b.newRoot();
      for (const rel of ['keep.txt', 'dir/1.txt', 'dir/sub/2.txt', 'dirx/3.txt']) await s.writeFile(joinUri(root, rel), rel);
      await s.delete(joinUri(root, 'keep.txt'));
      expect(await s.exists(joinUri(root, 'keep.txt'))).toBe(false);
      await s.delete(joinUri(root, 'dir'), { recursive: true });
      expect((await s.list(root)).map((e) => e.uri)).toEqual([joinUri(root, 'dirx/3.txt')]);
      await s.delete(joinUri(root, 'never-existed.txt'));
      await s.delete(joinUri(root, 'never-existed'), { recursive: true });
    });

    test('copies a tree to the same relative paths, leaving the source', async () => {
      const root = b.newRoot();
      const files = { 'x.txt': 'x', 'deep/er/y.txt': 'y' };
      for (const [rel, content] of Object.entries(files)) await s.writeFile(joinUri(root, 'src', rel), content);
      await s.copyTree(joinUri(root, 'src'), joinUri(root, 'dst'));
      for (const [rel, content] of Object.entries(files)) {
        expect((await s.readFile(joinUri(root, 'dst', rel))).toString()).toBe(content);
        expect(await s.exists(joinUri(root, 'src', rel))).toBe(true);
      }
      await expect(s.copyTree(joinUri(root, 'missing'), joinUri(root, 'dst2'))).rejects.toThrow(UserError);
    });

    test('downloads a tree into a local directory', async () => {
      const root = b.newRoot();
      await s.writeFile(joinUri(root, 'art/a.txt'), 'A');
      await s.writeFile(joinUri(root, 'art/Split-train/part-0'), 'train');
      const local = emptyDir();
      await s.downloadTree(joinUri(root, 'art'), local);
      expect(readDir(local)).toEqual({ 'a.txt': 'A', 'Split-train/part-0': 'train' });
      await expect(s.downloadTree(joinUri(root, 'missing'), emptyDir())).rejects.toThrow(UserError);
    });

    test('publishes a directory with a manifest of md5s and sizes, committed by the marker', async () => {
      const files = { 'b.txt': 'bee', 'a.txt': 'a', 'Split-eval/data.csv': 'x,y\n1,2\n' };
      const final = joinUri(b.newRoot(), 'examples');
      const manifest = await s.publishDirectory(makeDir(files), final);
      expect(manifest.version).toBe(1);
      expect(manifest.files).toEqual(
        ['Split-eval/data.csv', 'a.txt', 'b.txt'].map((p) => ({ path: p, size: Buffer.byteLength(files[p as keyof typeof files]), md5: md5(files[p as keyof typeof files]) })),
      );
      expect(manifest.fingerprint).toBe(fingerprintOf(manifest));
      expect(await s.readCommit(final)).toEqual(manifest);
      expect(await s.exists(joinUri(final, COMMIT_MARKER))).toBe(true);
      expect((await s.readFile(joinUri(final, 'Split-eval/data.csv'))).toString()).toBe(files['Split-eval/data.csv']);
      expect((await s.list(final)).map((e) => e.uri)).toEqual(
        ['Split-eval/data.csv', COMMIT_MARKER, 'a.txt', 'b.txt'].map((p) => joinUri(final, p)),
      );
    });

    test('the fingerprint depends on content only: equal for identical content, different otherwise', async () => {
      const root = b.newRoot();
      const one = await s.publishDirectory(makeDir({ 'm.bin': 'weights', 'cfg.json': '{}' }), joinUri(root, 'one'));
      const two = await s.publishDirectory(makeDir({ 'cfg.json': '{}', 'm.bin': 'weights' }), joinUri(root, 'two'));
      const changed = await s.publishDirectory(makeDir({ 'm.bin': 'weightz', 'cfg.json': '{}' }), joinUri(root, 'changed'));
      const renamed = await s.publishDirectory(makeDir({ 'n.bin': 'weights', 'cfg.json': '{}' }), joinUri(root, 'renamed'));
      expect(two.fingerprint).toBe(one.fingerprint);
      expect(new Set([one.fingerprint, changed.fingerprint, renamed.fingerprint]).size).toBe(3);
    });

    test('an artifact without its marker is absent for readCommit', async () => {
      const root = b.newRoot();
      await s.writeFile(joinUri(root, 'partial/data.txt'), 'half');
      expect(await s.readCommit(joinUri(root, 'partial'))).toBeUndefined();
      expect(await s.readCommit(joinUri(root, 'never-written'))).toBeUndefined();
    });

    test('a marker that is not a valid manifest is reported, not taken as absent', async () => {
      const final = joinUri(b.newRoot(), 'art');
      await s.writeFile(joinUri(final, COMMIT_MARKER), '{"version":1,"files":[],"fingerprint":"forged"}');
      await expect(s.readCommit(final)).rejects.toThrow(`corrupt commit marker ${joinUri(final, COMMIT_MARKER)}`);
    });

    test('publishing over a committed artifact fails and leaves it untouched', async () => {
      const final = joinUri(b.newRoot(), 'model');
      const first = await s.publishDirectory(makeDir({ 'w.bin': 'v1' }), final);
      const second = makeDir({ 'w.bin': 'v2' });
      await expect(s.publishDirectory(second, final)).rejects.toThrow(new UserError(`cannot publish to ${final}: a committed artifact is already there`));
      expect(await s.readCommit(final)).toEqual(first);
      expect((await s.readFile(joinUri(final, 'w.bin'))).toString()).toBe('v1');
      expect(readDir(second)).toEqual({ 'w.bin': 'v2' });
    });

    test('concurrent publishes of different content to one URI: exactly one lands, intact; the others fail naming it', async () => {
      const final = joinUri(b.newRoot(), 'version-7');
      const contents = Array.from({ length: 8 }, (_, i) => ({ 'model.json': `{"model":${i}}`, 'w/weights.bin': `weights of model ${i}`.repeat(200 * (i + 1)) }));
      const sources = contents.map((files) => makeDir(files));
      const results = await Promise.allSettled(sources.map((src) => s.publishDirectory(src, final)));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, manifest: r.value }] : []));
      expect(won).toHaveLength(1);
      const { i: winner, manifest } = won[0];
      for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(PublishConflictError);
        const reason = (r.reason as Error).message.replace(`cannot publish to ${final}: `, '');
        expect(reason).toMatch(/^(a committed artifact is already there|another publish holds it \(host .+ pid \d+ since .+\))/);
      }
      // The folder holds the winner's files only, exactly as its manifest says.
      expect(await s.readCommit(final)).toEqual(manifest);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([COMMIT_MARKER, 'model.json', 'w/weights.bin'].map((p) => joinUri(final, p)));
      for (const [rel, content] of Object.entries(contents[winner])) {
        expect((await s.readFile(joinUri(final, rel))).toString()).toBe(content);
        expect(manifest.files.find((f) => f.path === rel)?.md5).toBe(md5(content));
      }
      // A losing publish keeps its source, ready to be published elsewhere.
      for (const [i, src] of sources.entries()) if (i !== winner) expect(readDir(src)).toEqual(contents[i]);
    });

    test('a publish that dies between files leaves no marker, keeps the source, and can be redone', async () => {
      const final = joinUri(b.newRoot(), 'model');
      const files = { '1.txt': 'one', '2.txt': 'two', '3.txt': 'three' };
      const source = makeDir(files);
      await expect(b.failingAfter(2).publishDirectory(source, final)).rejects.toThrow('injected failure');
      expect(await s.readCommit(final)).toBeUndefined();
      expect(readDir(source)).toEqual(files);
      const manifest = await s.publishDirectory(source, final);
      expect(manifest.files.map((f) => f.path)).toEqual(['1.txt', '2.txt', '3.txt']);
    });

    test('a publishing process SIGKILLed between files leaves nothing readers would take as committed', async () => {
      const final = joinUri(b.newRoot(), 'model');
      const files = { '1.txt': 'one', '2.txt': 'two', '3.txt': 'three' };
      await killMidPublish(b.childEnv, makeDir(files), final, 2);
      expect(await s.readCommit(final)).toBeUndefined();
      // The next attempt (a rerun) publishes over whatever the killed one left.
      const manifest = await s.publishDirectory(makeDir(files), final);
      expect(await s.readCommit(final)).toEqual(manifest);
      expect((await s.list(final)).map((e) => e.uri)).toEqual([...Object.keys(files), COMMIT_MARKER].map((p) => joinUri(final, p)));
    }, 20000);

    test('a downloaded artifact (marker included) republishes with the same fingerprint; copyTree carries the commit', async () => {
      const root = b.newRoot();
      const original = await s.publishDirectory(makeDir({ 'a.txt': 'a', 'sub/b.txt': 'b' }), joinUri(root, 'orig'));
      const local = emptyDir();
      await s.downloadTree(joinUri(root, 'orig'), local);
      expect(Object.keys(readDir(local)).sort()).toEqual([COMMIT_MARKER, 'a.txt', 'sub/b.txt']);
      const republished = await s.publishDirectory(local, joinUri(root, 'again'));
      expect(republished.fingerprint).toBe(original.fingerprint);
      await s.copyTree(joinUri(root, 'orig'), joinUri(root, 'copy'));
      expect((await s.readCommit(joinUri(root, 'copy')))?.fingerprint).toBe(original.fingerprint);
    });

    test('deleting a committed artifact recursively makes it absent', async () => {
      const final = joinUri(b.newRoot(), 'gone');
      await s.publishDirectory(makeDir({ 'a.txt': 'a' }), final);
      await s.delete(final, { recursive: true });
      expect(await s.readCommit(final)).toBeUndefined();
      expect(await s.list(final)).toEqual([]);
    });
  });
}
