// Benchmark: ExampleGen on flights-3m.parquet (3M rows, 5 columns) and on a generated 1M-row, 13-column CSV
// (with missing cells and quoted fields): rows/s, wall time and peak RSS of `mlp component run ExampleGen` in a
// child process (read from /usr/bin/time -v), next to DuckDB reading the same file and writing it to Parquet.
// Run: node -r sucrase/register/ts test/bench/example-gen.bench.ts [--repeats 3] [--csv-rows 1000000] [--json]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { duckdb, sqlString } from '../../runtime/data/duckdb';

const REPO = path.resolve(__dirname, '..', '..');
const MLP = path.join(REPO, 'runtime', 'cli', 'mlp.js');
const MODULE = path.join(REPO, 'runtime', 'components', 'example-gen', 'index.ts');
const FLIGHTS = path.join(REPO, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

interface Measurement {
  dataset: string;
  rows: number;
  wallSeconds: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  duckdbCopySeconds: number;
  duckdbCopyCpuSeconds: number;
}

/** `rows` rows, 13 columns: an id, 4 INT, 4 FLOAT (some missing) and 4 STRING (categories, free text with commas and quotes). */
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

/** Peak RSS (KiB), wall and CPU seconds of one `mlp component run ExampleGen`. */
function runComponent(inputBase: string, out: string): { wall: number; cpu: number; rssKiB: number; rows: number } {
  const input = { inputs: { parameterValues: { input_base: inputBase } }, outputs: { artifacts: { examples: { artifacts: [{ uri: out }] } } } };
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, MLP, 'component', 'run', 'ExampleGen', '--module', MODULE, '--executor-input', JSON.stringify(input), '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`ExampleGen failed (${r.status}): ${r.stderr}`);
  const field = (name: string) => {
    const m = new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr);
    if (!m) throw new Error(`no "${name}" in /usr/bin/time output: ${r.stderr}`);
    return Number(m[1]);
  };
  const rows = JSON.parse(r.stdout).artifacts.examples.artifacts[0].metadata.row_count;
  return { wall, cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'), rssKiB: field('Maximum resident set size \\(kbytes\\)'), rows };
}

/** The reference: DuckDB alone reading the file and writing one Parquet file (no typing, hashing or splitting). */
async function duckdbCopy(scan: string, out: string): Promise<{ wall: number; cpu: number }> {
  const conn = await duckdb();
  const start = performance.now();
  const cpu = process.cpuUsage();
  await conn.run(`COPY (SELECT * FROM ${scan}) TO ${sqlString(out)} (FORMAT parquet)`);
  const used = process.cpuUsage(cpu);
  conn.closeSync();
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: { repeats: { type: 'string', default: '1' }, 'csv-rows': { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false } },
  });
  const repeats = Number(flags.repeats);
  const csvRows = Number(flags['csv-rows']);
  // Other work on the machine inflates wall times; CPU seconds and this number help read them.
  const loadBefore = os.loadavg();
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-example-gen-'));
  try {
    const flightsDir = path.join(tmp, 'flights');
    const csvDir = path.join(tmp, 'csv');
    await fs.promises.mkdir(flightsDir);
    await fs.promises.mkdir(csvDir);
    await fs.promises.copyFile(FLIGHTS, path.join(flightsDir, 'flights-3m.parquet'));
    await generateCsv(path.join(csvDir, 'synthetic.csv'), csvRows);
    const datasets = [
      { name: 'flights-3m.parquet (3M rows, 5 cols)', dir: flightsDir, scan: `read_parquet(${sqlString(path.join(flightsDir, '*.parquet'))})` },
      { name: `synthetic CSV (${csvRows / 1e6}M rows, 13 cols)`, dir: csvDir, scan: `read_csv(${sqlString(path.join(csvDir, '*.csv'))})` },
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
        cpuSeconds: best.cpu,
        rowsPerSecond: best.rows / best.wall,
        peakRssMiB: Math.max(...runs.map((x) => x.rssKiB)) / 1024,
        duckdbCopySeconds: reference.wall,
        duckdbCopyCpuSeconds: reference.cpu,
      });
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      return;
    }
    console.log(`ExampleGen (mlp component run, child process; best of ${repeats}; ${os.cpus().length} cores)`);
    console.log(`load average (1/5/15 min) at the start: ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
    console.log('| input | rows | wall (s) | CPU (s) | rows/s | peak RSS (MiB) | DuckDB read + Parquet write alone: wall / CPU (s) |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) {
      const rate = Math.round(r.rowsPerSecond).toLocaleString('en-US');
      console.log(
        `| ${r.dataset} | ${r.rows} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${rate} | ${r.peakRssMiB.toFixed(0)} | ${r.duckdbCopySeconds.toFixed(2)} / ${r.duckdbCopyCpuSeconds.toFixed(2)} |`,
      );
    }
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
