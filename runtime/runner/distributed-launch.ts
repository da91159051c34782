// Runs a distributed container step on this machine (issue 19 §2), as torchrun's standalone mode would: every rank
// is a local process with the launchers' environment (distribution.ts) and rank 0 as coordinator on 127.0.0.1.
// In a pod of a cluster (CLUSTER_WORKER_ENV, a JobSet pod with processesPerWorker > 1) it is that worker's entry, as
// torchrun's multi-node mode: it starts the worker's processesPerWorker ranks (NODE_RANK × processesPerWorker +
// LOCAL_RANK) with the coordinator the pod's environment names; its local rank 0 writes the outputs the pod's step
// reads (the node's on worker 0, scratch ones on the others).
// Each rank's output lines go to the node log prefixed `[rank r]`; the first rank to fail stops the others and
// fails the node with its last stderr lines. Rank 0 writes the step's real outputs (which the launcher publishes
// atomically, as for one process); the other ranks get the same command line with outputs in scratch folders.

import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { UserError } from '../core/errors';
import { clusterWorker, rankEnvironment, type Coordinator, type RankLayout } from '../components/container/distribution';
import type { PlaceholderView } from '../components/container/placeholders';
import type { ProcessOutcome } from '../components/container/local-exec';

const COORDINATOR_ADDRESS = '127.0.0.1';
const STDERR_TAIL_LINES = 5;
/** How long a stopped rank may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;

/**
 * A port nothing listens on now. Rank 0 binds it later (torch's TCPStore, JAX's coordinator), as torchrun's
 * standalone mode does: another process could take it in between, and rank 0 then fails saying so.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, COORDINATOR_ADDRESS, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The view a rank other than 0 sees: every output (artifact, parameter file, ExecutorOutput) under `dir`. */
async function scratchView(view: PlaceholderView, dir: string): Promise<PlaceholderView> {
  const executorInput = structuredClone(view.executorInput);
  const outputs: Record<string, string> = {};
  for (const [port, list] of Object.entries(executorInput.outputs.artifacts ?? {})) {
    await fs.promises.mkdir(path.join(dir, 'outputs', port), { recursive: true });
    outputs[port] = path.join(dir, 'outputs', port, port);
    for (const a of list.artifacts) a.uri = outputs[port];
  }
  for (const [p, param] of Object.entries(executorInput.outputs.parameters ?? {})) {
    await fs.promises.mkdir(path.join(dir, 'parameters', p), { recursive: true });
    param.outputFile = path.join(dir, 'parameters', p, 'data');
  }
  executorInput.outputs.outputFile = path.join(dir, 'executor_output.json');
  return { executorInput, paths: { inputs: view.paths.inputs, outputs } };
}

