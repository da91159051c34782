// Artifact store on Google Cloud Storage (gs://bucket/path) via @google-cloud/storage. GCS has no rename, so
// publishing uploads every file under the final prefix and writes the commit marker object last.
//
// Concurrent publishes to one prefix are settled by generation preconditions, never by a look before the write:
// a publish first creates a claim object (<prefix>/_MLP_PUBLISHING.json) with ifGenerationMatch 0, so exactly
// one publisher holds the prefix; only the holder deletes debris there and uploads, it writes the marker with
// ifGenerationMatch 0 as well, and then deletes its claim (pinned to the claim's generation). A publish that
// finds the prefix committed or claimed fails with a PublishConflictError and touches nothing. A claim whose
// publisher died on this host is taken over; one from another host is not (it may still be uploading): the
// error names the claim object to delete once that publisher is known to be gone.

import {
  CRC32C,
  File,
  IdempotencyStrategy,
  Storage,
  type ApiError,
  type FileMetadata,
  type GetFilesOptions,
  type GetFilesResponse,
  type StorageOptions,
} from '@google-cloud/storage';
import { createHash, randomBytes } from 'crypto';
import { createWriteStream, promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Transform, Writable, finished, type Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { UserError } from '../core/errors';
import { ALREADY_COMMITTED, artifactFiles, compare, isAlive, mapLimit, makeManifest, md5OfFile, md5Tap, parseManifest, PublishConflictError, type LocalFile } from './common';
import { COMMIT_MARKER, type ArtifactStorage, type CommitManifest, type ListEntry, type ManifestEntry } from './types';
import { isGcsUri, joinUri, parseGcsUri, requireLocalPath } from './uri';

type RetryOptions = NonNullable<StorageOptions['retryOptions']>;

export interface GcsStorageOptions {
  /** e.g. http://127.0.0.1:9199 for an emulator; STORAGE_EMULATOR_HOST is honoured by the client as well. */
  apiEndpoint?: string;
  projectId?: string;
  /** Files larger than this many bytes are uploaded with a resumable upload (default 8 MiB). */
  resumableThreshold?: number;
  /** Objects per list request (default 1000, the API maximum). */
  pageSize?: number;
  /** Parallel uploads/downloads/deletes within one call (default 8). */
  concurrency?: number;
  /** Merged over the defaults: retry transient errors with exponential backoff, uploads included. */
  retryOptions?: RetryOptions;
}

const DEFAULT_RETRY: RetryOptions = {
  autoRetry: true,
  maxRetries: 5,
  retryDelayMultiplier: 2,
  maxRetryDelay: 32,
  totalTimeout: 600,
  // Our writes overwrite whole objects with the same content, so retrying them without preconditions is safe.
  idempotencyStrategy: IdempotencyStrategy.RetryAlways,
};

/** Files at least this large are uploaded with resumable uploads (smaller ones in a single request). */
export const DEFAULT_RESUMABLE_THRESHOLD = 8 * 1024 * 1024;

export class GcsStorage implements ArtifactStorage {
  readonly client: Storage;
  private readonly resumableThreshold: number;
  private readonly pageSize: number;
  private readonly concurrency: number;

  constructor(opts: GcsStorageOptions = {}) {
    this.client = new Storage({
      ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
      ...(opts.projectId ? { projectId: opts.projectId } : {}),
      retryOptions: { ...DEFAULT_RETRY, ...opts.retryOptions },
    });
    this.resumableThreshold = opts.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD;
    this.pageSize = opts.pageSize ?? 1000;
    this.concurrency = opts.concurrency ?? 8;
  }

  handles(uri: string): boolean {
    return isGcsUri(uri);
  }

  /** True for an object at uri or any object below uri/ (an artifact "folder"). */
  async exists(uri: string): Promise<boolean> {
    const { bucket, path: name } = parseGcsUri(uri);
    try {
      if (name && !name.endsWith('/') && (await this.client.bucket(bucket).file(name).exists())[0]) return true;
      const [files] = await this.client.bucket(bucket).getFiles({ prefix: folderPrefix(name), maxResults: 1, autoPaginate: false });
      return files.length > 0;
    } catch (err) {
      throw gcsError(err, 'checking', uri);
    }
  }

  async readFile(uri: string): Promise<Buffer> {
    return this.readVerified(uri).catch((err) => {
      throw gcsError(err, 'reading', uri);
    });
  }

  async writeFile(uri: string, data: Buffer | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      await this.fileOf(uri).save(body, { resumable: body.length > this.resumableThreshold, validation: 'md5' });
    } catch (err) {
      throw gcsError(err, 'writing', uri);
    }
  }

  async createFile(uri: string, data: string): Promise<void> {
    try {
      await this.fileOf(uri).save(data, { resumable: false, validation: 'md5', preconditionOpts: { ifGenerationMatch: 0 } });
    } catch (err) {
      if ((err as ApiError).code !== 412) throw gcsError(err, 'creating', uri);
      if ((await this.readFile(uri)).toString('utf8') !== data) throw new PublishConflictError(uri, 'a different object is already there');
    }
  }

  async createReadStream(uri: string): Promise<Readable> {
    return this.verifiedReadStream(this.fileOf(uri), uri).catch((err) => {
      throw gcsError(err, 'reading', uri);
    });
  }

  /** A resumable upload (size unknown up front); 'finish' is emitted only once the object is stored and verified. */
  async createWriteStream(uri: string): Promise<Writable> {
    const upload = this.fileOf(uri).createWriteStream({ resumable: true, validation: 'crc32c' });
    const toUserError = (err: unknown) => gcsError(err, 'writing', uri) as Error;
    const writable = new Writable({
      write: (chunk, encoding, cb) => upload.write(chunk, encoding, cb),
      final: (cb) => {
        finished(upload, (err) => cb(err ? toUserError(err) : null));
        upload.end();
      },
      destroy: (err, cb) => {
        upload.destroy();
        cb(err);
      },
    });
    upload.on('error', (err) => writable.destroy(toUserError(err)));
    return writable;
  }

  async list(prefix: string): Promise<ListEntry[]> {
    const { bucket } = parseGcsUri(prefix);
    return (await this.filesBelow(prefix, 'listing')).map((f) => ({ uri: `gs://${bucket}/${f.name}`, size: Number(f.metadata.size ?? 0) }));
  }

  async delete(uri: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const { bucket, path: name } = parseGcsUri(uri);
    const targets: File[] = name && !name.endsWith('/') ? [this.client.bucket(bucket).file(name)] : [];
    if (opts.recursive) targets.push(...(await this.filesBelow(uri, 'deleting')));
    // The marker goes first: a committed artifact becomes absent before any of its files disappear.
    const marker = targets.filter((f) => path.posix.basename(f.name) === COMMIT_MARKER);
    try {
      await mapLimit(marker, this.concurrency, (f) => f.delete({ ignoreNotFound: true }));
      await mapLimit(targets.filter((f) => !marker.includes(f)), this.concurrency, (f) => f.delete({ ignoreNotFound: true }));
    } catch (err) {
      throw gcsError(err, 'deleting', uri);
    }
  }

  /** Streams each object through this process (download → upload, both verified); no server-side copy. */
  async copyTree(srcUri: string, dstUri: string): Promise<void> {
    const { path: srcPath } = parseGcsUri(srcUri);
    const files = await this.filesBelow(srcUri, 'copying');
    if (files.length === 0) throw new UserError(`cannot copy ${srcUri}: no objects below it`);
    const relOf = (f: File) => f.name.slice(folderPrefix(srcPath).length);
    const copy = async (f: File) => {
      const tap = md5Tap();
      const dst = this.fileOf(joinUri(dstUri, relOf(f)));
      const resumable = Number(f.metadata.size ?? 0) > this.resumableThreshold;
      const source = await this.verifiedReadStream(f, `gs://${f.bucket.name}/${f.name}`);
      await pipeline(source, tap.stream, dst.createWriteStream({ resumable, validation: 'md5' }));
      checkMd5(dst, tap.result().md5);
    };
    // A copied commit marker goes last, so the copy of a committed artifact is only committed once complete.
    const isMarker = (f: File) => relOf(f) === COMMIT_MARKER;
    try {
      await mapLimit(files.filter((f) => !isMarker(f)), this.concurrency, copy);
      await mapLimit(files.filter(isMarker), 1, copy);
    } catch (err) {
      throw gcsError(err, 'copying', `${srcUri} to ${dstUri}`);
    }
  }

  async publishDirectory(localDir: string, finalUri: string): Promise<CommitManifest> {
    const files = await artifactFiles(requireLocalPath(localDir));
    // Only a shortcut (no claim is made for a URI already committed); the claim and the marker's precondition decide.
    if (await this.readCommit(finalUri)) throw new PublishConflictError(finalUri, ALREADY_COMMITTED);
    const claim = await this.claim(finalUri);
    let manifest: CommitManifest;
    let wrote = false;
    try {
      // A marker written before our claim means another publish finished here: its files stay as they are.
      if (await this.readCommit(finalUri)) throw new PublishConflictError(finalUri, ALREADY_COMMITTED);
      wrote = true;
      // Objects under the prefix without a marker are debris of an earlier, killed publish; we hold the claim.
      await this.deleteBelow(finalUri, claim.name);
      const entries = await mapLimit(files, this.concurrency, (f) => this.uploadFile(f, joinUri(finalUri, f.rel)));
      manifest = makeManifest(entries);
      await this.writeMarker(finalUri, manifest);
    } catch (err) {
      // Best effort: a failed publish should not leave half an artifact behind (readers ignore it anyway); after
      // a conflict the objects there are another publish's.
      if (wrote && !(err instanceof PublishConflictError)) await this.deleteBelow(finalUri, claim.name).catch(() => undefined);
      await this.release(claim).catch(() => undefined);
      throw gcsError(err, 'publishing', finalUri);
    }
    await this.release(claim);
    return manifest;
  }

  /**
   * Writes the commit marker only if absent (ifGenerationMatch 0), so even a wrongly broken claim cannot let one
   * marker replace another. A 412 after a retried request whose first attempt stored the marker (its response
   * was lost) finds our own marker, recognised by its exact content (committedAt included).
   */
  private async writeMarker(finalUri: string, manifest: CommitManifest): Promise<void> {
    const markerUri = joinUri(finalUri, COMMIT_MARKER);
    try {
      await this.fileOf(markerUri).save(JSON.stringify(manifest, null, 2), {
        resumable: false,
        validation: 'md5',
        contentType: 'application/json',
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    } catch (err) {
      if ((err as ApiError).code !== 412) throw err;
      if (JSON.stringify(await this.readCommit(finalUri)) !== JSON.stringify(manifest)) throw new PublishConflictError(finalUri, ALREADY_COMMITTED);
    }
  }

  /**
   * Creates the claim object of finalUri (only if absent), taking over a claim left by a dead process on this
   * host. A claim held by a live or foreign process, or a commit found meanwhile, is a PublishConflictError.
   */
  private async claim(finalUri: string): Promise<Claim> {
    const claimUri = joinUri(finalUri, CLAIM);
    const owner: ClaimOwner = { host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    let tookOver = false;
    for (;;) {
      const file = this.fileOf(claimUri);
      try {
        await file.save(JSON.stringify(owner), { resumable: false, contentType: 'application/json', preconditionOpts: { ifGenerationMatch: 0 } });
        return { name: file.name, file, generation: Number(file.metadata.generation) };
      } catch (err) {
        if ((err as ApiError).code !== 412) throw gcsError(err, 'claiming', finalUri);
      }
      const held = await this.claimHolder(claimUri);
      if (!held) continue; // released between our attempt and our look
      // A retried create whose first attempt stored the claim (its response was lost) finds our own claim.
      if (held.owner?.token === owner.token) return { name: file.name, file, generation: held.generation };
      if (await this.readCommit(finalUri)) throw new PublishConflictError(finalUri, ALREADY_COMMITTED);
      const other = held.owner;
      if (tookOver || !other || other.host !== os.hostname() || isAlive(other.pid)) {
        const who = other ? `host ${other.host} pid ${other.pid} since ${other.startedAt}` : 'an unreadable claim';
        throw new PublishConflictError(finalUri, `another publish holds it (${who}); if that process is gone, delete ${claimUri} and publish again`);
      }
      // Deleting exactly the dead owner's generation: of several processes taking it over, one deletes it.
      tookOver = true;
      await this.deleteGeneration(file, held.generation, 'claiming', finalUri);
    }
  }

  /** The current claim's owner (undefined when unreadable) and generation; undefined when there is no claim. */
  private async claimHolder(claimUri: string): Promise<{ owner?: ClaimOwner; generation: number } | undefined> {
    try {
      const file = this.fileOf(claimUri);
      const [metadata] = await file.getMetadata();
      const [body] = await file.download();
      return { owner: parseOwner(body.toString('utf8')), generation: Number(metadata.generation) };
    } catch (err) {
      if ((err as ApiError).code === 404) return undefined;
      throw gcsError(err, 'reading the claim', claimUri);
    }
  }

  /** Deletes our claim, only at the generation we created (a claim taken over meanwhile is not ours). */
  private async release(claim: Claim): Promise<void> {
    await this.deleteGeneration(claim.file, claim.generation, 'releasing the claim', `gs://${claim.file.bucket.name}/${claim.name}`);
  }

  /** Deletes an object if it still is at this generation; gone or replaced meanwhile is not an error. */
  private async deleteGeneration(file: File, generation: number, action: string, what: string): Promise<void> {
    await file.delete({ ifGenerationMatch: generation }).catch((err: ApiError) => {
      if (err.code !== 404 && err.code !== 412) throw gcsError(err, action, what);
    });
  }

  /** Deletes every object below uri/ except the named one (the claim holder removing debris). */
  private async deleteBelow(uri: string, keep: string): Promise<void> {
    const targets = (await this.filesBelow(uri, 'deleting')).filter((f) => f.name !== keep);
    try {
      await mapLimit(targets, this.concurrency, (f) => f.delete({ ignoreNotFound: true }));
    } catch (err) {
      throw gcsError(err, 'deleting', uri);
    }
  }

  async downloadTree(uri: string, localDir: string): Promise<void> {
    const { path: prefixPath } = parseGcsUri(uri);
    const root = requireLocalPath(localDir);
    const files = await this.filesBelow(uri, 'downloading');
    if (files.length === 0) throw new UserError(`cannot download ${uri}: no objects below it`);
    try {
      await mapLimit(files, this.concurrency, async (f) => {
        const destination = path.join(root, ...f.name.slice(folderPrefix(prefixPath).length).split('/'));
        await fsp.mkdir(path.dirname(destination), { recursive: true });
        const source = await this.verifiedReadStream(f, `gs://${f.bucket.name}/${f.name}`);
        // A file that failed its checksum is not left behind for an executor to pick up.
        await pipeline(source, createWriteStream(destination)).catch(async (err) => {
          await fsp.rm(destination, { force: true });
          throw err;
        });
      });
    } catch (err) {
      throw gcsError(err, 'downloading', uri);
    }
  }

  async readCommit(uri: string): Promise<CommitManifest | undefined> {
    const markerUri = joinUri(uri, COMMIT_MARKER);
    let text: string;
    try {
      text = (await this.readVerified(markerUri)).toString('utf8');
    } catch (err) {
      if ((err as ApiError).code === 404 && !isMissingBucket(err)) return undefined;
      throw gcsError(err, 'reading the commit of', uri);
    }
    return parseManifest(text, markerUri);
  }

  /**
   * Uploads one file of an artifact (resumable above the threshold) and checks that the stored object's md5
   * equals the md5 of the local file, so the manifest describes exactly what readers will get.
   */
  protected async uploadFile(file: LocalFile, uri: string): Promise<ManifestEntry> {
    const { size, md5 } = await md5OfFile(file.abs);
    const target = this.fileOf(uri);
    await target.bucket.upload(file.abs, {
      destination: target,
      resumable: size > this.resumableThreshold,
      validation: 'md5',
    });
    checkMd5(target, md5);
    return { path: file.rel, size, md5 };
  }

  /** A whole object, checksum-verified; API errors are left unmapped so callers can tell "absent" apart. */
  private async readVerified(uri: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.verifiedReadStream(this.fileOf(uri), uri)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * A read stream, opened once the object's metadata is known, that fails at its end unless the bytes match the
   * md5 (else crc32c) GCS recorded. Checked here rather than by the library's `validation`, which silently
   * skips responses without x-goog-stored-content-encoding (the emulator never sends it). The read is pinned to
   * the generation whose checksum we hold, so an object overwritten meanwhile is not mistaken for corruption.
   */
  private async verifiedReadStream(file: File, uri: string): Promise<Readable> {
    const [metadata] = await file.getMetadata();
    const check = checksumCheck(metadata, uri);
    const source = file.bucket.file(file.name, { generation: metadata.generation }).createReadStream({ validation: false });
    source.on('error', (err) => check.destroy(gcsError(err, 'reading', uri) as Error));
    check.on('close', () => source.destroy());
    return source.pipe(check);
  }

  private fileOf(uri: string): File {
    const { bucket, path: name } = parseGcsUri(uri);
    if (!name || name.endsWith('/')) throw new UserError(`${uri} names a folder, not an object`);
    return this.client.bucket(bucket).file(name);
  }

  /** Every object below uri/ (all pages), sorted by name; folder placeholder objects ("x/") are skipped. */
  private async filesBelow(uri: string, action: string): Promise<File[]> {
    const { bucket, path: name } = parseGcsUri(uri);
    const out: File[] = [];
    try {
      let query: GetFilesOptions | undefined = { prefix: folderPrefix(name), maxResults: this.pageSize, autoPaginate: false };
      while (query) {
        const [files, next]: GetFilesResponse = await this.client.bucket(bucket).getFiles(query);
        out.push(...files.filter((f) => !f.name.endsWith('/')));
        query = next && 'pageToken' in next && next.pageToken ? (next as GetFilesOptions) : undefined;
      }
    } catch (err) {
      throw gcsError(err, action, uri);
    }
    return out.sort((a, b) => compare(a.name, b.name));
  }
}

/** '' for the bucket root, else the path with exactly one trailing '/' (so gs://b/a never matches gs://b/ab). */
function folderPrefix(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  return trimmed ? `${trimmed}/` : '';
}

/** Pass-through that compares what flowed through with the object's recorded md5 (or crc32c) at the end. */
function checksumCheck(metadata: FileMetadata, uri: string): Transform {
  const md5 = metadata.md5Hash ? createHash('md5') : undefined;
  const crc = new CRC32C();
  const expected = metadata.md5Hash ?? metadata.crc32c;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (md5) md5.update(chunk);
      else crc.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const actual = md5 ? md5.digest('base64') : crc.toString();
      cb(actual === expected ? null : new UserError(`reading ${uri}: checksum mismatch, the data was corrupted in transit or at rest`));
    },
  });
}

function checkMd5(file: File, expectedHex: string): void {
  const stored = file.metadata.md5Hash ? Buffer.from(file.metadata.md5Hash, 'base64').toString('hex') : undefined;
  if (stored !== expectedHex) {
    throw new UserError(`checksum mismatch after uploading gs://${file.bucket.name}/${file.name}: stored md5 ${stored}, expected ${expectedHex}`);
  }
}

/** Name of the object that reserves a prefix for one publish while it uploads. */
export const CLAIM = '_MLP_PUBLISHING.json';

interface Claim {
  name: string;
  file: File;
  generation: number;
}

interface ClaimOwner {
  host: string;
  pid: number;
  startedAt: string;
  /** Unique per publish: tells our own claim apart from another publish of the same process. */
  token: string;
}

function parseOwner(text: string): ClaimOwner | undefined {
  try {
    const o = JSON.parse(text) as ClaimOwner;
    return typeof o?.host === 'string' && Number.isInteger(o.pid) ? o : undefined;
  } catch {
    return undefined;
  }
}

function isMissingBucket(err: unknown): boolean {
  return /bucket does not exist|no such bucket/i.test((err as Error)?.message ?? '');
}

/** Errors the user can act on (missing bucket/object, permissions, corruption) become one-line UserErrors naming the URI. */
function gcsError(err: unknown, action: string, what: string): unknown {
  if (err instanceof UserError) return err;
  const code = (err as { code?: unknown })?.code;
  if (code === 404) {
    const bucket = /gs:\/\/([^/\s]+)/.exec(what)?.[1];
    return new UserError(isMissingBucket(err) ? `${action} ${what}: bucket gs://${bucket} does not exist` : `${action} ${what}: not found`);
  }
  if (code === 401 || code === 403) return new UserError(`${action} ${what}: permission denied (${(err as Error).message})`);
  if (code === 'CONTENT_DOWNLOAD_MISMATCH' || code === 'FILE_NO_UPLOAD') {
    return new UserError(`${action} ${what}: checksum mismatch, the data was corrupted in transit or at rest`);
  }
  // Anything else (e.g. a transient error that outlived the retries) keeps its cause but names the URI.
  return new Error(`${action} ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
