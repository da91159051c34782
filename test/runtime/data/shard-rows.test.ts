// The rows of each shard of a split's part files: contiguous, in order, every row exactly once.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, queryRows } from '../../../runtime/data/duckdb';
import { shardRanges, shardRowsSql } from '../../../runtime/data/shard-rows';

describe('shardRowsSql', () => {
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shard-rows-'));
    const conn = await duckdb();
    // Three files of 1000, 0 and 2500 rows, small row groups so ranges cut through them.
    files = ['a', 'b', 'c'].map((name) => path.join(dir, `${name}.parquet`));
    for (const [i, [lo, hi]] of [[0, 1000], [1000, 1000], [1000, 3500]].entries()) {
      await conn.run(`COPY (SELECT range AS id, range * 2 AS twice FROM range(${lo}, ${hi})) TO '${files[i]}' (FORMAT parquet, ROW_GROUP_SIZE 300)`);
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3, 7, 64])('cuts 3500 rows of three files into %i shards whose concatenation is every row once, in order', async (count) => {
    const conn = await duckdb();
    const ids: number[] = [];
    let counted = 0;
    for (let index = 0; index < count; index++) {
      const { sql, rows } = await shardRowsSql(conn, files, { index, count });
      const got = await queryRows(conn, `SELECT id, twice FROM ${sql}`);
      expect(got).toHaveLength(rows);
      for (const r of got) expect(Number(r.twice)).toBe(2 * Number(r.id));
      ids.push(...got.map((r) => Number(r.id)));
      counted += rows;
    }
    expect(counted).toBe(3500);
    expect(ids).toEqual(Array.from({ length: 3500 }, (_, i) => i));
  });

  it('gives empty shards the columns and no rows when there are more shards than rows', async () => {
    const conn = await duckdb();
    expect(shardRanges(['x'], [2], { index: 0, count: 4 })).toEqual([]);
    const { sql, rows } = await shardRowsSql(conn, [files[0]], { index: 0, count: 256 });
    expect(rows).toBe(3);
    const cols = await queryRows(conn, `DESCRIBE SELECT * FROM ${sql}`);
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'twice']);
  });

  it('names a file that is not Parquet', async () => {
    const bad = path.join(dir, 'bad.parquet');
    fs.writeFileSync(bad, 'not parquet');
    await expect(shardRowsSql(await duckdb(), [bad], { index: 0, count: 2 })).rejects.toThrow(/bad\.parquet/);
  });
});
