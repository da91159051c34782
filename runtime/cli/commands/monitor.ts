// `mlp monitor skew`: training/serving skew from the model server's request log (--request-log-dir) against
// the training split's statistics, with StatisticsGen's and ExampleValidator's code (runtime/serving/
// skew-monitor.ts). Prints one line per comparison (feature, comparator, distance, threshold), writes the
// anomalies as TFDV Anomalies JSON (<out>/Split-<split>/SchemaDiff.json, as ExampleValidator does) and
// exits 2 when a distance exceeds its threshold, so a scheduler can trigger retraining; 0 when none does, 1
// on errors. Each comparison above its threshold is also a `skew` JSON line on stderr (MlMonitoring's log
// contract), which the skew alert counts; stdout keeps the table or --json. Statistics, schema, logs and
// --out may be local or gs://.
// `mlp monitor run-finished`: the `run_finished` line of a cloud run, so the failed-run alert sees runs that no
// local runner finished. Argo's exit handler runs it with the workflow's status and duration; an Airflow DAG's
// last task and a KFP exit handler's task with the run's status and start.

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { storageFor } from '../../storage';
import { anomaliesUri, readJsonUri, readSplitStatisticsUri, schemaUri, writeJsonUri } from '../../tfdv/artifact-files';
import { checkSchema } from '../../tfdv/check-schema';
import { driftSkewEventLines } from '../../tfdv/drift-skew-events';
import type { Schema } from '../../tfdv/schema-proto';
import { table } from '../format';
import { RUN_STATUS_WORDS, runFinishedLine, runStateOf } from '../../runner/run-finished';

interface SkewFlags {
  trainingStats: string;
  servingLogs: string;
  schema?: string;
  split: string;
  out?: string;
  json?: boolean;
  defaultThreshold: string;
  pipeline?: string;
  node?: string;
}

/** Exit code when skew exceeds a threshold (1 stays for errors). */
export const SKEW_EXIT_CODE = 2;

/** A schema artifact folder (schema.json inside) or a schema file, checked; local or gs://. */
async function loadSchema(target: string): Promise<Schema> {
  // A folder is what has files below it, on GCS as locally (listing a file or a missing path finds nothing).
  const file = (await storageFor(target).list(target)).length > 0 ? schemaUri(target) : target;
  const checked = checkSchema(await readJsonUri<unknown>(file, 'schema'));
  if (!checked.schema) throw new UserError(`schema ${file} is not usable: ${checked.problems.join('; ')}`);
  return checked.schema;
}

interface RunFinishedFlags {
  pipeline: string;
  runId: string;
  status: string;
  durationSeconds?: string;
  started?: string;
  failOnFailed?: boolean;
}

/** The run's duration from --duration-seconds or --started (exactly one). */
function durationMsOf(flags: RunFinishedFlags, now: number): number {
  if ((flags.durationSeconds === undefined) === (flags.started === undefined)) throw new UserError('give one of --duration-seconds or --started');
  if (flags.durationSeconds !== undefined) {
    const seconds = Number(flags.durationSeconds);
    if (!(flags.durationSeconds.trim() !== '' && Number.isFinite(seconds) && seconds >= 0)) throw new UserError(`--duration-seconds ${JSON.stringify(flags.durationSeconds)}: expected a number of seconds ≥ 0`);
    return Math.round(seconds * 1000);
  }
  const started = Date.parse(flags.started!);
  if (Number.isNaN(started)) throw new UserError(`--started ${JSON.stringify(flags.started)}: expected an ISO 8601 time such as 2026-01-31T12:00:00Z`);
  if (started > now) throw new UserError(`--started ${flags.started} is in the future`);
  return now - started;
}

