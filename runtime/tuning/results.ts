// What a finished search publishes: a table of every trial (the TunerResults artifact) and the best
// trial's hyperparameters (the HyperParameters artifact the Trainer reads), both plain JSON.

import type { Goal, Objective } from './objective';
import type { Hyperparameters } from './search-space';
import type { ScoredTrial, TrialRecord } from './trial';

export interface TrialRow {
  trial_id: string;
  hyperparameters: Hyperparameters;
  /** The final objective value (the last reported one for a stopped trial); null when the trial failed. */
  objective: number | null;
  status: TrialRecord['status'];
  /** How many intermediate values the trial reported. */
  steps: number;
  stopped_early: boolean;
  error?: string;
}

/** One row per trial, in the order the trials were suggested. */
export function trialsTable(trials: readonly TrialRecord[]): TrialRow[] {
  return trials.map((t) => ({
    trial_id: t.trialId,
    hyperparameters: t.hyperparameters,
    objective: 'value' in t ? t.value : null,
    status: t.status,
    steps: t.intermediate.length,
    stopped_early: t.status === 'STOPPED',
    ...(t.status === 'FAILED' ? { error: t.error } : {}),
  }));
}

/**
 * The HyperParameters artifact's JSON: `values` holds the hyperparameters by name (what a Trainer's run
 * function reads), `objective` says what they achieved and `trial_id` which trial found them.
 */
export interface HyperParametersContent {
  values: Hyperparameters;
  objective: { metric: string; goal: Goal; value: number };
  trial_id: string;
}

export function hyperParametersContent(best: ScoredTrial, objective: Objective): HyperParametersContent {
  return {
    values: best.hyperparameters,
    objective: { metric: objective.metric, goal: objective.goal, value: best.value },
    trial_id: best.trialId,
  };
}
