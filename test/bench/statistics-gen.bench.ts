// Benchmark: StatisticsGen (through the launcher: statistics of one split, JSON written, artifact
// published) against DuckDB's own SUMMARIZE on the same Parquet file, on flights-3m.parquet (3M rows × 5)
// and on a generated 1M-row, 13-column file (CSV written by DuckDB, converted to Parquet). Each measurement
// runs in its own child process so its peak RSS is its own; the best time of --repeats runs, the highest
// peak RSS, and the median ratio of paired runs are reported.
// Run: node -r sucrase/register/ts test/bench/statistics-gen.bench.ts [--repeats 3] [--json]

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StatisticsGen } from '../../runtime/components/statistics-gen';
import { launchComponent } from '../../runtime/core/launcher';
import { duckdb, sqlString } from '../../runtime/data/duckdb';
import { LocalStorage } from '../../runtime/storage';
import { parseArgs } from 'util';
import { median } from './median';
import { peakRssMiB } from './process-usage';

const FLIGHTS = path.resolve(__dirname, '../../node_modules/vega-datasets/data/flights-3m.parquet');

interface Measurement {
  ms: number;
  peakRssMiB: number;
  /** RSS after loading modules (Node, sucrase, DuckDB), before the measured work. */
  startRssMiB: number;
}

/** Child mode: one measurement, printed as JSON on the last line of stdout. */
async function child(mode: string, file: string, work: string): Promise<void> {
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  if (mode === 'summarize') {
    const conn = await duckdb();
    await conn.runAndReadAll(`SUMMARIZE SELECT * FROM read_parquet(${sqlString(file)})`);
  } else {
    const examples = path.join(work, `examples-${process.pid}`);
    const staging = `${examples}.staging`;
    fs.mkdirSync(path.join(staging, 'Split-train'), { recursive: true });
    fs.linkSync(file, path.join(staging, 'Split-train', 'part-00000.parquet'));
    await new LocalStorage().publishDirectory(staging, examples);
    await launchComponent(
      StatisticsGen,
      {
        inputs: { artifacts: { examples: { artifacts: [{ uri: examples, metadata: { span: 0, version: 0, split_names: '["train"]' } }] } } },
        outputs: { artifacts: { statistics: { artifacts: [{ uri: path.join(work, `statistics-${process.pid}`) }] } } },
      },
      { log: () => undefined },
    );
  }
  const ms = performance.now() - started;
  process.stdout.write(`\n${JSON.stringify({ ms, peakRssMiB: peakRssMiB(), startRssMiB })}\n`);
}

function measure(mode: string, file: string, work: string): Measurement {
  const out = execFileSync(process.execPath, ['-r', 'sucrase/register/ts', __filename, '--child', mode, file, work], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop()!) as Measurement;
}

/** 1M rows × 13 columns: 5 INT, 4 FLOAT (with missing values), 4 STRING of low to high cardinality. */
async function generate(work: string): Promise<string> {
  const csv = path.join(work, 'synthetic.csv');
  const parquet = path.join(work, 'synthetic-1m.parquet');
  const conn = await duckdb();
  await conn.run(`COPY (
    SELECT i AS id, i % 100 AS small_int, (i * 7919) % 1000003 AS big_int, i % 2 AS flag, 1990 + i % 35 AS year,
      i * 0.001 AS ramp, sin(i) * 100 AS wave, CASE WHEN i % 10 = 0 THEN NULL ELSE exp((i % 1000) / 100.0) END AS skewed, ((i * 31) % 997) / 7.0 AS ratio,
      ['red', 'green', 'blue'][i % 3 + 1] AS color, 'city_' || (i % 1000) AS city, 'user_' || ((i * 104729) % 1000000) AS user_id,
      CASE WHEN i % 50 = 0 THEN NULL ELSE 'note ' || (i % 37) END AS note
    FROM range(1000000) t(i)) TO ${sqlString(csv)} (HEADER)`);
  await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)})) TO ${sqlString(parquet)} (FORMAT parquet)`);
  fs.rmSync(csv);
  return parquet;
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci > 0) return child(process.argv[ci + 1], process.argv[ci + 2], process.argv[ci + 3]);
  const { values: flags } = parseArgs({ options: { repeats: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const repeats = Number(flags.repeats);
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-stats-'));
  try {
    const files: [string, string, number][] = [
      ['flights-3m.parquet (3M × 5)', FLIGHTS, 3_000_000],
      ['synthetic (1M × 13)', await generate(work), 1_000_000],
    ];
    const results = [];
    for (const [name, file, rows] of files) {
      // SUMMARIZE and StatisticsGen alternate, so a burst of load on the shared machine hits both alike;
      // the ratio is the median over those pairs, the times are the best of each.
      const pairs = Array.from({ length: repeats }, () => ({ summarize: measure('summarize', file, work), stats: measure('statistics', file, work) }));
      const best = (xs: Measurement[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
      const summarize = best(pairs.map((p) => p.summarize));
      const stats = best(pairs.map((p) => p.stats));
      const ratios = pairs.map((p) => p.stats.ms / p.summarize.ms);
      results.push({
        dataset: name,
        statisticsGenMs: Math.round(stats.ms),
        rowsPerSecond: Math.round(rows / (stats.ms / 1000)),
        peakRssMiB: Math.round(Math.max(...pairs.map((p) => p.stats.peakRssMiB))),
        startRssMiB: Math.round(stats.startRssMiB),
        summarizeMs: Math.round(summarize.ms),
        summarizePeakRssMiB: Math.round(Math.max(...pairs.map((p) => p.summarize.peakRssMiB))),
        ratio: Number(median(ratios).toFixed(2)),
      });
    }
    if (flags.json) process.stdout.write(`${JSON.stringify({ cpus: os.cpus().length, loadavg: os.loadavg(), results }, null, 2)}\n`);
    else {
      console.log(`StatisticsGen vs DuckDB SUMMARIZE (${repeats} paired runs; ${os.cpus().length} CPUs; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
      for (const r of results) {
        console.log(
          `${r.dataset}: StatisticsGen ${r.statisticsGenMs} ms (${r.rowsPerSecond.toLocaleString('en')} rows/s, peak RSS ${r.peakRssMiB} MiB, ${r.startRssMiB} MiB before the work); SUMMARIZE ${r.summarizeMs} ms (peak RSS ${r.summarizePeakRssMiB} MiB); median ratio ${r.ratio}×`,
        );
      }
    }
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
