// Micro-benchmark: scanCsv over one CSV file, record counting only (ExampleGen's accounting pass), with values
// decoded (its header and value checks) and with normalized output (its rewrite of mixed line endings). Each
// scanner module given (default: the repo's; e.g. another copy from `git show REV:runtime/data/csv-records.ts`)
// runs in interleaved rounds, order alternating, each run in its own child process timed around the scan only;
// the medians are the figures, so a machine whose speed drifts moves none of them much.
// Run: node -r sucrase/register/ts test/bench/csv-scan.bench.ts --file big.csv [--rounds 7] [--mode count|fields|normalized] [--module a.ts --module b.ts]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { median } from './median';

const DEFAULT_MODULE = path.resolve(__dirname, '..', '..', 'runtime', 'data', 'csv-records.ts');

interface Run {
  wall: number;
  cpu: number;
  records: number;
}

/** Child mode: one scan, printed as JSON on stdout's last line. */
async function child(module: string, mode: string, file: string): Promise<void> {
  const { scanCsv } = (await import(module)) as typeof import('../../runtime/data/csv-records');
  const out = mode === 'normalized' ? fs.createWriteStream('/dev/null') : undefined;
  let records = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await scanCsv(file, ',', () => void records++, { fields: mode === 'fields', normalized: out });
  const used = process.cpuUsage(cpu);
  const run: Run = { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6, records };
  out?.end();
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

function measure(module: string, mode: string, file: string): Run {
  const r = spawnSync(process.execPath, ['-r', 'sucrase/register/ts', __filename, '--child', '--module', module, '--mode', mode, '--file', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scan with ${module} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      file: { type: 'string' },
      rounds: { type: 'string', default: '7' },
      mode: { type: 'string', default: 'count' },
      module: { type: 'string', multiple: true },
      child: { type: 'boolean', default: false },
    },
  });
  if (!flags.file) throw new Error('--file is required');
  if (!['count', 'fields', 'normalized'].includes(flags.mode!)) throw new Error(`--mode must be count, fields or normalized, not ${flags.mode}`);
  const modules = (flags.module ?? [DEFAULT_MODULE]).map((m) => path.resolve(m));
  if (flags.child) return child(modules[0], flags.mode!, flags.file);
  const runs = new Map<string, Run[]>(modules.map((m) => [m, []]));
  for (let round = 0; round < Number(flags.rounds); round++) {
    const order = round % 2 ? [...modules].reverse() : modules;
    for (const m of order) runs.get(m)!.push(measure(m, flags.mode!, flags.file));
  }
  const counts = new Set([...runs.values()].flat().map((r) => r.records));
  // Every scanner must see the same records, or the timings compare different work.
  if (counts.size !== 1) throw new Error(`the scanners disagree on the record count: ${[...counts].join(', ')}`);
  for (const [m, rs] of runs) {
    const walls = rs.map((r) => r.wall.toFixed(3)).join(' ');
    console.log(`${m}: median wall ${median(rs.map((r) => r.wall)).toFixed(3)} s, cpu ${median(rs.map((r) => r.cpu)).toFixed(3)} s (walls: ${walls}; ${[...counts][0]} records, ${flags.mode})`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
