// ExampleGen's split assignment: the documented hash (md5 of the canonical record against the splits' thresholds,
// or TFX's sha256 of one partition feature modulo the bucket total) checked row by row against node's crypto and against membership Python's
// hashlib computed, the same assignment on every run, with any
// number of input shards and from CSV or JSON Lines, plus predefined input splits and empty splits.

import * as fs from 'fs';
import * as path from 'path';
import { query, runGen, splitRows, useTempDir, write, writeFlightsMonth, expectedSplit, expectedFeatureSplit, recordKey, DEFAULT_SPLITS, penguinsCsv, penguinsJsonl, PENGUINS } from './helpers';
import { sqlString } from '../../../../runtime/data/duckdb';
import { digestThresholds } from '../../../../runtime/data/hash-split';

const tmp = useTempDir('mlp-eg-splits-');

test('every row lands in the split the documented formula gives (hand-computed keys)', async () => {
  write(path.join(tmp.dir, 'in', 'data.csv'), 'id,name,score\n1,ann,0.5\n2,"bo, jr",39.1\n3,,2.25\n4,dee,\n');
  // Canonical keys: columns by name (id, name, score), value texts joined by U+001F, missing as U+001E;
  // FLOAT text is printf %.17g.
  const keys: Record<number, string> = {
    1: recordKey(['1', 'ann', '0.5']),
    2: recordKey(['2', 'bo, jr', '39.100000000000001']),
    3: recordKey(['3', null, '2.25']),
    4: recordKey(['4', 'dee', null]),
  };
  expect(keys[3]).toBe('3\x1f\x1e\x1f2.25');
  const splits = ['a', 'b', 'c', 'd', 'e'].map((name, i) => ({ name, buckets: i + 1 }));
  const { out, props } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), output_splits: splits });
  const got: Record<number, string> = {};
  for (const s of splits) for (const r of await splitRows(out, s.name)) got[Number(r.id)] = s.name;
  expect(got).toEqual(Object.fromEntries(Object.entries(keys).map(([id, key]) => [Number(id), expectedSplit(key, splits)])));
  // Four rows over five splits: at least one split is empty and still has a typed, zero-row Parquet file.
  const counts = JSON.parse(String(props.split_row_counts)) as Record<string, number>;
  const empty = splits.find((s) => counts[s.name] === 0)!;
  expect(empty).toBeDefined();
  expect(await query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path.join(out, `Split-${empty.name}`, 'part-0.parquet'))})`)).toEqual([
    expect.objectContaining({ column_name: 'id', column_type: 'BIGINT' }),
    expect.objectContaining({ column_name: 'name', column_type: 'VARCHAR' }),
    expect.objectContaining({ column_name: 'score', column_type: 'DOUBLE' }),
  ]);
});

test('the formula holds on 300 generated rows, including multi-byte text and negative numbers', async () => {
  const lines = ['k,txt,x'];
  const keys = new Map<number, string>();
  for (let k = 0; k < 300; k++) {
    const txt = k % 7 === 0 ? '' : `é${'z'.repeat(k % 5)}ü${k}`;
    // Quarters are exact in binary, so %.17g prints them as JS does.
    const x = (k - 150) / 4;
    lines.push(`${k},${txt},${x}`);
    keys.set(k, recordKey([String(k), txt === '' ? null : txt, String(x)]));
  }
  write(path.join(tmp.dir, 'in', 'gen.csv'), lines.join('\n') + '\n');
  const { out } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in') });
  let checked = 0;
  for (const s of DEFAULT_SPLITS) {
    for (const r of await splitRows(out, s.name)) {
      expect([Number(r.k), s.name]).toEqual([Number(r.k), expectedSplit(keys.get(Number(r.k))!, DEFAULT_SPLITS)]);
      checked++;
    }
  }
  expect(checked).toBe(300);
});

test('split membership of a small input is the one computed independently with Python hashlib', async () => {
  // Expected membership from this Python 3 program (columns sorted by name: city, id, temp):
  //   key = '\x1f'.join('\x1e' if t is None else t for t in [city, str(id), '%.17g' % temp])
  //   d = int(hashlib.md5(key.encode()).hexdigest(), 16)
  //   split = first of train (3), eval (1), test (1) whose cumulative count c has d * 5 < c * 2**128
  // (ExampleGen version 3, int(hexdigest[:16], 16) % 5, gave train [2, 3, 7, 9], eval [4, 5, 6, 10, 12], test [1, 8, 11].)
  write(
    path.join(tmp.dir, 'in', 'cities.csv'),
    'id,city,temp\n1,Oslo,-3.5\n2,Lima,19.25\n3,Pune,\n4,,0.1\n5,Kyiv,1e20\n6,Nuuk,-0.0\n7,Suva,27\n8,Oslo,-3.5\n9,Bern,inf\n10,Riga,2.5\n11,Baku,14.75\n12,Doha,35.125\n',
  );
  const splits = [
    { name: 'train', buckets: 3 },
    { name: 'eval', buckets: 1 },
    { name: 'test', buckets: 1 },
  ];
  const { out } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), output_splits: splits });
  const got: Record<string, number[]> = {};
  for (const s of splits) got[s.name] = (await splitRows(out, s.name, 'id')).map((r) => Number(r.id));
  expect(got).toEqual({ train: [1, 2, 3, 4, 6, 7, 8, 9, 10, 12], eval: [], test: [5, 11] });
});

test('the whole-record thresholds are ceil(c * 2^128 / total) in 32 hex digits, one per split but the last', () => {
  expect(digestThresholds(DEFAULT_SPLITS)).toEqual(['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab']);
  expect(digestThresholds([{ name: 'a', buckets: 1 }, { name: 'b', buckets: 3 }, { name: 'c', buckets: 1 }])).toEqual([
    '33333333333333333333333333333334',
    'cccccccccccccccccccccccccccccccd',
  ]);
  expect(digestThresholds([{ name: 'a', buckets: 1 }, { name: 'b', buckets: 1 }])).toEqual(['80000000000000000000000000000000']);
});

test('partition_feature keeps all rows of one value in one split: the split of sha256(value), as TFX computes it', async () => {
  write(path.join(tmp.dir, 'in', 'penguins.csv'), penguinsCsv());
  const { out } = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), partition_feature: 'Island' });
  const islands = new Map<string, Set<string>>();
  for (const s of DEFAULT_SPLITS) {
    for (const r of await splitRows(out, s.name)) {
      const seen = islands.get(String(r.Island)) ?? new Set();
      islands.set(String(r.Island), seen.add(s.name));
    }
  }
  expect([...islands.keys()].sort()).toEqual(['Biscoe', 'Dream', 'Torgersen']);
  for (const [island, splits] of islands) expect([island, [...splits]]).toEqual([island, [expectedFeatureSplit(island, DEFAULT_SPLITS)]]);
  // int(hashlib.sha256(island.encode()).hexdigest(), 16) % 3, computed with Python: Biscoe 2, Dream 2, Torgersen 1.
  expect(Object.fromEntries([...islands].map(([island, splits]) => [island, [...splits]]))).toEqual({ Biscoe: ['eval'], Dream: ['eval'], Torgersen: ['train'] });
  await expect(runGen(tmp.dir, { input_base: path.join(tmp.dir, 'in'), partition_feature: 'island' }, 'x')).rejects.toThrow(
    /partition_feature "island" is not a column \(columns: Species, Island,/,
  );
});

test('CSV and JSON Lines of the same penguins give the same types and the same splits', async () => {
  write(path.join(tmp.dir, 'csv', 'p.csv'), penguinsCsv());
  write(path.join(tmp.dir, 'jsonl', 'p.jsonl'), penguinsJsonl());
  const csv = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'csv') }, 'from-csv');
  const jsonl = await runGen(tmp.dir, { input_base: path.join(tmp.dir, 'jsonl') }, 'from-jsonl');
  expect(csv.props.row_count).toBe(PENGUINS.length);
  expect(csv.props.split_row_counts).toBe(jsonl.props.split_row_counts);
  const describe = (out: string) => query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(`${out}/Split-train/*.parquet`)}))`);
  expect(await describe(csv.out)).toEqual(await describe(jsonl.out));
  expect(await describe(csv.out)).toEqual([
    { column_name: 'Species', column_type: 'VARCHAR' },
    { column_name: 'Island', column_type: 'VARCHAR' },
    { column_name: 'Beak Length (mm)', column_type: 'DOUBLE' },
    { column_name: 'Beak Depth (mm)', column_type: 'DOUBLE' },
    { column_name: 'Flipper Length (mm)', column_type: 'BIGINT' },
    { column_name: 'Body Mass (g)', column_type: 'BIGINT' },
    { column_name: 'Sex', column_type: 'VARCHAR' },
  ]);
  // Missing values stay missing (penguins has 2 rows without measurements, 11 without sex).
  const [missing] = await query(
    `SELECT count(*) FILTER (WHERE "Body Mass (g)" IS NULL)::INTEGER AS mass, count(*) FILTER (WHERE "Sex" IS NULL)::INTEGER AS sex FROM read_parquet(${sqlString(`${csv.out}/Split-*/*.parquet`)})`,
  );
  expect(missing).toEqual({ mass: PENGUINS.filter((p) => p['Body Mass (g)'] === null).length, sex: PENGUINS.filter((p) => p.Sex === null).length });
  expect(missing.mass).toBeGreaterThan(0);
});

