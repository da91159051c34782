// Benchmark: latency of mlp ui's JSON API on a large store — a generated SQLite store of 1000 runs × 10 nodes
// (10 000 executions, 11 000 artifacts), served in-process over HTTP on loopback: the runs list (first and a
// deep page), one run's DAG, and lineage queries (a pushed model's upstream, bounded and unbounded; the first
// examples' downstream). Sequential requests, so each figure is one request's latency.
// Run: npm run bench:ui [-- --runs 1000 --requests 30 --json]

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { openMetadataStore } from '../../runtime/metadata';
import { startUiServer } from '../../runtime/ui/server';
import { generateStore, NODES_PER_RUN } from '../runtime/ui/generated-store';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, requests: { type: 'string', default: '30' }, json: { type: 'boolean', default: false } } });
  const runs = Number(flags.runs);
  const requests = Number(flags.requests);
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-ui-'));
  const address = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  try {
    let t = performance.now();
    const store = await openMetadataStore(address);
    const generated = await generateStore(store, runs);
    const executions = await store.countExecutions();
    await store.close();
    const generateSeconds = (performance.now() - t) / 1000;

    const server = await startUiServer({ metadata: address, root: dir, host: '127.0.0.1', port: 0, modelServer: { labels: [] } });
    const middle = generated.runIds[Math.floor(runs / 2)];
    const queries: [string, string][] = [
      ['runs list, first page (50)', '/api/runs'],
      ['runs list, deep page (offset 900)', `/api/runs?offset=${Math.max(0, runs - 100)}`],
      ['one run with its DAG', `/api/runs/${middle}`],
      ['lineage: pushed model upstream (10 hops)', `/api/artifacts/${generated.lastPushedModelId}/lineage?direction=upstream`],
      ['lineage: pushed model upstream (100 hops)', `/api/artifacts/${generated.lastPushedModelId}/lineage?direction=upstream&hops=100`],
      ['lineage: first examples downstream (10 hops)', `/api/artifacts/${generated.firstExamplesId}/lineage?direction=downstream`],
      ['artifacts list, first page (50)', '/api/artifacts'],
    ];
    const results: { query: string; url: string; p50: number; p95: number; bytes: number }[] = [];
    try {
      for (const [query, url] of queries) {
        const times: number[] = [];
        let bytes = 0;
        // One warm-up request: the first one also pays for preparing statements.
        for (let i = 0; i <= requests; i++) {
          t = performance.now();
          const res = await fetch(`${server.url}${url}`);
          const body = await res.arrayBuffer();
          if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${Buffer.from(body).toString()}`);
          if (i > 0) times.push(performance.now() - t);
          bytes = body.byteLength;
        }
        results.push({ query, url, p50: quantile(times, 0.5), p95: quantile(times, 0.95), bytes });
      }
    } finally {
      await server.close();
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ runs, executions, generateSeconds, requests, results }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`store: ${runs} runs × ${NODES_PER_RUN} nodes = ${executions} executions (generated in ${generateSeconds.toFixed(1)} s); ${requests} sequential requests each\n`);
    for (const r of results) {
      process.stdout.write(`${r.query.padEnd(48)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   ${(r.bytes / 1024).toFixed(1)} KiB\n`);
    }
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
