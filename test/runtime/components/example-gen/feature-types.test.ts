// The INT / FLOAT text rules exist twice, as DuckDB SQL (which filters rows) and as JS (which finds their line
// numbers); they must accept exactly the same strings, and an accepted string must convert. CSV type inference
// applies them to every value of a column.

import fc from 'fast-check';
import * as path from 'path';
import { sqlString } from '../../../../runtime/data/duckdb';
import { castTextSql, textParsesAs, textParsesAsSql } from '../../../../runtime/data/feature-types';
import { DEFAULT_SPLITS, expectedSplit, query, recordKey, runGen, splitRows, useTempDir, write } from './helpers';

const TRICKY = ['1', '-0', '+7', '1.5', '1.', '.5', '1e3', '1E-3', '-1.5e+10', 'nan', 'NaN', '-inf', 'Infinity', 'inf', '1e400',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', ' 1', '1 ', '0x1F', '1_000', '', '.', 'e5', '--1', '١'];

test('SQL and JS agree on which strings are INT and FLOAT, and accepted strings convert', async () => {
  const alphabet = fc.constantFrom(...'0123456789+-.eEinfatyINF _x'.split(''));
  const generated = fc.sample(fc.string({ unit: alphabet, minLength: 1, maxLength: 8 }), { numRuns: 400, seed: 7 });
  const texts = [...new Set([...TRICKY, ...generated])];
  const rows = await query(
    `SELECT v, ${textParsesAsSql('INT', 'v')} AS is_int, ${textParsesAsSql('FLOAT', 'v')} AS is_float, ` +
      `${castTextSql('INT', 'v')} IS NOT NULL AS int_ok, ${castTextSql('FLOAT', 'v')} IS NOT NULL AS float_ok ` +
      `FROM unnest([${texts.map(sqlString).join(', ')}]) t(v)`,
  );
  expect(rows).toHaveLength(texts.length);
  for (const r of rows) {
    const v = String(r.v);
    expect({ v, int: r.is_int, float: r.is_float }).toEqual({ v, int: textParsesAs('INT', v), float: textParsesAs('FLOAT', v) });
    expect({ v, converts: [r.int_ok, r.float_ok] }).toEqual({ v, converts: [r.is_int, r.is_float] });
  }
  // The rules are strict: DuckDB's own casts would take '1.5' as INT 2 and ' 1' as 1.
  expect(['1.5', ' 1', '0x1F', '9223372036854775808'].map((v) => textParsesAs('INT', v))).toEqual([false, false, false, false]);
  expect(['1.', '.5', '-inf', 'NaN', '1e400'].every((v) => textParsesAs('FLOAT', v))).toBe(true);
});

describe('CSV type inference over the whole file, not a sample', () => {
  const tmp = useTempDir('mlp-eg-types-');

  test('a fraction or a word after the first 10,000 rows still decides the type; an empty column is STRING', async () => {
    const lines = ['late_fraction,late_word,empty,fraction,int'];
    for (let i = 0; i < 10_050; i++) {
      lines.push(`${i === 10_020 ? '2.5' : i},${i === 10_030 ? 'n/a' : i},,${i / 2},${-i}`);
    }
    write(path.join(tmp.dir, 'in', 'd.csv'), lines.join('\n') + '\n');
    const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), output_splits: [{ name: 'all', buckets: 1 }] });
    expect(props.row_count).toBe(10_050);
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(`${out}/Split-all/*.parquet`)}))`);
    expect(types).toEqual([
      { column_name: 'late_fraction', column_type: 'DOUBLE' },
      { column_name: 'late_word', column_type: 'VARCHAR' },
      { column_name: 'empty', column_type: 'VARCHAR' },
      { column_name: 'fraction', column_type: 'DOUBLE' },
      { column_name: 'int', column_type: 'BIGINT' },
    ]);
  });
});

describe('CSV types guessed from a sample are checked on every row while writing', () => {
  const tmp = useTempDir('mlp-eg-guess-');
  const RETYPED = /column types guessed from a sample do not hold for every row/;

  test('a column without values in the sample and an INT-looking one that later has "007" and a fraction: written again with the final types, rows in the formula\'s splits', async () => {
    const lines = ['id,late_int,code'];
    for (let i = 0; i < 10_050; i++) lines.push(`${i},${i >= 10_040 ? i - 10_000 : ''},${i === 10_045 ? '007' : i === 10_046 ? '1.5' : i}`);
    write(path.join(tmp.dir, 'in', 'd.csv'), lines.join('\n') + '\n');
    const { out, props, log } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in') });
    expect(log.some((l) => RETYPED.test(l))).toBe(true);
    expect(props).toMatchObject({ row_count: 10_050, bad_row_count: 0 });
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(`${out}/Split-train/*.parquet`)}))`);
    expect(types).toEqual([
      { column_name: 'id', column_type: 'BIGINT' },
      { column_name: 'late_int', column_type: 'BIGINT' },
      { column_name: 'code', column_type: 'DOUBLE' },
    ]);
    // Keys use the final types: code 1.5 and 7 (from "007") as FLOAT text, late_int as INT.
    for (const s of DEFAULT_SPLITS) {
      for (const r of await splitRows(out, s.name)) {
        const id = Number(r.id);
        const code = id === 10_045 ? 7 : id === 10_046 ? 1.5 : id;
        const key = recordKey([code.toString(), String(id), id >= 10_040 ? String(id - 10_000) : null]);
        expect([id, s.name]).toEqual([id, expectedSplit(key, DEFAULT_SPLITS)]);
      }
    }
  });

  test('a guess every row confirms is written in one pass with the same types full inference gives', async () => {
    const lines = ['n,x,word,blank'];
    for (let i = 0; i < 12_000; i++) lines.push(`${i},${i / 4},w${i % 7},`);
    write(path.join(tmp.dir, 'in', 'd.csv'), lines.join('\n') + '\n');
    const { out, props, log } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in') });
    expect(log.some((l) => RETYPED.test(l))).toBe(false);
    expect(props).toMatchObject({ row_count: 12_000, bad_row_count: 0 });
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(`${out}/Split-eval/*.parquet`)}))`);
    expect(types.map((t) => t.column_type)).toEqual(['BIGINT', 'DOUBLE', 'VARCHAR', 'VARCHAR']);
  });
});

describe('JSON Lines type inference', () => {
  const tmp = useTempDir('mlp-eg-json-types-');

  test('booleans are INT, integers past 2^53 make a column FLOAT, mixed numbers and text are STRING', async () => {
    const rows = [
      { flag: true, id: 1, n: 1, mixed: 1 },
      { flag: false, id: 1e20, n: 2.5, mixed: 'one' },
    ];
    write(path.join(tmp.dir, 'in', 'd.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { out } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), output_splits: [{ name: 'all', buckets: 1 }] });
    const got = await query(`SELECT flag::INTEGER AS flag, id, n, mixed FROM read_parquet(${sqlString(`${out}/Split-all/*.parquet`)}) ORDER BY flag DESC`);
    expect(got).toEqual([
      { flag: 1, id: 1, n: 1, mixed: '1' },
      { flag: 0, id: 1e20, n: 2.5, mixed: 'one' },
    ]);
  });
});
