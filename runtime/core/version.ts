// The runtime's own version, recorded on every execution so lineage can say which runtime produced what, and
// where the installed package lives (for steps that start the `mlp` command as a child process).

import * as fs from 'fs';
import * as path from 'path';

function findPackageJson(): string {
  // Works from source (runtime/core) and from the compiled tree (dist/runtime/core).
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('package.json of gcp-ml-platform not found');
}

const packageJson = findPackageJson();

export const RUNTIME_VERSION: string = JSON.parse(fs.readFileSync(packageJson, 'utf8')).version;

/** The `mlp` command's entry script, to run as `node <MLP_BIN> ...` in a child process. */
export const MLP_BIN = path.join(path.dirname(packageJson), 'runtime', 'cli', 'mlp.js');