/** Rows (as a multiset) only in one of two splits' Parquet files, both ways. */
async function difference(a: string, b: string): Promise<{ onlyA: number; onlyB: number }> {
  const [d] = await query(
    `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(a)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(b)})))::INTEGER AS "onlyA", ` +
      `(SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(b)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(a)})))::INTEGER AS "onlyB"`,
  );
  return d as { onlyA: number; onlyB: number };
}

test('same assignment on two runs and with 1 or 5 input shards (several row groups, both DuckDB threads busy)', async () => {
  const one = path.join(tmp.dir, 'one');
  const five = path.join(tmp.dir, 'five');
  const source = await writeFlightsMonth(path.join(tmp.dir, 'src.parquet'), 2, 150_000);
  fs.mkdirSync(one);
  // Small row groups, so the single file is also read in parallel chunks.
  await query(`COPY (SELECT * FROM read_parquet(${sqlString(source)})) TO ${sqlString(path.join(one, 'part-0.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 20000)`);
  fs.mkdirSync(five);
  for (let i = 0; i < 5; i++) {
    await query(
      `COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(source)}, file_row_number=true) WHERE file_row_number % 5 = ${i}) ` +
        `TO ${sqlString(path.join(five, `part-${i}.parquet`))} (FORMAT parquet)`,
    );
  }
  const first = await runGen(tmp.dir, { input_base: one }, 'run1');
  const second = await runGen(tmp.dir, { input_base: one }, 'run2');
  const sharded = await runGen(tmp.dir, { input_base: five, input_splits: [{ name: 'all', pattern: 'part-*.parquet' }] }, 'run5');
  expect(first.props.row_count).toBe(150_000);
  const counts = JSON.parse(String(first.props.split_row_counts));
  // 2 : 1 within sampling noise.
  expect(Math.abs(counts.train / 150_000 - 2 / 3)).toBeLessThan(0.01);
  for (const split of ['train', 'eval']) {
    const files = (r: { out: string }) => `${r.out}/Split-${split}/*.parquet`;
    expect(await difference(files(first), files(second))).toEqual({ onlyA: 0, onlyB: 0 });
    expect(await difference(files(first), files(sharded))).toEqual({ onlyA: 0, onlyB: 0 });
  }
  expect(second.props.split_row_counts).toBe(first.props.split_row_counts);
  expect(sharded.props.split_row_counts).toBe(first.props.split_row_counts);
});

