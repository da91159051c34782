// The reference for pipeline authors: `mlp component list`, `mlp component describe <Name>` (ports with
// artifact types, parameters with type, default and description, --json too), `mlp pipelines`, and
// `mlp run --help` naming every bundled pipeline. Every field a bundled component takes is described.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { BUNDLED_COMPONENT_MODULES } from '../../../runtime/components/catalog';
import { BUNDLED_PIPELINES } from '../../../pipelines';
import { describeComponents, loadBundledComponents } from '../../../runtime/reference/component-reference';
import { parameterFields } from '../../../runtime/reference/parameter-fields';
import { expectOneLineError, REPO_ROOT, runCli } from '../../support/cli';

describe('parameter fields from a zod schema', () => {
  test('nested objects, lists, maps and discriminated unions become paths with type, default and description', () => {
    const fields = parameterFields(
      z.object({
        input: z.string().min(1).describe('Where'),
        splits: z.array(z.object({ name: z.string().describe('Split name'), weight: z.number().int().min(1).default(1).describe('Share') })).default([]).describe('Splits'),
        range: z
          .discriminatedUnion('type', [
            z.object({ type: z.literal('latest').describe('The newest') }),
            z.object({ type: z.literal('static').describe('Fixed'), start: z.number().int().min(0).describe('First') }),
          ])
          .default({ type: 'latest' })
          .describe('Which'),
        labels: z.record(z.string(), z.enum(['a', 'b'])).optional().describe('Labels by name'),
      }),
    );
    expect(fields).toEqual([
      { path: 'input', type: 'string', required: true, description: 'Where' },
      { path: 'splits', type: 'object[]', required: false, default: [], description: 'Splits' },
      { path: 'splits[].name', type: 'string', required: true, description: 'Split name' },
      { path: 'splits[].weight', type: 'integer ≥ 1', required: false, default: 1, description: 'Share' },
      { path: 'range', type: 'object (by type)', required: false, default: { type: 'latest' }, description: 'Which' },
      { path: 'range.type', type: '"latest" | "static"', required: true, description: 'latest: The newest; static: Fixed' },
      { path: 'range.start', type: 'integer ≥ 0', required: true, description: 'First', when: 'type: static' },
      { path: 'labels', type: 'Record<string, "a" | "b">', required: false, description: 'Labels by name' },
    ]);
  });

  test('a default that cannot be computed here costs that parameter its default, and says why', () => {
    const fields = parameterFields(
      z.object({
        data: z.string().default(() => {
          throw new Error('the data package is not installed');
        }),
        n: z.number().default(3),
      }),
    );
    expect(fields).toEqual([
      { path: 'data', type: 'string', required: false, defaultError: 'the data package is not installed' },
      { path: 'n', type: 'number', required: false, default: 3 },
    ]);
  });
});

test('every field of every bundled component, and of the bundled trainer, has a description', () => {
  loadBundledComponents();
  const refs = describeComponents().filter((r) => r.bundled);
  expect(refs.map((r) => r.name).sort()).toEqual(Object.keys(BUNDLED_COMPONENT_MODULES).sort());
  const undescribed = refs.flatMap((r) => [...r.parameters, ...(r.bundledTrainerParameters ?? [])].filter((f) => !f.description).map((f) => `${r.name} ${f.path}`));
  expect(undescribed).toEqual([]);
});

