// The seeded pseudo-random generator (mulberry32) and a Fisher–Yates shuffle on it: training data order and
// tuning suggestions must repeat exactly for a given seed, which Math.random cannot do.

// Bound once: the generator runs in inner loops, and jest's sandbox makes each global Math lookup slow.
const { imul } = Math;

/** Returns uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small 32-bit generator, plenty for shuffling rows and sampling hyperparameter candidates. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
