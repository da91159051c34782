// ExampleGen's input patterns: {SPAN}/{SPAN:n}/{VERSION}/{YYYY}{MM}{DD} matching, the latest span (and its latest
// version) by default, static and rolling ranges, on flights-3m cut into monthly span files.

import * as path from 'path';
import { UserError } from '../../../../runtime/core/errors';
import { compilePattern, selectSpans } from '../../../../runtime/components/example-gen/input-patterns';
import { query, runGen, useTempDir, writeFlightsMonth } from './helpers';
import { sqlString } from '../../../../runtime/data/duckdb';

const tmp = useTempDir('mlp-eg-patterns-');

test('patterns: spans, fixed widths, versions, dates, and mistakes named', () => {
  const p = compilePattern('span-{SPAN}/v{VERSION}/part-*.csv');
  expect(p.match('span-12/v3/part-00001.csv')).toEqual({ span: 12, version: 3 });
  expect(p.match('span-12/v3/sub/part-1.csv')).toBeUndefined(); // * stays within one path segment
  expect(p.match('span-x/v3/part-1.csv')).toBeUndefined();
  const fixed = compilePattern('data-{SPAN:2}.parquet');
  expect(fixed.match('data-07.parquet')).toEqual({ span: 7, version: 0 });
  expect(fixed.match('data-007.parquet')).toBeUndefined();
  const date = compilePattern('{YYYY}-{MM}-{DD}/flights.parquet');
  // span = days since 1970-01-01
  expect(date.match('2001-02-01/flights.parquet')).toEqual({ span: Date.UTC(2001, 1, 1) / 86_400_000, version: 0 });
  expect(date.match('2001-02-30/flights.parquet')).toBeUndefined();
  expect(compilePattern('a.b+c(1).csv').match('a.b+c(1).csv')).toEqual({ span: 0, version: 0 });

  expect(() => compilePattern('{VERSION}/x.csv')).toThrow(/\{VERSION\} needs \{SPAN\}/);
  expect(() => compilePattern('{YYYY}{MM}.csv')).toThrow(/needs all of \{YYYY\}, \{MM\} and \{DD\}/);
  expect(() => compilePattern('{SPAN}-{YYYY}{MM}{DD}')).toThrow(/\{SPAN\} or a date, not both/);
  expect(() => compilePattern('{SPAN}/{SPAN}')).toThrow(/appears twice/);
  expect(() => compilePattern('{WEEK}.csv')).toThrow(UserError);
});

test('range selection: latest, static (all spans must exist), rolling', () => {
  const spans = [3, 1, 2, 5, 5];
  expect(selectSpans(spans, { type: 'latest' }, 'x')).toEqual([5]);
  expect(selectSpans(spans, { type: 'static', start_span: 1, end_span: 3 }, 'x')).toEqual([1, 2, 3]);
  expect(() => selectSpans(spans, { type: 'static', start_span: 2, end_span: 5 }, 'x')).toThrow(/missing span\(s\) 4/);
  expect(selectSpans(spans, { type: 'rolling', num_spans: 2, start_span: 0 }, 'x')).toEqual([3, 5]);
  expect(selectSpans(spans, { type: 'rolling', num_spans: 9, start_span: 2 }, 'x')).toEqual([2, 3, 5]);
  expect(() => selectSpans([], { type: 'latest' }, 'split "a"')).toThrow(/split "a": no input files match/);
});

describe('flights-3m by monthly spans', () => {
  const ROWS = 2000;
  beforeEach(async () => {
    for (let m = 1; m <= 4; m++) await writeFlightsMonth(path.join(tmp.dir, 'in', `span-${m}`, 'flights.parquet'), m, ROWS);
  });

  const months = async (out: string) =>
    (await query(`SELECT DISTINCT month(CAST(date AS TIMESTAMP))::INTEGER AS m FROM read_parquet(${sqlString(`${out}/Split-*/*.parquet`)}) ORDER BY m`)).map((r) => r.m);

  test('latest span by default; static and rolling ranges read several spans', async () => {
    const base = { input_base: path.join(tmp.dir, 'in'), input_splits: [{ name: 'all', pattern: 'span-{SPAN}/*.parquet' }] };
    const latest = await runGen(tmp.dir, base, 'latest');
    expect(latest.props).toMatchObject({ span: 4, version: 0, spans: '[4]', row_count: ROWS, split_names: '["train","eval"]' });
    expect(await months(latest.out)).toEqual([4]);

    const fixed = await runGen(tmp.dir, { ...base, range: { type: 'static', start_span: 1, end_span: 2 } }, 'static');
    expect(fixed.props).toMatchObject({ span: 2, spans: '[1,2]', row_count: 2 * ROWS });
    expect(await months(fixed.out)).toEqual([1, 2]);

    const rolling = await runGen(tmp.dir, { ...base, range: { type: 'rolling', num_spans: 3 } }, 'rolling');
    expect(rolling.props).toMatchObject({ span: 4, spans: '[2,3,4]', row_count: 3 * ROWS });
    expect(await months(rolling.out)).toEqual([2, 3, 4]);

    await expect(runGen(tmp.dir, { ...base, range: { type: 'static', start_span: 3, end_span: 6 } }, 'bad')).rejects.toThrow(
      /static range \[3, 6\] is missing span\(s\) 5, 6 \(available: 1\.\.4\)/,
    );
  });

  test('the latest version of each span; a newer version replaces the older files', async () => {
    const input = path.join(tmp.dir, 'versioned');
    await writeFlightsMonth(path.join(input, '07', 'v1', 'a.parquet'), 1, 100);
    await writeFlightsMonth(path.join(input, '07', 'v2', 'a.parquet'), 2, 50);
    await writeFlightsMonth(path.join(input, '07', 'v2', 'b.parquet'), 3, 25);
    await writeFlightsMonth(path.join(input, '06', 'v9', 'a.parquet'), 4, 10);
    const r = await runGen(tmp.dir, { input_base: input, input_splits: [{ name: 'all', pattern: '{SPAN:2}/v{VERSION}/*.parquet' }] });
    expect(r.props).toMatchObject({ span: 7, version: 2, row_count: 75 });
    expect(await months(r.out)).toEqual([2, 3]);
  });

  test('date patterns: span = days since the epoch, latest date wins', async () => {
    const input = path.join(tmp.dir, 'dated');
    for (const m of [1, 2, 3]) await writeFlightsMonth(path.join(input, `2001-0${m}-01`, 'flights.parquet'), m, 100);
    const r = await runGen(tmp.dir, {
      input_base: input,
      input_splits: [{ name: 'all', pattern: '{YYYY}-{MM}-{DD}/flights.parquet' }],
      range: { type: 'rolling', num_spans: 2 },
    });
    expect(r.props).toMatchObject({ span: Date.UTC(2001, 2, 1) / 86_400_000, row_count: 200 });
    expect(await months(r.out)).toEqual([2, 3]);
  });
});
