// A tuning trial in its own process: receives the trial's fnArgs over IPC, runs the trainer's runFn with
// scratch output folders, reports each epoch's record to the Tuner and waits for its continue/stop
// decision (median early stopping), then replies with the epoch history. A crashing trial cannot take the
// Tuner down, and trials run in parallel on separate cores.

import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../../ml/backend';
import type { EpochRecord } from '../../ml/train-loop';
import { readDataDescription, resolveRunFn } from '../trainer/fn-args';

export interface TrialJob {
  moduleFile?: string;
  trainFiles: string[];
  evalFiles: string[];
  schemaDir: string;
  transformGraphPath: string;
  hyperparameters: Record<string, unknown>;
  customConfig: Record<string, unknown>;
  /** The Examples' derived columns (name → expression): the runFn must not use them as model inputs. */
  derivedColumns: Record<string, string>;
  /** Scratch folder for the trial's model, run and checkpoints; removed by the parent. */
  workDir: string;
}

export type FromTrial = { type: 'epoch'; record: EpochRecord } | { type: 'done'; history: EpochRecord[] } | { type: 'error'; message: string };
export type ToTrial = { type: 'run'; job: TrialJob } | { type: 'decision'; stop: boolean };

let decide: ((stop: boolean) => void) | undefined;

async function run(job: TrialJob): Promise<FromTrial> {
  try {
    const backend = await selectBackend();
    const runFn = await resolveRunFn(job.moduleFile);
    const dirs = { model: path.join(job.workDir, 'model'), run: path.join(job.workDir, 'run') };
    await fs.promises.mkdir(dirs.model, { recursive: true });
    await fs.promises.mkdir(dirs.run, { recursive: true });
    const history: EpochRecord[] = [];
    await runFn({
      trainFiles: job.trainFiles,
      evalFiles: job.evalFiles,
      ...(await readDataDescription(job.schemaDir, job.transformGraphPath)),
      hyperparameters: job.hyperparameters,
      servingModelDir: dirs.model,
      modelRunDir: dirs.run,
      checkpointDir: path.join(job.workDir, 'checkpoints'),
      customConfig: job.customConfig,
      derivedColumns: job.derivedColumns,
      backend: backend.name,
      log: (line) => process.stdout.write(`${line}\n`),
      onEpoch: (record) => {
        history.push(record);
        process.send!({ type: 'epoch', record } satisfies FromTrial);
        return new Promise<'continue' | 'stop'>((resolve) => (decide = (stop) => resolve(stop ? 'stop' : 'continue')));
      },
    });
    return { type: 'done', history };
  } catch (err) {
    return { type: 'error', message: (err as Error).message.split('\n')[0] };
  }
}

process.once('disconnect', () => process.exit(70));
process.on('message', (m: ToTrial) => {
  if (m.type === 'decision') decide?.(m.stop);
  else void run(m.job).then((reply) => process.send!(reply, () => process.exit(reply.type === 'done' ? 0 : 1)));
});
