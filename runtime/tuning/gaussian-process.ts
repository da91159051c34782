// A small Gaussian process regressor for Bayesian optimisation: zero prior mean, unit signal variance and a
// Matern 5/2 kernel on points of the unit cube, so callers standardise their targets first. A search has
// tens of trials, so the exact O(n^3) Cholesky solve written here is instant.

// Bound once for the inner loops: under jest's vm sandbox every lookup of the global Math costs ~5x the
// arithmetic around it.
const { exp, log, max, sqrt } = Math;

export interface GaussianProcessOptions {
  /** Kernel length scale in unit-cube distance. */
  lengthScale: number;
  /** Variance added to the diagonal: observation noise, and what keeps the matrix positive definite when points coincide. */
  noise: number;
}

export interface Prediction {
  mean: number;
  std: number;
}

export interface GaussianProcess {
  predict(x: readonly number[]): Prediction;
  /** log p(targets | points), for comparing kernel settings. */
  logMarginalLikelihood: number;
}

function matern52(a: readonly number[], b: readonly number[], lengthScale: number): number {
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += (a[i] - b[i]) ** 2;
  const r = sqrt(5 * squared) / lengthScale;
  return (1 + r + (r * r) / 3) * exp(-r);
}

/** The lower-triangular L with L Lᵀ = a; throws if a is not positive definite. */
function cholesky(a: readonly (readonly number[])[]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(sum > 0)) throw new Error(`matrix is not positive definite (pivot ${sum} at row ${i})`);
        l[i][i] = sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  }
  return l;
}

/** Solves L x = b for lower-triangular L. */
function solveLower(l: readonly (readonly number[])[], b: readonly number[]): number[] {
  const x = new Array<number>(b.length);
  for (let i = 0; i < b.length; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i][k] * x[k];
    x[i] = sum / l[i][i];
  }
  return x;
}

/** Solves Lᵀ x = b for lower-triangular L. */
function solveUpperTransposed(l: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i];
    for (let k = i + 1; k < n; k++) sum -= l[k][i] * x[k];
    x[i] = sum / l[i][i];
  }
  return x;
}

export function fitGaussianProcess(points: readonly (readonly number[])[], targets: readonly number[], options: GaussianProcessOptions): GaussianProcess {
  const { lengthScale, noise } = options;
  const l = cholesky(points.map((a, i) => points.map((b, j) => matern52(a, b, lengthScale) + (i === j ? noise : 0))));
  const alpha = solveUpperTransposed(l, solveLower(l, targets));
  const logDeterminantHalf = l.reduce((sum, row, i) => sum + log(row[i]), 0);
  return {
    logMarginalLikelihood: -0.5 * targets.reduce((sum, y, i) => sum + y * alpha[i], 0) - logDeterminantHalf - 0.5 * targets.length * log(2 * Math.PI),
    predict(x) {
      const k = points.map((p) => matern52(x, p, lengthScale));
      const v = solveLower(l, k);
      const mean = k.reduce((sum, ki, i) => sum + ki * alpha[i], 0);
      const variance = 1 - v.reduce((sum, vi) => sum + vi * vi, 0);
      return { mean, std: sqrt(max(variance, 1e-12)) };
    },
  };
}
