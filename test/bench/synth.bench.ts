// Benchmark: wall time and peak RSS of synthesizing all environments (dev, staging, prod) in a fresh process, the way
// `npm run synth` does. Run with `npm run bench:synth`. Targets: < 5 s and < 1.5 GiB.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { median } from './median';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 5000;
const TARGET_RSS_MIB = 1536;

interface ChildResult {
  /** Node start to synth done (includes TS transpile-on-load of the app and provider bindings). */
  readonly processMs: number;
  /** Building the three stacks and writing cdktf.out. */
  readonly synthMs: number;
  /** A second synthesis in the same process (warm module cache). */
  readonly warmSynthMs: number;
  readonly maxRssMiB: number;
  readonly stacks: string[];
}

function child(): void {
  process.env.CHECKPOINT_DISABLE = '1';
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-'));
  try {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPlatformApp } = require('../../stacks/app') as typeof import('../../stacks/app');
    const { app, stacks } = buildPlatformApp({ outdir });
    app.synth();
    const t1 = performance.now();
    const again = buildPlatformApp({ outdir: path.join(outdir, 'warm') });
    again.app.synth();
    const t2 = performance.now();
    const result: ChildResult = {
      processMs: t1, // performance.now() counts from process start
      synthMs: t1 - t0,
      warmSynthMs: t2 - t1,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      stacks: fs.readdirSync(path.join(outdir, 'stacks')).sort(),
    };
    if (stacks.length !== 3) throw new Error('expected three stacks');
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}


function parent(): void {
  const results: (ChildResult & { wallMs: number })[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    // Same loader flags as this process (e.g. `-r sucrase/register/ts` from the npm script).
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child'], {
      encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    const wallMs = performance.now() - start;
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    const line = r.stdout.trim().split('\n').pop()!;
    results.push({ ...(JSON.parse(line) as ChildResult), wallMs });
  }
  const wall = results.map((r) => r.wallMs);
  const rss = results.map((r) => r.maxRssMiB);
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`synth all environments (${results[0].stacks.join(', ')}), ${RUNS} fresh processes, node ${process.version}, ${os.cpus().length} cores`);
  console.log(`  wall (spawn to exit):     median ${fmt(median(wall))}, max ${fmt(Math.max(...wall))}   target < ${fmt(TARGET_MS)}`);
  console.log(`  in-process to synth done: median ${fmt(median(results.map((r) => r.processMs)))}`);
  console.log(`  build + synth (cold):     median ${fmt(median(results.map((r) => r.synthMs)))}`);
  console.log(`  build + synth (warm):     median ${fmt(median(results.map((r) => r.warmSynthMs)))}`);
  console.log(`  peak RSS:                 median ${median(rss).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB   target < ${TARGET_RSS_MIB} MiB`);
  const ok = Math.max(...wall) < TARGET_MS && Math.max(...rss) < TARGET_RSS_MIB;
  console.log(ok ? 'PASS: within targets' : 'FAIL: over target');
  if (!ok) process.exitCode = 1;
}

if (process.argv.includes('--child')) child();
else parent();
