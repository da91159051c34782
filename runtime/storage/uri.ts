// URI helpers shared by the storage backends: scheme detection, gs:// parsing, local path resolution and
// joining, so every part of the runtime builds artifact URIs the same way.

import * as path from 'path';
import { fileURLToPath } from 'url';
import { UserError } from '../core/errors';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is;
// GCS bucket naming rules (lower-case letters, digits, dots, dashes, underscores; 3-222 characters).
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** The URI's scheme in lower case ("gs", "file", ...), or undefined for a plain path. */
export function schemeOf(uri: string): string | undefined {
  return SCHEME.exec(uri)?.[1].toLowerCase();
}

export function isGcsUri(uri: string): boolean {
  return schemeOf(uri) === 'gs';
}

/** Plain paths and file:// URIs. */
export function isLocalUri(uri: string): boolean {
  const scheme = schemeOf(uri);
  return scheme === undefined || scheme === 'file';
}

/** Splits gs://bucket/some/path into bucket and object path (no leading slash; '' for the bucket root). */
export function parseGcsUri(uri: string): { bucket: string; path: string } {
  const match = SCHEME.exec(uri);
  if (!match || match[1].toLowerCase() !== 'gs') throw new UserError(`not a gs:// URI: ${uri}`);
  const rest = match[2];
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!BUCKET_NAME.test(bucket)) throw new UserError(`invalid bucket name "${bucket}" in ${uri}`);
  return { bucket, path: slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+/, '') };
}

/**
 * Absolute local path of a plain path (resolved against the working directory) or a file:// URI;
 * undefined for any other scheme (gs://, ...), so callers can ask "is this on local disk?".
 */
export function localPathOf(uri: string): string | undefined {
  const scheme = schemeOf(uri);
  if (scheme === undefined) return path.resolve(uri);
  if (scheme !== 'file') return undefined;
  try {
    return fileURLToPath(uri);
  } catch (err) {
    throw new UserError(`invalid file:// URI ${uri}: ${(err as Error).message}`);
  }
}

/** localPathOf for places that only accept local paths. */
export function requireLocalPath(uri: string): string {
  const local = localPathOf(uri);
  if (local === undefined) throw new UserError(`not a local path or file:// URI: ${uri}`);
  return local;
}

/** Joins '/'-separated parts onto a base URI or path, keeping the base's style (gs://, file://, plain). */
export function joinUri(base: string, ...parts: string[]): string {
  const match = SCHEME.exec(base);
  const head = match ? base.slice(0, base.length - match[2].length) : '';
  let joined = (match ? match[2] : base).replace(/\/+$/, '');
  for (const part of parts) {
    const trimmed = part.replace(/^\/+|\/+$/g, '');
    // No separator only when joining onto an empty relative base ('' + 'a' is 'a', not '/a').
    if (trimmed) joined += (joined || head || base.startsWith('/') ? '/' : '') + trimmed;
  }
  return head + joined;
}
