// Finds the serving bundle a user points at: a bundle folder itself (it has signature.json or model.onnx), or
// a model base path in TensorFlow Serving's layout (<base>/<version>/), whose newest committed version is
// taken. A version folder holding model.onnx counts without our commit marker: that is Triton's and KServe's
// layout for a model trained elsewhere (whoever writes it there renames the folder into place, as they
// require). gs:// locations are downloaded to a temporary folder first.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../core/errors';
import { joinUri, localPathOf, storageFor } from '../storage';
import { ONNX_MODEL_FILE, SIGNATURE_FILE } from './signature';

export interface ModelLocation {
  /** Local bundle folder. */
  dir: string;
  /** The URI the bundle came from (a version folder when a base path was given). */
  uri: string;
  /** Removes the downloaded copy, if any. */
  cleanup(): Promise<void>;
}

/** A version folder's name: a plain integer (no leading zeros, so the name is the number written back). */
function isVersionName(name: string): boolean {
  return /^(0|[1-9]\d*)$/.test(name) && Number.isSafeInteger(Number(name));
}

/**
 * Version numbers below a model base path (folders locally; first path segments of the objects on GCS),
 * ascending. A missing local folder has none when `missingOk` (a first push), else it is an error.
 */
export async function versionsIn(base: string, opts: { missingOk?: boolean } = {}): Promise<number[]> {
  const local = localPathOf(base);
  let names: string[];
  if (local !== undefined) {
    const entries = await fs.promises.readdir(local, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && opts.missingOk) return [];
      throw err;
    });
    names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } else {
    const prefix = base.replace(/\/+$/, '');
    names = (await storageFor(base).list(prefix)).map((e) => e.uri.slice(prefix.length + 1).split('/')[0]);
  }
  return [...new Set(names.filter(isVersionName).map(Number))].sort((a, b) => a - b);
}

/** The versions whose folder is completely published (commit marker present), ascending. */
export async function committedVersions(base: string, opts: { missingOk?: boolean } = {}): Promise<number[]> {
  const storage = storageFor(base);
  const versions = await versionsIn(base, opts);
  const committed = await Promise.all(versions.map(async (v) => ((await storage.readCommit(joinUri(base, String(v)))) ? v : undefined)));
  return committed.filter((v): v is number => v !== undefined);
}

/**
 * The versions a model server may load, ascending: the committed ones, and version folders without a commit
 * marker that hold model.onnx (an ONNX model put there in Triton's / KServe's layout, by another tool).
 */
export async function servableVersions(base: string, opts: { missingOk?: boolean } = {}): Promise<number[]> {
  const storage = storageFor(base);
  const versions = await versionsIn(base, opts);
  const servable = await Promise.all(
    versions.map(async (v) => {
      const dir = joinUri(base, String(v));
      return (await storage.readCommit(dir)) || (await storage.exists(joinUri(dir, ONNX_MODEL_FILE))) ? v : undefined;
    }),
  );
  return servable.filter((v): v is number => v !== undefined);
}

export async function locateModel(uri: string): Promise<ModelLocation> {
  const storage = storageFor(uri);
  const newest = async () => {
    const versions = await servableVersions(uri, { missingOk: true });
    return versions.length ? joinUri(uri, String(versions[versions.length - 1])) : undefined;
  };
  const isBundle = (await storage.exists(joinUri(uri, SIGNATURE_FILE))) || (await storage.exists(joinUri(uri, ONNX_MODEL_FILE)));
  const bundleUri = isBundle ? uri : await newest();
  if (!bundleUri) throw new UserError(`${uri} is neither a model bundle (no ${SIGNATURE_FILE} or ${ONNX_MODEL_FILE}) nor a model base path with a committed <version>/ folder`);
  const local = localPathOf(bundleUri);
  if (local) return { dir: local, uri: bundleUri, cleanup: async () => undefined };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-model-'));
  await storage.downloadTree(bundleUri, dir);
  return { dir, uri: bundleUri, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}
