// `mlp monitor skew`: training/serving skew from the model server's request log (--request-log-dir) against
// the training split's statistics, with StatisticsGen's and ExampleValidator's code (runtime/serving/
// skew-monitor.ts). Prints one line per comparison (feature, comparator, distance, threshold), writes the
// anomalies as TFDV Anomalies JSON (<out>/Split-<split>/SchemaDiff.json, as ExampleValidator does) and
// exits 2 when a distance exceeds its threshold, so a scheduler can trigger retraining; 0 when none does, 1
// on errors.

import * as fs from 'fs';
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { anomaliesPath, readJson, readSplitStatistics, schemaPath, writeJson } from '../../tfdv/artifact-files';
import { checkSchema } from '../../tfdv/check-schema';
import type { Schema } from '../../tfdv/schema-proto';
import { table } from '../format';

interface SkewFlags {
  trainingStats: string;
  servingLogs: string;
  schema?: string;
  split: string;
  out?: string;
  json?: boolean;
  defaultThreshold: string;
}

/** Exit code when skew exceeds a threshold (1 stays for errors). */
export const SKEW_EXIT_CODE = 2;

/** A schema artifact folder (schema.json inside) or a schema file, checked. */
async function loadSchema(target: string): Promise<Schema> {
  const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? schemaPath(target) : target;
  const checked = checkSchema(await readJson<unknown>(file, 'schema'));
  if (!checked.schema) throw new UserError(`schema ${file} is not usable: ${checked.problems.join('; ')}`);
  return checked.schema;
}

export function registerMonitorCommand(program: Command): void {
  const monitor = program.command('monitor').description('watch served models: training/serving skew from the request log');
  monitor
    .command('skew')
    .description('compare the statistics of logged serving requests with the training statistics (exit 2 on skew above the thresholds)')
    .requiredOption('--training-stats <dir>', 'ExampleStatistics artifact folder (StatisticsGen output, Split-<name>/FeatureStats.json)')
    .requiredOption('--serving-logs <dir>', 'request log folder or gs:// prefix (mlp serve --request-log-dir), or one .jsonl file')
    .option('--schema <path>', 'schema artifact folder or schema.json whose skewComparator thresholds apply (default: inferred from the training statistics, with --default-threshold on every feature)')
    .option('--split <name>', 'training split to compare with', 'train')
    .option('--out <dir>', 'write the anomalies to <dir>/Split-<split>/SchemaDiff.json (TFDV Anomalies JSON)')
    .option('--json', 'print the anomalies JSON instead of the table')
    .option('--default-threshold <x>', 'threshold of the default comparators when no --schema is given (L-infinity for strings, Jensen-Shannon divergence for numbers)', '0.1')
    .action(async (flags: SkewFlags) => {
      const threshold = Number(flags.defaultThreshold);
      if (!(flags.defaultThreshold.trim() !== '' && threshold >= 0 && threshold <= 1)) throw new UserError(`--default-threshold ${JSON.stringify(flags.defaultThreshold)}: expected a number in [0, 1]`);
      // DuckDB and the statistics code load only when the command runs, so `mlp --help` stays fast.
      const { compareSkew, defaultSkewSchema, servingStatistics } = await import('../../serving/skew-monitor');
      const training = await readSplitStatistics(flags.trainingStats, flags.split);
      const schema = flags.schema !== undefined ? await loadSchema(flags.schema) : defaultSkewSchema(training, threshold);
      const report = compareSkew(training, await servingStatistics(flags.servingLogs), schema);
      if (flags.out !== undefined) await writeJson(anomaliesPath(flags.out, flags.split), report.anomalies);
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
