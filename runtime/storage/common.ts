// Pieces both storage backends share: walking a local directory, md5 while streaming, building and
// checking commit manifests (the content fingerprint caches rely on), the error a lost publish race raises,
// and a small concurrency limiter.

import { createHash } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import { Transform } from 'stream';
import { UserError } from '../core/errors';
import { COMMIT_MARKER, type CommitManifest, type ManifestEntry } from './types';

export interface LocalFile {
  /** '/'-separated path relative to the walked root. */
  rel: string;
  abs: string;
  size: number;
}

/**
 * Every regular file below dir (following symlinks), sorted by relative path. Missing dir → [].
 * `skipDir` prunes folders by name (the local backend hides its staging folders this way).
 */
export async function walkFiles(dir: string, skipDir: (name: string) => boolean = () => false): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(abs);
    } catch (err) {
      if (rel === '' && isErrno(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const stat = await fsp.stat(childAbs);
      if (stat.isDirectory()) {
        if (!skipDir(name)) await visit(childAbs, childRel);
      } else if (stat.isFile()) {
        out.push({ rel: childRel, abs: childAbs, size: stat.size });
      } else {
        throw new UserError(`cannot store ${childAbs}: not a regular file or directory`);
      }
    }
  };
  await visit(dir, '');
  return out.sort((a, b) => compare(a.rel, b.rel));
}

/** The files of a finished artifact directory to publish: a stale root marker is dropped (a new one is written). */
export async function artifactFiles(localDir: string): Promise<LocalFile[]> {
  const stat = await fsp.stat(localDir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`cannot publish ${localDir}: not a directory`);
  return (await walkFiles(localDir)).filter((f) => f.rel !== COMMIT_MARKER);
}

/** A pass-through stream that measures size and md5 of what flows through it. */
export function md5Tap(): { stream: Transform; result(): { size: number; md5: string } } {
  const hash = createHash('md5');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  let md5: string | undefined;
  return { stream, result: () => ({ size, md5: (md5 ??= hash.digest('hex')) }) };
}

export async function md5OfFile(file: string): Promise<{ size: number; md5: string }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, md5: hash.digest('hex') };
}

/** sha256 over the sorted (path, size, md5) entries: identical content gives the same fingerprint. */
export function fingerprintOf(manifest: Pick<CommitManifest, 'files'>): string {
  const hash = createHash('sha256');
  for (const f of [...manifest.files].sort((a, b) => compare(a.path, b.path))) {
    hash.update(`${f.path}\0${f.size}\0${f.md5}\n`);
  }
  return hash.digest('hex');
}

export function makeManifest(entries: ManifestEntry[]): CommitManifest {
  const files = [...entries].sort((a, b) => compare(a.path, b.path));
  return { version: 1, committedAt: new Date().toISOString(), files, fingerprint: fingerprintOf({ files }) };
}

/** Parses a commit marker; a marker that is not a valid manifest is reported, never taken as absent. */
export function parseManifest(text: string, markerUri: string): CommitManifest {
  let manifest: CommitManifest;
  try {
    manifest = JSON.parse(text) as CommitManifest;
  } catch {
    throw new UserError(`corrupt commit marker ${markerUri}: not JSON`);
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.files) || manifest.fingerprint !== fingerprintOf(manifest)) {
    throw new UserError(`corrupt commit marker ${markerUri}: unknown version or fingerprint mismatch`);
  }
  return manifest;
}

/** Runs fn over items with at most `limit` calls in flight; rejects with the first error after in-flight calls settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * A publish found its final URI taken: committed by another publish, claimed by one still in progress, or
 * holding files that are not a published artifact. The artifact there is left untouched; a caller that
 * picks its own URI (the Pusher's next version) can try another one.
 */
export class PublishConflictError extends UserError {
  constructor(readonly uri: string, reason: string) {
    super(`cannot publish to ${uri}: ${reason}`);
    this.name = 'PublishConflictError';
  }
}

export const ALREADY_COMMITTED = 'a committed artifact is already there';

/** True while a process with this pid exists on this host (EPERM: it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException)?.code ?? '');
}

/** Code-unit order, as GCS lists object names (localeCompare would differ). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
