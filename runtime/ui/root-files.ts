// The only way the UI reads a file: confined to the pipeline root it serves. The metadata store says where
// logs and artifacts are, and in the cloud every pipeline step can write to it, so a recorded URI is never
// trusted: a local file is read only when its real path (after every symlink) is inside the root's real
// path, and only if it is a regular file; a gs:// object only under the root's prefix. Anything else reads
// as "not there", exactly like a missing file, so a caller cannot tell the two apart (no probing).

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../core/errors';
import { isGcsUri, localPathOf, parseGcsUri, storageFor } from '../storage';

/** A file's last bytes and the offset they start at. */
export interface FileEnd {
  start: number;
  end: Buffer;
}

/** A gs:// URI's object path as segments; undefined when it is not gs:// or has empty, `.` or `..` segments. */
function gcsSegments(uri: string): { bucket: string; segments: string[] } | undefined {
  if (!isGcsUri(uri)) return undefined;
  let parsed: { bucket: string; path: string };
  try {
    parsed = parseGcsUri(uri);
  } catch {
    return undefined;
  }
  const segments = parsed.path === '' ? [] : parsed.path.replace(/\/+$/, '').split('/');
  return segments.some((s) => s === '' || s === '.' || s === '..') ? undefined : { bucket: parsed.bucket, segments };
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Where an open file really is: Linux names it in /proc (a folder swapped for a symlink after realpath shows here); elsewhere the path opened. */
async function openedPath(handle: fs.promises.FileHandle, opened: string): Promise<string> {
  try {
    return await fs.promises.readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return opened;
  }
}

export class RootFiles {
  /** The root's real path once it exists (a UI may start before the first run creates the root). */
  private localRoot?: string;

  /** `root`: a local folder, file:// or gs:// URI — the pipeline root `mlp ui --root` serves. */
  constructor(readonly root: string) {
    if (!isGcsUri(root) && localPathOf(root) === undefined) throw new UserError(`pipeline root ${root}: use a local folder, file:// or gs://`);
  }

  /** Whether `uri` names a readable file inside the root. */
  async exists(uri: string): Promise<boolean> {
    if (isGcsUri(this.root)) return this.insideGcsRoot(uri) && storageFor(uri).exists(uri);
    const handle = await this.openLocal(uri);
    await handle?.close();
    return handle !== undefined;
  }

  /** The whole file, or undefined when it is not a readable file inside the root. */
  async read(uri: string): Promise<Buffer | undefined> {
    return (await this.readEnd(uri, Infinity))?.end;
  }

  /** The file's last `maxBytes` bytes, or undefined when it is not a readable file inside the root. */
  async readEnd(uri: string, maxBytes: number): Promise<FileEnd | undefined> {
    if (isGcsUri(this.root)) {
      if (!this.insideGcsRoot(uri)) return undefined;
      const storage = storageFor(uri);
      if (!(await storage.exists(uri))) return undefined;
      // The storage layer has no ranged reads: a remote file is fetched whole, then cut like a local one.
      const whole = await storage.readFile(uri);
      const start = Math.max(0, whole.length - maxBytes);
      return { start, end: whole.subarray(start) };
    }
    const handle = await this.openLocal(uri);
    if (!handle) return undefined;
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - maxBytes);
      const end = Buffer.alloc(size - start);
      const { bytesRead } = await handle.read(end, 0, end.length, start);
      return { start, end: end.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  }

  private insideGcsRoot(uri: string): boolean {
    const root = gcsSegments(this.root);
    const file = gcsSegments(uri);
    return !!root && !!file && file.bucket === root.bucket && file.segments.length > root.segments.length && root.segments.every((s, i) => file.segments[i] === s);
  }

  /** An open handle on a regular file whose real path is inside the root's, else undefined. */
  private async openLocal(uri: string): Promise<fs.promises.FileHandle | undefined> {
    const rootReal = await this.localRootReal();
    let file: string | undefined;
    try {
      file = localPathOf(uri);
    } catch {
      return undefined;
    }
    if (rootReal === undefined || file === undefined) return undefined;
    let real: string;
    try {
      real = await fs.promises.realpath(file);
    } catch {
      return undefined;
    }
    if (!isInside(rootReal, real)) return undefined;
    let handle: fs.promises.FileHandle;
    try {
      // O_NOFOLLOW: the last component was resolved above and must not have become a symlink since;
      // O_NONBLOCK: a FIFO planted in the root must not hang the request (regular files ignore it).
      handle = await fs.promises.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    if ((await handle.stat()).isFile() && isInside(rootReal, await openedPath(handle, real))) return handle;
    await handle.close();
    return undefined;
  }

  private async localRootReal(): Promise<string | undefined> {
    if (this.localRoot === undefined) {
      try {
        this.localRoot = await fs.promises.realpath(localPathOf(this.root)!);
      } catch {
        // Not created yet: nothing is inside it.
      }
    }
    return this.localRoot;
  }
}
