// ExampleGen's derived_columns on real data (penguins as CSV, flights as Parquet): a label added at ingestion is
// in every written row and recorded on the artifact, while the rows, their splits and the accounting are what
// they are without it; NULL results are missing values in the statistics; an expression that is not one scalar
// expression over the raw columns (bad SQL, a second statement, a subquery, a clause, an aggregate, a volatile
// function, an unknown column, a taken name) fails with one line naming the column and the expression before
// any row is written, and an expression that fails on a row fails the node naming it.

import * as fs from 'fs';
import * as path from 'path';
import { ExampleGen, ExampleGenParameters } from '../../../../runtime/components/example-gen';
import { UserError } from '../../../../runtime/core/errors';
import { launchComponent } from '../../../../runtime/core/launcher';
import { splitParquetFiles, sqlString } from '../../../../runtime/data/duckdb';
import { generateStatistics } from '../../../../runtime/tfdv/generate-statistics';
import { feature } from '../../tfdv/helpers';
import { penguinsCsv, PENGUINS, PENGUIN_COLUMNS, query, runGen, splitRows, useTempDir, write, writeFlightsMonth } from './helpers';

const tmp = useTempDir('mlp-eg-derived-');

const MASS = 'Body Mass (g)';
const DERIVED = {
  heavy: `"${MASS}" > 4000`,
  beak_ratio: 'round("Beak Length (mm)" / "Beak Depth (mm)", 3)',
};

/** Penguins as CSV under <tmp>/in. */
function penguinsInput(): string {
  write(path.join(tmp.dir, 'in', 'penguins.csv'), penguinsCsv());
  return path.join(tmp.dir, 'in');
}

/** The rows of a split as sorted JSON lines of the raw penguin columns. */
async function rawRows(out: string, split: string): Promise<string[]> {
  return (await splitRows(out, split)).map((r) => JSON.stringify(PENGUIN_COLUMNS.map((c) => r[c]))).sort();
}

