// ExampleGen's accounting: every physical input line is in a written row or in a reject naming its line (range);
// when DuckDB reads other rows than ExampleGen's own scan counts, the node fails. Also: mixed line endings,
// inputs without data rows, and the rejects of a failed run kept outside the artifact that failure deletes.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../../../runtime/core/errors';
import { launchComponent } from '../../../../runtime/core/launcher';
import { ExampleGen, REJECTS_FILE } from '../../../../runtime/components/example-gen';
import { storageFor } from '../../../../runtime/storage';
import { useGcsEmulator } from '../../../support/gcs-emulator';
import { query, runGen, splitRows, useTempDir, write } from './helpers';
import { sqlString } from '../../../../runtime/data/duckdb';

const tmp = useTempDir('mlp-eg-accounting-');

const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i},0.${from + i},n${from + i}\n`).join('');

function rejects(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

async function ids(out: string): Promise<number[]> {
  const r = await query(`SELECT id::INTEGER AS id FROM read_parquet(${sqlString(`${out}/Split-*/*.parquet`)}) ORDER BY id`);
  return r.map((x) => Number(x.id));
}

test('an unterminated quote: its reject names every line it swallowed, and they count as bad rows', async () => {
  // The issue's file: 50 good rows, an unbalanced quote on data row 51, two more good rows (file lines 2-54).
  const file = write(path.join(tmp.dir, 'in', 'd.csv'), `id,x,name\n${rows(1, 50)}51,0.5,"unbalanced\n${rows(52, 53)}`);
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.1 });
  expect(props).toMatchObject({ row_count: 50, bad_row_count: 3 });
  expect(rejects(path.join(out, REJECTS_FILE))).toEqual([
    { file, line: 52, end_line: 54, reason: 'unterminated quote: the quoted value runs to the end of the file', text: '51,0.5,"unbalanced' },
  ]);
  expect(await ids(out)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
});

test('the bad-row fraction counts the swallowed lines: 141 of a 200-row file, not 1 of 60', async () => {
  write(path.join(tmp.dir, 'in', 'd.csv'), `id,x,name\n${rows(1, 59)}60,0.6,"unbalanced\n${rows(61, 200)}`);
  const run = runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.5 });
  await expect(run).rejects.toThrow(UserError);
  await expect(run).rejects.toThrow(/^141 of 200 rows are bad \(70\.50%, max_bad_rows_fraction 0\.5\); first bad row: .*d\.csv:61-201: unterminated quote/);
});

test('a quote closed further down: the lines up to it are one reject, the rows after it are read', async () => {
  const file = write(path.join(tmp.dir, 'in', 'd.csv'), `id,x,name\n${rows(1, 3)}4,0.4,"open\n${rows(5, 6)}7,"0.7",n7\n${rows(8, 10)}`);
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.5 });
  expect(rejects(path.join(out, REJECTS_FILE))).toEqual([expect.objectContaining({ file, line: 5, end_line: 8, reason: 'text after a closing quote' })]);
  expect(props).toMatchObject({ row_count: 6, bad_row_count: 4 });
  expect(await ids(out)).toEqual([1, 2, 3, 8, 9, 10]);
});

