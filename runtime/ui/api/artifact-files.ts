// Reading a file inside an artifact through the artifact store (runtime/storage), so the UI reads local and
// gs:// pipeline roots alike; a missing file is a 404 naming it.

import type { Artifact } from '../../metadata/types';
import { joinUri, storageFor } from '../../storage';
import { HttpError, notFound } from './http-error';

export async function readArtifactText(artifact: Artifact, ...parts: string[]): Promise<string> {
  const uri = joinUri(artifact.uri, ...parts);
  const storage = storageFor(uri);
  if (!(await storage.exists(uri))) throw notFound(`${artifact.type} artifact ${artifact.id} has no ${parts.join('/')} (looked for ${uri})`);
  return (await storage.readFile(uri)).toString('utf8');
}

export async function readArtifactJson<T>(artifact: Artifact, ...parts: string[]): Promise<T> {
  const text = await readArtifactText(artifact, ...parts);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new HttpError(500, `${joinUri(artifact.uri, ...parts)} is not valid JSON: ${(err as Error).message}`);
  }
}
