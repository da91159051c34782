// Benchmark: the data path's scale curve. For each size (millions of rows) it generates a Parquet file on the fly
// (12 columns: INT, FLOAT, STRING, with missing values) and runs ExampleGen → StatisticsGen → SchemaGen →
// ExampleValidator → Transform (analysis only) as `mlp component run` child processes, each timed by
// /usr/bin/time -v: wall and CPU seconds and peak RSS per component per size, the slope (seconds per million rows
// between consecutive sizes) and the disk the artifacts use.
// Run: node -r sucrase/register/ts test/bench/scale-curve.bench.ts [--sizes 10,30,100] [--json]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { duckdb, sqlString } from '../../runtime/data/duckdb';
import { timeCommand } from './process-usage';

const REPO = path.resolve(__dirname, '..', '..');
const MLP = path.join(REPO, 'runtime', 'cli', 'mlp.js');

interface Step {
  component: string;
  wall: number;
  cpu: number;
  peakRssMiB: number;
}

/** `rows` rows × 12 columns of mixed types; every column but the id has missing values. */
async function generate(file: string, rows: number): Promise<void> {
  const conn = await duckdb();
  await conn.run(
    `COPY (SELECT i AS id, ` +
      `CASE WHEN i % 31 = 0 THEN NULL ELSE i % 1000 END AS int_small, ` +
      `CASE WHEN i % 37 = 0 THEN NULL ELSE (i * 2654435761) % 1000003 END AS int_wide, ` +
      `CASE WHEN i % 41 = 0 THEN NULL ELSE (i % 2) END AS flag, ` +
      `CASE WHEN i % 43 = 0 THEN NULL ELSE sin(i) * 100 END AS float_a, ` +
      `CASE WHEN i % 47 = 0 THEN NULL ELSE (i % 977) / 7.0 END AS float_b, ` +
      `CASE WHEN i % 53 = 0 THEN NULL ELSE cos(i / 3.0) END AS float_c, ` +
      `CASE WHEN i % 59 = 0 THEN NULL ELSE ['red', 'green', 'blue', 'teal', 'plum'][i % 5 + 1] END AS color, ` +
      `CASE WHEN i % 61 = 0 THEN NULL ELSE 'city_' || (i * 7) % 300 END AS city, ` +
      `CASE WHEN i % 67 = 0 THEN NULL ELSE 'user_' || (i * 13) % 100000 END AS user_id, ` +
      `CASE WHEN i % 71 = 0 THEN NULL ELSE 'note ' || (i % 5000) || ', "q"' END AS note, ` +
      `CASE WHEN i % 73 = 0 THEN NULL ELSE ((i % 10) + (i % 7)) / 2.0 END AS label ` +
      `FROM range(${rows}) t(i)) TO ${sqlString(file)} (FORMAT parquet)`,
  );
  conn.closeSync();
}

const TRANSFORM_SPEC = [
  { kind: 'vocabulary', feature: 'color' },
  { kind: 'vocabulary', feature: 'city', top_k: 100 },
  { kind: 'hash', feature: 'user_id', hash_buckets: 1000 },
  { kind: 'z_score', feature: 'float_a' },
  { kind: 'min_max', feature: 'float_b' },
  { kind: 'bucketize', feature: 'int_wide', num_buckets: 10 },
  { kind: 'z_score', feature: 'int_small' },
];

type Artifacts = Record<string, { uri: string; metadata?: Record<string, unknown> }>;

