#!/usr/bin/env node
// Runs a TypeScript entry file from source (transpile-only via sucrase's require hook): `node bin/ts-node.js file.ts [args]`.
require('sucrase/register/ts');
const path = require('path');
const file = process.argv[2];
if (!file) { console.error('usage: node bin/ts-node.js <file.ts> [args...]'); process.exit(2); }
process.argv.splice(1, 1);
require(path.resolve(file));
