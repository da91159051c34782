// The Tuner's progress status for people watching a run (ExecutorContext.progress): which trial of how many
// and its state, how many are done, and the best objective so far.

import { isScored, type ScoredTrial, type TrialRecord } from '../../tuning/trial';

const shown = (value: number): string => String(Number(value.toPrecision(4)));

/** E.g. "trial 3/10 STOPPED val_loss=0.51 · 3 of 10 done · best val_loss=0.4123 (trial-02)". */
export function tunerStatus(trialId: string, trials: readonly TrialRecord[], maxTrials: number, best: ScoredTrial | undefined, metric: string): string {
  const index = trials.findIndex((t) => t.trialId === trialId);
  const trial = trials[index];
  const own = trial && isScored(trial) ? ` ${metric}=${shown(trial.value)}` : '';
  const done = trials.filter((t) => t.status !== 'RUNNING').length;
  const bestText = best ? `best ${metric}=${shown(best.value)} (${best.trialId})` : 'no result yet';
  return `trial ${index + 1}/${maxTrials} ${trial?.status ?? 'RUNNING'}${own} · ${done} of ${maxTrials} done · ${bestText}`;
}
