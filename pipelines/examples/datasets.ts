// Where the bundled example pipelines find their raw data — the `vega-datasets` npm package (penguins.json,
// flights-3m.parquet), whose package exports hide the data folder from require.resolve, so it is found next
// to the package's entry point — and where they put things by default: under the pipeline root.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../runtime/core/errors';
import { isLocalUri, joinUri } from '../../runtime/storage';

export function vegaDataFile(name: string): string {
  let entry: string;
  try {
    entry = require.resolve('vega-datasets');
  } catch {
    throw new UserError(`the vega-datasets package is not installed (run npm ci), so the bundled ${name} cannot be found; pass --param input_base=<your data folder>`);
  }
  const file = path.join(path.dirname(entry), '..', 'data', name);
  if (!fs.existsSync(file)) throw new UserError(`vega-datasets has no data/${name} (looked at ${file})`);
  return file;
}

/** A location under the pipeline root ($MLP_ROOT, which `mlp run --root` sets; default .mlp), absolute when local. */
export function underRoot(...parts: string[]): string {
  const root = process.env.MLP_ROOT ?? '.mlp';
  return isLocalUri(root) ? path.resolve(root, ...parts) : joinUri(root, ...parts);
}
