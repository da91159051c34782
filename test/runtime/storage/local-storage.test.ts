// The storage behaviour suite on local disk, plus what only the local backend does: file:// URIs, staging
// folders renamed into place (never over anything at the final path), moving vs copying the source, and
// cleanup after a SIGKILLed publisher.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { COMMIT_MARKER, LocalStorage, PublishConflictError, storageFor } from '../../../runtime/storage';
import { failure, interruptedStorage } from './interrupt';
import { killMidPublish, makeDir, readDir, removeTempDirs, storageSuite } from './storage-suite';

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-local-storage-'));
});
afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
  removeTempDirs();
});

let roots = 0;
storageSuite('local', () => ({
  storage: new LocalStorage(),
  failingAfter: (files) => interruptedStorage('local', files, failure),
  newRoot: () => path.join(base, `root-${++roots}`),
  childEnv: {},
}));

describe('local storage specifics', () => {
  const s = new LocalStorage();
  const siblings = (dir: string) => fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`.${path.basename(dir)}.`));

  test('plain paths and file:// URIs name the same files; listings keep the caller style', async () => {
    const final = path.join(base, 'same');
    const url = pathToFileURL(final).href;
    const manifest = await s.publishDirectory(makeDir({ 'a b.txt': 'a' }), url);
    expect(await s.readCommit(final)).toEqual(manifest);
    expect((await s.readFile(path.join(final, 'a b.txt'))).toString()).toBe('a');
    expect((await s.list(url)).map((e) => e.uri)).toEqual([`${url}/${COMMIT_MARKER}`, `${url}/a b.txt`]);
    expect((await s.list(final)).map((e) => e.uri)).toEqual([path.join(final, COMMIT_MARKER), path.join(final, 'a b.txt')]);
    expect(storageFor(final)).toBe(storageFor(url));
  });

  test('a publish on the same filesystem moves the finished directory into place (no copy)', async () => {
    const source = makeDir({ 'big.bin': 'payload' }, base);
    const inode = fs.statSync(path.join(source, 'big.bin')).ino;
    const final = path.join(base, 'moved');
    await s.publishDirectory(source, final);
    expect(fs.existsSync(source)).toBe(false);
    expect(fs.statSync(path.join(final, 'big.bin')).ino).toBe(inode);
    expect(siblings(final)).toEqual([]);
  });

  test('a publish from another filesystem copies and leaves the source', async () => {
    expect(fs.statSync('/dev/shm').dev).not.toBe(fs.statSync(base).dev);
    const source = makeDir({ 'a.txt': 'a', 'd/b.txt': 'b' }, '/dev/shm');
    const final = path.join(base, 'copied');
    const manifest = await s.publishDirectory(source, final);
    expect(readDir(source)).toEqual({ 'a.txt': 'a', 'd/b.txt': 'b' });
    expect(readDir(final)).toEqual({ 'a.txt': 'a', 'd/b.txt': 'b', [COMMIT_MARKER]: expect.any(String) });
    expect(manifest.files.map((f) => f.path)).toEqual(['a.txt', 'd/b.txt']);
  });

  test('a SIGKILLed publisher leaves no final directory; its staging folder is hidden and cleaned by the next publish', async () => {
    const final = path.join(base, 'killed');
    await killMidPublish({}, makeDir({ '1': '1', '2': '2', '3': '3' }), final, 2);
    expect(fs.existsSync(final)).toBe(false);
    const debris = siblings(final);
    expect(debris).toEqual([expect.stringMatching(new RegExp(`^\\.killed\\.staging-\\d+@${os.hostname()}-[0-9a-f]{12}$`))]);
    expect(await s.list(base)).not.toContainEqual(expect.objectContaining({ uri: expect.stringContaining('.staging-') }));
    await s.publishDirectory(makeDir({ '1': '1' }), final);
    expect(siblings(final)).toEqual([]);
  }, 20000);

  test('files without a marker at the final path are not a publish\'s: left alone, the publish fails naming the path', async () => {
    const final = path.join(base, 'foreign');
    fs.mkdirSync(final);
    fs.writeFileSync(path.join(final, 'notes.txt'), 'mine');
    const source = makeDir({ 'w.bin': 'new' }, base);
    await expect(s.publishDirectory(source, final)).rejects.toThrow(
      new PublishConflictError(final, 'something without a commit marker is in the way (not a published artifact: publishes never write there directly); remove it to publish there'),
    );
    expect(readDir(final)).toEqual({ 'notes.txt': 'mine' });
    expect(readDir(source)).toEqual({ 'w.bin': 'new' });
    expect(siblings(final)).toEqual([]);
  });

  test('an empty folder at the final path holds nothing and is taken over', async () => {
    const final = path.join(base, 'empty');
    fs.mkdirSync(final);
    await s.publishDirectory(makeDir({ 'w.bin': 'w' }), final);
    expect(readDir(final)).toEqual({ 'w.bin': 'w', [COMMIT_MARKER]: expect.any(String) });
  });

  test('staging folders of dead processes on this host are removed (older names too), those of other hosts never', async () => {
    const final = path.join(base, 'shared');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const names = [`.shared.staging-${dead}@${os.hostname()}-0123456789ab`, `.shared.staging-${dead}-0123456789ab`, `.shared.staging-${dead}@other-host-0123456789ab`];
    for (const n of names) fs.mkdirSync(path.join(base, n, 'half'), { recursive: true });
    await s.publishDirectory(makeDir({ a: 'a' }), final);
    expect(siblings(final)).toEqual([`.shared.staging-${dead}@other-host-0123456789ab`]);
  });

  test('a failed publish removes its staging folder', async () => {
    const final = path.join(base, 'failed');
    await expect(interruptedStorage('local', 1, failure).publishDirectory(makeDir({ a: 'a', b: 'b' }, base), final)).rejects.toThrow();
    expect(fs.existsSync(final)).toBe(false);
    expect(siblings(final)).toEqual([]);
  });

  test('filesystem errors are one-line UserErrors naming the path', async () => {
    const file = path.join(base, 'plain-file');
    fs.writeFileSync(file, 'x');
    await expect(s.writeFile(path.join(file, 'child.txt'), 'y')).rejects.toThrow(`writing ${path.join(file, 'child.txt')}: a file is in the way`);
    await expect(s.readFile(base)).rejects.toThrow(`reading ${base}: is a directory`);
    await expect(s.publishDirectory(path.join(base, 'no-such-dir'), path.join(base, 'x'))).rejects.toThrow('not a directory');
  });
});
