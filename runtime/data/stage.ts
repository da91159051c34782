// Makes input files readable by DuckDB, which can only open local files here (its httpfs extension cannot be
// downloaded): local paths pass through, gs:// objects are streamed into a local folder through the storage layer.

import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { localPathOf, parseGcsUri, storageFor } from '../storage';

/**
 * Local paths of `uris`, in the same order. Remote objects are downloaded below `stagingDir` (keeping their
 * bucket/object path, so names stay distinct and readable in error messages), a few at a time.
 */
export async function stageLocally(uris: string[], stagingDir: string, concurrency = 8): Promise<string[]> {
  const result: string[] = new Array(uris.length);
  let next = 0;
  const worker = async () => {
    while (next < uris.length) {
      const i = next++;
      const local = localPathOf(uris[i]);
      if (local) {
        result[i] = local;
        continue;
      }
      const { bucket, path: object } = parseGcsUri(uris[i]);
      const target = path.join(stagingDir, bucket, ...object.split('/'));
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await pipeline(await storageFor(uris[i]).createReadStream(uris[i]), fs.createWriteStream(target));
      result[i] = target;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, uris.length) }, worker));
  return result;
}
