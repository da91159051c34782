// Reading a blessing's verdict, shared by the components that act only on blessed models (Pusher,
// BulkInferrer): the `blessed` property (1/0) as TFX records it, else the BLESSED / INFRA_BLESSED marker file.

import * as fs from 'fs';
import * as path from 'path';
import type { InputArtifact } from '../core/component';

export function isBlessed(a: InputArtifact, marker: string): boolean {
  const p = a.properties.blessed;
  if (p !== undefined) return p === 1 || p === true;
  return fs.existsSync(path.join(a.path, marker));
}