test('a label derived at ingestion: every row has it, rows and splits are as without it, and the artifact records it', async () => {
  const input = penguinsInput();
  const plain = await runGen(tmp.dir, { input_base: input }, 'plain');
  const derived = await runGen(tmp.dir, { input_base: input, derived_columns: DERIVED }, 'derived');

  // Derived columns add columns, never rows: same counts, and every row in the same split.
  for (const key of ['row_count', 'split_row_counts', 'bad_row_count', 'split_names']) expect([key, derived.props[key]]).toEqual([key, plain.props[key]]);
  for (const split of ['train', 'eval']) expect(await rawRows(derived.out, split)).toEqual(await rawRows(plain.out, split));
  expect(JSON.parse(String(derived.props.derived_columns))).toEqual(DERIVED);
  expect(plain.props.derived_columns).toBeUndefined();

  // Booleans are stored as INT 0/1; each value is the expression over its own row's raw values.
  const columns = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path.join(derived.out, 'Split-*', '*.parquet'))})`);
  expect(columns.map((c) => [c.column_name, c.column_type])).toEqual(expect.arrayContaining([['heavy', 'BIGINT'], ['beak_ratio', 'DOUBLE']]));
  const rows = [...(await splitRows(derived.out, 'train')), ...(await splitRows(derived.out, 'eval'))];
  expect(rows).toHaveLength(PENGUINS.length);
  // (BIGINTs come back from DuckDB as strings.)
  for (const r of rows) {
    const mass = r[MASS] === null ? null : Number(r[MASS]);
    expect([mass, r.heavy]).toEqual([mass, mass === null ? null : mass > 4000 ? '1' : '0']);
  }
  expect(derived.log).toContain(`derived column heavy (INT) = "${MASS}" > 4000`);
});

test('NULL results are missing values: counted as such by the statistics, never a reason to drop or fail a row', async () => {
  const { out, props } = await runGen(tmp.dir, { input_base: penguinsInput(), output_splits: [{ name: 'train', buckets: 1 }], derived_columns: DERIVED });
  const missingMass = PENGUINS.filter((p) => p[MASS] === null).length;
  expect(missingMass).toBeGreaterThan(0);
  expect(props.row_count).toBe(PENGUINS.length);
  const stats = await generateStatistics('train', splitParquetFiles(out, 'train'));
  const heavy = feature(stats, 'heavy').numStats!.commonStats;
  expect([heavy.numMissing, heavy.numNonMissing]).toEqual([String(missingMass), String(PENGUINS.length - missingMass)]);
});

test('Parquet input with predefined splits: the derived column is in each split, rows unchanged', async () => {
  const input = path.join(tmp.dir, 'flights');
  await writeFlightsMonth(path.join(input, 'train.parquet'), 1, 300);
  await writeFlightsMonth(path.join(input, 'eval.parquet'), 2, 100);
  const { out, props } = await runGen(tmp.dir, {
    input_base: input,
    input_splits: [
      { name: 'train', pattern: 'train.parquet' },
      { name: 'eval', pattern: 'eval.parquet' },
    ],
    derived_columns: { late: 'delay > 15', route: "origin || '-' || destination" },
  });
  expect(props).toMatchObject({ row_count: 400, split_row_counts: JSON.stringify({ train: 300, eval: 100 }) });
  for (const split of ['train', 'eval']) {
    const wrong = await query(
      `SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(out, `Split-${split}`, '*.parquet'))}) ` +
        `WHERE late IS DISTINCT FROM (delay > 15)::BIGINT OR route IS DISTINCT FROM origin || '-' || destination`,
    );
    expect([split, Number(wrong[0].n)]).toEqual([split, 0]);
  }
});

describe('expressions that are not one scalar expression over the raw columns fail before any row is written', () => {
  const cases: [string, string, string][] = [
    ['syntax error', 'tips >', 'derived column "big_tip" = "tips >": parser error: syntax error at end of input'],
    ['a second statement', '1; DROP TABLE t', 'derived column "big_tip" = "1; DROP TABLE t": it is more than one statement, not one expression'],
    ['a second SELECT', '1; SELECT 2', 'derived column "big_tip" = "1; SELECT 2": it is 2 statements, not one expression'],
    [
      'breaking out of the expression',
      "1) AS x FROM read_csv('/etc/passwd') --",
      `derived column "big_tip" = "1) AS x FROM read_csv('/etc/passwd') --": parser error: syntax error at or near ")"`,
    ],
    ['a FROM clause', "1 FROM read_csv('/etc/passwd')", `derived column "big_tip" = "1 FROM read_csv('/etc/passwd')": it has clauses (FROM, WHERE, GROUP BY, ORDER BY, LIMIT ...); it must be one expression over the row`],
    ['a UNION', '1 UNION SELECT 2', 'derived column "big_tip" = "1 UNION SELECT 2": it is not a single expression (it has UNION, INTERSECT, EXCEPT or similar)'],
    ['two expressions', 'tips, fare', 'derived column "big_tip" = "tips, fare": it is 2 expressions separated by commas, not one'],
    ['an alias', 'tips AS t', 'derived column "big_tip" = "tips AS t": it names its result (AS "t"); the column\'s name is the key'],
    [
      'a subquery',
      "tips > (SELECT max(column0) FROM read_csv('/etc/passwd'))",
      `derived column "big_tip" = "tips > (SELECT max(column0) FROM read_csv('/etc/passwd'))": it has a subquery; it must be a scalar expression over the row's raw columns`,
    ],
    ['a window', 'tips > avg(tips) OVER ()', 'derived column "big_tip" = "tips > avg(tips) OVER ()": it has a window function; it must be a scalar expression over the row\'s raw columns'],
    ['an aggregate', 'tips > avg(tips)', 'derived column "big_tip" = "tips > avg(tips)": avg() is an aggregate function; the expression is computed per row'],
    ['a star', 'COLUMNS(*)', 'derived column "big_tip" = "COLUMNS(*)": it has a * or COLUMNS(...); it must be a scalar expression over the row\'s raw columns'],
    [
      'a volatile function',
      'random() < 0.2',
      'derived column "big_tip" = "random() < 0.2": random() can give a different result for the same row (DuckDB: VOLATILE); a derived value must depend on its row only',
    ],
  ];
  test.each(cases)('%s', async (_, expression, message) => {
    // The input does not exist: the expression is refused before anything is looked for, let alone read.
    const run = runGen(tmp.dir, { input_base: path.join(tmp.dir, 'nowhere'), derived_columns: { big_tip: expression } });
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(new Error(message));
  });

  test('an unknown column, a column of another derived column, a taken name (in any case) and a nested type are found by binding, before writing', async () => {
    const input = penguinsInput();
    const columns = `(raw columns: ${PENGUIN_COLUMNS.join(', ')})`;
    const failures: [Record<string, string>, RegExp | string][] = [
      [{ heavy: '"Body Mass" > 4000' }, `derived column "heavy" = "\\"Body Mass\\" > 4000": Binder Error: Referenced column "Body Mass" not found in FROM clause!`],
      [{ heavy: `"${MASS}" > 4000`, very_heavy: 'heavy AND "Body Mass (g)" > 5000' }, 'derived column "very_heavy" = "heavy AND \\"Body Mass (g)\\" > 5000": Binder Error: Referenced column "heavy" not found'],
      [{ heavy: '__bad IS NULL' }, 'derived column "heavy" = "__bad IS NULL": Binder Error: Referenced column "__bad" not found'],
      [{ Island: 'upper("Island")' }, 'derived column "Island" = "upper(\\"Island\\")": the name is taken by the input column "Island" (column names ignore case); pick another name'],
      // DuckDB's names ignore case: it would write "island_1" instead.
      [{ island: 'upper("Island")' }, 'derived column "island" = "upper(\\"Island\\")": the name is taken by the input column "Island" (column names ignore case); pick another name'],
      [{ big: `"${MASS}" > 4000`, BIG: `"${MASS}" > 5000` }, 'derived column "BIG" = "\\"Body Mass (g)\\" > 5000": the name is taken by the derived column "big" (column names ignore case); pick another name'],
      [{ beaks: '["Beak Length (mm)", "Beak Depth (mm)"]' }, 'derived column "beaks" = "[\\"Beak Length (mm)\\", \\"Beak Depth (mm)\\"]": its type is DOUBLE[]; a derived column must be a number, boolean, text, date or time'],
    ];
    for (const [derived_columns, message] of failures) {
      const out = path.join(tmp.dir, `out-${Object.keys(derived_columns).join('-')}`);
      const err = await runGen(tmp.dir, { input_base: input, derived_columns }, path.basename(out)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toContain(message);
      expect((err as Error).message).not.toContain('\n');
      if (String(message).includes('Binder Error')) expect((err as Error).message).toContain(columns);
      expect(fs.readdirSync(out)).toEqual([]);
    }
  });

  test('reserved and empty names, and empty expressions, are refused by the parameter schema', () => {
    expect(ExampleGenParameters.safeParse({ input_base: 'x', derived_columns: { __split: 'tips > 1' } }).success).toBe(false);
    expect(ExampleGenParameters.safeParse({ input_base: 'x', derived_columns: { '': 'tips > 1' } }).success).toBe(false);
    expect(ExampleGenParameters.safeParse({ input_base: 'x', derived_columns: { big_tip: '  ' } }).success).toBe(false);
    expect(ExampleGenParameters.parse({ input_base: 'x', derived_columns: { big_tip: 'tips > 0.2 * fare' } }).derived_columns).toEqual({ big_tip: 'tips > 0.2 * fare' });
  });
});

