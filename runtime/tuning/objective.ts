// What a search optimises: a named metric and its direction, and the per-step values trials report on it.

export type Goal = 'MAXIMIZE' | 'MINIMIZE';

export interface Objective {
  metric: string;
  goal: Goal;
}

/** A value of the objective metric reported while a trial runs (e.g. after each epoch). */
export interface IntermediateValue {
  step: number;
  value: number;
}

/** The value turned so that larger is better, letting every algorithm maximise. */
export function oriented(goal: Goal, value: number): number {
  return goal === 'MAXIMIZE' ? value : -value;
}
