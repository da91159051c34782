// A model base path with no <version>/ folder is normally one the first push has not reached yet, and the
// server waits for it. Two mistakes look the same and would wait forever: pointing at one version's folder
// (it has signature.json, or model.onnx) or at a local pipeline root (it has metadata.sqlite or the runs'
// .runs/ logs; the Pusher's destinations are below it). Those are refused with the folder the server expected.

import * as fs from 'fs';
import * as path from 'path';
import { committedVersions } from '../ml/model-location';
import { ONNX_MODEL_FILE, SIGNATURE_FILE } from '../ml/signature';
import { joinUri, localPathOf, storageFor } from '../storage';

/** How deep below a local pipeline root pushed models are looked for (e.g. <root>/serving/<model>). */
const SEARCH_DEPTH = 2;
/** What only a pipeline root holds: the embedded metadata store, the run logs. */
const ROOT_MARKERS = ['metadata.sqlite', '.runs'];

async function localFoldersWithVersions(dir: string, depth: number): Promise<string[]> {
  if (depth === 0) return [];
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dir, e.name);
    if ((await committedVersions(sub).catch(() => [])).length > 0) found.push(sub);
    else found.push(...(await localFoldersWithVersions(sub, depth - 1)));
  }
  return found;
}

/** Why `base` (which holds no committed version) cannot be a model base path, or undefined when it may be one. */
export async function misplacedBasePath(base: string): Promise<string | undefined> {
  for (const file of [SIGNATURE_FILE, ONNX_MODEL_FILE]) {
    if (!(await storageFor(base).exists(joinUri(base, file)))) continue;
    const parent = base.replace(/\/+$/, '').replace(/\/[^/]*$/, '');
    return `base path ${base} is a model version folder (it has ${file}); a base path is the folder holding the <version>/ folders: ${parent}`;
  }
  const local = localPathOf(base);
  const marker = local === undefined ? undefined : ROOT_MARKERS.find((m) => fs.existsSync(path.join(local, m)));
  if (local === undefined || marker === undefined) return undefined;
  const pushed = await localFoldersWithVersions(local, SEARCH_DEPTH);
  return `base path ${base} is a pipeline root (it has ${marker}); a base path is the folder a Pusher pushes <version>/ folders to${pushed.length ? `: ${pushed.join(', ')}` : ' (none below this root yet)'}`;
}
