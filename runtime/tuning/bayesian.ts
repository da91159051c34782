// Bayesian optimisation: after a few random trials, each suggestion maximises the expected improvement
// under a Gaussian process fitted to the trials so far, on hyperparameters mapped to the unit cube (log
// scales in log space, discrete and int values at the middle of their slice).

import { fitGaussianProcess, type GaussianProcess } from './gaussian-process';
import { oriented, type Goal } from './objective';
import { randomPoint, type Rng } from './random';
import { fromUnit, hyperparametersToPoint, pointToHyperparameters, randomHyperparameters, toUnit, type SearchSpace } from './search-space';
import { isScored, type Proposer } from './trial';

// Bound once for the candidate loop (see gaussian-process.ts).
const { abs, exp, max, min, sqrt, PI, SQRT2 } = Math;

/** Random trials before the first model-based one: enough to give the model a shape in every dimension. */
export function defaultInitialPoints(space: SearchSpace): number {
  return max(3, Object.keys(space).length + 1);
}

const RANDOM_CANDIDATES = 2000;
const LOCAL_CANDIDATES = 500;
// Local candidates lie within this distance of the best trial on each axis, to refine around it.
const LOCAL_RADIUS = 0.1;
const NOISE = 1e-4;
// Length scales tried by maximum marginal likelihood, in unit-cube distance: a handful of fixed choices is
// robust with the few points a search has, where a gradient fit often runs off to extremes.
const LENGTH_SCALES = [0.1, 0.2, 0.3, 0.5, 0.8];
// Expected improvement is asked to beat the best by this much (in standard deviations of the results) so
// that the search does not keep refining the best point by tiny amounts.
const MIN_IMPROVEMENT = 0.01;

function standardNormalPdf(z: number): number {
  return exp(-0.5 * z * z) / sqrt(2 * PI);
}

/** Φ(z) through erf, with the Abramowitz–Stegun 7.1.26 approximation (absolute error below 1.5e-7). */
function standardNormalCdf(z: number): number {
  const x = abs(z) / SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function expectedImprovement(model: GaussianProcess, point: readonly number[], best: number): number {
  const { mean, std } = model.predict(point);
  const improvement = mean - best - MIN_IMPROVEMENT;
  const z = improvement / std;
  return improvement * standardNormalCdf(z) + std * standardNormalPdf(z);
}

function fitBest(points: number[][], targets: number[]): GaussianProcess {
  return LENGTH_SCALES.map((lengthScale) => fitGaussianProcess(points, targets, { lengthScale, noise: NOISE })).reduce((a, b) =>
    b.logMarginalLikelihood > a.logMarginalLikelihood ? b : a,
  );
}

export function bayesianProposer(space: SearchSpace, goal: Goal, rng: Rng, initialPoints: number): Proposer {
  const specs = Object.values(space);
  // Candidates are moved to the point their hyperparameters encode to, so the model is asked about the
  // value that would really be tried (the middle of an int's slice, not anywhere inside it).
  const snap = (point: number[]) =>
    specs.map((spec, i) => {
      const u = min(1, max(0, point[i]));
      return spec.type === 'double' ? u : toUnit(spec, fromUnit(spec, u));
    });

  return (trials) => {
    const scored = trials.filter(isScored);
    if (trials.length < initialPoints || scored.length === 0) return randomHyperparameters(space, rng);

    // Standardised scores (larger is better). A failed trial counts as the worst result so far, steering
    // the search away from settings that crash or diverge instead of proposing them again.
    const worst = min(...scored.map((t) => oriented(goal, t.value)));
    const observed = trials.filter((t) => t.status !== 'RUNNING');
    const scores = observed.map((t) => (isScored(t) ? oriented(goal, t.value) : worst));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const sd = sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length) || 1;
    const targets = scores.map((s) => (s - mean) / sd);
    const points = observed.map((t) => hyperparametersToPoint(space, t.hyperparameters));

    // Kriging believer: running trials are added as if they had returned the model's current mean, which
    // removes their uncertainty so parallel suggestions spread out instead of piling onto one point.
    let model = fitBest(points, targets);
    const pending = trials.filter((t) => t.status === 'RUNNING').map((t) => hyperparametersToPoint(space, t.hyperparameters));
    if (pending.length > 0) model = fitBest([...points, ...pending], [...targets, ...pending.map((p) => model.predict(p).mean)]);

    const incumbent = scored.reduce((a, b) => (oriented(goal, b.value) > oriented(goal, a.value) ? b : a));
    const best = (oriented(goal, incumbent.value) - mean) / sd;
    const around = hyperparametersToPoint(space, incumbent.hyperparameters);
    const candidates = [
      ...Array.from({ length: RANDOM_CANDIDATES }, () => randomPoint(specs.length, rng)),
      ...Array.from({ length: LOCAL_CANDIDATES }, () => around.map((x) => x + (rng() - 0.5) * 2 * LOCAL_RADIUS)),
    ].map(snap);
    let chosen = candidates[0];
    let chosenImprovement = -Infinity;
    for (const candidate of candidates) {
      const improvement = expectedImprovement(model, candidate, best);
      if (improvement > chosenImprovement) [chosen, chosenImprovement] = [candidate, improvement];
    }
    return pointToHyperparameters(space, chosen);
  };
}
