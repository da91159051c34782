// The oracle's algorithms: random samples stay in the space with the right distribution, grid search
// enumerates exactly the cartesian product, every algorithm is reproducible from its seed, and Bayesian
// search finds better hyperparameters than random search on the same budget.

import fc from 'fast-check';
import {
  checkHyperparameters,
  createOracle,
  SearchSpace,
  type Algorithm,
  type Hyperparameters,
  type Objective,
  type Oracle,
} from '../../../runtime/tuning';

const MAXIMIZE: Objective = { metric: 'accuracy', goal: 'MAXIMIZE' };
const MINIMIZE: Objective = { metric: 'loss', goal: 'MINIMIZE' };

/** Suggests until the oracle is exhausted, completing each trial at once with `f`. */
function drain(oracle: Oracle, f: (h: Hyperparameters) => number = () => 0): Hyperparameters[] {
  const seen: Hyperparameters[] = [];
  for (let s = oracle.suggest(); s; s = oracle.suggest()) {
    seen.push(s.hyperparameters);
    oracle.report(s.trialId, { status: 'COMPLETED', value: f(s.hyperparameters) });
  }
  return seen;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const discreteSpec = fc
  .uniqueArray(fc.oneof(fc.integer(), fc.string(), fc.boolean()), { minLength: 1, maxLength: 5 })
  .map((values) => ({ type: 'discrete', values }));
const intSpec = fc
  .tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 50 }))
  .map(([min, width, step]) => ({ type: 'int', min, max: min + width, step }));
const doubleSpec = fc
  .tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }))
  .map(([min, width]) => ({ type: 'double', min, max: min + width }));
const logDoubleSpec = fc
  .tuple(fc.double({ min: 1e-8, max: 1e3, noNaN: true }), fc.double({ min: 1.001, max: 1e6, noNaN: true }))
  .map(([min, ratio]) => ({ type: 'double', min, max: min * ratio, scale: 'log' }));
const rawSpace = fc.dictionary(fc.string({ minLength: 1 }), fc.oneof(discreteSpec, intSpec, doubleSpec, logDoubleSpec), { minKeys: 1, maxKeys: 4 });

test('random and Bayesian suggestions always lie inside the search space', () => {
  fc.assert(
    fc.property(rawSpace, fc.integer(), fc.constantFrom<Algorithm>('random', 'bayesian'), (raw, seed, algorithm) => {
      const space = SearchSpace.parse(raw);
      const oracle = createOracle({ space, algorithm, objective: MAXIMIZE, maxTrials: 6, seed });
      // Varied results, so that Bayesian search gets past its random start and proposes from its model.
      let i = 0;
      for (const values of drain(oracle, () => (i++ * 7919) % 13)) checkHyperparameters(space, values, 'suggestion');
    }),
    { numRuns: 60 },
  );
});

