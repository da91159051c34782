// Parent side of a tuning trial: forks trial-process with the job, relays each epoch's objective value to the
// search (which answers continue or stop), and resolves to the best value the trial reached.

import { fork } from 'child_process';
import * as path from 'path';
import { UserError } from '../../core/errors';
import { ownModuleEntry } from '../../core/own-module-entry';
import type { Goal, TrialContext } from '../../tuning';
import type { FromTrial, ToTrial, TrialJob } from './trial-process';

export function runTrialProcess(job: TrialJob, metric: string, goal: Goal, context: TrialContext, log: (line: string) => void): Promise<number | undefined> {
  const { file, execArgv } = ownModuleEntry(__dirname, 'trial-process');
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let lastLine = '';
  const remember = (chunk: Buffer) => {
    const lines = chunk.toString('utf8').trim().split('\n');
    lastLine = lines[lines.length - 1] || lastLine;
  };
  child.stdout!.on('data', remember);
  child.stderr!.on('data', remember);
  let best: number | undefined;
  let reply: FromTrial | undefined;
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromTrial) => {
      if (m.type !== 'epoch') {
        reply = m;
        return;
      }
      const value = (m.record as unknown as Record<string, number | undefined>)[metric];
      if (value === undefined) {
        child.send({ type: 'decision', stop: true } satisfies ToTrial);
        reply = { type: 'error', message: `the trainer reports no metric "${metric}" (it reports ${Object.keys(m.record).join(', ')})` };
        return;
      }
      if (best === undefined || (goal === 'MAXIMIZE' ? value > best : value < best)) best = value;
      const decision = context.reportIntermediate(m.record.epoch, value);
      child.send({ type: 'decision', stop: decision === 'stop' } satisfies ToTrial);
    });
    child.on('exit', (code, signal) => {
      if (reply?.type === 'error') return reject(new UserError(reply.message));
      if (reply?.type === 'done') return resolve(best);
      reject(new UserError(`trial process ${signal ? `killed by ${signal}` : `exited with code ${code}`}: ${lastLine}`));
    });
    child.send({ type: 'run', job } satisfies ToTrial);
    log(`started ${path.basename(job.workDir)}: ${JSON.stringify(job.hyperparameters)}`);
  });
}
