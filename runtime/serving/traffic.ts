// Which version answers a request that names no version or label, when the model config has a traffic
// policy: a weighted split over versions / labels (e.g. 90/10 stable/canary) or a bandit. With a request
// key (x-request-key) a split is sticky: the key's hash, not a random draw, picks the arm, so one caller
// keeps one version while the weights and the loaded versions stay the same. Arms whose version is not
// loaded are skipped; when none is, the caller falls back to the newest version.

import { createHash } from 'crypto';
import { Bandit } from './bandit';
import { armName, type Arm, type TrafficPolicy } from './config';
import type { Random } from './random';

export interface RoutedArm {
  /** The arm's name (label or version number): what rewards are tallied under. */
  arm: string;
  version: number;
}

/** A request key's stable position in [0, 1). */
function keyPosition(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 4294967296;
}

export class TrafficRouter {
  private readonly bandit?: Bandit;

  constructor(
    private readonly policy: TrafficPolicy,
    private readonly random: Random,
  ) {
    if (policy.kind === 'bandit') this.bandit = new Bandit(policy.algorithm, random);
  }

  /** The arm for a request; `versionOf` gives an arm's loaded version (undefined: not loaded). */
  choose(versionOf: (arm: Arm) => number | undefined, key?: string): RoutedArm | undefined {
    if (this.policy.kind === 'bandit') {
      const live = this.policy.arms.flatMap((a) => {
        const version = versionOf(a);
        return version === undefined ? [] : [{ arm: armName(a), version }];
      });
      if (live.length === 0) return undefined;
      const chosen = this.bandit!.choose(live.map((a) => a.arm));
      return live.find((a) => a.arm === chosen);
    }
    const live = this.policy.arms.flatMap((a) => {
      const version = versionOf(a.arm);
      return version === undefined ? [] : [{ arm: armName(a.arm), version, weight: a.weight }];
    });
    if (live.length === 0) return undefined;
    let u = (key === undefined ? this.random() : keyPosition(key)) * live.reduce((t, a) => t + a.weight, 0);
    for (const a of live) {
      u -= a.weight;
      if (u < 0) return { arm: a.arm, version: a.version };
    }
    return { arm: live[live.length - 1].arm, version: live[live.length - 1].version };
  }

  /** Feeds a reward to the bandit (a split ignores rewards: they only show in the metrics). */
  reward(arm: string, reward: number): void {
    this.bandit?.reward(arm, reward);
  }
}
