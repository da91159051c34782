#!/usr/bin/env node
// Stages what the @gcp-ml-platform/mlp tarball ships (npm prepack / postpack of runtime/package.json).
// The runtime runs as TypeScript (sucrase, core/register-ts.js) and imports the pipeline DSL by relative
// paths (`../../pipelines/...`), which import the runtime back the same way; so the package carries both
// folders side by side exactly as the repository has them, under dist/: dist/runtime/ and dist/pipelines/.
// cli/mlp.js at the package root is the `mlp` bin and hands over to dist/runtime/cli/mlp.js.
//   node pack-sources.js stage   copy ../runtime and ../pipelines into dist/ (replacing an earlier copy)
//   node pack-sources.js clean   remove dist/
const fs = require('fs');
const path = require('path');

const here = __dirname;
const repo = path.dirname(here);
const dist = path.join(here, 'dist');

/** Repository-only entries of runtime/: the package manifest (the tarball has its own at the root), this script, builds. */
const NOT_SHIPPED = new Set(['dist', 'node_modules', 'package.json', 'pack-sources.js', '.mlp']);
/** Local state anywhere below: a pipeline root someone ran in a source folder. */
const shipped = (src) => path.basename(src) !== '.mlp' && path.basename(src) !== 'node_modules';

const step = process.argv[2];
if (step === 'stage') {
  fs.rmSync(dist, { recursive: true, force: true });
  for (const entry of fs.readdirSync(here).filter((e) => !NOT_SHIPPED.has(e))) {
    fs.cpSync(path.join(here, entry), path.join(dist, 'runtime', entry), { recursive: true, filter: shipped });
  }
  fs.cpSync(path.join(repo, 'pipelines'), path.join(dist, 'pipelines'), { recursive: true, filter: shipped });
} else if (step === 'clean') {
  fs.rmSync(dist, { recursive: true, force: true });
} else {
  console.error('usage: node pack-sources.js stage|clean');
  process.exit(2);
}
