// The runtime's own version, recorded on every execution so lineage can say which runtime produced what, and
// where the installed package lives (for steps that start the `mlp` command as a child process).

import * as fs from 'fs';
import * as path from 'path';

function findPackageJson(): string {
  // The nearest one up: runtime/package.json in the repository, the package root in an install.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('package.json of @gcp-ml-platform/mlp not found');
}

const packageJson = findPackageJson();

/** The runtime package's manifest (`mlp init` names the package, its zod range and its type-checking toolchain in the projects it writes). */
export const RUNTIME_PACKAGE: { name: string; version: string; engines?: { node?: string }; dependencies: Record<string, string>; devDependencies: Record<string, string> } = JSON.parse(fs.readFileSync(packageJson, 'utf8'));

export const RUNTIME_VERSION: string = RUNTIME_PACKAGE.version;

/** The `mlp` command's entry script, to run as `node <MLP_BIN> ...` in a child process. */
export const MLP_BIN = path.join(__dirname, '..', 'cli', 'mlp.js');
