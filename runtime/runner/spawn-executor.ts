// Parent side of a worker process: forks executor-process with the job, streams its stdout/stderr to the
// node's log file, and turns its reply, non-zero exit or signal into a result. Each worker leads its own process
// group, so a canceled run stops it together with what it started (trial processes, a model server) and a
// terminal's Ctrl-C reaches the runner alone, which decides what happens to its workers.

import { fork } from 'child_process';
import { createInterface } from 'readline';
import * as fs from 'fs';
import * as path from 'path';
import { ownModuleEntry } from '../core/own-module-entry';
import type { ExecutorJob, ExecutorProgress, ExecutorReply } from './executor-process';

export interface SpawnResult {
  ok: boolean;
  /** One-line reason on failure. */
  error?: string;
  /** The shards a sharded node ran (local-shards.ts). */
  shards?: number;
}

export interface RunningExecutor {
  result: Promise<SpawnResult>;
  /** Sends `signal` to the worker's whole process group (nothing when it is gone). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once no process of the group is left. */
  stop(graceMs: number): Promise<void>;
}

const GROUP_POLL_MS = 50;

/** Whether any process of the group `pgid` still exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * `onProgress` receives the executor's progress statuses as they come. With `linePrefix` every line the worker
 * writes goes to the log with that prefix (a shard's "[shard i/N] ", its lines interleaved with the other shards').
 */
export function spawnExecutor(job: ExecutorJob, logFile: string, env: NodeJS.ProcessEnv = {}, onProgress?: (status: string) => void, linePrefix?: string): RunningExecutor {
  const { file, execArgv } = ownModuleEntry(__dirname, 'executor-process');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  const output = linePrefix === undefined ? log : 'pipe';
  const child = fork(file, [], { execArgv, stdio: ['ignore', output, output, 'ipc'], env: { ...process.env, ...env }, detached: true });
  const appendLines = (text: string) => fs.appendFileSync(log, text.replace(/\n$/, '').split('\n').map((l) => `${linePrefix ?? ''}${l}\n`).join(''));
  // Whole lines only, so lines of workers sharing the log never mix.
  for (const stream of linePrefix === undefined ? [] : [child.stdout!, child.stderr!]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => appendLines(line));
  let reply: ExecutorReply | undefined;
  child.on('message', (m: ExecutorReply | ExecutorProgress) => {
    if ('progress' in m) onProgress?.(m.progress);
    else reply = m;
  });
  const result = new Promise<SpawnResult>((resolve) => {
    child.on('error', (err) => resolve({ ok: false, error: `could not start executor process: ${err.message}` }));
    // With pipes, 'close' comes once their last lines are read.
    child.on(linePrefix === undefined ? 'exit' : 'close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (reply && !reply.ok && !reply.userError && reply.stack) appendLines(reply.stack);
      fs.closeSync(log);
      if (reply?.ok && code === 0) return resolve({ ok: true });
      if (reply && !reply.ok) {
        return resolve({ ok: false, error: reply.message.split('\n')[0] });
      }
      resolve({ ok: false, error: signal ? `executor process killed by ${signal}` : `executor process exited with code ${code}` });
    });
  });
  child.send(job);
  const kill = (signal: NodeJS.Signals) => signalGroup(child.pid, signal);
  const stop = async (graceMs: number) => {
    kill('SIGTERM');
    const pgid = child.pid;
    if (pgid === undefined) return;
    const deadline = Date.now() + graceMs;
    while (groupAlive(pgid)) {
      if (Date.now() >= deadline) kill('SIGKILL');
      await new Promise((r) => setTimeout(r, GROUP_POLL_MS));
    }
    await result;
  };
  return { result, kill, stop };
}
