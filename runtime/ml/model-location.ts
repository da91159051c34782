// Finds the serving bundle a user points at: a bundle folder itself (it has signature.json), or a model base
// path in TensorFlow Serving's layout (<base>/<version>/), whose newest committed version is taken. gs://
// locations are downloaded to a temporary folder first.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../core/errors';
import { joinUri, localPathOf, storageFor } from '../storage';
import { SIGNATURE_FILE } from './signature';

export interface ModelLocation {
  /** Local bundle folder. */
  dir: string;
  /** The URI the bundle came from (a version folder when a base path was given). */
  uri: string;
  /** Removes the downloaded copy, if any. */
  cleanup(): Promise<void>;
}

async function newestVersion(base: string): Promise<string | undefined> {
  const storage = storageFor(base);
  const prefix = base.replace(/\/+$/, '');
  const versions = new Set<number>();
  for (const e of await storage.list(prefix)) {
    const first = e.uri.slice(prefix.length + 1).split('/')[0];
    if (/^\d+$/.test(first)) versions.add(Number(first));
  }
  for (const v of [...versions].sort((a, b) => b - a)) {
    if (await storage.readCommit(joinUri(prefix, String(v)))) return joinUri(prefix, String(v));
  }
  return undefined;
}

export async function locateModel(uri: string): Promise<ModelLocation> {
  const storage = storageFor(uri);
  const bundleUri = (await storage.exists(joinUri(uri, SIGNATURE_FILE))) ? uri : await newestVersion(uri);
  if (!bundleUri) throw new UserError(`${uri} is neither a model bundle (no ${SIGNATURE_FILE}) nor a model base path with a committed <version>/ folder`);
  const local = localPathOf(bundleUri);
  if (local) return { dir: local, uri: bundleUri, cleanup: async () => undefined };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-model-'));
  await storage.downloadTree(bundleUri, dir);
  return { dir, uri: bundleUri, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}
