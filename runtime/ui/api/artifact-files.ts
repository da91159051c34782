// Reading a file inside an artifact, through RootFiles: local and gs:// pipeline roots alike, and only
// inside the served root. A file that is missing or outside the root is the same 404, and neither it nor a
// parse error shows any of a file's content or where the store said it was.

import type { Artifact } from '../../metadata/types';
import { joinUri } from '../../storage';
import type { RootFiles } from '../root-files';
import { HttpError, notFound } from './http-error';

export async function readArtifactText(files: RootFiles, artifact: Artifact, ...parts: string[]): Promise<string> {
  const bytes = await files.read(joinUri(artifact.uri, ...parts));
  if (bytes === undefined) throw notFound(`${artifact.type} artifact ${artifact.id} has no ${parts.join('/')} in the pipeline root this UI serves`);
  return bytes.toString('utf8');
}

export async function readArtifactJson<T>(files: RootFiles, artifact: Artifact, ...parts: string[]): Promise<T> {
  const text = await readArtifactText(files, artifact, ...parts);
  try {
    return JSON.parse(text) as T;
  } catch {
    // JSON.parse's message quotes the text around the error: never sent.
    throw new HttpError(500, `${parts.join('/')} of ${artifact.type} artifact ${artifact.id} is not valid JSON`);
  }
}
