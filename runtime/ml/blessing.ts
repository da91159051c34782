// Reading a blessing's verdict, shared by the components that act only on blessed models (Pusher,
// BulkInferrer): the `blessed` property (1/0) as TFX records it, else the BLESSED / INFRA_BLESSED marker file.

import * as fs from 'fs';
import * as path from 'path';
import type { InputArtifact } from '../core/component';

/** Property the Evaluator sets on its ModelBlessing: the URI of the model it judged (TFX: current_model_id). */
export const CURRENT_MODEL_URI = 'current_model_uri';

export function isBlessed(a: InputArtifact, marker: string): boolean {
  const p = a.properties.blessed;
  if (p !== undefined) return p === 1 || p === true;
  return fs.existsSync(path.join(a.path, marker));
}
