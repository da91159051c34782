// The oracle: hands out trial suggestions from the chosen algorithm within the trial budget, records how each
// trial ended and knows the best one. Several suggestions may be out at once (parallel trials).

import { UserError } from '../core/errors';
import { bayesianProposer, defaultInitialPoints } from './bayesian';
import { DEFAULT_GRID_POINTS_PER_DOUBLE, gridProposer } from './grid';
import { oriented, type Objective } from './objective';
import { createRng } from './random';
import { randomHyperparameters, type SearchSpace } from './search-space';
import type { Proposer, ScoredTrial, TrialRecord, TrialResult, TrialSuggestion } from './trial';

export type Algorithm = 'random' | 'grid' | 'bayesian';

export interface OracleOptions {
  /** A parsed SearchSpace (defaults filled in). */
  space: SearchSpace;
  algorithm: Algorithm;
  objective: Objective;
  /** Trials to run at most, failed ones included. */
  maxTrials: number;
  /** Seeds random and Bayesian search (any integer); the same seed gives the same suggestions. Default 0. */
  seed?: number;
  /** Grid: points per double hyperparameter, end points included. Default DEFAULT_GRID_POINTS_PER_DOUBLE. */
  gridPointsPerDouble?: number;
  /** Bayesian: random trials before the model-based ones. Default max(3, hyperparameters + 1). */
  initialPoints?: number;
}

export interface Oracle {
  readonly objective: Objective;
  /** The next trial to run, or undefined when the budget (or the grid) is used up. */
  suggest(): TrialSuggestion | undefined;
  report(trialId: string, result: TrialResult): void;
  trials(): TrialRecord[];
  /** The completed trial with the best objective value (the earliest among equals). */
  best(): ScoredTrial | undefined;
}

/** Checks a count from the user's config. */
function integerAtLeast(name: string, value: number, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) throw new UserError(`${name} must be an integer >= ${minimum}, got ${value}`);
  return value;
}

function proposer(options: OracleOptions): Proposer {
  const { space } = options;
  const rng = createRng(options.seed ?? 0);
  switch (options.algorithm) {
    case 'random':
      return () => randomHyperparameters(space, rng);
    case 'grid':
      return gridProposer(space, integerAtLeast('gridPointsPerDouble', options.gridPointsPerDouble ?? DEFAULT_GRID_POINTS_PER_DOUBLE, 2));
    case 'bayesian':
      return bayesianProposer(space, options.objective.goal, rng, integerAtLeast('initialPoints', options.initialPoints ?? defaultInitialPoints(space)));
  }
}

export function createOracle(options: OracleOptions): Oracle {
  const maxTrials = integerAtLeast('maxTrials', options.maxTrials);
  const propose = proposer(options);
  const { objective } = options;
  const records: TrialRecord[] = [];
  const idWidth = String(maxTrials).length;

  return {
    objective,
    suggest() {
      if (records.length >= maxTrials) return undefined;
      const hyperparameters = propose(records);
      if (!hyperparameters) return undefined;
      const trialId = `trial-${String(records.length + 1).padStart(idWidth, '0')}`;
      records.push({ trialId, hyperparameters, status: 'RUNNING', intermediate: [] });
      return { trialId, hyperparameters };
    },
    report(trialId, result) {
      const index = records.findIndex((t) => t.trialId === trialId);
      if (index < 0 || records[index].status !== 'RUNNING') throw new Error(`trial ${trialId} is not running`);
      if (result.status !== 'FAILED' && !Number.isFinite(result.value)) {
        throw new Error(`trial ${trialId}: objective value ${result.value} is not a finite number`);
      }
      records[index] = { trialId, hyperparameters: records[index].hyperparameters, ...result, intermediate: [...(result.intermediate ?? [])] };
    },
    trials: () => [...records],
    best() {
      let best: ScoredTrial | undefined;
      for (const t of records) {
        if (t.status === 'COMPLETED' && (!best || oriented(objective.goal, t.value) > oriented(objective.goal, best.value))) best = t;
      }
      return best;
    },
  };
}
