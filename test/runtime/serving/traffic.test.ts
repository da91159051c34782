// Traffic policies without a server: weighted splits (random and sticky per request key), sticky sessions
// under a bandit, arms whose version is not loaded, Thompson sampling and UCB1 converging on the better arm
// in a simulation, the bounded memory of served request ids, and the traffic / static_table fields of the
// model config.

import { randomUUID } from 'crypto';
import { betaSample } from '../../../runtime/serving/bandit';
import { parseModelServerConfig, type Arm } from '../../../runtime/serving/config';
import { createRng } from '../../../runtime/core/prng';
import { ServedRequests } from '../../../runtime/serving/served-requests';
import { TrafficRouter } from '../../../runtime/serving/traffic';

const LABELS: Record<string, number> = { stable: 1, canary: 2 };
const allLoaded = (arm: Arm) => ('label' in arm ? LABELS[arm.label] : arm.version);

function count(router: TrafficRouter, n: number, key?: (i: number) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const chosen = router.choose(allLoaded, key?.(i))!;
    counts[chosen.version] = (counts[chosen.version] ?? 0) + 1;
  }
  return counts;
}

const canary = new TrafficRouter(
  {
    kind: 'split',
    arms: [
      { arm: { label: 'stable' }, weight: 90 },
      { arm: { label: 'canary' }, weight: 10 },
    ],
  },
  createRng(7),
);

test('a 90/10 split sends about 10% to the canary, by random draw and by request key', () => {
  const random = count(canary, 10_000);
  expect(random[1] + random[2]).toBe(10_000);
  expect(random[2]).toBeGreaterThan(850);
  expect(random[2]).toBeLessThan(1150);
  const keyed = count(canary, 10_000, (i) => `user-${i}`);
  expect(keyed[2]).toBeGreaterThan(850);
  expect(keyed[2]).toBeLessThan(1150);
});

test('a request key always gets the same arm', () => {
  for (const key of ['alice', 'bob', 'user-17', '']) {
    const versions = new Set(Array.from({ length: 50 }, () => canary.choose(allLoaded, key)!.version));
    expect(versions.size).toBe(1);
  }
});

test('arms whose version is not loaded are skipped; with none loaded there is no choice', () => {
  const onlyStable = (arm: Arm) => ('label' in arm && arm.label === 'stable' ? 1 : undefined);
  for (let i = 0; i < 100; i++) expect(canary.choose(onlyStable)).toEqual({ arm: 'stable', version: 1 });
  expect(canary.choose(() => undefined)).toBeUndefined();
});

describe.each(['thompson', 'ucb1'] as const)('a %s bandit', (algorithm) => {
  test('moves traffic to the arm with the better reward', () => {
    const random = createRng(42);
    const router = new TrafficRouter({ kind: 'bandit', algorithm, arms: [{ version: 1 }, { version: 2 }] }, createRng(1));
    const successRate: Record<number, number> = { 1: 0.3, 2: 0.7 };
    const late: Record<number, number> = { 1: 0, 2: 0 };
    for (let i = 0; i < 2000; i++) {
      const chosen = router.choose(allLoaded)!;
      if (i >= 1500) late[chosen.version]++;
      router.reward(chosen.arm, random() < successRate[chosen.version] ? 1 : 0);
    }
    // The better arm gets most of the last 500 requests (a wide margin: 0.5 would be no learning).
    expect(late[2]).toBeGreaterThan(400);
  });
});

test('under a bandit a request key keeps its first arm while that version is loaded', () => {
  const router = new TrafficRouter({ kind: 'bandit', algorithm: 'thompson', arms: [{ version: 1 }, { version: 2 }] }, createRng(3));
  const first = new Map<string, number>();
  for (let i = 0; i < 200; i++) first.set(`s${i}`, router.choose(allLoaded, `s${i}`)!.version);
  // Both arms were handed out, and rewards that favour version 2 do not move a session that has an arm.
  expect(new Set(first.values())).toEqual(new Set([1, 2]));
  for (let i = 0; i < 500; i++) router.reward('2', 1);
  for (const [key, version] of first) expect(router.choose(allLoaded, key)!.version).toBe(version);
  // A session whose version is unloaded is moved, and then stays on its new arm.
  const onlyTwo = (arm: Arm) => ('version' in arm && arm.version === 2 ? 2 : undefined);
  const movedKey = [...first].find(([, v]) => v === 1)![0];
  expect(router.choose(onlyTwo, movedKey)!.version).toBe(2);
  expect(router.choose(allLoaded, movedKey)!.version).toBe(2);
  // Without a key the bandit decides each request (version 2 now wins nearly always).
  const free = count(router, 200);
  expect(free[2]).toBeGreaterThan(190);
});

test('Beta draws have the Beta mean', () => {
  const random = createRng(3);
  const draws = Array.from({ length: 20_000 }, () => betaSample(3, 7, random));
  expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(0.3, 2);
  expect(Math.min(...draws)).toBeGreaterThan(0);
  expect(Math.max(...draws)).toBeLessThan(1);
});

test('served request ids are forgotten once rewarded, and the oldest first beyond the capacity', () => {
  const served = new ServedRequests(2);
  served.remember('a', { version: 1 });
  served.remember('b', { version: 2, arm: 'canary' });
  expect(served.take('b')).toEqual({ version: 2, arm: 'canary' });
  expect(served.take('b')).toBeUndefined();
  served.remember('c', { version: 1 });
  served.remember('d', { version: 1 });
  expect(served.take('a')).toBeUndefined();
  expect(served.take('c')).toEqual({ version: 1 });
});