/** Writes a stream's complete lines with `prefix`, keeping a partial last line until it ends. */
function prefixLines(prefix: string, write: (text: string) => void): { data(chunk: Buffer): void; end(): void } {
  let partial = '';
  return {
    data(chunk) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      if (lines.length) write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    end() {
      if (partial) write(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

interface Rank {
  rank: number;
  child: ChildProcess;
  stderr: string;
  closed: Promise<void>;
}

/**
 * Starts every rank, waits for all of them, and resolves with a success outcome; the first rank that exits
 * non-zero (or is killed, or cannot start) stops the others and the node fails with what it wrote last.
 * `scratch` is the executor's work folder (removed after the step); `argvFor` resolves the command line for a view.
 */
export async function runRanks(
  layout: RankLayout,
  view: PlaceholderView,
  scratch: string,
  argvFor: (view: PlaceholderView) => string[],
  env: NodeJS.ProcessEnv,
  where: string,
  log: (line: string) => void,
): Promise<ProcessOutcome> {
  const worker = clusterWorker(layout, env, where);
  let coordinator: Coordinator;
  if (worker) {
    coordinator = worker.coordinator;
  } else {
    const torchPort = await freePort();
    let jaxPort = await freePort();
    while (jaxPort === torchPort) jaxPort = await freePort();
    coordinator = { address: COORDINATOR_ADDRESS, torchPort, jaxPort };
  }
  // This machine's ranks: all of them, or one worker's.
  const first = worker ? worker.nodeRank * layout.processesPerWorker : 0;
  const count = worker ? layout.processesPerWorker : layout.worldSize;
  const which = worker ? `ranks ${first}–${first + count - 1} of ${layout.worldSize} (worker ${worker.nodeRank} of ${layout.workers})` : `${layout.worldSize} ranks`;
  log(`${where}: ${which} (${layout.workers} worker(s) × ${layout.processesPerWorker} process(es)${layout.tpu ? `, TPU ${layout.tpu.version} ${layout.tpu.topology}` : ''}), coordinator ${coordinator.address} ports ${coordinator.torchPort} (torch) and ${coordinator.jaxPort} (JAX); rank 0 writes the outputs`);

  const argvs = new Map<number, string[]>();
  // The first rank here writes the outputs the executor reads (rank 0's are the step's; a cluster's other workers'
  // are scratch already); the others write to scratch folders of their own.
  for (let r = first; r < first + count; r++) argvs.set(r, argvFor(r === first ? view : await scratchView(view, path.join(scratch, `rank-${r}`))));

  let failure: { rank: number; how: string } | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const ranks: Rank[] = [];
  const stopOthers = (): void => {
    for (const r of ranks) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    stopTimer = setTimeout(() => {
      for (const r of ranks) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    }, STOP_GRACE_MS);
  };
  const failed = (rank: number, how: string): void => {
    if (failure) return;
    failure = { rank, how };
    stopOthers();
  };

  for (let r = first; r < first + count; r++) {
    const argv = argvs.get(r)!;
    // The child stays in the worker's process group, so canceling the run stops every rank.
    const child = spawn(argv[0], argv.slice(1), { env: { ...env, ...rankEnvironment(layout, r, coordinator) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = prefixLines(`[rank ${r}] `, (t) => process.stdout.write(t));
    const err = prefixLines(`[rank ${r}] `, (t) => process.stderr.write(t));
    const entry: Rank = { rank: r, child, stderr: '', closed: Promise.resolve() };
    child.stdout!.on('data', out.data);
    child.stderr!.on('data', (chunk: Buffer) => {
      err.data(chunk);
      // Enough text for the last lines, however long each chunk is.
      entry.stderr = (entry.stderr + chunk.toString('utf8')).slice(-8192);
    });
    entry.closed = new Promise((resolve) => {
      child.on('error', (e: NodeJS.ErrnoException) => {
        failed(r, e.code === 'ENOENT' ? `could not start: command not found: ${argv[0]}` : `could not start ${argv[0]}: ${e.message}`);
        resolve();
      });
      // 'exit' (not 'close') so a failure stops the others at once, even while a grandchild holds its pipes.
      child.on('exit', (code, signal) => {
        if (code !== 0) failed(r, signal ? `was killed by ${signal}` : `exited with code ${code}`);
      });
      child.on('close', () => {
        out.end();
        err.end();
        resolve();
      });
    });
    ranks.push(entry);
  }
  await Promise.all(ranks.map((r) => r.closed));
  if (stopTimer) clearTimeout(stopTimer);
  if (failure) {
    const { rank, how } = failure;
    const tail = ranks.find((e) => e.rank === rank)!.stderr.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-STDERR_TAIL_LINES);
    const others = count > 1 ? '; the ranks still running were stopped' : '';
    throw new UserError(`${where}: rank ${rank} of ${layout.worldSize} (worker ${Math.floor(rank / layout.processesPerWorker)}) ${how}${tail.length ? `; last stderr lines: ${tail.join(' | ')}` : '; it wrote nothing to stderr'}${others}`);
  }
  return { code: 0, signal: null, stderrTail: [] };
}
