// Test helper: backends whose publishDirectory is interrupted after a number of files (throwing in-process, or
// pausing so a parent can SIGKILL the process), to check that a half-done publish never looks committed.

import { GcsStorage, type GcsStorageOptions } from '../../../runtime/storage/gcs-storage';
import { LocalStorage } from '../../../runtime/storage/local-storage';
import type { LocalFile } from '../../../runtime/storage/common';
import type { ArtifactStorage, ManifestEntry } from '../../../runtime/storage/types';

/** Lets `files` files through, then calls `interrupt` instead of writing the next one. */
export function interruptedStorage(
  kind: 'local' | 'gcs',
  files: number,
  interrupt: () => Promise<never>,
  gcs: GcsStorageOptions = {},
): ArtifactStorage {
  let written = 0;
  const gate = async () => {
    if (written++ >= files) await interrupt();
  };
  if (kind === 'local') {
    return new (class extends LocalStorage {
      protected override async stageFile(file: LocalFile, to: string): Promise<ManifestEntry> {
        await gate();
        return super.stageFile(file, to);
      }
    })();
  }
  // One upload at a time, so "after n files" is exact.
  return new (class extends GcsStorage {
    protected override async uploadFile(file: LocalFile, uri: string): Promise<ManifestEntry> {
      await gate();
      return super.uploadFile(file, uri);
    }
  })({ ...gcs, concurrency: 1 });
}

export const failure = async (): Promise<never> => {
  throw new Error('injected failure');
};
