// `--param key=value` is read by the parameter's declared type: a string parameter keeps "2024" as text, a
// number or a list is read from JSON, and text that is not of the declared type is a one-line error.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { declaredParameterTypes, parameterValuesFromText } from '../../../runtime/cli/parameter-text';
import { z } from 'zod';
import { REPO_ROOT, runCli } from '../../support/cli';

let dir: string;
let moduleFile: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-param-types-'));
  moduleFile = path.join(dir, 'tagged.ts');
  // A user's pipeline module outside the checkout, with a string parameter whose values look like numbers.
  await fs.promises.writeFile(
    moduleFile,
    [
      `import { z } from ${JSON.stringify(path.join(REPO_ROOT, 'node_modules', 'zod'))};`,
      `import { Pipeline } from ${JSON.stringify(path.join(REPO_ROOT, 'pipelines'))};`,
      `import { ProduceNumbers } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime', 'components'))};`,
      `export const pipeline = new Pipeline({ name: 'tagged', parameters: z.object({ input_base: z.string(), count: z.number().int().default(3) }) });`,
      `pipeline.add('produce', ProduceNumbers, { parameters: { count: pipeline.param('count') } });`,
    ].join('\n'),
  );
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('mlp run: a string parameter given digits stays text, a number parameter is a number', async () => {
  const r = await runCli(['run', moduleFile, '--root', path.join(dir, 'root'), '--param', 'input_base=2024', '--param', 'count=4', '--json']);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).parameters).toEqual({ input_base: '2024', count: 4 });
}, 60_000);

test('mlp run: text that is not of a number parameter\'s type is one line naming the parameter', async () => {
  const r = await runCli(['run', moduleFile, '--root', path.join(dir, 'root'), '--param', 'input_base=x', '--param', 'count=many']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe('mlp: error: --param count=many: parameter count takes integer (JSON), and "many" is not one');
}, 60_000);

test('mlp compile --vertex-job: parameter values in the request have the declared types', async () => {
  const r = await runCli(['compile', moduleFile, '--target', 'kfp', '--vertex-job', '--image', 'img:1', '--pipeline-root', 'gs://b/root', '--param', 'input_base=2024', '--param', 'count=5']);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout).runtimeConfig.parameterValues).toEqual({ input_base: '2024', count: 5 });
}, 60_000);

test('reading by declared type: strings as text, JSON for the rest, unions and undeclared names', () => {
  const schema = z.object({
    name: z.string(),
    span: z.number().int().optional(),
    ratio: z.number(),
    on: z.boolean(),
    splits: z.array(z.string()),
    either: z.union([z.string(), z.number()]),
    mode: z.enum(['a', 'b']),
  });
  const declared = declaredParameterTypes(schema);
  expect(parameterValuesFromText({ name: '2024', span: '3', ratio: '0.5', on: 'true', splits: '["a","b"]', mode: 'a' }, declared)).toEqual({
    name: '2024',
    span: 3,
    ratio: 0.5,
    on: true,
    splits: ['a', 'b'],
    mode: 'a',
  });
  // A name that is quoted JSON stays the text as typed: a string parameter never reads JSON.
  expect(parameterValuesFromText({ name: '"q"' }, declared)).toEqual({ name: '"q"' });
  expect(parameterValuesFromText({ either: '7' }, declared)).toEqual({ either: 7 });
  expect(parameterValuesFromText({ either: 'seven' }, declared)).toEqual({ either: 'seven' });
  // Undeclared: read as JSON when it parses; the pipeline then refuses the unknown name.
  expect(parameterValuesFromText({ other: '1' }, declared)).toEqual({ other: 1 });
  expect(() => parameterValuesFromText({ on: 'yes' }, declared)).toThrow('--param on=yes: parameter on takes boolean (JSON), and "yes" is not one');
  expect(() => parameterValuesFromText({ splits: 'a,b' }, declared)).toThrow('--param splits=a,b: parameter splits takes array (JSON), and "a,b" is not one');
});
