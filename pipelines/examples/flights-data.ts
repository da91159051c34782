// Lands the flights data as monthly spans for the continuous-training pipeline: vega-datasets'
// flights-3m.parquet (US flights, January–June 2001) cut into <out>/span-<month>/flights.parquet with the
// features a caller knows before departure (hour, day of week, origin, destination, distance) and the label
// `delayed` (arrival delay of 15 minutes or more). Each span folder appears whole (written aside, then
// renamed), as an upstream export job would land it.
//
//   npm run flights:spans -- [--out DIR] [--spans 1,2,3] [--rows N]

import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { UserError } from '../../runtime/core/errors';
import { duckdb, sqlString } from '../../runtime/data/duckdb';
import { underRoot, vegaDataFile } from './datasets';

export const FLIGHT_MONTHS = [1, 2, 3, 4, 5, 6];

export interface SpanFile {
  span: number;
  rows: number;
  file: string;
}

/** Writes the spans (default all six months); rowsPerSpan takes a deterministic sample of each month. */
export async function writeFlightSpans(opts: { outDir: string; spans?: number[]; rowsPerSpan?: number; source?: string }): Promise<SpanFile[]> {
  const source = opts.source ?? vegaDataFile('flights-3m.parquet');
  const conn = await duckdb();
  const written: SpanFile[] = [];
  try {
    for (const span of opts.spans ?? FLIGHT_MONTHS) {
      if (!FLIGHT_MONTHS.includes(span)) throw new UserError(`flights span ${span} does not exist: spans are the months ${FLIGHT_MONTHS.join(', ')} of 2001`);
      const final = path.join(opts.outDir, `span-${span}`);
      const staging = `${final}.tmp-${process.pid}`;
      await fs.promises.rm(staging, { recursive: true, force: true });
      await fs.promises.mkdir(staging, { recursive: true });
      const file = path.join(staging, 'flights.parquet');
      const sample = opts.rowsPerSpan ? `ORDER BY hash(date, origin, destination, delay, distance) LIMIT ${Math.floor(opts.rowsPerSpan)}` : 'ORDER BY date';
      await conn.run(`COPY (
        SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS day_of_week, origin, destination, distance, (delay >= 15)::BIGINT AS delayed
        FROM read_parquet(${sqlString(source)})
        WHERE month(date) = ${span} AND year(date) = 2001 AND delay IS NOT NULL
        ${sample}
      ) TO ${sqlString(file)} (FORMAT parquet)`);
      const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`)).getRowObjectsJson();
      await fs.promises.rm(final, { recursive: true, force: true });
      await fs.promises.rename(staging, final);
      written.push({ span, rows: Number(row.n), file: path.join(final, 'flights.parquet') });
    }
  } finally {
    conn.closeSync();
  }
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, spans: { type: 'string' }, rows: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('usage: npm run flights:spans -- [--out DIR (default <root>/data/flights)] [--spans 1,2,...] [--rows N per span]\n');
    return;
  }
  const outDir = values.out ?? underRoot('data', 'flights');
  const spans = values.spans?.split(',').map(Number);
  const rows = values.rows !== undefined ? Number(values.rows) : undefined;
  for (const s of await writeFlightSpans({ outDir, spans, rowsPerSpan: rows })) process.stdout.write(`span ${s.span}: ${s.rows} flights → ${s.file}\n`);
  process.stdout.write(`next: npx mlp run flights --param span=1   (then span=2, 3, ...)\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  });
}
