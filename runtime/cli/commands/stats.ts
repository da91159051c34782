// `mlp stats show <artifact dir | statistics file>`: a readable per-feature summary of TFDV statistics
// (StatisticsGen's Split-<name>/FeatureStats.json), one table for numeric and one for string features.

import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { readJson, STATISTICS_FILE } from '../../tfdv/artifact-files';
import { commonStatsOf, protoDouble, type DatasetFeatureStatistics, type DatasetFeatureStatisticsList } from '../../tfdv/statistics-proto';
import { table } from '../format';

/** Compact number for a terminal column: integers as is, others with 4 significant digits. */
function fmt(v: number | string | undefined): string {
  const n = protoDouble(v);
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  return Math.abs(n) >= 1e6 || (Math.abs(n) < 1e-3 && n !== 0) ? n.toExponential(3) : String(Number(n.toPrecision(4)));
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Number(((100 * part) / whole).toFixed(1))}%` : '-';
}

export function formatStatistics(dataset: DatasetFeatureStatistics): string {
  const n = Number(dataset.numExamples);
  const lines = [`split ${dataset.name}: ${n} examples, ${dataset.features.length} features`];
  const numeric = dataset.features.filter((f) => f.numStats);
  const strings = dataset.features.filter((f) => f.stringStats);
  if (numeric.length) {
    const rows = numeric.map((f) => {
      const s = f.numStats!;
      const c = commonStatsOf(f)!;
      return [f.name, f.type, percent(Number(c.numNonMissing), n), c.numMissing, fmt(s.mean), fmt(s.stdDev), s.numZeros, fmt(s.min), fmt(s.median), fmt(s.max), s.histograms[0]?.numNan ?? '0'];
    });
    lines.push('', table(['numeric feature', 'type', 'present', 'missing', 'mean', 'std dev', 'zeros', 'min', 'median', 'max', 'NaN'], rows).trimEnd());
  }
  if (strings.length) {
    const rows = strings.map((f) => {
      const s = f.stringStats!;
      const c = commonStatsOf(f)!;
      const top = s.topValues.slice(0, 3).map((t) => `${t.value} (${t.frequency})`).join(', ');
      return [f.name, f.type, percent(Number(c.numNonMissing), n), c.numMissing, s.unique, fmt(s.avgLength), top];
    });
    lines.push('', table(['string feature', 'type', 'present', 'missing', 'unique', 'avg len', 'top values'], rows).trimEnd());
  }
  return lines.join('\n') + '\n';
}

/** The statistics files a path names: the file itself, or every Split-<name>/FeatureStats.json of an artifact folder. */
export function statisticsFiles(target: string): { split?: string; file: string }[] {
  if (!fs.existsSync(target)) throw new UserError(`no such file or folder: ${target}`);
  if (fs.statSync(target).isFile()) return [{ file: target }];
  const found = fs
    .readdirSync(target)
    .filter((d) => d.startsWith('Split-') && fs.existsSync(path.join(target, d, STATISTICS_FILE)))
    .sort()
    .map((d) => ({ split: d.slice('Split-'.length), file: path.join(target, d, STATISTICS_FILE) }));
  if (found.length === 0) throw new UserError(`${target} holds no statistics (expected Split-<name>/${STATISTICS_FILE})`);
  return found;
}

export function registerStatsCommand(program: Command): void {
  const stats = program.command('stats').description('look at TFDV statistics written by StatisticsGen');
  stats
    .command('show')
    .description('per-feature summary of an ExampleStatistics artifact folder or a statistics file')
    .argument('<path>', 'artifact folder (with Split-<name>/FeatureStats.json) or a statistics JSON file')
    .option('--split <name>', 'only this split')
    .option('--json', 'print the statistics JSON instead of tables')
    .action(async (target: string, flags: { split?: string; json?: boolean }) => {
      const datasets: DatasetFeatureStatistics[] = [];
      for (const { file } of statisticsFiles(target)) {
        const list = await readJson<DatasetFeatureStatisticsList>(file, 'statistics file');
        datasets.push(...(list.datasets ?? []));
      }
      const chosen = flags.split === undefined ? datasets : datasets.filter((d) => d.name === flags.split);
      if (chosen.length === 0) {
        throw new UserError(`no statistics for split "${flags.split}" in ${target}; splits: ${datasets.map((d) => d.name).join(', ') || '(none)'}`);
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ datasets: chosen }, null, 2)}\n`);
      else process.stdout.write(chosen.map(formatStatistics).join('\n'));
    });
  stats.exitOverride();
}
