// The tuner loop and what it publishes: the median stopping rule stops a clearly bad trial and spares a
// good one, runSearch keeps to maxParallelTrials, records failed and stopped trials, throws when every
// trial fails, and the results table and HyperParameters content carry what the component writes.

import { UserError } from '../../../runtime/core/errors';
import {
  createOracle,
  hyperParametersContent,
  runSearch,
  SearchSpace,
  shouldStop,
  trialsTable,
  type Hyperparameters,
  type IntermediateValue,
  type Oracle,
} from '../../../runtime/tuning';

const curve = (...values: number[]): IntermediateValue[] => values.map((value, i) => ({ step: i + 1, value }));

// Accuracy curves of three completed trials: running averages at step 2 are 0.65, 0.75 and 0.85.
const completed = [curve(0.6, 0.7, 0.8), curve(0.7, 0.8, 0.9), curve(0.8, 0.9, 0.95)];

describe('median stopping rule', () => {
  test('stops a trial whose best so far is below the median running average, and not one above it', () => {
    expect(shouldStop(curve(0.3, 0.35), completed, 'MAXIMIZE')).toBe(true);
    expect(shouldStop(curve(0.7, 0.8), completed, 'MAXIMIZE')).toBe(false);
    // The best value so far counts, not the latest: a dip after a good step is spared.
    expect(shouldStop(curve(0.8, 0.5), completed, 'MAXIMIZE')).toBe(false);
  });

  test('works on losses when minimising', () => {
    const losses = completed.map((h) => h.map((p) => ({ step: p.step, value: 1 - p.value })));
    expect(shouldStop(curve(0.7, 0.65), losses, 'MINIMIZE')).toBe(true);
    expect(shouldStop(curve(0.3, 0.2), losses, 'MINIMIZE')).toBe(false);
  });

  test('compares at the same step: only completed values up to the trial’s step are averaged', () => {
    // At step 1 the completed trials were at 0.6, 0.7, 0.8 (median 0.7): 0.65 is below it.
    expect(shouldStop([{ step: 1, value: 0.65 }], completed, 'MAXIMIZE', { gracePeriod: 1 })).toBe(true);
    // Against whole-curve averages (median 0.8) 0.76 would be stopped; at step 2 the median is 0.75.
    expect(shouldStop(curve(0.6, 0.76), completed, 'MAXIMIZE')).toBe(false);
  });

  test('waits for the grace period and for enough completed trials', () => {
    expect(shouldStop(curve(0.1), completed, 'MAXIMIZE')).toBe(false);
    expect(shouldStop(curve(0.1, 0.1), completed.slice(0, 2), 'MAXIMIZE')).toBe(false);
    expect(shouldStop(curve(0.1, 0.1), completed.slice(0, 2), 'MAXIMIZE', { minCompletedTrials: 2 })).toBe(true);
    expect(shouldStop(curve(0.1, 0.1, 0.1), completed, 'MAXIMIZE', { gracePeriod: 4 })).toBe(false);
    expect(shouldStop(curve(0.1, 0.1), [], 'MAXIMIZE', { minCompletedTrials: 0 })).toBe(false);
  });
});

const space = SearchSpace.parse({
  lr: { type: 'double', min: 1e-4, max: 1e-1, scale: 'log' },
  units: { type: 'int', min: 8, max: 64, step: 8 },
});

