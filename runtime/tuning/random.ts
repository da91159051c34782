// Random points for the search algorithms, drawn from the shared seeded generator (runtime/core/prng.ts) so
// that a search is reproducible from its seed.

import type { Rng } from '../core/prng';

export { createRng, type Rng } from '../core/prng';

/** A uniform point of the unit cube [0, 1)^dimensions. */
export function randomPoint(dimensions: number, rng: Rng): number[] {
  return Array.from({ length: dimensions }, () => rng());
}
