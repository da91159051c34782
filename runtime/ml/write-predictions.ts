// Writes predictions as one Parquet file: the chosen key columns with their original types, then the model's
// outputs (predicted class, class id and probabilities, or the regression value). Rows stream to a JSON Lines
// staging file that DuckDB converts, so memory does not grow with the split.

import * as fs from 'fs';
import * as path from 'path';
import { once } from 'events';
import { jsonSafe, sqlIdent, sqlString, withConnection } from '../data/duckdb';
import type { PredictedChunk } from './predict-examples';
import { CLASS_COLUMNS, predictionColumns, REGRESSION_COLUMN } from './prediction-columns';
import type { Task } from './signature';

/** DuckDB types of the output columns per task. */
function outputColumns(task: Task): Record<string, string> {
  const [cls, id, probs] = CLASS_COLUMNS;
  return task === 'regression' ? { [REGRESSION_COLUMN]: 'DOUBLE' } : { [cls]: 'VARCHAR', [id]: 'INTEGER', [probs]: 'DOUBLE[]' };
}

/** Streams chunks into <file> (Parquet); returns the number of rows written. */
export async function writePredictions(opts: {
  chunks: AsyncIterable<PredictedChunk>;
  /** DuckDB table expression the chunks were read from (for the key columns' types). */
  source: string;
  keyColumns: string[];
  task: Task;
  file: string;
  onChunk?: (rows: number) => void;
}): Promise<number> {
  return withConnection(async (conn) => {
    const types = new Map(
      (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${opts.source}`)).getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)]),
    );
    const staging = `${opts.file}.jsonl`;
    const out = fs.createWriteStream(staging);
    let n = 0;
    for await (const { rows, predictions } of opts.chunks) {
      for (let i = 0; i < rows.length; i++) {
        const record: Record<string, unknown> = {};
        for (const k of opts.keyColumns) record[k] = jsonSafe(rows[i][k]);
        Object.assign(record, predictionColumns(predictions[i]));
        if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
      }
      n += rows.length;
      opts.onChunk?.(n);
    }
    out.end();
    await once(out, 'finish');
    const columns = { ...Object.fromEntries(opts.keyColumns.map((k) => [k, types.get(k) ?? 'VARCHAR'])), ...outputColumns(opts.task) };
    const spec = `{${Object.entries(columns).map(([k, t]) => `${sqlString(k)}: ${sqlString(t)}`).join(', ')}}`;
    await fs.promises.mkdir(path.dirname(opts.file), { recursive: true });
    await conn.run(
      `COPY (SELECT ${Object.keys(columns).map(sqlIdent).join(', ')} FROM read_json(${sqlString(staging)}, format='newline_delimited', columns=${spec})) TO ${sqlString(opts.file)} (FORMAT parquet)`,
    );
    await fs.promises.rm(staging);
    return n;
  });
}
