// Grid search: the cartesian product of every discrete and int value and of evenly spaced points on each
// double (evenly spaced in log(value) on a log scale), enumerated in order without materialising the grid.

import { choiceAt, choiceCount, fromUnit, type HyperparameterValue, type SearchSpace } from './search-space';
import type { Proposer } from './trial';

/** Points per double hyperparameter unless configured: the two end points and three between them. */
export const DEFAULT_GRID_POINTS_PER_DOUBLE = 5;

interface Axis {
  name: string;
  size: number;
  at(i: number): HyperparameterValue;
}

function axes(space: SearchSpace, pointsPerDouble: number): Axis[] {
  return Object.entries(space).map(([name, spec]) =>
    spec.type === 'double'
      ? { name, size: pointsPerDouble, at: (i: number) => fromUnit(spec, i / (pointsPerDouble - 1)) }
      : { name, size: choiceCount(spec), at: (i: number) => choiceAt(spec, i) },
  );
}

/** Proposes the grid's points in order, the last hyperparameter varying fastest, then nothing. */
export function gridProposer(space: SearchSpace, pointsPerDouble = DEFAULT_GRID_POINTS_PER_DOUBLE): Proposer {
  const grid = axes(space, pointsPerDouble);
  const size = grid.reduce((n, axis) => n * axis.size, 1);
  let next = 0;
  return () => {
    if (next >= size) return undefined;
    // Read the point's number as mixed-radix digits, one per axis.
    let rest = next++;
    const digits = grid.map(() => 0);
    for (let a = grid.length - 1; a >= 0; a--) {
      digits[a] = rest % grid[a].size;
      rest = Math.floor(rest / grid[a].size);
    }
    return Object.fromEntries(grid.map((axis, a) => [axis.name, axis.at(digits[a])]));
  };
}
