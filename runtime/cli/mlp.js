#!/usr/bin/env node
// The `mlp` command. In a source checkout it runs the TypeScript directly (transpiled on load by
// runtime/core/register-ts.js); in an installed package it runs the compiled dist/ tree.
const fs = require('fs');
const path = require('path');

const source = path.join(__dirname, 'main.ts');
if (fs.existsSync(source)) {
  require('../core/register-ts');
  require(source).main(process.argv);
} else {
  require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'cli', 'main.js')).main(process.argv);
}