/** One `mlp component run` under /usr/bin/time -v; returns its timing and its output artifacts (uri + metadata). */
function run(component: string, params: Record<string, unknown>, inputs: Artifacts, outputs: Record<string, string>): { step: Step; out: Artifacts } {
  const executorInput = {
    inputs: {
      parameterValues: params,
      artifacts: Object.fromEntries(Object.entries(inputs).map(([port, a]) => [port, { artifacts: [a] }])),
    },
    outputs: { artifacts: Object.fromEntries(Object.entries(outputs).map(([port, uri]) => [port, { artifacts: [{ uri }] }])) },
  };
  const { stdout, ...timing } = timeCommand(process.execPath, [MLP, 'component', 'run', component, '--executor-input', JSON.stringify(executorInput), '--json']);
  const produced = JSON.parse(stdout).artifacts as Record<string, { artifacts: { uri: string; metadata: Record<string, unknown> }[] }>;
  return {
    step: { component, ...timing },
    out: Object.fromEntries(Object.entries(produced).map(([port, a]) => [port, a.artifacts[0]])),
  };
}

function diskMiB(dir: string): number {
  const r = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]) / 1024;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { sizes: { type: 'string', default: '10,30,100' }, json: { type: 'boolean', default: false } } });
  const sizes = flags.sizes!.split(',').map(Number);
  const results: { millions: number; inputMiB: number; artifactsMiB: number; load: number[]; steps: Step[] }[] = [];
  for (const millions of sizes) {
    const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-scale-'));
    try {
      const input = path.join(tmp, 'input');
      await fs.promises.mkdir(input);
      await generate(path.join(input, 'data.parquet'), millions * 1e6);
      const load = os.loadavg();
      const root = path.join(tmp, 'artifacts');
      const steps: Step[] = [];
      const gen = run('ExampleGen', { input_base: input }, {}, { examples: path.join(root, 'examples') });
      steps.push(gen.step);
      const stats = run('StatisticsGen', {}, { examples: gen.out.examples }, { statistics: path.join(root, 'statistics') });
      steps.push(stats.step);
      const schema = run('SchemaGen', {}, { statistics: stats.out.statistics }, { schema: path.join(root, 'schema') });
      steps.push(schema.step);
      const validator = run('ExampleValidator', { on_anomalies: 'warn' }, { statistics: stats.out.statistics, schema: schema.out.schema }, { anomalies: path.join(root, 'anomalies') });
      steps.push(validator.step);
      const transform = run('Transform', { spec: TRANSFORM_SPEC }, { examples: gen.out.examples }, {
        transform_graph: path.join(root, 'transform_graph'),
        transformed_examples: path.join(root, 'transformed_examples'),
      });
      steps.push(transform.step);
      results.push({ millions, inputMiB: diskMiB(input), artifactsMiB: diskMiB(root), load, steps });
      if (!flags.json) {
        console.log(`${millions}M rows (load average at start ${load.map((l) => l.toFixed(1)).join(' ')}; input ${diskMiB(input).toFixed(0)} MiB, artifacts ${diskMiB(root).toFixed(0)} MiB):`);
        for (const s of steps) console.log(`  ${s.component}: wall ${s.wall.toFixed(1)} s, CPU ${s.cpu.toFixed(1)} s, peak RSS ${s.peakRssMiB.toFixed(0)} MiB`);
      }
    } finally {
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ cores: os.cpus().length, results }, null, 2)}\n`);
    return;
  }
  console.log(`| component | ${results.map((r) => `${r.millions}M: wall / CPU (s), peak RSS (MiB)`).join(' | ')} | slope (wall s per M rows) |`);
  console.log(`|---|${results.map(() => '---|').join('')}---|`);
  for (const [i, s] of results[0].steps.entries()) {
    const cells = results.map((r) => `${r.steps[i].wall.toFixed(1)} / ${r.steps[i].cpu.toFixed(1)}, ${r.steps[i].peakRssMiB.toFixed(0)}`);
    const slopes = results.slice(1).map((r, k) => ((r.steps[i].wall - results[k].steps[i].wall) / (r.millions - results[k].millions)).toFixed(2));
    console.log(`| ${s.component} | ${cells.join(' | ')} | ${slopes.length ? slopes.join(', ') : `${(s.wall / results[0].millions).toFixed(2)} (one size, start-up included)`} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
