// A TypeScript syntax error in a pipeline module (or a module it imports, or a --module of mlp component) is printed as file:line:col, the
// message, the offending line and a caret, with exit 1: not "unexpected error: Error transforming …".

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../support/cli';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-syntax-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('mlp run and mlp compile: the file, line and column, the line itself and a caret', async () => {
  const file = path.join(dir, 'broken.ts');
  await fs.promises.writeFile(file, "import { z } from 'zod';\nconst size: number = ;\nexport const pipeline = size;\n");
  const expected = `mlp: error: ${file}:2:22: Unexpected token\n  const size: number = ;\n                       ^\n`;
  const run = await runCli(['run', file, '--root', path.join(dir, 'root')]);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(expected);
  const compile = await runCli(['compile', file, '--target', 'argo', '--image', 'img:1']);
  expect(compile.code).toBe(1);
  expect(compile.stderr).toBe(expected);
}, 60_000);

test('mlp component describe --module: a module that does not parse is shown the same way', async () => {
  const file = path.join(dir, 'component.ts');
  await fs.promises.writeFile(file, 'export const x = 1 +;\n');
  const r = await runCli(['component', 'describe', 'Mine', '--module', file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`mlp: error: ${file}:1:21: Unexpected token\n  export const x = 1 +;\n                      ^\n`);
}, 60_000);

test('an error in a module the pipeline imports names that module; the caret follows tabs', async () => {
  const main = path.join(dir, 'main.ts');
  const helper = path.join(dir, 'helper.ts');
  await fs.promises.writeFile(main, "import { helper } from './helper';\nexport const pipeline = helper;\n");
  await fs.promises.writeFile(helper, 'export function helper() {\n\treturn "unterminated;\n}\n');
  const r = await runCli(['run', main, '--root', path.join(dir, 'root')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`mlp: error: ${helper}:2:9: Unterminated string constant\n  \treturn "unterminated;\n  \t       ^\n`);
}, 60_000);