test('a trailing -- comment stays inside the expression', async () => {
  const { out } = await runGen(tmp.dir, { input_base: penguinsInput(), output_splits: [{ name: 'all', buckets: 1 }], derived_columns: { heavy: `"${MASS}" > 4000 -- grams` } });
  const [r] = await query(`SELECT count(*) FILTER (WHERE heavy = 1) AS n FROM read_parquet(${sqlString(path.join(out, 'Split-all', '*.parquet'))})`);
  expect(Number(r.n)).toBe(PENGUINS.filter((p) => (p[MASS] as number | null) !== null && (p[MASS] as number) > 4000).length);
});

test('an expression failing on a row fails the node naming the column; rows already bad are not evaluated', async () => {
  const input = path.join(tmp.dir, 'mass');
  const file = write(path.join(input, 'd.csv'), 'id,mass\n1,10\n2,abc\n3,30\n');
  const params = {
    input_base: input,
    schema: { mass: 'INT' },
    max_bad_rows_fraction: 0.5,
    output_splits: [{ name: 'all', buckets: 1 }],
    derived_columns: { double_mass: "CASE WHEN mass IS NULL THEN error('mass is missing') ELSE mass * 2 END" },
  };
  // Row 2 is bad ("abc" is not an INT): its mass is NULL, but it is quarantined, so error() never sees it.
  const { out, props } = await runGen(tmp.dir, params, 'ok');
  expect(props).toMatchObject({ row_count: 2, bad_row_count: 1 });
  expect((await splitRows(out, 'all', 'id')).map((r) => [r.id, r.double_mass])).toEqual([
    ['1', '20'],
    ['3', '60'],
  ]);

  // A good row with no mass makes the expression raise: the node fails, naming the column, expression and file.
  write(file, 'id,mass\n1,10\n2,\n');
  const err = await runGen(tmp.dir, params, 'failed').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toBe(
    `derived column "double_mass" = "CASE WHEN mass IS NULL THEN error('mass is missing') ELSE mass * 2 END": evaluating it failed on a row of ${file}: Invalid Input Error: mass is missing`,
  );

  const cast = await runGen(tmp.dir, { input_base: penguinsInput(), derived_columns: { island_id: 'CAST("Island" AS INT)' } }, 'cast').catch((e: unknown) => e);
  expect((cast as Error).message).toMatch(/^derived column "island_id" = "CAST\(\\"Island\\" AS INT\)": evaluating it failed on a row of .*penguins\.csv: Conversion Error: Could not convert string '\w+' to INT32/);
});

test('through the launcher: the derived columns are an Examples property, and a bad expression publishes nothing', async () => {
  const input = penguinsInput();
  const uri = path.join(tmp.dir, 'launched', 'examples', '1');
  const out = await launchComponent(
    ExampleGen,
    { inputs: { parameterValues: { input_base: input, derived_columns: DERIVED } }, outputs: { artifacts: { examples: { artifacts: [{ uri }] } } } },
    { log: () => undefined },
  );
  expect(JSON.parse(String(out.artifacts!.examples.artifacts[0].metadata!.derived_columns))).toEqual(DERIVED);

  const failed = path.join(tmp.dir, 'launched', 'examples', '2');
  const run = launchComponent(
    ExampleGen,
    { inputs: { parameterValues: { input_base: input, derived_columns: { heavy: `"${MASS}" >` } } }, outputs: { artifacts: { examples: { artifacts: [{ uri: failed }] } } } },
    { log: () => undefined },
  );
  await expect(run).rejects.toThrow(`derived column "heavy" = "\\"${MASS}\\" >": parser error: syntax error at end of input`);
  expect(fs.existsSync(failed)).toBe(false);
});
