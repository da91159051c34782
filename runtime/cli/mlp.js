#!/usr/bin/env node
// The `mlp` command: runs the runtime's TypeScript directly (transpiled on load by runtime/core/register-ts.js).
// In the repository this file sits next to main.ts; at the root of the @gcp-ml-platform/mlp package (its bin)
// it hands over to the sources the package ships under dist/runtime/ (runtime/pack-sources.js).
const fs = require('fs');
const path = require('path');

const source = path.join(__dirname, 'main.ts');
if (fs.existsSync(source)) {
  require('../core/register-ts');
  require(source).main(process.argv);
} else {
  require(path.join(__dirname, '..', 'dist', 'runtime', 'cli', 'mlp.js'));
}