test('quoted values with line breaks are one row; rejects after them name physical lines', async () => {
  const multi = '1,0.1,"first\nsecond"\n2,0.2,"a\r\nb"\n3,0.3,"x\n\ny"\n';
  const file = write(path.join(tmp.dir, 'in', 'd.csv'), `id,x,name\n${multi}4,0.4\n5,0.5,n5\n6,0.6,"p\nq",extra\n7,0.7,n7\n`);
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 0.5 });
  // Lines: header 1, id 1 on 2-3, id 2 on 4-5, id 3 on 6-8, "4,0.4" on 9, id 5 on 10, id 6 on 11-12, id 7 on 13.
  expect(rejects(path.join(out, REJECTS_FILE))).toEqual([
    { file, line: 9, reason: 'missing columns: 2 values, expected 3', text: '4,0.4' },
    { file, line: 11, end_line: 12, reason: 'too many columns: 4 values, expected 3', text: '6,0.6,"p' },
  ]);
  expect(props).toMatchObject({ row_count: 5, bad_row_count: 3 });
  const all = await query(`SELECT id::INTEGER AS id, name FROM read_parquet(${sqlString(`${out}/Split-*/*.parquet`)}) ORDER BY id`);
  expect(all.slice(0, 3)).toEqual([
    { id: 1, name: 'first\nsecond' },
    { id: 2, name: 'a\r\nb' },
    { id: 3, name: 'x\n\ny' },
  ]);
});

test('DuckDB making up a row from broken quoting fails the node, naming the file, and keeps the rejects', async () => {
  // DuckDB recovers from `"d"e` by reading a row out of the rest of the line; ExampleGen's scan sees one broken record.
  const file = write(path.join(tmp.dir, 'in', 'd.csv'), 'id,name,note\n"a\n"b,c,"d"e,",f",g\n2,Jones,ok\n');
  const run = runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), max_bad_rows_fraction: 1 });
  const kept = path.join(tmp.dir, 'out.rejects.jsonl');
  await expect(run).rejects.toThrow(UserError);
  await expect(run).rejects.toThrow(
    `ExampleGen's row accounting does not add up, so rows could be lost: ${file}: 1 well-formed rows by ExampleGen's count, but DuckDB read 2 ` +
      `(first malformed record: ${file}:2-3: text after a closing quote); the rejects are kept in ${kept}`,
  );
  expect(rejects(kept)).toEqual([expect.objectContaining({ file, line: 2, end_line: 3 })]);
});

test('mixed CRLF / LF line endings are read (quoted line breaks kept as they are)', async () => {
  write(path.join(tmp.dir, 'in', 'd.csv'), 'id,x,name\r\n1,0.1,n1\n2,0.2,"two\r\nlines"\r\n3,0.3,n3\n4,0.4,n4\r\n5,0.5,n5');
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), output_splits: [{ name: 'all', buckets: 1 }] });
  expect(props).toMatchObject({ row_count: 5, bad_row_count: 0 });
  expect(await splitRows(out, 'all', 'id')).toEqual([
    { id: '1', x: 0.1, name: 'n1' },
    { id: '2', x: 0.2, name: 'two\r\nlines' },
    { id: '3', x: 0.3, name: 'n3' },
    { id: '4', x: 0.4, name: 'n4' },
    { id: '5', x: 0.5, name: 'n5' },
  ]);
});

test('an input without data rows fails clearly (a header only, blank lines, an empty JSON Lines file)', async () => {
  const csv = write(path.join(tmp.dir, 'csv', 'd.csv'), 'id,x,name\r\n\r\n');
  await expect(runGen(tmp.dir, { input_base: path.join(tmp.dir, 'csv') })).rejects.toThrow(new UserError(`the input has no data rows, only a header or nothing (${csv})`));
  const jsonl = write(path.join(tmp.dir, 'jsonl', 'd.jsonl'), '\n\n');
  await expect(runGen(tmp.dir, { input_base: path.join(tmp.dir, 'jsonl') }, 'j')).rejects.toThrow(new UserError(`the input has no data rows, only a header or nothing (${jsonl})`));
  write(path.join(tmp.dir, 'bad', 'd.csv'), 'id,x,name\n1,2\n');
  await expect(runGen(tmp.dir, { input_base: path.join(tmp.dir, 'bad'), max_bad_rows_fraction: 1 }, 'b')).rejects.toThrow(/^no row to write: all 1 rows of the input are bad/);
});

describe('the rejects of a failed run survive the deletion of its output', () => {
  useGcsEmulator();

  test.each([
    ['a local output', (dir: string) => path.join(dir, 'root', 'examples', '7')],
    ['a gs:// output', () => 'gs://mlp-eg-accounting/root/examples/7'],
  ])('%s', async (_, uriOf) => {
    const uri = uriOf(tmp.dir);
    write(path.join(tmp.dir, 'in', 'd.csv'), `id,x,name\n${rows(1, 5)}6,0.6\n`);
    const launch = launchComponent(
      ExampleGen,
      { inputs: { parameterValues: { input_base: path.join(tmp.dir, 'in') } }, outputs: { artifacts: { examples: { artifacts: [{ uri }] } } } },
      { log: () => undefined },
    );
    await expect(launch).rejects.toThrow(`; the rejects are kept in ${uri}.rejects.jsonl`);
    // What the runner does with a failed node's outputs.
    await storageFor(uri).delete(uri, { recursive: true });
    const kept = JSON.parse((await storageFor(uri).readFile(`${uri}.rejects.jsonl`)).toString());
    expect(kept).toMatchObject({ line: 7, reason: 'missing columns: 2 values, expected 3' });
  });
});

test('rows in = rows written + rejects when a late value makes ExampleGen infer the types again and rewrite', async () => {
  // 12,000 data rows: line 3 lacks a column, line 6 has a bad schema INT, and "x" turns FLOAT on row 11,000
  // (after the 10,000-row sample), so the first writing pass is discarded; each reject is counted once.
  const lines = ['id,x,n'];
  for (let i = 1; i <= 12_000; i++) lines.push(i === 2 ? `${i},${i}` : i === 5 ? `${i},${i},five` : `${i},${i === 11_000 ? '0.5' : i},${i % 7}`);
  const file = write(path.join(tmp.dir, 'in', 'd.csv'), lines.join('\n') + '\n');
  const { out, props, log } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), schema: { n: 'INT' }, max_bad_rows_fraction: 0.01 });
  expect(log.some((l) => /column types guessed from a sample do not hold for every row/.test(l))).toBe(true);
  expect(props).toMatchObject({ row_count: 11_998, bad_row_count: 2 });
  const counts = JSON.parse(String(props.split_row_counts)) as Record<string, number>;
  expect(counts.train + counts.eval).toBe(11_998);
  expect(rejects(path.join(out, REJECTS_FILE)).map((r) => [r.file, r.line])).toEqual([
    [file, 3],
    [file, 6],
  ]);
  const written = await ids(out);
  expect(written).toHaveLength(11_998);
  expect(new Set(written).size).toBe(11_998);
  expect(written.includes(2) || written.includes(5)).toBe(false);
  const [x] = await query(`SELECT column_type FROM (DESCRIBE SELECT x FROM read_parquet(${sqlString(`${out}/Split-train/*.parquet`)}))`);
  expect(x.column_type).toBe('DOUBLE');
});
