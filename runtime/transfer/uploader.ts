// The parallel uploader behind `mlp data upload`: uploads planned files to GCS with bounded concurrency,
// skips files whose object already has the same size and md5, verifies every upload against checksums of the
// local file, and retries transient failures. One file failing never stops the others; the summary lists it.
//
// Retries happen at two levels: the client library retries each API request (exponential backoff, resumable
// uploads resume from the last stored byte; GcsStorage's defaults), and a file whose upload still fails with a
// transient error, or whose stored checksums do not match, is uploaded again from the start (`attempts`).

import { CRC32C, type ApiError, type Bucket } from '@google-cloud/storage';
import { createHash } from 'crypto';
import { createReadStream } from 'fs';
import { UserError } from '../core/errors';
import { mapLimit } from '../storage/common';
import { DEFAULT_RESUMABLE_THRESHOLD, GcsStorage, type GcsStorageOptions } from '../storage/gcs-storage';
import { parseGcsUri } from '../storage/uri';
import type { UploadItem, UploadPlan } from './upload-plan';

export type FileStatus = 'uploaded' | 'skipped' | 'failed';

export interface FileOutcome {
  rel: string;
  uri: string;
  size: number;
  status: FileStatus;
  /** Upload attempts made (0 when skipped, or when the local file could not be read). */
  attempts: number;
  error?: string;
}

export interface UploadSummary {
  source: string;
  destination: string;
  files: number;
  uploaded: number;
  skipped: number;
  failed: number;
  /** Bytes sent in successful uploads; skipped files are not counted. */
  bytesUploaded: number;
  bytesSkipped: number;
  durationMs: number;
  /** bytesUploaded per second of wall time. */
  bytesPerSecond: number;
  failures: { file: string; uri: string; error: string }[];
}

/** Hooks for progress reporting; all optional. */
export interface UploadListener {
  started?(files: number, bytes: number): void;
  /** Bytes sent for a file so far in its current attempt (a retry starts again from 0). */
  progress?(item: UploadItem, bytesSent: number): void;
  retrying?(item: UploadItem, attempt: number, error: string, delayMs: number): void;
  finished?(outcome: FileOutcome): void;
}

export interface UploaderOptions {
  /** Client settings (apiEndpoint, retryOptions, resumableThreshold: above it uploads are resumable). */
  gcs?: GcsStorageOptions;
  /** Files uploaded at once (default 8). */
  concurrency?: number;
  /** Upload attempts per file (default 3). */
  attempts?: number;
  /** Delay before the first re-attempt, doubled each time (default 1000 ms). */
  backoffMs?: number;
  listener?: UploadListener;
}

interface LocalChecksums {
  size: number;
  /** base64, as GCS reports md5Hash and crc32c. */
  md5: string;
  crc32c: string;
}

interface RemoteObject {
  size: number;
  md5?: string;
}

class ChecksumMismatch extends Error {}

