// Input spans for the data-validation pipeline from the real flights data set (vega-datasets): one month per
// span, and optionally one airport made 30% of the rows so the next span drifts on `origin`.

import * as fs from 'fs';
import * as path from 'path';
import { duckdb, sqlString } from '../../runtime/data/duckdb';
import { REPO_ROOT } from './cli';

const FLIGHTS = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

/** Writes <base>/span-<span>/part.parquet: the first `rows` flights of `month`; `rareOrigin` makes that airport 30% of them. */
export async function writeFlightsSpan(base: string, span: number, month: number, rows: number, rareOrigin?: string): Promise<void> {
  const dir = path.join(base, `span-${span}`);
  await fs.promises.mkdir(dir, { recursive: true });
  const origin = rareOrigin ? `CASE WHEN hash(date, delay, destination) % 10 < 3 THEN ${sqlString(rareOrigin)} ELSE origin END` : 'origin';
  const conn = await duckdb();
  await conn.run(
    `COPY (SELECT CAST(date AS VARCHAR) AS date, delay, distance, ${origin} AS origin, destination FROM read_parquet(${sqlString(FLIGHTS)})
      WHERE month(date) = ${month} ORDER BY date, origin, destination, delay, distance LIMIT ${rows})
     TO ${sqlString(path.join(dir, 'part.parquet'))} (FORMAT parquet)`,
  );
}