function oracle(maxTrials: number, algorithm: 'random' | 'bayesian' = 'random'): Oracle {
  return createOracle({ space, algorithm, objective: { metric: 'val_accuracy', goal: 'MAXIMIZE' }, maxTrials, seed: 4 });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('runSearch', () => {
  test.each([1, 3])('runs at most maxParallelTrials=%i trials at once and every trial of the budget', async (maxParallelTrials) => {
    let running = 0;
    let mostRunning = 0;
    const result = await runSearch({
      oracle: oracle(8, 'bayesian'),
      maxParallelTrials,
      earlyStopping: false,
      async runTrial({ hyperparameters }) {
        mostRunning = Math.max(mostRunning, ++running);
        await tick();
        await tick();
        running--;
        return -Math.abs(Math.log10(hyperparameters.lr as number) + 2);
      },
    });
    expect(mostRunning).toBe(maxParallelTrials);
    expect(result.trials).toHaveLength(8);
    expect(result.trials.every((t) => t.status === 'COMPLETED')).toBe(true);
    const values = result.trials.map((t) => ('value' in t ? t.value : NaN));
    expect(result.best.value).toBe(Math.max(...values));
  });

  test('a failing trial is recorded as FAILED with its error, and the search goes on', async () => {
    const result = await runSearch({
      oracle: oracle(5),
      maxParallelTrials: 2,
      async runTrial({ trialId }) {
        await tick();
        if (trialId === 'trial-2') throw new Error('trainer exited with code 137');
        return trialId === 'trial-4' ? NaN : 0.5;
      },
    });
    expect(result.trials.map((t) => t.status)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED', 'FAILED', 'COMPLETED']);
    expect(trialsTable(result.trials).filter((row) => row.error).map((row) => [row.trial_id, row.error])).toEqual([
      ['trial-2', 'trainer exited with code 137'],
      ['trial-4', 'the trial gave the value NaN for val_accuracy'],
    ]);
  });

  test('when every trial fails, the search throws a UserError naming the first error', async () => {
    const search = runSearch({
      oracle: oracle(3),
      async runTrial({ trialId }) {
        throw new Error(`no GPU for ${trialId}`);
      },
    });
    await expect(search).rejects.toThrow(UserError);
    await expect(search).rejects.toThrow('all 3 tuning trials failed; the first, trial-1: no GPU for trial-1');
  });

  // Trials learn at a rate set by their hyperparameters: the same curve shape, scaled.
  function learningCurve(h: Hyperparameters, epoch: number): number {
    const quality = 1 - Math.abs(Math.log10(h.lr as number) + 2.5) / 2;
    return quality * (1 - 0.5 ** epoch);
  }

  test('poor trials are stopped early through reportIntermediate; good ones run all their epochs', async () => {
    const epochsRun = new Map<string, number>();
    const result = await runSearch({
      oracle: oracle(12),
      maxParallelTrials: 1,
      async runTrial({ trialId, hyperparameters }, { reportIntermediate }) {
        let epoch = 1;
        for (; epoch <= 10; epoch++) {
          await tick();
          if (reportIntermediate(epoch, learningCurve(hyperparameters, epoch)) === 'stop') break;
        }
        epochsRun.set(trialId, Math.min(epoch, 10));
        return undefined;
      },
    });
    const rows = trialsTable(result.trials);
    const stopped = rows.filter((r) => r.stopped_early);
    const kept = rows.filter((r) => r.status === 'COMPLETED');
    expect(stopped.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    for (const r of stopped) {
      expect(r.status).toBe('STOPPED');
      expect(r.steps).toBeLessThan(10);
      expect(epochsRun.get(r.trial_id)).toBe(r.steps);
      // A stopped trial's objective is its last reported value.
      expect(r.objective).toBe(learningCurve(r.hyperparameters, r.steps));
    }
    // Every stopped trial had worse hyperparameters than the best one, which ran to the end.
    expect(result.best.intermediate).toHaveLength(10);
    for (const r of stopped) expect(learningCurve(r.hyperparameters, 10)).toBeLessThan(result.best.value);
  });

  test('a non-finite intermediate value (a diverged loss) stops the trial and fails it', async () => {
    const answers: string[] = [];
    const result = await runSearch({
      oracle: oracle(2),
      async runTrial({ trialId }, { reportIntermediate }) {
        if (trialId === 'trial-1') answers.push(reportIntermediate(1, 0.4), reportIntermediate(2, NaN), reportIntermediate(3, 0.5));
        return 0.5;
      },
    });
    expect(answers).toEqual(['continue', 'stop', 'stop']);
    expect(result.trials[0]).toMatchObject({
      status: 'FAILED',
      error: 'val_accuracy was NaN at step 2',
      intermediate: [{ step: 1, value: 0.4 }, { step: 3, value: 0.5 }],
    });
    expect(result.best.trialId).toBe('trial-2');
  });

  test('maxParallelTrials must be a positive integer', async () => {
    const search = runSearch({ oracle: oracle(1), maxParallelTrials: 0, runTrial: async () => 1 });
    await expect(search).rejects.toThrow('maxParallelTrials must be an integer >= 1, got 0');
  });
});

test('the results table and the HyperParameters content', async () => {
  const o = oracle(3);
  const result = await runSearch({
    oracle: o,
    async runTrial({ trialId }, { reportIntermediate }) {
      reportIntermediate(1, 0.5);
      if (trialId === 'trial-3') throw new Error('boom');
      return trialId === 'trial-1' ? 0.7 : 0.9;
    },
  });
  const [first, second, third] = result.trials;
  expect(trialsTable(result.trials)).toEqual([
    { trial_id: 'trial-1', hyperparameters: first.hyperparameters, objective: 0.7, status: 'COMPLETED', steps: 1, stopped_early: false },
    { trial_id: 'trial-2', hyperparameters: second.hyperparameters, objective: 0.9, status: 'COMPLETED', steps: 1, stopped_early: false },
    { trial_id: 'trial-3', hyperparameters: third.hyperparameters, objective: null, status: 'FAILED', steps: 1, stopped_early: false, error: 'boom' },
  ]);
  expect(JSON.parse(JSON.stringify(hyperParametersContent(result.best, o.objective)))).toEqual({
    values: second.hyperparameters,
    objective: { metric: 'val_accuracy', goal: 'MAXIMIZE', value: 0.9 },
    trial_id: 'trial-2',
  });
});
