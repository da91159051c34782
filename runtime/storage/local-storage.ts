// Artifact store on the local filesystem (plain paths and file:// URIs). Publishing copies into a staging
// folder next to the final path, writes the commit marker into it, fsyncs, and renames it into place, so an
// artifact appears whole or not at all. The rename is also what settles concurrent publishes: rename(2) never
// replaces a non-empty folder, and the staging folder always holds at least the marker, so of two publishes
// to one path exactly one lands and the other gets a PublishConflictError. Nothing at the final path is ever
// deleted or replaced by a publish (only an empty folder, which holds nothing, is taken over).

import { randomBytes } from 'crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Readable, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import { UserError } from '../core/errors';
import { ALREADY_COMMITTED, artifactFiles, isAlive, isErrno, makeManifest, md5Tap, parseManifest, PublishConflictError, walkFiles, type LocalFile } from './common';
import { COMMIT_MARKER, type ArtifactStorage, type CommitManifest, type ListEntry, type ManifestEntry } from './types';
import { isLocalUri, joinUri, requireLocalPath } from './uri';

// `.<name>.staging-<pid>@<host>-<hex>`: pid and host let a later publish remove the debris of a dead process
// only, and never a live publish of another machine sharing the folder (NFS), whose pids are not ours to check.
// Names without `@<host>` were written by earlier versions on this host.
const STAGING = /^\.(.+)\.staging-(\d+)(?:@([^/]+))?-[0-9a-f]{12}$/;

/** True for the name of a staging folder; such folders are hidden from list(). */
function isStagingName(name: string): boolean {
  return STAGING.test(name);
}

export class LocalStorage implements ArtifactStorage {
  handles(uri: string): boolean {
    return isLocalUri(uri);
  }

  async exists(uri: string): Promise<boolean> {
    try {
      await fsp.stat(requireLocalPath(uri));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
      throw localError(err, 'checking', uri);
    }
  }

  async readFile(uri: string): Promise<Buffer> {
    return fsp.readFile(requireLocalPath(uri)).catch((err) => {
      throw localError(err, 'reading', uri);
    });
  }

  async writeFile(uri: string, data: Buffer | string): Promise<void> {
    const file = requireLocalPath(uri);
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, data);
    } catch (err) {
      throw localError(err, 'writing', uri);
    }
  }

  async createFile(uri: string, data: string): Promise<void> {
    const file = requireLocalPath(uri);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(tmp, data);
      // link(2) fails with EEXIST when the name is taken: the exclusive, all-or-nothing create.
      await fsp.link(tmp, file).catch(async (err) => {
        if (!isErrno(err, 'EEXIST')) throw err;
        if ((await fsp.readFile(file, 'utf8')) !== data) throw new PublishConflictError(uri, 'a different file is already there');
      });
    } catch (err) {
      throw localError(err, 'creating', uri);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async createReadStream(uri: string): Promise<Readable> {
    // Opening first turns a missing file into a rejected promise instead of a later stream error.
    const handle = await fsp.open(requireLocalPath(uri), 'r').catch((err) => {
      throw localError(err, 'reading', uri);
    });
    return handle.createReadStream();
  }

  async createWriteStream(uri: string): Promise<Writable> {
    const file = requireLocalPath(uri);
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      return (await fsp.open(file, 'w')).createWriteStream();
    } catch (err) {
      throw localError(err, 'writing', uri);
    }
  }

  async list(prefix: string): Promise<ListEntry[]> {
    const files = await walkFiles(requireLocalPath(prefix), isStagingName).catch((err) => {
      throw localError(err, 'listing', prefix);
    });
    return files.map((f) => ({ uri: joinUri(prefix, f.rel), size: f.size }));
  }

  async delete(uri: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const target = requireLocalPath(uri);
    try {
      // Removing the marker first makes a committed artifact absent before any of its files go.
      if (opts.recursive) await fsp.rm(path.join(target, COMMIT_MARKER), { force: true }).catch(ignoreNotDir);
      await fsp.rm(target, { force: true, recursive: opts.recursive ?? false });
    } catch (err) {
      throw localError(err, 'deleting', uri);
    }
  }

  async copyTree(srcUri: string, dstUri: string): Promise<void> {
    const src = requireLocalPath(srcUri);
    const dst = requireLocalPath(dstUri);
    const stat = await fsp.stat(src).catch((err) => {
      throw localError(err, 'copying', srcUri);
    });
    if (!stat.isDirectory()) throw new UserError(`cannot copy ${srcUri}: not a directory`);
    try {
      // A copied commit marker goes last, so the copy of a committed artifact is only committed once complete.
      for (const file of markerLast(await walkFiles(src, isStagingName))) {
        const to = path.join(dst, file.rel);
        await fsp.mkdir(path.dirname(to), { recursive: true });
        await fsp.copyFile(file.abs, to);
      }
    } catch (err) {
      throw localError(err, 'copying', `${srcUri} to ${dstUri}`);
    }
  }

  /**
   * The finished directory is moved into the staging folder when it is on the same filesystem (no copy), else
   * copied; so localDir is consumed by a successful publish. A failed publish moves it back.
   */
  async publishDirectory(localDir: string, finalUri: string): Promise<CommitManifest> {
    const source = requireLocalPath(localDir);
    const files = await artifactFiles(source);
    const finalPath = requireLocalPath(finalUri);
    const parent = path.dirname(finalPath);
    const name = path.basename(finalPath);
    await fsp.mkdir(parent, { recursive: true }).catch((err) => {
      throw localError(err, 'publishing', finalUri);
    });
    await removeDeadStaging(parent, name);
    // Only a shortcut for the common case (nothing is staged for a URI already committed); the rename decides.
    if (await this.readCommit(finalUri)) throw new PublishConflictError(finalUri, ALREADY_COMMITTED);

    const staging = path.join(parent, `.${name}.staging-${process.pid}@${os.hostname()}-${randomBytes(6).toString('hex')}`);
    let moved = false;
    try {
      moved = await fsp.rename(source, staging).then(
        () => true,
        (err) => {
          if (isErrno(err, 'EXDEV')) return false;
          throw err;
        },
      );
      if (!moved) await fsp.mkdir(staging);
      const entries: ManifestEntry[] = [];
      for (const file of files) {
        const to = path.join(staging, file.rel);
        entries.push(await this.stageFile(moved ? { ...file, abs: to } : file, to));
      }
      const manifest = makeManifest(entries);
      await fsp.writeFile(path.join(staging, COMMIT_MARKER), JSON.stringify(manifest, null, 2), { flush: true });
      await syncDirs(staging, files);
      // Never rm the final path first: whatever is there (another publish's artifact) must survive this one.
      await fsp.rename(staging, finalPath).catch(async (err) => {
        throw isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOTDIR') ? await this.occupiedError(finalUri) : err;
      });
      await syncDir(parent);
      return manifest;
    } catch (err) {
      await rollBack(staging, moved ? source : undefined);
      throw err instanceof UserError ? err : localError(err, 'publishing', finalUri);
    }
  }

  /** Why the final path refused our rename: another publish's artifact, or something no publish wrote. */
  private async occupiedError(finalUri: string): Promise<PublishConflictError> {
    let reason: string;
    try {
      reason = (await this.readCommit(finalUri))
        ? ALREADY_COMMITTED
        : 'something without a commit marker is in the way (not a published artifact: publishes never write there directly); remove it to publish there';
    } catch (err) {
      reason = `something is in the way (${(err as Error).message})`;
    }
    return new PublishConflictError(finalUri, reason);
  }

  async downloadTree(uri: string, localDir: string): Promise<void> {
    await this.copyTree(uri, localDir);
  }

  async readCommit(uri: string): Promise<CommitManifest | undefined> {
    const marker = path.join(requireLocalPath(uri), COMMIT_MARKER);
    let text: string;
    try {
      text = await fsp.readFile(marker, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw localError(err, 'reading the commit of', uri);
    }
    return parseManifest(text, joinUri(uri, COMMIT_MARKER));
  }

  /**
   * Brings one file into the staging folder durably and measures it: a moved file (file.abs === to) is read
   * and fsynced in place, otherwise it is copied in the same single read.
   */
  protected async stageFile(file: LocalFile, to: string): Promise<ManifestEntry> {
    const tap = md5Tap();
    if (file.abs === to) {
      const handle = await fsp.open(to, 'r');
      try {
        await pipeline(handle.createReadStream({ autoClose: false }), tap.stream, drain);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } else {
      await fsp.mkdir(path.dirname(to), { recursive: true });
      await pipeline(createReadStream(file.abs), tap.stream, createWriteStream(to, { flush: true }));
    }
    return { path: file.rel, ...tap.result() };
  }
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source);
}

