// The Gaussian process behind Bayesian search: it reproduces its observations with little uncertainty,
// falls back to the prior (mean 0, std 1) far from them, and its marginal likelihood prefers a length
// scale that fits how fast the data varies.

import { fitGaussianProcess } from '../../../runtime/tuning/gaussian-process';

const points = [[0.1], [0.4], [0.7]];
const targets = [-1, 1, 0.5];

test('predictions interpolate the observations and are uncertain far from them', () => {
  const gp = fitGaussianProcess(points, targets, { lengthScale: 0.2, noise: 1e-6 });
  points.forEach((p, i) => {
    expect(gp.predict(p).mean).toBeCloseTo(targets[i], 4);
    expect(gp.predict(p).std).toBeLessThan(0.01);
  });
  const between = gp.predict([0.55]);
  expect(between.mean).toBeGreaterThan(0.5);
  expect(between.std).toBeGreaterThan(0.05);
  const far = fitGaussianProcess([[0, 0]], [2], { lengthScale: 0.1, noise: 1e-6 }).predict([1, 1]);
  expect(far.mean).toBeCloseTo(0, 6);
  expect(far.std).toBeCloseTo(1, 6);
});

test('coinciding points do not break the fit', () => {
  const gp = fitGaussianProcess([[0.3, 0.3], [0.3, 0.3], [0.8, 0.1]], [1, 1, -1], { lengthScale: 0.3, noise: 1e-4 });
  expect(gp.predict([0.3, 0.3]).mean).toBeCloseTo(1, 2);
});

test('the marginal likelihood prefers a short length scale for a wiggly function and a long one for a smooth one', () => {
  const xs = Array.from({ length: 12 }, (_, i) => [i / 11]);
  const likelihood = (f: (x: number) => number, lengthScale: number) =>
    fitGaussianProcess(xs, xs.map(([x]) => f(x)), { lengthScale, noise: 1e-4 }).logMarginalLikelihood;
  const wiggly = (x: number) => Math.sin(25 * x);
  const smooth = (x: number) => x - 0.5;
  expect(likelihood(wiggly, 0.1)).toBeGreaterThan(likelihood(wiggly, 0.8));
  expect(likelihood(smooth, 0.8)).toBeGreaterThan(likelihood(smooth, 0.1));
});
