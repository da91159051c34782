// Runs `mlp serve` as a child process for the InfraValidator: waits for its ready line and for the model to be
// AVAILABLE within a deadline, sends requests, measures latency and the process's resident memory, and stops
// it with SIGTERM (SIGKILL if it does not exit).

import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import { MLP_BIN } from '../../core/version';
import { UserError } from '../../core/errors';
import type { Signature } from '../../ml/signature';
import { predictResponseFailure } from './predict-response';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  loadMs: number;
  stop(): Promise<void>;
}

const READY_RE = /on (http:\/\/[^\s]+)/;
/** How long a stop waits before SIGKILL; the server's drain ends well before (no load balancer sends it requests). */
const STOP_MS = 5000;
const DRAIN_ARGS = ['--drain-seconds', String(STOP_MS / 1000 - 1), '--drain-accept-seconds', '0'];

export async function startServerProcess(opts: { basePath: string; modelName: string; deadlineMs: number; log(line: string): void }): Promise<ServerProcess> {
  const started = Date.now();
  const child = spawn(process.execPath, [MLP_BIN, 'serve', '--model-base-path', opts.basePath, '--model-name', opts.modelName, '--port', '0', ...DRAIN_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError(`model server did not start within ${opts.deadlineMs} ms: ${output.trim().split('\n').pop() ?? ''}`)), opts.deadlineMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const m = READY_RE.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/$/, ''));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new UserError(`model server exited with code ${code} before it was ready: ${output.trim().split('\n').pop() ?? ''}`));
      });
    });
    // Ready means listening; the model is usable once its status says AVAILABLE.
    for (;;) {
      const res = await fetch(`${url}/v1/models/${opts.modelName}`).catch(() => undefined);
      const body = res ? ((await res.json().catch(() => ({}))) as { model_version_status?: { state: string; status?: { error_message?: string } }[] }) : {};
      const states = body.model_version_status ?? [];
      if (states.some((s) => s.state === 'AVAILABLE')) break;
      const failed = states.find((s) => s.status?.error_message);
      if (failed) throw new UserError(`model server could not load the model: ${failed.status!.error_message}`);
      if (Date.now() - started > opts.deadlineMs) throw new UserError(`model was not AVAILABLE within ${opts.deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const loadMs = Date.now() - started;
    opts.log(`model server ready at ${url} in ${loadMs} ms`);
    return { child, url, loadMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function rssMbOf(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface ProbeResult {
  failures: string[];
  p50LatencyMs: number;
  p99LatencyMs: number;
  rssMb: number;
}

/** Most failures listed; the rest are counted. */
const LISTED_FAILURES = 5;

/** Sends one :predict request per row and checks each answer (predict-response.ts) against the signature. */
export async function probeServer(server: ServerProcess, modelName: string, rows: Record<string, unknown>[], signature: Signature): Promise<ProbeResult> {
  const latencies: number[] = [];
  const failures: string[] = [];
  for (const [i, row] of rows.entries()) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/models/${modelName}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [row] }) });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    const failure = predictResponseFailure(res.status, text, [row], signature);
    if (failure) failures.push(`request ${i + 1}: ${failure}`);
  }
  latencies.sort((a, b) => a - b);
  const listed = failures.slice(0, LISTED_FAILURES);
  if (failures.length > LISTED_FAILURES) listed.push(`${failures.length - LISTED_FAILURES} more of the ${rows.length} requests failed`);
  return { failures: listed, p50LatencyMs: percentile(latencies, 0.5), p99LatencyMs: percentile(latencies, 0.99), rssMb: rssMbOf(server.child.pid) };
}