test('predefined input splits are kept as they are, with their own names', async () => {
  write(path.join(tmp.dir, 'in', 'train', 'p.csv'), penguinsCsv(PENGUINS.slice(0, 300)));
  write(path.join(tmp.dir, 'in', 'test', 'p-1.csv'), penguinsCsv(PENGUINS.slice(300, 320)));
  write(path.join(tmp.dir, 'in', 'test', 'p-2.csv'), penguinsCsv(PENGUINS.slice(320)));
  const { out, props } = await runGen(tmp.dir, {
    input_base: path.join(tmp.dir, 'in'),
    input_splits: [
      { name: 'train', pattern: 'train/*.csv' },
      { name: 'test', pattern: 'test/*.csv' },
    ],
  });
  expect(props).toMatchObject({ split_names: '["train","test"]', split_row_counts: '{"train":300,"test":44}', row_count: 344, bad_row_count: 0 });
  // Rows of several files come in no particular order: compare them sorted.
  const masses = (values: unknown[]) => values.map((v) => (v === null ? -1 : Number(v))).sort((a, b) => a - b);
  expect(masses((await splitRows(out, 'test')).map((r) => r['Body Mass (g)']))).toEqual(masses(PENGUINS.slice(300).map((p) => p['Body Mass (g)'])));
  expect(fs.readdirSync(out).sort()).toEqual(['Split-test', 'Split-train']);
});
