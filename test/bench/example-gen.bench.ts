// Benchmark: ExampleGen on flights-3m.parquet (3M rows, 5 columns) and on a generated 1M-row, 13-column CSV
// (with missing cells and quoted fields): rows/s, wall time and peak RSS of `mlp component run ExampleGen` in a
// child process (read from /usr/bin/time -v), next to DuckDB reading the same file and writing it to Parquet.
// Run: node -r sucrase/register/ts test/bench/example-gen.bench.ts [--repeats 3] [--json]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../runtime/data/duckdb';

const REPO = path.resolve(__dirname, '..', '..');
const MLP = path.join(REPO, 'runtime', 'cli', 'mlp.js');
const MODULE = path.join(REPO, 'runtime', 'components', 'example-gen', 'index.ts');
const FLIGHTS = path.join(REPO, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Measurement {
  dataset: string;
  rows: number;
  wallSeconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  duckdbCopySeconds: number;
}

/** 1M rows, 13 columns: an id, 4 INT, 4 FLOAT (some missing) and 4 STRING (categories, free text with commas and quotes). */
async function generateCsv(file: string, rows: number): Promise<void> {
  const conn = await duckdb();
  await conn.run(
    `COPY (SELECT i AS id, i % 100 AS int_a, (i * 7919) % 100003 AS int_b, (i % 17) - 8 AS int_c, i // 1000 AS int_d, ` +
      `CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 1000) / 8.0 END AS float_a, sin(i) AS float_b, (i % 997) * 1.5e3 AS float_c, ` +
      `CASE WHEN i % 9 = 0 THEN NULL ELSE cos(i) * 100 END AS float_d, ['red', 'green', 'blue', 'teal'][i % 4 + 1] AS cat_a, ` +
      `'user_' || (i % 50000) AS cat_b, 'item ' || i || ', "quoted"' AS text_a, CASE WHEN i % 13 = 0 THEN NULL ELSE md5(i::VARCHAR) END AS text_b ` +
      `FROM range(${rows}) t(i)) TO ${sqlString(file)} (FORMAT csv, HEADER)`,
  );
  conn.closeSync();
}

/** Peak RSS (KiB) and wall seconds of one `mlp component run ExampleGen`. */
function runComponent(inputBase: string, out: string): { wall: number; rssKiB: number; rows: number } {
  const input = { inputs: { parameterValues: { input_base: inputBase } }, outputs: { artifacts: { examples: { artifacts: [{ uri: out }] } } } };
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, MLP, 'component', 'run', 'ExampleGen', '--module', MODULE, '--executor-input', JSON.stringify(input), '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`ExampleGen failed (${r.status}): ${r.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!rss) throw new Error(`no peak RSS in /usr/bin/time output: ${r.stderr}`);
  const rows = JSON.parse(r.stdout).artifacts.examples.artifacts[0].metadata.row_count;
  return { wall, rssKiB: Number(rss[1]), rows };
}

/** The reference: DuckDB alone reading the file and writing one Parquet file (no typing, hashing or splitting). */
async function duckdbCopy(scan: string, out: string): Promise<number> {
  const conn = await duckdb();
  const start = performance.now();
  await conn.run(`COPY (SELECT * FROM ${scan}) TO ${sqlString(out)} (FORMAT parquet)`);
  conn.closeSync();
  return (performance.now() - start) / 1000;
}

async function main(): Promise<void> {
  const repeats = arg('repeats', 1);
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-example-gen-'));
  try {
    const flightsDir = path.join(tmp, 'flights');
    const csvDir = path.join(tmp, 'csv');
    await fs.promises.mkdir(flightsDir);
    await fs.promises.mkdir(csvDir);
    await fs.promises.copyFile(FLIGHTS, path.join(flightsDir, 'flights-3m.parquet'));
    await generateCsv(path.join(csvDir, 'synthetic-1m.csv'), 1_000_000);
    const datasets = [
      { name: 'flights-3m.parquet (3M rows, 5 cols)', dir: flightsDir, scan: `read_parquet(${sqlString(path.join(flightsDir, '*.parquet'))})` },
      { name: 'synthetic CSV (1M rows, 13 cols)', dir: csvDir, scan: `read_csv(${sqlString(path.join(csvDir, '*.csv'))})` },
    ];
    const results: Measurement[] = [];
    for (const d of datasets) {
      const runs = [];
      for (let r = 0; r < repeats; r++) runs.push(runComponent(d.dir, path.join(tmp, `out-${results.length}-${r}`)));
      const best = runs.reduce((a, b) => (b.wall < a.wall ? b : a));
      const reference = await duckdbCopy(d.scan, path.join(tmp, `reference-${results.length}.parquet`));
      results.push({
        dataset: d.name,
        rows: best.rows,
        wallSeconds: best.wall,
        rowsPerSecond: best.rows / best.wall,
        peakRssMiB: Math.max(...runs.map((x) => x.rssKiB)) / 1024,
        duckdbCopySeconds: reference,
      });
    }
    if (process.argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      return;
    }
    console.log(`ExampleGen (mlp component run, child process; best of ${repeats}; ${os.cpus().length} cores)`);
    console.log('| input | rows | wall (s) | rows/s | peak RSS (MiB) | DuckDB read + Parquet write alone (s) |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.dataset} | ${r.rows} | ${r.wallSeconds.toFixed(2)} | ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} | ${r.peakRssMiB.toFixed(0)} | ${r.duckdbCopySeconds.toFixed(2)} |`);
    }
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
