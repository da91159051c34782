// Which version answers a request that names no version or label, when the model config has a traffic
// policy: a weighted split over versions / labels (e.g. 90/10 stable/canary) or a bandit. With a request
// key (x-request-key) routing is sticky: in a split the key's hash, not a random draw, picks the arm, so one
// caller keeps one version while the weights and the loaded versions stay the same; under a bandit a key
// keeps the arm the bandit first chose for it (the most recent STICKY_KEYS keys are remembered) while that
// arm's version is loaded, so a session is not switched between versions as the bandit learns. Arms whose version is not
// loaded are skipped; when none is, the caller falls back to the newest version. The policy's state (each
// arm's weight and actual share, or its bandit tallies) is reported by the serving status extension.

import { createHash } from 'crypto';
import { Bandit, type ArmTally } from './bandit';
import { armName, type Arm, type BanditAlgorithm, type TrafficPolicy } from './config';
import type { Random } from './random';

export interface RoutedArm {
  /** The arm's name (label or version number): what rewards are tallied under. */
  arm: string;
  version: number;
}

export interface SplitArmStatus {
  arm: string;
  /** The version the arm names (a label's version), loaded or not. */
  version: number;
  /** As configured. */
  weight: number;
  /** The fraction of requests the arm gets now: 0 when its version is not loaded. */
  share: number;
}

export type TrafficStatus =
  | { kind: 'split'; arms: SplitArmStatus[] }
  | { kind: 'bandit'; algorithm: BanditAlgorithm; arms: ({ arm: string; version: number } & ArmTally)[] };

/** A request key's stable position in [0, 1). */
function keyPosition(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 4294967296;
}

/** Request keys whose bandit arm is remembered; the oldest is forgotten first. */
export const STICKY_KEYS = 100_000;

export class TrafficRouter {
  private readonly bandit?: Bandit;
  /** A bandit's arm per request key, oldest first (Map keeps insertion order). */
  private readonly stickyArms = new Map<string, string>();

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
      const kept = key === undefined ? undefined : live.find((a) => a.arm === this.stickyArms.get(key));
      if (kept) return kept;
      const arm = this.bandit!.choose(live.map((a) => a.arm));
      const chosen = live.find((a) => a.arm === arm)!;
      if (key !== undefined) this.stickTo(key, chosen.arm);
      return chosen;
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

  /**
   * The policy now. `versionOf` gives the version an arm names, `isLoaded` whether it is loaded. A split
   * arm's share is its weight over the summed weights of the arms whose version is loaded, as `choose` draws
   * (random draws and request-key positions alike are uniform over that sum): the traffic each arm actually
   * gets, not only what the config asks for.
   */
  status(versionOf: (arm: Arm) => number, isLoaded: (version: number) => boolean): TrafficStatus {
    if (this.policy.kind === 'bandit') {
      return { kind: 'bandit', algorithm: this.policy.algorithm, arms: this.policy.arms.map((a) => ({ arm: armName(a), version: versionOf(a), ...this.bandit!.tallyOf(armName(a)) })) };
    }
    const arms = this.policy.arms.map((a) => ({ arm: armName(a.arm), version: versionOf(a.arm), weight: a.weight }));
    const liveWeight = arms.reduce((t, a) => t + (isLoaded(a.version) ? a.weight : 0), 0);
    return { kind: 'split', arms: arms.map((a) => ({ ...a, share: isLoaded(a.version) ? a.weight / liveWeight : 0 })) };
  }

  private stickTo(key: string, arm: string): void {
    this.stickyArms.delete(key);
    this.stickyArms.set(key, arm);
    if (this.stickyArms.size > STICKY_KEYS) this.stickyArms.delete(this.stickyArms.keys().next().value!);
  }

  /** Feeds a reward to the bandit (a split ignores rewards: they only show in the metrics). */
  reward(arm: string, reward: number): void {
    this.bandit?.reward(arm, reward);
  }
}
