// Training/serving skew from the request log: the logged instances (JSON Lines, from --request-log-dir) are
// loaded with DuckDB into a temporary Parquet file — columns starting with "_" (_model_version, _request_id,
// _timestamp) left out — whose statistics StatisticsGen's code computes; ExampleValidator's validation then
// compares the training split's statistics with them, with the schema's skewComparator thresholds (L∞ /
// normalized absolute difference on categorical features, Jensen-Shannon divergence on numeric ones). Only
// the skew results are kept: the other checks are about the training data, which was validated when trained.
// Without a schema, one is inferred from the training statistics and every feature gets a default
// comparator (L∞ for strings, Jensen-Shannon divergence for numbers) at one threshold. Comparisons above
// their threshold become `skew` log lines (runtime/tfdv/drift-skew-events.ts), which MlMonitoring's skew alert counts.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../core/errors';
import { duckdb, queryRows, sqlIdent, sqlString, sqlStringList } from '../data/duckdb';
import { localPathOf, storageFor } from '../storage';
import { anomalyInfo, type Anomalies, type DriftSkewMeasurementType } from '../tfdv/anomalies-proto';
import { generateStatistics } from '../tfdv/generate-statistics';
import { inferSchema } from '../tfdv/infer-schema';
import type { Schema } from '../tfdv/schema-proto';
import type { DatasetFeatureStatistics } from '../tfdv/statistics-proto';
import { validateStatistics } from '../tfdv/validate-statistics';

export const SERVING_SPLIT = 'serving';

export interface SkewMeasurement {
  feature: string;
  comparator: DriftSkewMeasurementType;
  distance: number;
  threshold: number;
  skewed: boolean;
}

export interface SkewReport {
  /** TFDV Anomalies holding the skew anomalies only (ExampleValidator's SchemaDiff.json shape). */
  anomalies: Anomalies;
  measurements: SkewMeasurement[];
  servingExamples: number;
}

/** The log files of a local folder: *.jsonl, not the dot files a writer is still filling. */
function logFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new UserError(`--serving-logs ${dir} does not exist`);
  if (fs.statSync(dir).isFile()) return [dir];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl') && !f.startsWith('.')).sort();
  if (files.length === 0) throw new UserError(`--serving-logs ${dir} holds no .jsonl request logs`);
  return files.map((f) => path.join(dir, f));
}

/** Statistics of the logged request instances (gs:// logs are downloaded to a temporary folder first). */
export async function servingStatistics(logs: string): Promise<DatasetFeatureStatistics> {
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-skew-'));
  const conn = await duckdb();
  try {
    let local = localPathOf(logs);
    if (local === undefined) {
      local = path.join(tmp, 'logs');
      await storageFor(logs).downloadTree(logs, local);
    }
    // sample_size -1: types from every line, so a late value of another type cannot fail the load.
    const source = `read_json(${sqlStringList(logFiles(local))}, format = 'newline_delimited', union_by_name = true, sample_size = -1)`;
    let columns: string[];
    try {
      columns = (await queryRows(conn, `DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r.column_name));
    } catch (err) {
      throw new UserError(`--serving-logs ${logs} cannot be read as JSON Lines: ${(err as Error).message.split('\n')[0]}`);
    }
    const features = columns.filter((c) => !c.startsWith('_'));
    if (features.length === 0) throw new UserError(`--serving-logs ${logs} hold no feature columns`);
    const file = path.join(tmp, 'serving.parquet');
    await conn.run(`COPY (SELECT ${features.map(sqlIdent).join(', ')} FROM ${source}) TO ${sqlString(file)} (FORMAT parquet)`);
    return await generateStatistics(SERVING_SPLIT, [file]);
  } finally {
    conn.closeSync();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/** A schema for statistics that come without one: inferred, with a default skew comparator on every feature. */
export function defaultSkewSchema(training: DatasetFeatureStatistics, threshold: number): Schema {
  const schema = inferSchema(training);
  for (const f of schema.feature) {
    f.skewComparator = f.type === 'BYTES' ? { infinityNorm: { threshold } } : { jensenShannonDivergence: { threshold } };
  }
  return schema;
}

export function compareSkew(training: DatasetFeatureStatistics, serving: DatasetFeatureStatistics, schema: Schema): SkewReport {
  const servingExamples = Number(serving.numExamples);
  if (servingExamples === 0) throw new UserError('the serving logs hold no request instances');
  const relevant: Schema = { ...schema, feature: schema.feature.filter((f) => !f.name.startsWith('_')) };
  const full = validateStatistics(training, relevant, { serving });
  const anomalies: Anomalies = { baseline: schema, anomalyInfo: {} };
  for (const [feature, info] of Object.entries(full.anomalyInfo)) {
    const reasons = info.reason.filter((r) => r.type.startsWith('COMPARATOR_'));
    if (reasons.length) anomalies.anomalyInfo[feature] = anomalyInfo(reasons, feature);
  }
  const skewInfo = (full.driftSkewInfo ?? []).filter((i) => i.skewMeasurements);
  if (skewInfo.length) anomalies.driftSkewInfo = skewInfo.map((i) => ({ path: i.path, skewMeasurements: i.skewMeasurements }));
  const measurements = skewInfo.flatMap((i) =>
    i.skewMeasurements!.map((m) => ({ feature: i.path.step.join('.'), comparator: m.type, distance: m.value, threshold: m.threshold, skewed: m.value > m.threshold })),
  );
  return { anomalies, measurements, servingExamples };
}