export function registerMonitorCommand(program: Command): void {
  const monitor = program.command('monitor').description('monitoring: training/serving skew from the request log; the run_finished line of cloud pipeline runs');
  monitor
    .command('run-finished')
    .description("write a finished run's run_finished JSON line (MlMonitoring's failed-run alert counts FAILED and CANCELED ones) to stderr; compiled into Argo workflows and KFP pipelines as their exit handler and into Airflow DAGs as their last task")
    .requiredOption('--pipeline <name>', 'pipeline name (the alert groups by it)')
    .requiredOption('--run-id <id>', 'run id (e.g. Argo\'s {{workflow.uid}})')
    .requiredOption('--status <status>', `how the run ended: ${RUN_STATUS_WORDS.join(', ')} (Argo's {{workflow.status}}), or KFP's PipelineTaskFinalStatus JSON`)
    .option('--duration-seconds <s>', "the run's duration (Argo's {{workflow.duration}})")
    .option('--started <time>', 'when the run started (ISO 8601); the duration is measured to now')
    .option('--fail-on-failed', 'exit 1 after writing the line when the run failed (a scheduler\'s last task keeps its run failed)')
    .action((flags: RunFinishedFlags) => {
      const state = runStateOf(flags.status);
      if (!state) throw new UserError(`--status ${JSON.stringify(flags.status)}: expected how a run ended, one of ${RUN_STATUS_WORDS.join(', ')}, or a JSON object with one as "state"`);
      const durationMs = durationMsOf(flags, Date.now());
      process.stderr.write(`${runFinishedLine({ pipeline: flags.pipeline, runId: flags.runId, state, durationMs })}\n`);
      if (flags.failOnFailed && state === 'FAILED') process.exitCode = 1;
    });
  monitor
    .command('skew')
    .description('compare the statistics of logged serving requests with the training statistics (exit 2 on skew above the thresholds)')
    .requiredOption('--training-stats <dir>', 'ExampleStatistics artifact folder or gs:// URI (StatisticsGen output, Split-<name>/FeatureStats.json)')
    .requiredOption('--serving-logs <dir>', 'request log folder or gs:// prefix (mlp serve --request-log-dir), or one .jsonl file')
    .option('--schema <path>', 'schema artifact folder or schema.json (local or gs://) whose skewComparator thresholds apply (default: inferred from the training statistics, with --default-threshold on every feature)')
    .option('--split <name>', 'training split to compare with', 'train')
    .option('--out <dir>', 'write the anomalies to <dir>/Split-<split>/SchemaDiff.json (TFDV Anomalies JSON; <dir> may be gs://)')
    .option('--json', 'print the anomalies JSON instead of the table')
    .option('--default-threshold <x>', 'threshold of the default comparators when no --schema is given (L-infinity for strings, Jensen-Shannon divergence for numbers)', '0.1')
    .option('--pipeline <name>', 'pipeline the served model comes from, named in the skew log lines (the skew alert groups by it)')
    .option('--node <id>', 'node id named in the skew log lines (e.g. the scheduled job running this check)')
    .action(async (flags: SkewFlags) => {
      const threshold = Number(flags.defaultThreshold);
      if (!(flags.defaultThreshold.trim() !== '' && threshold >= 0 && threshold <= 1)) throw new UserError(`--default-threshold ${JSON.stringify(flags.defaultThreshold)}: expected a number in [0, 1]`);
      // DuckDB and the statistics code load only when the command runs, so `mlp --help` stays fast.
      const { compareSkew, defaultSkewSchema, servingStatistics } = await import('../../serving/skew-monitor');
      const training = await readSplitStatisticsUri(flags.trainingStats, flags.split);
      const schema = flags.schema !== undefined ? await loadSchema(flags.schema) : defaultSkewSchema(training, threshold);
      const report = compareSkew(training, await servingStatistics(flags.servingLogs), schema);
      if (flags.out !== undefined) await writeJsonUri(anomaliesUri(flags.out, flags.split), report.anomalies);
      for (const line of driftSkewEventLines(report.anomalies.driftSkewInfo ?? [], { pipeline: flags.pipeline, node: flags.node })) process.stderr.write(`${line}\n`);
      const skewed = report.measurements.filter((m) => m.skewed);
      if (flags.json) process.stdout.write(`${JSON.stringify(report.anomalies, null, 2)}\n`);
      else {
        const rows = report.measurements.map((m) => [m.feature, m.comparator, Number(m.distance.toPrecision(6)), m.threshold, m.skewed ? 'SKEW' : 'ok']);
        const head = `${report.servingExamples} logged instances vs split ${flags.split}: ${report.measurements.length} comparisons, ${skewed.length} above threshold`;
        process.stdout.write(`${head}\n${rows.length ? `\n${table(['feature', 'comparator', 'distance', 'threshold', 'result'], rows)}` : ''}`);
        if (skewed.length) process.stdout.write(`\nskew in ${[...new Set(skewed.map((m) => m.feature))].join(', ')}\n`);
      }
      if (skewed.length) process.exitCode = SKEW_EXIT_CODE;
    });
  monitor.exitOverride();
}