export async function uploadPlan(plan: UploadPlan, opts: UploaderOptions = {}): Promise<UploadSummary> {
  const started = Date.now();
  const client = new GcsStorage(opts.gcs).client;
  const { bucket: bucketName, path: prefix } = parseGcsUri(plan.destination);
  const bucket = client.bucket(bucketName);
  const threshold = opts.gcs?.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD;
  const attempts = Math.max(1, opts.attempts ?? 3);
  const backoffMs = opts.backoffMs ?? 1000;
  const listener = opts.listener ?? {};
  listener.started?.(plan.items.length, plan.totalBytes);
  const existing = await existingObjects(bucket, prefix);

  const uploadOnce = async (item: UploadItem, name: string, local: LocalChecksums): Promise<void> => {
    const target = bucket.file(name);
    listener.progress?.(item, 0);
    // validation off: the library would hash the stream again; we compare with the local checksums instead.
    await bucket.upload(item.abs, {
      destination: target,
      resumable: local.size > threshold,
      validation: false,
      onUploadProgress: (e: { bytesWritten?: number }) => listener.progress?.(item, e.bytesWritten ?? 0),
    });
    const stored = target.metadata;
    const mismatch =
      Number(stored.size) !== local.size ? `size ${stored.size}, expected ${local.size}` :
      stored.crc32c !== local.crc32c ? `crc32c ${stored.crc32c}, expected ${local.crc32c}` :
      stored.md5Hash !== undefined && stored.md5Hash !== local.md5 ? `md5 ${stored.md5Hash}, expected ${local.md5}` :
      undefined;
    if (mismatch) {
      // A corrupt object must not stay behind looking like a finished upload.
      await target.delete({ ignoreNotFound: true }).catch(() => undefined);
      throw new ChecksumMismatch(`checksum mismatch after upload (stored ${mismatch}): corrupted in transit, or the file changed while it was read`);
    }
    listener.progress?.(item, local.size);
  };

  const uploadOne = async (item: UploadItem): Promise<FileOutcome> => {
    const outcome = (status: FileStatus, size: number, tries: number, error?: string): FileOutcome => {
      const o: FileOutcome = { rel: item.rel, uri: item.uri, size, status, attempts: tries, ...(error ? { error } : {}) };
      listener.finished?.(o);
      return o;
    };
    let tries = 0;
    try {
      let local = await checksumsOf(item.abs);
      const name = parseGcsUri(item.uri).path;
      const remote = existing.get(name);
      if (remote && remote.size === local.size && remote.md5 === local.md5) return outcome('skipped', local.size, 0);
      for (;;) {
        tries++;
        try {
          await uploadOnce(item, name, local);
          return outcome('uploaded', local.size, tries);
        } catch (err) {
          if (tries >= attempts || !isTransient(err)) throw err;
          const delayMs = backoffMs * 2 ** (tries - 1);
          listener.retrying?.(item, tries + 1, describe(err), delayMs);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          // A file written to while it was uploaded mismatches its old checksums: measure it again.
          if (err instanceof ChecksumMismatch) local = await checksumsOf(item.abs);
        }
      }
    } catch (err) {
      return outcome('failed', item.size, tries, describe(err));
    }
  };

  const outcomes = await mapLimit(plan.items, Math.max(1, opts.concurrency ?? 8), uploadOne);
  const durationMs = Date.now() - started;
  const sum = (status: FileStatus) => outcomes.filter((o) => o.status === status).reduce((n, o) => n + o.size, 0);
  const failed = outcomes.filter((o) => o.status === 'failed');
  const bytesUploaded = sum('uploaded');
  return {
    source: plan.source,
    destination: plan.destination,
    files: outcomes.length,
    uploaded: outcomes.filter((o) => o.status === 'uploaded').length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    failed: failed.length,
    bytesUploaded,
    bytesSkipped: sum('skipped'),
    durationMs,
    bytesPerSecond: durationMs > 0 ? (bytesUploaded * 1000) / durationMs : 0,
    failures: failed.map((o) => ({ file: o.rel, uri: o.uri, error: o.error ?? 'failed' })),
  };
}

/**
 * Size and md5 of every object below the prefix, from one paged listing (a request per 1000 objects rather
 * than one per file). A bucket that does not exist yet lists as empty; its uploads then report the error.
 */
async function existingObjects(bucket: Bucket, prefix: string): Promise<Map<string, RemoteObject>> {
  const out = new Map<string, RemoteObject>();
  const folder = prefix.replace(/\/+$/, '');
  try {
    const [files] = await bucket.getFiles({ prefix: folder ? `${folder}/` : '', autoPaginate: true });
    for (const f of files) out.set(f.name, { size: Number(f.metadata.size ?? -1), md5: f.metadata.md5Hash });
  } catch (err) {
    const code = (err as ApiError).code;
    if (code === 404) return out;
    const message = `listing gs://${bucket.name}/${prefix} for existing objects: ${describe(err)}`;
    // Permission problems are the user's to fix; anything else keeps its cause for --verbose.
    throw code === 401 || code === 403 ? new UserError(message) : new Error(message, { cause: err });
  }
  return out;
}

/** md5 and crc32c of a local file in one read (GCS records both; composite objects only crc32c). */
async function checksumsOf(file: string): Promise<LocalChecksums> {
  const md5 = createHash('md5');
  const crc = new CRC32C();
  let size = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      md5.update(chunk as Buffer);
      crc.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new Error(`cannot read ${file}: ${describe(err)}`, { cause: err });
  }
  return { size, md5: md5.digest('base64'), crc32c: crc.toString() };
}

/** Worth another attempt: server-side and throttling errors, dropped connections, corrupted transfers. */
function isTransient(err: unknown): boolean {
  if (err instanceof ChecksumMismatch) return true;
  const code = (err as ApiError)?.code;
  if (typeof code === 'number') return code === 408 || code === 429 || code >= 500;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(String(code)) || /socket hang up/i.test(describe(err));
}

function describe(err: unknown): string {
  const e = err as ApiError;
  const message = (e?.message ?? String(err)).split('\n')[0];
  return typeof e?.code === 'number' ? `HTTP ${e.code}: ${message}` : message;
}
