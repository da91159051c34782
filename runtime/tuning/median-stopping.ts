// The median stopping rule (Golovin et al. 2017, "Google Vizier"): stop a trial at step s when its best
// value so far is worse than the median, over completed trials, of their running average up to step s.
// It needs no model of the learning curves, so it is safe for any metric reported per step.

import { oriented, type Goal, type IntermediateValue } from './objective';

export interface MedianStoppingOptions {
  /** Completed trials (that reached a step at or before s) needed before any trial is stopped. Default 3. */
  minCompletedTrials?: number;
  /** Intermediate values a trial reports before it can be stopped, since early steps are noisy. Default 2. */
  gracePeriod?: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Whether the trial with `history` (its values so far, the latest last) should stop, given the histories of completed trials. */
export function shouldStop(
  history: readonly IntermediateValue[],
  completed: readonly (readonly IntermediateValue[])[],
  goal: Goal,
  options: MedianStoppingOptions = {},
): boolean {
  const { minCompletedTrials = 3, gracePeriod = 2 } = options;
  if (history.length === 0 || history.length < gracePeriod) return false;
  const step = history[history.length - 1].step;
  const runningAverages = completed
    .map((h) => h.filter((p) => p.step <= step).map((p) => oriented(goal, p.value)))
    .filter((values) => values.length > 0)
    .map((values) => values.reduce((a, b) => a + b, 0) / values.length);
  if (runningAverages.length === 0 || runningAverages.length < minCompletedTrials) return false;
  return Math.max(...history.map((p) => oriented(goal, p.value))) < median(runningAverages);
}
