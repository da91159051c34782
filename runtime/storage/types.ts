// The artifact store's interface: one API over local paths (plain or file://) and gs:// URIs, plus atomic
// publish — an artifact directory becomes visible under its final URI only once complete (commit marker).

import type { Readable, Writable } from 'stream';

/** Name of the commit marker written last into every published artifact directory. */
export const COMMIT_MARKER = '_MLP_COMMITTED.json';

export interface ManifestEntry {
  /** Path relative to the artifact root, '/'-separated. */
  path: string;
  size: number;
  /** Hex md5 of the content. */
  md5: string;
}

/** Content of the commit marker: what was published, so readers can verify and caches can fingerprint. */
export interface CommitManifest {
  version: 1;
  committedAt: string;
  files: ManifestEntry[];
  /** sha256 over the sorted (path, size, md5) entries: the artifact's content fingerprint. */
  fingerprint: string;
}

export interface ListEntry {
  /** Full URI of the object/file. */
  uri: string;
  size: number;
}

export interface ArtifactStorage {
  /** True when the URI belongs to this backend ("gs" for gs://, "file" for local paths). */
  handles(uri: string): boolean;

  exists(uri: string): Promise<boolean>;
  readFile(uri: string): Promise<Buffer>;
  /** Writes a whole file (creating parent folders locally). Not atomic by itself; use publishDirectory for artifacts. */
  writeFile(uri: string, data: Buffer | string): Promise<void>;
  /**
   * Writes a whole file only if nothing is there, atomically (readers see all of it or nothing): exclusive create,
   * locally by linking a finished temp file into place, on GCS with ifGenerationMatch 0. A file already there is
   * a PublishConflictError, unless it holds exactly `data` (a retried request whose first attempt stored it).
   */
  createFile(uri: string, data: string): Promise<void>;
  createReadStream(uri: string): Promise<Readable>;
  createWriteStream(uri: string): Promise<Writable>;
  /** Files below a prefix (recursive), sorted by URI. */
  list(prefix: string): Promise<ListEntry[]>;
  /** Deletes a file, or with recursive a whole prefix/folder. Missing targets are not an error. */
  delete(uri: string, opts?: { recursive?: boolean }): Promise<void>;
  /** Copies every file below src to the same relative path below dst. */
  copyTree(srcUri: string, dstUri: string): Promise<void>;

  /**
   * Publishes a finished local directory as the artifact at finalUri, atomically: locally by writing the
   * marker into a staging folder and renaming it into place; on GCS by uploading every file under finalUri
   * and writing the commit marker last (GCS has no rename). Returns the manifest written.
   * Fails if finalUri already holds a committed artifact.
   */
  publishDirectory(localDir: string, finalUri: string): Promise<CommitManifest>;
  /** Downloads every file below uri into localDir (same relative paths); for executors that need local files. */
  downloadTree(uri: string, localDir: string): Promise<void>;
  /** The commit manifest of a published artifact, or undefined when it is absent or incomplete (no marker). */
  readCommit(uri: string): Promise<CommitManifest | undefined>;
}
