// Multi-armed bandits over model versions: each arm's rewards (in [0, 1], from :feedback) are tallied, and
// each request goes to the arm the algorithm prefers now. Thompson sampling draws from every arm's Beta
// posterior (uniform prior) and takes the largest draw, so traffic moves to the better arm as evidence
// accumulates while weaker arms still get an occasional look; UCB1 takes the largest mean plus exploration
// bonus, and tries every arm without a reward first. Pulls (times an arm was chosen) are counted too, for the
// serving status only.

import type { BanditAlgorithm } from './config';
import type { Random } from './random';

interface Tally {
  /** Rewards received (the algorithms' n). */
  n: number;
  sum: number;
  /** Times the arm was chosen; only reported, the algorithms learn from rewards alone. */
  pulls: number;
}

/** An arm's tally as the serving status reports it. */
export interface ArmTally {
  pulls: number;
  rewards: number;
  rewardSum: number;
}

/** A standard normal draw (Box-Muller). */
function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) draw for shape ≥ 1 (Marsaglia and Tsang); the Beta posteriors here never go below 1. */
function gamma(shape: number, random: Random): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function betaSample(a: number, b: number, random: Random): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

export class Bandit {
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly algorithm: BanditAlgorithm,
    private readonly random: Random,
  ) {}

  private tally(arm: string): Tally {
    let t = this.tallies.get(arm);
    if (!t) this.tallies.set(arm, (t = { n: 0, sum: 0, pulls: 0 }));
    return t;
  }

  /** The preferred arm among those that can answer now (a non-empty list), counted as a pull. */
  choose(arms: string[]): string {
    const chosen = this.prefer(arms);
    this.tally(chosen).pulls++;
    return chosen;
  }

  private prefer(arms: string[]): string {
    if (this.algorithm === 'thompson') {
      const draws = arms.map((a) => {
        const t = this.tally(a);
        return betaSample(1 + t.sum, 1 + t.n - t.sum, this.random);
      });
      return arms[draws.indexOf(Math.max(...draws))];
    }
    const untried = arms.find((a) => this.tally(a).n === 0);
    if (untried !== undefined) return untried;
    const total = arms.reduce((n, a) => n + this.tally(a).n, 0);
    const scores = arms.map((a) => {
      const t = this.tally(a);
      return t.sum / t.n + Math.sqrt((2 * Math.log(total)) / t.n);
    });
    return arms[scores.indexOf(Math.max(...scores))];
  }

  reward(arm: string, reward: number): void {
    const t = this.tally(arm);
    t.n++;
    t.sum += reward;
  }

  /** What an arm has been given so far (zeros for an arm never chosen nor rewarded). */
  tallyOf(arm: string): ArmTally {
    const t = this.tallies.get(arm);
    return { pulls: t?.pulls ?? 0, rewards: t?.n ?? 0, rewardSum: t?.sum ?? 0 };
  }
}
