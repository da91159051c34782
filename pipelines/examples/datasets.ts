// Where the bundled example pipelines find their raw data: the `vega-datasets` npm package (penguins.json,
// flights-3m.parquet). Its package exports hide the data folder from require.resolve, so it is found next
// to the package's entry point.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../runtime/core/errors';

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
