// Parent side of a worker process: forks executor-process with the job, streams its stdout/stderr to the
// node's log file, and turns its reply, non-zero exit or signal into a result.

import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ownModuleEntry } from '../core/own-module-entry';
import type { ExecutorJob, ExecutorReply } from './executor-process';

export interface SpawnResult {
  ok: boolean;
  /** One-line reason on failure. */
  error?: string;
}

export interface RunningExecutor {
  result: Promise<SpawnResult>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnExecutor(job: ExecutorJob, logFile: string, env: NodeJS.ProcessEnv = {}): RunningExecutor {
  const { file, execArgv } = ownModuleEntry(__dirname, 'executor-process');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  const child = fork(file, [], { execArgv, stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, ...env } });
  let reply: ExecutorReply | undefined;
  child.on('message', (m: ExecutorReply) => {
    reply = m;
  });
  const result = new Promise<SpawnResult>((resolve) => {
    child.on('error', (err) => resolve({ ok: false, error: `could not start executor process: ${err.message}` }));
    child.on('exit', (code, signal) => {
      fs.closeSync(log);
      if (reply?.ok && code === 0) return resolve({ ok: true });
      if (reply && !reply.ok) {
        if (!reply.userError && reply.stack) fs.appendFileSync(logFile, `${reply.stack}\n`);
        return resolve({ ok: false, error: reply.message.split('\n')[0] });
      }
      resolve({ ok: false, error: signal ? `executor process killed by ${signal}` : `executor process exited with code ${code}` });
    });
  });
  child.send(job);
  return { result, kill: (signal = 'SIGTERM') => child.kill(signal) };
}
