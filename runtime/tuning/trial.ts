// The records a search keeps about its trials, shared by the oracle, the algorithms and the results table.

import type { IntermediateValue } from './objective';
import type { Hyperparameters } from './search-space';

export interface TrialSuggestion {
  trialId: string;
  hyperparameters: Hyperparameters;
}

/** How a trial ended. A STOPPED trial was ended early by the stopping rule; its value is its last one. */
export type TrialOutcome = { status: 'COMPLETED' | 'STOPPED'; value: number } | { status: 'FAILED'; error: string };

export type TrialResult = TrialOutcome & { intermediate?: readonly IntermediateValue[] };

export type TrialRecord = TrialSuggestion & { intermediate: readonly IntermediateValue[] } & ({ status: 'RUNNING' } | TrialOutcome);

/** A trial with an objective value. */
export type ScoredTrial = Extract<TrialRecord, { value: number }>;

/** An algorithm: the next hyperparameters to try given every trial so far (running ones included), or undefined when it has none left. */
export type Proposer = (trials: readonly TrialRecord[]) => Hyperparameters | undefined;

export function isScored(trial: TrialRecord): trial is ScoredTrial {
  return trial.status === 'COMPLETED' || trial.status === 'STOPPED';
}
