// Entry point of the artifact store: picks the backend for a URI (local path/file:// or gs://) and re-exports
// the interface and the URI/manifest helpers the rest of the runtime uses.

import { UserError } from '../core/errors';
import type { GcsStorage, GcsStorageOptions } from './gcs-storage';
import { LocalStorage } from './local-storage';
import type { ArtifactStorage } from './types';
import { isGcsUri, isLocalUri } from './uri';

export * from './types';
export { fingerprintOf, PublishConflictError } from './common';
// GcsStorage is not re-exported: @google-cloud/storage takes ~0.5 s to load, so it is only loaded when a
// gs:// URI is first used (every runner worker process would otherwise pay for it).
export type { GcsStorage, GcsStorageOptions } from './gcs-storage';
export { LocalStorage } from './local-storage';
export { isGcsUri, isLocalUri, joinUri, localPathOf, parseGcsUri } from './uri';

export interface StorageForOptions {
  gcs?: GcsStorageOptions;
}

const local = new LocalStorage();
// One client per distinct configuration: clients keep connection pools and auth state worth reusing.
const gcsClients = new Map<string, GcsStorage>();

/** The storage backend for a URI; unknown schemes (s3://, http://, ...) are a UserError naming the URI. */
export function storageFor(uri: string, opts: StorageForOptions = {}): ArtifactStorage {
  if (isLocalUri(uri)) return local;
  if (isGcsUri(uri)) {
    // The client reads STORAGE_EMULATOR_HOST when it is built, so the variable is part of the key.
    const key = JSON.stringify([opts.gcs ?? {}, process.env.STORAGE_EMULATOR_HOST ?? '']);
    let gcs = gcsClients.get(key);
    if (!gcs) {
      const { GcsStorage: Gcs } = require('./gcs-storage') as typeof import('./gcs-storage');
      gcsClients.set(key, (gcs = new Gcs(opts.gcs)));
    }
    return gcs;
  }
  throw new UserError(`unsupported storage URI ${uri}: use a local path, file:// or gs://`);
}
