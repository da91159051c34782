// Reading a blessing's verdict, shared by the components that act only on blessed models (Pusher,
// BulkInferrer): the `blessed` property (1/0) as TFX records it, else the BLESSED / INFRA_BLESSED marker file.

import * as fs from 'fs';
import * as path from 'path';
import type { InputArtifact } from '../core/component';

/**
 * Properties the Evaluator sets on its ModelBlessing, as TFX's Evaluator names them: the URI and MLMD id of
 * the model it judged and of the baseline it compared with. Blessings recorded before these names carry the
 * URI as `current_model_uri`.
 */
export const CURRENT_MODEL_URI = 'current_model';
export const CURRENT_MODEL_ID = 'current_model_id';
export const BASELINE_MODEL_URI = 'baseline_model';
export const BASELINE_MODEL_ID = 'baseline_model_id';
export const LEGACY_CURRENT_MODEL_URI = 'current_model_uri';

export function isBlessed(a: InputArtifact, marker: string): boolean {
  const p = a.properties.blessed;
  if (p !== undefined) return p === 1 || p === true;
  return fs.existsSync(path.join(a.path, marker));
}