test('a re-used request id answers for its newest request and outlives the slot of its first one', () => {
  const served = new ServedRequests(3);
  served.remember('a', { version: 1 });
  served.remember('b', { version: 1 });
  served.remember('a', { version: 2, arm: 'canary' });
  served.remember('c', { version: 1 }); // the ring's first slot, which held the first 'a'
  served.remember('d', { version: 3 }); // the second slot: 'b' is forgotten
  expect(served.take('b')).toBeUndefined();
  expect(served.take('a')).toEqual({ version: 2, arm: 'canary' });
  expect(served.take('c')).toEqual({ version: 1 });
  expect(served.take('d')).toEqual({ version: 3 });
});

test.each([1, 5, 13, 64])('remember/take at capacity %i answer as a plain list of the newest requests does (random operations)', (capacity) => {
  // Small tables fill their probe runs and wrap around their end, so deletions move entries back often.
  const served = new ServedRequests(capacity);
  const random = createRng(capacity);
  const pool = Array.from({ length: capacity * 3 + 2 }, (_, i) => `request-${i}`);
  // The reference: each ring slot's id, the slot holding each id's newest request, and the version per slot.
  const ring: (string | undefined)[] = new Array(capacity).fill(undefined);
  const versions: number[] = new Array(capacity).fill(0);
  const newest = new Map<string, number>();
  let next = 0;
  for (let op = 0; op < 20_000; op++) {
    const id = pool[Math.floor(random() * pool.length)];
    if (random() < 0.6) {
      const version = op;
      served.remember(id, { version });
      const evicted = ring[next];
      if (evicted !== undefined && newest.get(evicted) === next) newest.delete(evicted);
      ring[next] = id;
      versions[next] = version;
      newest.set(id, next);
      next = (next + 1) % capacity;
    } else {
      const slot = newest.get(id);
      expect(served.take(id)).toEqual(slot === undefined ? undefined : { version: versions[slot] });
      newest.delete(id);
    }
  }
});

test('100k remembered request ids: nearly all are found with their version and arm, unknown ids never', () => {
  const served = new ServedRequests();
  const ids = Array.from({ length: 100_000 }, () => randomUUID());
  ids.forEach((id, i) => served.remember(id, { version: i % 7, arm: i % 2 ? 'canary' : undefined }));
  let found = 0;
  const wrong: string[] = [];
  ids.forEach((id, i) => {
    const s = served.take(id);
    if (s === undefined) return;
    found++;
    if (s.version !== i % 7 || s.arm !== (i % 2 ? 'canary' : undefined)) wrong.push(id);
  });
  expect(wrong).toEqual([]);
  // Ids whose first 30-bit hash collides with a newer one are forgotten early: a few among 100k.
  expect(found).toBeGreaterThan(99_950);
  const unknown = Array.from({ length: 10_000 }, () => randomUUID()).filter((id) => served.take(id) !== undefined);
  expect(unknown).toEqual([]);
});

describe('traffic and static_table in the model config', () => {
  const FILE = '/etc/mlp/models.json';
  const config = (entry: object) => ({ model_config_list: { config: [{ name: 'm', base_path: 'm', version_labels: { stable: 1, canary: 2 }, ...entry }] } });

  test('a split, a bandit and a static table are read; gs:// paths are kept, relative ones resolved', () => {
    const [split] = parseModelServerConfig(config({ traffic: { split: [{ label: 'stable', weight: 90 }, { version: '2', weight: 10 }] }, static_table: { path: 'tables/p.parquet', key: 'id' } }), FILE);
    expect(split).toMatchObject({
      traffic: { kind: 'split', arms: [{ arm: { label: 'stable' }, weight: 90 }, { arm: { version: 2 }, weight: 10 }] },
      staticTable: { path: '/etc/mlp/tables/p.parquet', key: 'id' },
    });
    const [bandit] = parseModelServerConfig(config({ base_path: 'gs://bucket/models/m', traffic: { bandit: { arms: [{ label: 'stable' }, { label: 'canary' }] } } }), FILE);
    expect(bandit).toMatchObject({ basePath: 'gs://bucket/models/m', traffic: { kind: 'bandit', algorithm: 'thompson', arms: [{ label: 'stable' }, { label: 'canary' }] } });
  });

  test('wrong traffic settings are refused naming the problem', () => {
    expect(() => parseModelServerConfig(config({ traffic: { split: [{ label: 'beta', weight: 1 }] } }), FILE)).toThrow('model "m": traffic names label "beta", which version_labels does not define');
    expect(() => parseModelServerConfig(config({ traffic: { split: [{ version: 1, weight: 1 }, { version: 1, weight: 2 }] } }), FILE)).toThrow('traffic names version "1" twice');
    expect(() => parseModelServerConfig(config({ traffic: { split: [{ version: 1, weight: 0 }] } }), FILE)).toThrow(/traffic/);
    expect(() => parseModelServerConfig(config({ traffic: { bandit: { algorithm: 'greedy', arms: [{ version: 1 }, { version: 2 }] } } }), FILE)).toThrow(/traffic/);
    expect(() => parseModelServerConfig(config({ traffic: { bandit: { arms: [{ version: 1 }] } } }), FILE)).toThrow(/traffic/);
    expect(() => parseModelServerConfig(config({ static_table: { path: 'p.parquet' } }), FILE)).toThrow(/static_table/);
  });
});