test('random search samples a log scale log-uniformly and an int only on its steps', () => {
  const space = SearchSpace.parse({
    lr: { type: 'double', min: 1e-5, max: 1e-1, scale: 'log' },
    units: { type: 'int', min: 10, max: 50, step: 20 },
  });
  const samples = drain(createOracle({ space, algorithm: 'random', objective: MAXIMIZE, maxTrials: 2000, seed: 3 }));
  // The geometric mean 1e-3 is the median of a log-uniform sample; a linear sample's would be near 0.05.
  expect(Math.abs(Math.log10(median(samples.map((s) => s.lr as number))) + 3)).toBeLessThan(0.2);
  const decades = [0, 0, 0, 0];
  for (const s of samples) decades[Math.min(3, Math.floor(Math.log10(s.lr as number) + 5))]++;
  for (const count of decades) expect(count).toBeGreaterThan(400);
  const counts = new Map<unknown, number>();
  for (const s of samples) counts.set(s.units, (counts.get(s.units) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual([10, 30, 50]);
  for (const count of counts.values()) expect(count).toBeGreaterThan(550);
});

test('grid search enumerates exactly the cartesian product, then suggests nothing', () => {
  const space = SearchSpace.parse({
    optimizer: { type: 'discrete', values: ['adam', 'sgd'] },
    layers: { type: 'int', min: 1, max: 3 },
    lr: { type: 'double', min: 0.001, max: 0.1, scale: 'log' },
    dropout: { type: 'double', min: 0, max: 0.5 },
  });
  const oracle = createOracle({ space, algorithm: 'grid', objective: MAXIMIZE, maxTrials: 1000, gridPointsPerDouble: 3 });
  const seen = drain(oracle);
  const expected = ['adam', 'sgd'].flatMap((optimizer) =>
    [1, 2, 3].flatMap((layers) =>
      [0.001, 0.01, 0.1].flatMap((lr) => [0, 0.25, 0.5].map((dropout) => ({ optimizer, layers, lr, dropout }))),
    ),
  );
  expect(seen).toEqual(expected);
  expect(oracle.suggest()).toBeUndefined();
  expect(oracle.trials()).toHaveLength(54);
});

test('grid search uses 5 points per double by default and stops at maxTrials', () => {
  const space = SearchSpace.parse({ x: { type: 'double', min: 0, max: 1 } });
  const grid = drain(createOracle({ space, algorithm: 'grid', objective: MAXIMIZE, maxTrials: 10 }));
  expect(grid).toEqual([0, 0.25, 0.5, 0.75, 1].map((x) => ({ x })));
  expect(drain(createOracle({ space, algorithm: 'grid', objective: MAXIMIZE, maxTrials: 2 }))).toEqual([{ x: 0 }, { x: 0.25 }]);
});

const mixedSpace = SearchSpace.parse({
  lr: { type: 'double', min: 1e-4, max: 1, scale: 'log' },
  units: { type: 'int', min: 8, max: 256, step: 8 },
  optimizer: { type: 'discrete', values: ['sgd', 'adam', 'rmsprop'] },
});
const mixedLoss = (h: Hyperparameters) =>
  (Math.log10(h.lr as number) + 2.3) ** 2 + (((h.units as number) - 120) / 100) ** 2 + (h.optimizer === 'adam' ? 0 : 0.5);

test.each<Algorithm>(['random', 'bayesian'])('%s search is reproducible from its seed', (algorithm) => {
  const run = (seed: number) => drain(createOracle({ space: mixedSpace, algorithm, objective: MINIMIZE, maxTrials: 8, seed }), mixedLoss);
  expect(run(11)).toEqual(run(11));
  expect(run(11)).not.toEqual(run(12));
});

test('trial ids count up, padded to the budget width', () => {
  const oracle = createOracle({ space: mixedSpace, algorithm: 'random', objective: MINIMIZE, maxTrials: 12 });
  const ids = Array.from({ length: 12 }, () => oracle.suggest()?.trialId);
  expect(ids.slice(0, 2)).toEqual(['trial-01', 'trial-02']);
  expect(ids[11]).toBe('trial-12');
  expect(oracle.suggest()).toBeUndefined();
});

test('best() is the completed trial with the best value for the goal; stopped and failed trials are not candidates', () => {
  for (const [objective, expected] of [[MAXIMIZE, 'trial-2'], [MINIMIZE, 'trial-1']] as const) {
    const oracle = createOracle({ space: mixedSpace, algorithm: 'random', objective, maxTrials: 4 });
    const ids = Array.from({ length: 4 }, () => oracle.suggest()!.trialId);
    expect(oracle.best()).toBeUndefined();
    oracle.report(ids[0], { status: 'COMPLETED', value: 0.2 });
    oracle.report(ids[1], { status: 'COMPLETED', value: 0.9 });
    oracle.report(ids[2], { status: 'STOPPED', value: objective.goal === 'MAXIMIZE' ? 5 : -5 });
    oracle.report(ids[3], { status: 'FAILED', error: 'out of memory' });
    expect(oracle.best()?.trialId).toBe(expected);
    expect(oracle.trials().map((t) => t.status)).toEqual(['COMPLETED', 'COMPLETED', 'STOPPED', 'FAILED']);
  }
});

test('bad budgets and reports are refused', () => {
  expect(() => createOracle({ space: mixedSpace, algorithm: 'random', objective: MINIMIZE, maxTrials: 0 })).toThrow('maxTrials must be an integer >= 1, got 0');
  expect(() => createOracle({ space: mixedSpace, algorithm: 'grid', objective: MINIMIZE, maxTrials: 5, gridPointsPerDouble: 1 })).toThrow(
    'gridPointsPerDouble must be an integer >= 2, got 1',
  );
  const oracle = createOracle({ space: mixedSpace, algorithm: 'random', objective: MINIMIZE, maxTrials: 3 });
  const { trialId } = oracle.suggest()!;
  expect(() => oracle.report(trialId, { status: 'COMPLETED', value: NaN })).toThrow('is not a finite number');
  oracle.report(trialId, { status: 'COMPLETED', value: 1 });
  expect(() => oracle.report(trialId, { status: 'COMPLETED', value: 1 })).toThrow(`trial ${trialId} is not running`);
  expect(() => oracle.report('trial-9', { status: 'COMPLETED', value: 1 })).toThrow('trial trial-9 is not running');
});

// A shifted negative Branin in (x, y) plus a log-scale "learning rate" whose best value is 1e-3.
// The maximum is -0.398 (Branin's minimum 0.398 at three points, with lr = 1e-3).
const braninSpace = SearchSpace.parse({
  x: { type: 'double', min: -5, max: 10 },
  y: { type: 'double', min: 0, max: 15 },
  lr: { type: 'double', min: 1e-5, max: 1e-1, scale: 'log' },
});
function negativeBranin(h: Hyperparameters): number {
  const [x, y, lr] = [h.x as number, h.y as number, h.lr as number];
  const branin = (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
  return -branin - 10 * (Math.log10(lr) + 3) ** 2;
}
const SEEDS = [1, 2, 3, 4, 5, 6, 7];

/** The best value a 20-trial search finds. */
function bestFound(algorithm: Algorithm, seed: number, space: SearchSpace, objective: Objective, f: (h: Hyperparameters) => number): number {
  const oracle = createOracle({ space, algorithm, objective, maxTrials: 20, seed });
  drain(oracle, f);
  return oracle.best()!.value;
}

test('Bayesian search beats random search on a negative Branin with a log-scale dimension (20 trials, seeds 1-7)', () => {
  const random = median(SEEDS.map((seed) => bestFound('random', seed, braninSpace, MAXIMIZE, negativeBranin)));
  const bayesian = median(SEEDS.map((seed) => bestFound('bayesian', seed, braninSpace, MAXIMIZE, negativeBranin)));
  // Measured: random ≈ -5.9, Bayesian ≈ -1.0 (the optimum is -0.4): a margin far beyond seed noise.
  expect(bayesian).toBeGreaterThan(-2);
  expect(random).toBeLessThan(-4);
});

test('Bayesian search beats random search on a mixed int/discrete/log space when minimising (20 trials, seeds 1-7)', () => {
  const random = median(SEEDS.map((seed) => bestFound('random', seed, mixedSpace, MINIMIZE, mixedLoss)));
  const bayesian = median(SEEDS.map((seed) => bestFound('bayesian', seed, mixedSpace, MINIMIZE, mixedLoss)));
  // Measured: random ≈ 0.59 (it rarely pairs adam with a good learning rate), Bayesian ≈ 0.00.
  expect(bayesian).toBeLessThan(0.05);
  expect(random).toBeGreaterThan(0.3);
});

test('Bayesian search spreads suggestions made while earlier trials are still running', () => {
  const oracle = createOracle({ space: braninSpace, algorithm: 'bayesian', objective: MAXIMIZE, maxTrials: 12, seed: 5 });
  for (let i = 0; i < 6; i++) {
    const s = oracle.suggest()!;
    oracle.report(s.trialId, { status: 'COMPLETED', value: negativeBranin(s.hyperparameters) });
  }
  const pending = Array.from({ length: 4 }, () => oracle.suggest()!.hyperparameters);
  const distance = (a: Hyperparameters, b: Hyperparameters) =>
    Math.hypot(((a.x as number) - (b.x as number)) / 15, ((a.y as number) - (b.y as number)) / 15, Math.log10((a.lr as number) / (b.lr as number)) / 4);
  for (let i = 0; i < pending.length; i++) for (let j = 0; j < i; j++) expect(distance(pending[i], pending[j])).toBeGreaterThan(0.02);
});
