// Entry point of a runner worker process: receives one job over IPC (component name, modules that define
// it, ExecutorInput file), runs it through the same launcher `mlp component run` uses, replies and exits.
// A separate process per execution, so a crashing executor cannot take the runner down.

import * as fs from 'fs';
import { getComponent, type StepIdentity } from '../core/component';
import { launchComponent, parseExecutorInput } from '../core/launcher';
import { UserError } from '../core/errors';
import { loadComponentModules } from './component-modules';

export interface ExecutorJob {
  component: string;
  /** Modules to load first so user-defined components register themselves. */
  modules: string[];
  executorInputPath: string;
  step: StepIdentity;
}

export type ExecutorReply =
  | { ok: true }
  | { ok: false; message: string; userError: boolean; stack?: string };

/** Sent any number of times before the reply: the executor's progress status (ExecutorContext.progress). */
export interface ExecutorProgress {
  progress: string;
}

async function runJob(job: ExecutorJob): Promise<ExecutorReply> {
  try {
    loadComponentModules(job.component, job.modules);
    const input = parseExecutorInput(JSON.parse(await fs.promises.readFile(job.executorInputPath, 'utf8')), job.executorInputPath);
    await launchComponent(getComponent(job.component), input, {
      log: (line) => process.stdout.write(`${line}\n`),
      progress: (status) => process.send!({ progress: status } satisfies ExecutorProgress),
      step: job.step,
    });
    return { ok: true };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, message: e.message, userError: e instanceof UserError, stack: e.stack };
  }
}

// An orphaned worker (its runner was killed) must stop before it publishes anything.
process.once('disconnect', () => process.exit(70));

process.once('message', (job: ExecutorJob) => {
  void runJob(job).then((reply) => {
    process.send!(reply, () => process.exit(reply.ok ? 0 : 1));
  });
});
