// Random numbers for routing and log sampling: Math.random by default, or the project's seeded generator
// (core/prng.ts) so tests and reproducible simulations see the same choices every run.

import { createRng, type Rng } from '../core/prng';

export type Random = Rng;

export function randomSource(seed: number | undefined): Random {
  return seed === undefined ? Math.random : createRng(seed);
}