test('component list names every bundled component with its ports; --json describes each', async () => {
  const text = await runCli(['component', 'list']);
  expect(text.code).toBe(0);
  for (const name of Object.keys(BUNDLED_COMPONENT_MODULES)) expect(text.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
  expect(text.stdout).toMatch(/^Trainer\s+examples, transform_graph, schema, hyperparameters\?, base_model\?\s+model, model_run\s+Trains/m);

  const json = await runCli(['component', 'list', '--json']);
  expect(json.code).toBe(0);
  const refs = JSON.parse(json.stdout);
  expect(refs.map((r: { name: string }) => r.name)).toEqual(Object.keys(BUNDLED_COMPONENT_MODULES).sort());
  expect(refs.find((r: { name: string }) => r.name === 'Pusher').inputs).toEqual([
    expect.objectContaining({ name: 'model', artifactType: 'Model', optional: false }),
    expect.objectContaining({ name: 'model_blessing', artifactType: 'ModelBlessing', optional: false }),
    expect.objectContaining({ name: 'infra_blessing', artifactType: 'InfraBlessing', optional: true }),
  ]);
}, 60_000);

test('component describe prints ports with artifact types and parameters with type, default and description', async () => {
  const r = await runCli(['component', 'describe', 'ExampleGen']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^ExampleGen \(version \d+\)\nReads CSV/);
  expect(r.stdout).toMatch(/^Inputs\n  none\n/m);
  expect(r.stdout).toMatch(/^ {2}examples\s+Examples\s+Split-<name>/m);
  expect(r.stdout).toMatch(/^ {2}input_base\s+string\s+required\s+Folder the input patterns are relative to/m);
  expect(r.stdout).toMatch(/^ {2}format\s+"auto" \| "csv" \| "jsonl" \| "parquet"\s+"auto"\s+Input format/m);
  expect(r.stdout).toMatch(/^ {2}range\.start_span\s+integer ≥ 0\s+required\s+\[type: static\] First span/m);

  const json = JSON.parse((await runCli(['component', 'describe', 'Trainer', '--json'])).stdout);
  expect(json).toMatchObject({ name: 'Trainer', bundled: true, outputs: [{ name: 'model', artifactType: 'Model' }, { name: 'model_run', artifactType: 'ModelRun' }] });
  expect(json.parameters).toContainEqual({ path: 'train_split', type: 'string', required: false, default: 'train', description: 'Split the model is trained on' });
  // The free-form hyperparameters are documented as the bundled trainer reads them.
  expect(json.bundledTrainerParameters).toContainEqual({ path: 'hyperparameters.learning_rate', type: 'number > 0, ≤ 10', required: false, default: 0.01, description: 'Adam learning rate' });
  expect(json.bundledTrainerParameters).toContainEqual(expect.objectContaining({ path: 'custom_config.label_key', required: true }));
}, 60_000);

test('component describe: an unknown name is one line listing the bundled components', async () => {
  expectOneLineError(await runCli(['component', 'describe', 'ExampelGen']), /^mlp: error: unknown component "ExampelGen": not a bundled component \(.*ExampleGen.*\) and no --module defines it/);
});

test('component describe --module describes a component of your own', async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-describe-'));
  try {
    const file = path.join(dir, 'my-component.ts');
    await fs.promises.writeFile(
      file,
      [
        `const { z } = require(${JSON.stringify(require.resolve('zod'))});`,
        `const { defineComponent } = require(${JSON.stringify(path.join(REPO_ROOT, 'runtime/core/component'))});`,
        `const { Examples, Model } = require(${JSON.stringify(path.join(REPO_ROOT, 'runtime/core/artifact-types'))});`,
        'defineComponent({',
        "  name: 'MyScorer', version: '1', description: 'Scores examples.',",
        "  inputs: { examples: { type: Examples, description: 'What to score' } }, outputs: { model: { type: Model } },",
        "  parameters: z.object({ threshold: z.number().min(0).max(1).default(0.5).describe('Cut-off') }),",
        '  executor: () => {},',
        '});',
      ].join('\n'),
    );
    const r = await runCli(['component', 'describe', 'MyScorer', '--module', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'MyScorer',
      version: '1',
      description: 'Scores examples.',
      bundled: false,
      inputs: [{ name: 'examples', artifactType: 'Examples', optional: false, description: 'What to score', artifactTypeDescription: expect.any(String) }],
      outputs: [{ name: 'model', artifactType: 'Model', artifactTypeDescription: expect.any(String) }],
      parameters: [{ path: 'threshold', type: 'number ≥ 0, ≤ 1', required: false, default: 0.5, description: 'Cut-off' }],
    });
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}, 60_000);

test('pipelines lists every bundled pipeline on one line with its parameters; a name shows their types and descriptions', async () => {
  const r = await runCli(['pipelines']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1 + Object.keys(BUNDLED_PIPELINES).length);
  for (const name of Object.keys(BUNDLED_PIPELINES)) expect(r.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
  expect(r.stdout).toMatch(/^spine-demo\s+count=1000 factor=3\s+Produces numbers/m);
  expect(r.stdout).toMatch(/^data-validation\s+input_base \(required\) schema_file \(required\)\s+ExampleGen/m);

  const one = await runCli(['pipelines', 'spine-demo']);
  expect(one.code).toBe(0);
  expect(one.stdout).toMatch(/^ {2}count\s+integer ≥ 1\s+1000\s+How many numbers to produce$/m);

  const json = JSON.parse((await runCli(['pipelines', '--json'])).stdout);
  expect(json.map((p: { name: string }) => p.name)).toEqual(Object.keys(BUNDLED_PIPELINES));
  expect(json.find((p: { name: string }) => p.name === 'flights').parameters).toContainEqual(expect.objectContaining({ path: 'span', type: 'integer ≥ 0', required: false }));

  expectOneLineError(await runCli(['pipelines', 'penguin']), /^mlp: error: no bundled pipeline "penguin"; bundled pipelines: spine-demo, .*penguins/);
}, 120_000);

test('run --help names every bundled pipeline', async () => {
  const r = await runCli(['run', '--help']);
  expect(r.code).toBe(0);
  const help = r.stdout.replace(/\s+/g, ' ');
  for (const name of Object.keys(BUNDLED_PIPELINES)) expect(help).toContain(name);
  expect(help).toContain('mlp pipelines');
});
