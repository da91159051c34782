// ExampleGen end to end: gs:// input spans read through the GCS emulator (staged via the storage layer, since
// DuckDB cannot open gs:// here), and `mlp component run ExampleGen` with a KFP ExecutorInput as a container runs it.

import * as fs from 'fs';
import * as path from 'path';
import { launchComponent } from '../../../../runtime/core/launcher';
import { ExampleGen } from '../../../../runtime/components/example-gen';
import { storageFor } from '../../../../runtime/storage';
import { useGcsEmulator } from '../../../support/gcs-emulator';
import { runCli } from '../../../support/cli';
import { PENGUINS, penguinsCsv, penguinsJsonl, runGen, splitRows, useTempDir, write } from './helpers';

const tmp = useTempDir('mlp-eg-e2e-');
const MODULE = path.resolve(__dirname, '..', '..', '..', '..', 'runtime', 'components', 'example-gen', 'index.ts');

describe('gs:// input through the GCS emulator', () => {
  useGcsEmulator();

  test('the latest span of a gs:// prefix, from two shards, same splits as the local copy', async () => {
    const base = 'gs://mlp-eg-test/penguins';
    const gcs = storageFor(base);
    await gcs.writeFile(`${base}/span-1/part-0.csv`, penguinsCsv(PENGUINS.slice(0, 10)));
    await gcs.writeFile(`${base}/span-2/part-0.csv`, penguinsCsv(PENGUINS.slice(0, 200)));
    await gcs.writeFile(`${base}/span-2/part-1.csv`, penguinsCsv(PENGUINS.slice(200)).replace(/\n(?=.*\n$)/, '\nAdelie,Dream\n'));
    const params = { input_base: base, input_splits: [{ name: 'all', pattern: 'span-{SPAN}/part-*.csv' }], max_bad_rows_fraction: 0.01 };
    const remote = await runGen(tmp.dir, params, 'remote');
    expect(remote.props).toMatchObject({ span: 2, row_count: PENGUINS.length, bad_row_count: 1 });
    // Messages name the object, not the staging copy.
    const [reject] = fs.readFileSync(path.join(remote.out, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(reject).toMatchObject({ file: `${base}/span-2/part-1.csv`, line: 145, reason: expect.stringMatching(/^missing columns/) });

    write(path.join(tmp.dir, 'local', 'p.csv'), penguinsCsv());
    const local = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'local') }, 'local');
    expect(remote.props.split_row_counts).toBe(local.props.split_row_counts);
    expect(await splitRows(remote.out, 'eval', 'ALL')).toEqual(await splitRows(local.out, 'eval', 'ALL'));
  });

  test('launcher: gs:// input and a gs:// output artifact', async () => {
    const base = 'gs://mlp-eg-test/jsonl';
    await storageFor(base).writeFile(`${base}/data.jsonl`, penguinsJsonl());
    const uri = 'gs://mlp-eg-test/artifacts/examples/1';
    const output = await launchComponent(
      ExampleGen,
      { inputs: { parameterValues: { input_base: base } }, outputs: { artifacts: { examples: { artifacts: [{ uri }] } } } },
      { log: () => undefined },
    );
    expect(output.artifacts!.examples.artifacts[0].metadata).toMatchObject({ row_count: PENGUINS.length, split_names: '["train","eval"]' });
    const listed = (await storageFor(uri).list(uri)).map((e) => e.uri.slice(uri.length + 1)).sort();
    expect(listed).toEqual(['Split-eval/part-0.parquet', 'Split-train/part-0.parquet', '_MLP_COMMITTED.json']);
  });
});

test('mlp component run ExampleGen: the container contract', async () => {
  write(path.join(tmp.dir, 'in', 'span-3', 'p.jsonl'), penguinsJsonl());
  write(path.join(tmp.dir, 'in', 'span-1', 'p.jsonl'), penguinsJsonl(PENGUINS.slice(0, 5)));
  const out = path.join(tmp.dir, 'examples');
  const outputFile = path.join(tmp.dir, 'executor-output.json');
  const input = {
    inputs: {
      parameterValues: {
        input_base: path.join(tmp.dir, 'in'),
        input_splits: [{ name: 'all', pattern: 'span-{SPAN}/*.jsonl' }],
        output_splits: [
          { name: 'train', buckets: 8 },
          { name: 'eval', buckets: 1 },
          { name: 'test', buckets: 1 },
        ],
        partition_feature: 'Species',
      },
    },
    outputs: { artifacts: { examples: { artifacts: [{ uri: out }] } }, outputFile },
  };
  const r = await runCli(['component', 'run', 'ExampleGen', '--module', MODULE, '--executor-input', JSON.stringify(input)]);
  expect(r.stderr).toContain('wrote 344 rows');
  expect(r.code).toBe(0);
  const metadata = JSON.parse(fs.readFileSync(outputFile, 'utf8')).artifacts.examples.artifacts[0].metadata;
  expect(metadata).toMatchObject({ span: 3, version: 0, split_names: '["train","eval","test"]', row_count: 344, bad_row_count: 0 });
  const counts = JSON.parse(metadata.split_row_counts);
  expect(Object.values(counts).reduce((a: number, b) => a + (b as number), 0)).toBe(344);
  expect(fs.existsSync(path.join(out, '_MLP_COMMITTED.json'))).toBe(true);

  // A bad parameter and a bad input are one-line errors naming the problem.
  const bad = await runCli(['component', 'run', 'ExampleGen', '--module', MODULE, '--executor-input', JSON.stringify({ ...input, inputs: { parameterValues: { input_base: path.join(tmp.dir, 'nowhere') } } })]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mlp: error: .*nowhere/)]);
});
