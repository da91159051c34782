// Bad rows: quarantined in rejects.jsonl with file, line (or Parquet row) and reason, counted in the artifact's
// properties and never written to a split; max_bad_rows_fraction (default 0) fails the node naming the count
// and the first bad row.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../../../runtime/core/errors';
import { REJECTS_FILE } from '../../../../runtime/components/example-gen';
import { sqlString } from '../../../../runtime/data/duckdb';
import { penguinsCsv, PENGUINS, query, runGen, useTempDir, write } from './helpers';

const tmp = useTempDir('mlp-eg-bad-');

function rejects(out: string): Record<string, unknown>[] {
  return fs.readFileSync(path.join(out, REJECTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** Penguins CSV with lines replaced (1-based file lines; line 1 is the header) and lines appended. */
function brokenPenguins(replace: Record<number, string>, append: string[] = []): string {
  const lines = penguinsCsv().trimEnd().split('\n');
  for (const [n, text] of Object.entries(replace)) lines[Number(n) - 1] = text;
  return [...lines, ...append].join('\n') + '\n';
}

test('CSV: wrong column counts, schema type errors and an unterminated quote, each with its line', async () => {
  const file = write(
    path.join(tmp.dir, 'in', 'penguins.csv'),
    brokenPenguins(
      {
        11: 'Adelie,Torgersen,39.1,18.7',
        40: 'Adelie,Dream,39.1,18.7,181,3750,MALE,extra',
        100: 'Adelie,Dream,39.1,18.7,181,heavy,MALE',
        200: 'Gentoo,Biscoe,46.1,13.2,211.5,4500,FEMALE',
      },
      ['Gentoo,"Biscoe,1,2,3,4,MALE'],
    ),
  );
  const { out, props } = await runGen(tmp.dir, {
    input_base: path.join(tmp.dir, 'in'),
    schema: { 'Flipper Length (mm)': 'INT', 'Body Mass (g)': 'INT' },
    max_bad_rows_fraction: 0.05,
  });
  expect(rejects(out)).toEqual([
    { file, line: 11, reason: 'missing columns: 4 values, expected 7', text: 'Adelie,Torgersen,39.1,18.7' },
    { file, line: 40, reason: 'too many columns: 8 values, expected 7', text: 'Adelie,Dream,39.1,18.7,181,3750,MALE,extra' },
    { file, line: 100, reason: 'column "Body Mass (g)": "heavy" is not a valid INT', text: 'Adelie,Dream,39.1,18.7,181,heavy,MALE' },
    // DuckDB's own VARCHAR → BIGINT cast would round 211.5; ExampleGen rejects it.
    { file, line: 200, reason: 'column "Flipper Length (mm)": "211.5" is not a valid INT', text: 'Gentoo,Biscoe,46.1,13.2,211.5,4500,FEMALE' },
    { file, line: 346, reason: 'unterminated quote: the quoted value runs to the end of the file', text: 'Gentoo,"Biscoe,1,2,3,4,MALE' },
  ]);
  expect(props).toMatchObject({ bad_row_count: 5, row_count: PENGUINS.length - 4 });
  // Bad rows are in no split.
  const [r] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${out}/Split-*/*.parquet`)}) WHERE "Body Mass (g)" IS NULL`);
  expect(r.n).toBe(PENGUINS.filter((p) => p['Body Mass (g)'] === null).length);
});

test('max_bad_rows_fraction: the default 0 fails with the count and the first bad line; a fraction tolerates', async () => {
  const file = write(path.join(tmp.dir, 'in', 'penguins.csv'), brokenPenguins({ 7: 'Adelie,Torgersen', 9: 'Adelie,Torgersen,x,1,2,3,MALE' }));
  const failure = runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { 'Beak Length (mm)': 'FLOAT' } }, 'strict');
  await expect(failure).rejects.toThrow(UserError);
  await expect(failure).rejects.toThrow(
    `2 of 344 rows are bad (0.58%, max_bad_rows_fraction 0); first bad row: ${file}:7: missing columns: 2 values, expected 7; ` +
      `the rejects are kept in ${path.join(tmp.dir, 'strict.rejects.jsonl')}`,
  );
  await expect(runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { 'Beak Length (mm)': 'FLOAT' }, max_bad_rows_fraction: 0.005 }, 'tight')).rejects.toThrow(
    /^2 of 344 rows are bad/,
  );
  const tolerant = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { 'Beak Length (mm)': 'FLOAT' }, max_bad_rows_fraction: 0.01 }, 'tolerant');
  expect(tolerant.props).toMatchObject({ bad_row_count: 2, row_count: 342 });
  expect(rejects(tolerant.out).map((r) => [r.line, r.reason])).toEqual([
    [7, 'missing columns: 2 values, expected 7'],
    [9, 'column "Beak Length (mm)": "x" is not a valid FLOAT'],
  ]);
  expect(tolerant.log).toEqual(expect.arrayContaining(['quarantined 2 bad row(s) in rejects.jsonl; the first ones:', `  ${file}:9: column "Beak Length (mm)": "x" is not a valid FLOAT`]));
});

test('without a schema, a column with a non-number is inferred STRING rather than rejected', async () => {
  write(path.join(tmp.dir, 'in', 'penguins.csv'), brokenPenguins({ 100: 'Adelie,Dream,39.1,18.7,181,heavy,MALE' }));
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in') });
  expect(props).toMatchObject({ bad_row_count: 0, row_count: 344 });
  expect(fs.existsSync(path.join(out, REJECTS_FILE))).toBe(false);
  const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(`${out}/Split-train/*.parquet`)}))`);
  expect(types).toContainEqual({ column_name: 'Body Mass (g)', column_type: 'VARCHAR' });
  expect(types).toContainEqual({ column_name: 'Flipper Length (mm)', column_type: 'BIGINT' });
});

test('JSON Lines: invalid JSON, non-objects, nested values and schema type errors, by line', async () => {
  const lines = PENGUINS.slice(0, 20).map((p) => JSON.stringify(p));
  lines[2] = '{"Species": "Adelie", "Island":';
  lines[5] = '[1, 2, 3]';
  lines[8] = JSON.stringify({ ...PENGUINS[8], Island: { name: 'Dream' } });
  lines[12] = JSON.stringify({ ...PENGUINS[12], 'Body Mass (g)': 3750.5 });
  lines[15] = JSON.stringify({ ...PENGUINS[15], 'Body Mass (g)': '4000' }); // a numeric string is a valid INT
  const file = write(path.join(tmp.dir, 'in', 'p.jsonl'), lines.join('\n') + '\n\n');
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { 'Body Mass (g)': 'INT' }, max_bad_rows_fraction: 0.5 });
  expect(rejects(out).map((r) => [r.file, r.line, r.reason])).toEqual([
    [file, 3, expect.stringMatching(/^invalid JSON: /)],
    [file, 6, 'not a JSON object'],
    [file, 9, 'field "Island": nested values are not supported'],
    [file, 13, 'column "Body Mass (g)": "3750.5" is not a valid INT'],
  ]);
  expect(props).toMatchObject({ bad_row_count: 4, row_count: 16 });
  const [r] = await query(`SELECT sum("Body Mass (g)")::INTEGER AS s FROM read_parquet(${sqlString(`${out}/Split-*/*.parquet`)})`);
  const good = lines.filter((_, i) => ![2, 5, 8, 12].includes(i)).map((l) => JSON.parse(l));
  expect(r.s).toBe(good.reduce((s, p) => s + Number(p['Body Mass (g)'] ?? 0), 0));
});

test('Parquet: a value that does not convert to its schema type is bad, located by row number', async () => {
  const file = path.join(tmp.dir, 'in', 'd.parquet');
  fs.mkdirSync(path.dirname(file));
  await query(`COPY (SELECT * FROM (VALUES ('1', 1.0), ('2', 2.5), ('x3', 3.0), (NULL, 4.0)) t(code, amount)) TO ${sqlString(file)} (FORMAT parquet)`);
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { code: 'INT', amount: 'INT' }, max_bad_rows_fraction: 1, output_splits: [{ name: 'all', buckets: 1 }] });
  expect(rejects(out)).toEqual([
    { file, row: 2, reason: 'column "amount": "2.5" is not a valid INT' },
    { file, row: 3, reason: 'column "code": "x3" is not a valid INT' },
  ]);
  expect(props).toMatchObject({ bad_row_count: 2, row_count: 2 });
  expect(await query(`SELECT code::INTEGER AS code, amount::INTEGER AS amount FROM read_parquet(${sqlString(`${out}/Split-all/*.parquet`)}) ORDER BY amount`)).toEqual([
    { code: 1, amount: 1 },
    { code: null, amount: 4 },
  ]);
});
