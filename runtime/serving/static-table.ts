// Hybrid static serving: a precomputed prediction table (the BulkInferrer's Parquet output — key columns
// plus predicted_class / predicted_class_id / probabilities, or prediction) held in memory by one key
// column. Request instances carrying that key as a field, with a value the table holds, are answered from
// it without running the model; the others (no key field, or a key the table lacks) go to the model, all
// in one call. The table answers only requests that name no version or label: it was computed by one model,
// and a caller asking for a given version wants that version's answer.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../core/errors';
import { duckdb, queryRows, sqlIdent, sqlString } from '../data/duckdb';
import type { Prediction } from '../ml/serving-bundle';
import { localPathOf, storageFor } from '../storage';
import type { RawRow } from '../transform/apply';
import type { StaticTableConfig } from './config';
import { CLASS_COLUMNS, predictionFromColumns, REGRESSION_COLUMN } from '../ml/prediction-columns';

/** A key value as the table holds it: strings and numbers by their text (a BIGINT key reads back as text). */
function keyText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** The table as a local file (a gs:// table is downloaded to a temporary file first). */
async function localTable(uri: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const local = localPathOf(uri);
  if (local) return { file: local, cleanup: async () => undefined };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-static-table-'));
  const file = path.join(dir, 'table.parquet');
  await fs.promises.writeFile(file, await storageFor(uri).readFile(uri));
  return { file, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

export class StaticTable {
  private constructor(
    readonly key: string,
    private readonly byKey: Map<string, Prediction>,
    /** Rows left out: a key seen before, or outputs that are not a prediction. */
    readonly skipped: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  static async load(config: StaticTableConfig): Promise<StaticTable> {
    const where = `static table ${config.path}`;
    const { file, cleanup } = await localTable(config.path);
    const conn = await duckdb();
    try {
      const source = `read_parquet(${sqlString(file)})`;
      let columns: Set<string>;
      try {
        columns = new Set((await queryRows(conn, `DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r.column_name)));
      } catch (err) {
        throw new UserError(`${where} cannot be read as Parquet: ${(err as Error).message.split('\n')[0]}`);
      }
      if (!columns.has(config.key)) throw new UserError(`${where} has no key column "${config.key}"; its columns are ${[...columns].join(', ')}`);
      const regression = !CLASS_COLUMNS.every((c) => columns.has(c));
      if (regression && !columns.has(REGRESSION_COLUMN)) {
        throw new UserError(`${where} holds no predictions: expected BulkInferrer's columns ${CLASS_COLUMNS.join(', ')} (classification) or ${REGRESSION_COLUMN} (regression)`);
      }
      const outputs = regression ? [REGRESSION_COLUMN] : [...CLASS_COLUMNS];
      const rows = await queryRows(conn, `SELECT ${[config.key, ...outputs].map(sqlIdent).join(', ')} FROM ${source}`);
      const byKey = new Map<string, Prediction>();
      let skipped = 0;
      for (const row of rows) {
        const key = keyText(row[config.key]);
        const prediction = predictionFromColumns(row, regression);
        if (key === undefined || !prediction || byKey.has(key)) skipped++;
        else byKey.set(key, prediction);
      }
      return new StaticTable(config.key, byKey, skipped);
    } finally {
      conn.closeSync();
      await cleanup();
    }
  }

  /** Predictions for the rows, in order: from the table where the key hits, else from `predict` (one call for all misses). */
  async predict(rows: RawRow[], predict: (rows: RawRow[]) => Promise<Prediction[]>): Promise<{ predictions: Prediction[]; hits: number }> {
    const found = rows.map((r) => {
      const key = keyText(r[this.key]);
      return key === undefined ? undefined : this.byKey.get(key);
    });
    const missing = rows.filter((_, i) => !found[i]);
    const predicted = missing.length > 0 ? await predict(missing) : [];
    let next = 0;
    return { predictions: found.map((p) => p ?? predicted[next++]), hits: rows.length - missing.length };
  }
}
