// Random numbers for routing and log sampling: Math.random by default, or a seeded generator so tests (and
// reproducible simulations) see the same choices every run.

export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator, plenty for picking versions and sampling requests. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSource(seed: number | undefined): Random {
  return seed === undefined ? Math.random : seededRandom(seed);
}