/** Undoes a failed publish: a moved source goes back where it was (without our marker), a copy is removed. */
async function rollBack(staging: string, movedFrom: string | undefined): Promise<void> {
  if (movedFrom) {
    await fsp.rm(path.join(staging, COMMIT_MARKER), { force: true });
    if (await fsp.rename(staging, movedFrom).then(() => true, () => false)) return;
  }
  await fsp.rm(staging, { recursive: true, force: true });
}

function markerLast(files: LocalFile[]): LocalFile[] {
  return [...files.filter((f) => f.rel !== COMMIT_MARKER), ...files.filter((f) => f.rel === COMMIT_MARKER)];
}

/** Removes staging folders for `name` left by processes that no longer run (killed mid-publish). */
async function removeDeadStaging(parent: string, name: string): Promise<void> {
  for (const entry of await fsp.readdir(parent)) {
    const match = STAGING.exec(entry);
    if (match && match[1] === name && (match[3] ?? os.hostname()) === os.hostname() && !isAlive(Number(match[2]))) {
      await fsp.rm(path.join(parent, entry), { recursive: true, force: true });
    }
  }
}

/** fsync the staging folder and every folder below it, so the renamed tree survives a power loss. */
async function syncDirs(root: string, files: LocalFile[]): Promise<void> {
  const dirs = new Set([root]);
  for (const f of files) {
    for (let d = path.dirname(f.rel); d !== '.'; d = path.dirname(d)) dirs.add(path.join(root, d));
  }
  for (const dir of dirs) await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreNotDir(err: unknown): void {
  if (!isErrno(err, 'ENOTDIR')) throw err;
}

/** Filesystem errors the user can act on become one-line UserErrors naming the URI. */
function localError(err: unknown, action: string, uri: string): unknown {
  if (err instanceof UserError) return err;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a parent is not a directory',
    EISDIR: 'is a directory',
    ERR_FS_EISDIR: 'is a directory (delete it with recursive)',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EEXIST: 'a file is in the way',
  };
  const reason = reasons[(err as NodeJS.ErrnoException)?.code ?? ''];
  return reason ? new UserError(`${action} ${uri}: ${reason}`) : err;
}
