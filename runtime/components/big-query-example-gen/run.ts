// BigQueryExampleGen's executor body: renders the query (or table, or one query per predefined split) for the
// span, has BigQuery EXPORT DATA the rows as Parquet next to the output artifact (under the pipeline root;
// BigQuery does the distributed work), then hands the export to ExampleGen's own path — the same splitting,
// quarantine and row accounting as for Parquet files — and checks that every row BigQuery exported was read.
// The export is staging: deleted before the job (a failed attempt's files) and after.

import type { StepIdentity } from '../../core/component';
import { UserError } from '../../core/errors';
import type { Properties } from '../../metadata/types';
import { joinUri, storageFor } from '../../storage';
import { runExampleGen } from '../example-gen/run';
import type { ExampleGenParameters } from '../example-gen/parameters';
import type { BigQueryJobRunner } from './job-runner';
import type { BigQueryExampleGenParameters } from './parameters';
import { exportStatement, jobResource, renderQuery, tableQuery } from './query';

/** Where the job exports to: next to the output artifact's URI (which its publication must not include). */
export function exportBaseOf(outputUri: string): string {
  return `${outputUri.replace(/\/+$/, '')}.bigquery-export`;
}

/** The rendered query of each input split (one `single_split` for query or table, hash-split afterwards). */
export function splitQueries(p: BigQueryExampleGenParameters): { name: string; query: string }[] {
  const given = (['query', 'table', 'input_splits'] as const).filter((k) => p[k] !== undefined);
  if (given.length !== 1) {
    throw new UserError(`BigQueryExampleGen: set exactly one of query, table or input_splits (${given.length ? `got ${given.join(' and ')}` : 'got none'})`);
  }
  if (p.table !== undefined) return [{ name: 'single_split', query: tableQuery(p.table, p.span, 'table') }];
  if (p.query !== undefined) return [{ name: 'single_split', query: renderQuery(p.query, p.span, 'query') }];
  return p.input_splits!.map((s) => ({ name: s.name, query: renderQuery(s.query, p.span, `query of split "${s.name}"`) }));
}

export async function runBigQueryExampleGen(
  p: BigQueryExampleGenParameters,
  output: { uri: string; path: string },
  log: (line: string) => void,
  runner: BigQueryJobRunner,
  keptRejectsUri: string,
  step?: StepIdentity,
): Promise<Properties> {
  const splits = splitQueries(p);
  const base = exportBaseOf(output.uri);
  const storage = storageFor(base);
  await storage.delete(base, { recursive: true });
  try {
    let exported = 0;
    for (const split of splits) {
      const uri = joinUri(base, split.name, '*.parquet');
      const job = jobResource(exportStatement(split.query, uri), { project: p.project, location: p.location, labels: p.labels, step });
      log(`BigQuery job ${job.jobReference.jobId}: exporting ${split.name === 'single_split' ? 'the rows' : `split ${split.name}`} to ${uri}`);
      const result = await runner.run(job, uri);
      log(`BigQuery job ${result.jobId}: exported ${result.rowCount} rows in ${result.fileCount} file(s)`);
      exported += result.rowCount;
    }
    const fileParameters: ExampleGenParameters = {
      input_base: base,
      input_splits: splits.map((s) => ({ name: s.name, pattern: `${s.name}/*.parquet` })),
      format: 'parquet',
      range: { type: 'latest' },
      output_splits: p.output_splits,
      partition_feature: p.partition_feature,
      schema: p.schema,
      derived_columns: p.derived_columns,
      csv_delimiter: ',',
      max_bad_rows_fraction: p.max_bad_rows_fraction,
    };
    const properties = await runExampleGen(fileParameters, output.path, log, keptRejectsUri);
    const read = Number(properties.row_count) + Number(properties.bad_row_count);
    if (read !== exported) throw new Error(`BigQuery exported ${exported} rows but ExampleGen read ${read} from the export under ${base}, so rows could be lost`);
    // The export's files carry no span; the span is the one the query was rendered for (TFX: 0 without one).
    const span = p.span ?? 0;
    return { ...properties, span, version: 0, spans: JSON.stringify([span]) };
  } finally {
    await storage.delete(base, { recursive: true });
  }
}
