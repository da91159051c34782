// Runs BigQueryExampleGen's export job. Behind an interface so tests can pass a runner that "exports" by writing
// Parquet files itself (there is no BigQuery emulator); the real one goes through @google-cloud/bigquery, loaded
// only when a job runs so the CLI does not pay for the client at start-up.

import { UserError } from '../../core/errors';
import type { BigQueryJob } from './query';

/** What an EXPORT DATA job reports (statistics.query.exportDataStatistics). */
export interface ExportResult {
  jobId: string;
  rowCount: number;
  fileCount: number;
}

export interface BigQueryJobRunner {
  /** Runs the job to completion; `exportUri` is where its EXPORT DATA statement writes. */
  run(job: BigQueryJob, exportUri: string): Promise<ExportResult>;
}

/** The live runner: creates the job, waits for it and reads its export statistics. */
export const bigQueryClientRunner: BigQueryJobRunner = {
  async run(job, exportUri) {
    if (!exportUri.startsWith('gs://')) {
      throw new UserError(`BigQuery exports only to Cloud Storage: the pipeline root must be a gs:// URI (the export would go to ${exportUri})`);
    }
    const { BigQuery } = await import('@google-cloud/bigquery');
    const { projectId, jobId, location } = job.jobReference;
    const client = new BigQuery(projectId ? { projectId } : {});
    const [created] = await client.createJob({ configuration: job.configuration, jobId, location });
    try {
      await created.promise();
    } catch (err) {
      throw new UserError(`BigQuery job ${jobId} failed: ${(err as Error).message}`);
    }
    const [meta] = await created.getMetadata();
    const stats = meta.statistics?.query?.exportDataStatistics;
    if (stats?.rowCount === undefined || stats.fileCount === undefined) {
      throw new Error(`BigQuery job ${jobId} reports no exportDataStatistics, so its exported rows cannot be accounted for`);
    }
    return { jobId, rowCount: Number(stats.rowCount), fileCount: Number(stats.fileCount) };
  },
};
