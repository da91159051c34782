// Benchmark: ExampleGen on flights-3m.parquet (3M rows, 5 columns) and on a generated 1M-row, 13-column CSV (with
// missing cells and quoted fields) against DuckDB alone reading the same file and writing it to Parquet. The two
// run in interleaved rounds (order alternating), each in its own child process timed around the work only (the
// ExampleGen executor; DuckDB's COPY), so a machine shared with other jobs slows both alike; the median of the
// per-round ratios is the figure. Afterwards one `mlp component run ExampleGen` per input gives the end-to-end
// time (Node start-up and the CLI included) and peak RSS under /usr/bin/time -v.
// Run: node -r sucrase/register/ts test/bench/example-gen.bench.ts [--rounds 3] [--csv-rows 1000000] [--json]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { duckdb, sqlString } from '../../runtime/data/duckdb';
import { median } from './median';
import { peakRssMiB, timeCommand } from './process-usage';

const REPO = path.resolve(__dirname, '..', '..');
const MLP = path.join(REPO, 'runtime', 'cli', 'mlp.js');
const MODULE = path.join(REPO, 'runtime', 'components', 'example-gen', 'index.ts');
const FLIGHTS = path.join(REPO, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

interface Timing {
  wall: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpu: number;
  peakRssMiB: number;
  rows?: number;
}

/** `rows` rows, 13 columns: an id, 4 INT, 4 FLOAT (some missing) and 4 STRING (categories, free text with commas and quotes). */
export async function generateCsv(file: string, rows: number): Promise<void> {
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

/** Child mode: one measured run, printed as JSON on stdout's last line. */
async function child(mode: string, input: string, out: string): Promise<void> {
  let work: () => Promise<number | undefined>;
  if (mode === 'duckdb') {
    const conn = await duckdb();
    const scan = /\.csv$/.test(input) ? `read_csv(${sqlString(input)})` : `read_parquet(${sqlString(input)})`;
    work = async () => {
      await conn.run(`COPY (SELECT * FROM ${scan}) TO ${sqlString(out)} (FORMAT parquet)`);
      return undefined;
    };
  } else {
    const { runExampleGen } = await import('../../runtime/components/example-gen/run');
    const { ExampleGenParameters } = await import('../../runtime/components/example-gen/parameters');
    await fs.promises.mkdir(out, { recursive: true });
    work = async () => Number((await runExampleGen(ExampleGenParameters.parse({ input_base: path.dirname(input) }), out, () => undefined, `${out}.rejects.jsonl`)).row_count);
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  const rows = await work();
  const used = process.cpuUsage(cpu);
  const timing: Timing = { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6, peakRssMiB: peakRssMiB(), rows };
  process.stdout.write(`${JSON.stringify(timing)}\n`);
}

function measure(mode: 'duckdb' | 'examplegen', input: string, out: string): Timing {
  const r = spawnSync(process.execPath, ['-r', 'sucrase/register/ts', __filename, '--child', mode, '--input', input, '--out', out], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode} run failed (${r.status}): ${r.stderr}`);
  fs.rmSync(out, { recursive: true, force: true });
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Wall, CPU seconds and peak RSS of one whole `mlp component run ExampleGen` (process start-up included). */
function runComponent(inputBase: string, out: string): Timing {
  const input = { inputs: { parameterValues: { input_base: inputBase } }, outputs: { artifacts: { examples: { artifacts: [{ uri: out }] } } } };
  const { stdout, ...timing } = timeCommand(process.execPath, [MLP, 'component', 'run', 'ExampleGen', '--module', MODULE, '--executor-input', JSON.stringify(input), '--json']);
  fs.rmSync(out, { recursive: true, force: true });
  return { ...timing, rows: JSON.parse(stdout).artifacts.examples.artifacts[0].metadata.row_count };
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'csv-rows': { type: 'string', default: '1000000' },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
      input: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (flags.child) return child(flags.child, flags.input!, flags.out!);
  const rounds = Number(flags.rounds);
  const csvRows = Number(flags['csv-rows']);
  const loadBefore = os.loadavg();
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-example-gen-'));
  try {
    const flights = path.join(tmp, 'flights', 'flights-3m.parquet');
    const csv = path.join(tmp, 'csv', 'synthetic.csv');
    await fs.promises.mkdir(path.dirname(flights));
    await fs.promises.mkdir(path.dirname(csv));
    await fs.promises.copyFile(FLIGHTS, flights);
    await generateCsv(csv, csvRows);
    const datasets = [
      { name: 'flights-3m.parquet (3M rows, 5 cols)', input: flights },
      { name: `synthetic CSV (${csvRows / 1e6}M rows, 13 cols)`, input: csv },
    ];
    const runs = datasets.map(() => ({ duckdb: [] as Timing[], examplegen: [] as Timing[] }));
    for (let r = 0; r < rounds; r++) {
      for (const [i, d] of datasets.entries()) {
        const order: ('duckdb' | 'examplegen')[] = r % 2 ? ['examplegen', 'duckdb'] : ['duckdb', 'examplegen'];
        for (const mode of order) runs[i][mode].push(measure(mode, d.input, path.join(tmp, `out-${mode}`)));
      }
    }
    const whole = datasets.map((d) => runComponent(path.dirname(d.input), path.join(tmp, 'out-cli')));
    const loadAfter = os.loadavg();
    const results = datasets.map((d, i) => {
      const { duckdb: base, examplegen: eg } = runs[i];
      return {
        dataset: d.name,
        rows: eg[0].rows,
        examplegen: { wall: median(eg.map((x) => x.wall)), cpu: median(eg.map((x) => x.cpu)), peakRssMiB: Math.max(...eg.map((x) => x.peakRssMiB)) },
        duckdb: { wall: median(base.map((x) => x.wall)), cpu: median(base.map((x) => x.cpu)), peakRssMiB: Math.max(...base.map((x) => x.peakRssMiB)) },
        wallRatio: median(eg.map((x, k) => x.wall / base[k].wall)),
        cpuRatio: median(eg.map((x, k) => x.cpu / base[k].cpu)),
        rounds: runs[i],
        componentRun: whole[i],
      };
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ loadBefore, loadAfter, cores: os.cpus().length, results }, null, 2)}\n`);
      return;
    }
    const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
    console.log(`ExampleGen vs DuckDB read + Parquet write, ${rounds} interleaved rounds, ${os.cpus().length} cores`);
    console.log(`load average (1/5/15 min): ${load(loadBefore)} at the start, ${load(loadAfter)} at the end`);
    console.log('| input | rows | ExampleGen wall / CPU (s), median | DuckDB wall / CPU (s), median | ratio wall / CPU (median of rounds) | peak RSS ExampleGen (MiB) | `mlp component run` wall / CPU (s), peak RSS (MiB) |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) {
      const c = r.componentRun;
      console.log(
        `| ${r.dataset} | ${r.rows} | ${r.examplegen.wall.toFixed(2)} / ${r.examplegen.cpu.toFixed(2)} | ${r.duckdb.wall.toFixed(2)} / ${r.duckdb.cpu.toFixed(2)} | ` +
          `${r.wallRatio.toFixed(2)}× / ${r.cpuRatio.toFixed(2)}× | ${r.examplegen.peakRssMiB.toFixed(0)} | ${c.wall.toFixed(2)} / ${c.cpu.toFixed(2)}, ${c.peakRssMiB.toFixed(0)} |`,
      );
    }
    console.log('rounds (wall s, ExampleGen / DuckDB):');
    for (const r of results) console.log(`  ${r.dataset}: ${r.rounds.examplegen.map((x, k) => `${x.wall.toFixed(2)} / ${r.rounds.duckdb[k].wall.toFixed(2)}`).join(', ')}`);
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
