// Mistakes a user can make with ExampleGen's inputs and parameters: each is a UserError that names the file,
// column or split involved, raised before any output is written.

import * as path from 'path';
import { UserError } from '../../../../runtime/core/errors';
import { ExampleGenParameters } from '../../../../runtime/components/example-gen';
import { penguinsCsv, penguinsJsonl, PENGUINS, runGen, useTempDir, write } from './helpers';

const tmp = useTempDir('mlp-eg-errors-');

async function expectUserError(params: Record<string, unknown>, message: RegExp | string): Promise<void> {
  const run = runGen(tmp.dir, params);
  await expect(run).rejects.toThrow(UserError);
  await expect(run).rejects.toThrow(message);
}

test('CSV shards with different headers, and a schema column that is not in the data', async () => {
  const a = write(path.join(tmp.dir, 'in', 'a.csv'), penguinsCsv(PENGUINS.slice(0, 3)));
  const b = write(path.join(tmp.dir, 'in', 'b.csv'), 'Species,Island\nAdelie,Dream\n');
  await expectUserError({ input_base: path.join(tmp.dir, 'in') }, `CSV file ${b} has header Species,Island, but ${a} has Species,Island,Beak Length (mm),`);
  await expectUserError(
    { input_base: path.join(tmp.dir, 'in'), input_splits: [{ name: 'a', pattern: 'a.csv' }], schema: { species: 'STRING' } },
    `schema column "species" is not in the CSV header of ${a}`,
  );
});

test('a CSV header naming a column twice, or two columns that differ only in case (one column to DuckDB)', async () => {
  const twice = write(path.join(tmp.dir, 'twice', 'd.csv'), 'a,b,a\n1,2,3\n');
  await expectUserError({ input_base: path.join(tmp.dir, 'twice') }, `CSV file ${twice}: column "a" appears twice in the header`);
  const cased = write(path.join(tmp.dir, 'cased', 'd.csv'), 'id,Fare,fare\n1,2,3\n');
  await expectUserError({ input_base: path.join(tmp.dir, 'cased') }, `CSV file ${cased}: columns "Fare" and "fare" differ only in case (column names ignore case)`);
});

test('mixed formats, splits with different spans, and split names that clash', async () => {
  write(path.join(tmp.dir, 'in', 'span-1', 'p.csv'), penguinsCsv());
  write(path.join(tmp.dir, 'in', 'span-2', 'p.jsonl'), penguinsJsonl());
  await expectUserError(
    { input_base: path.join(tmp.dir, 'in'), input_splits: [{ name: 'all', pattern: 'span-*/*' }] },
    'cannot pick an input format from the file names (csv, jsonl); set format to csv, jsonl or parquet',
  );
  await expectUserError(
    {
      input_base: path.join(tmp.dir, 'in'),
      input_splits: [
        { name: 'train', pattern: 'span-{SPAN}/*.csv' },
        { name: 'eval', pattern: 'span-{SPAN}/*.jsonl' },
      ],
    },
    'input splits "train" and "eval" resolve to different spans/versions (span 1 version 0 vs span 2 version 0)',
  );
  await expectUserError(
    { input_base: path.join(tmp.dir, 'in'), input_splits: [{ name: 'a', pattern: 'span-1/*' }], output_splits: [{ name: 'x', buckets: 1 }, { name: 'x', buckets: 2 }] },
    'split "x" is named twice',
  );
  await expectUserError(
    { input_base: path.join(tmp.dir, 'in'), input_splits: [{ name: 'a', pattern: '*.csv' }], range: { type: 'rolling', num_spans: 2 } },
    'a rolling range needs {SPAN} or {YYYY}{MM}{DD} in the input patterns',
  );
});

test('parameters: defaults, and invalid values refused by the schema', () => {
  expect(ExampleGenParameters.parse({ input_base: 'gs://b/data' })).toEqual({
    input_base: 'gs://b/data',
    input_splits: [{ name: 'single_split', pattern: '*' }],
    format: 'auto',
    range: { type: 'latest' },
    output_splits: [
      { name: 'train', buckets: 2 },
      { name: 'eval', buckets: 1 },
    ],
    csv_delimiter: ',',
    max_bad_rows_fraction: 0,
  });
  expect(ExampleGenParameters.safeParse({ input_base: 'x', output_splits: [{ name: 'Split/1', buckets: 1 }] }).success).toBe(false);
  expect(ExampleGenParameters.safeParse({ input_base: 'x', output_splits: [{ name: 'train', buckets: 0 }] }).success).toBe(false);
  expect(ExampleGenParameters.safeParse({ input_base: 'x', schema: { a: 'BYTES' } }).success).toBe(false);
  expect(ExampleGenParameters.safeParse({ input_base: 'x', max_bad_rows_fraction: 1.5 }).success).toBe(false);
  // Every parameter documents itself (what `mlp` shows and the compilers put into component specs).
  for (const [name, field] of Object.entries(ExampleGenParameters.shape)) expect([name, field.description]).toEqual([name, expect.any(String)]);
});
