// A fine equal-width histogram (GRID_CELLS cells) over a range fixed for the whole split before the
// shards are scanned, so shards' histograms merge exactly by adding cell counts. It gives the STANDARD
// 10-bucket histogram exactly (cells nest in buckets) and quantiles within one cell width; the logarithmic
// sketch (quantile-sketch.ts) covers heavy tails where one cell would hold most of the data.

import { addCount } from './quantile-sketch';

export const GRID_CELLS = 1000;

export interface GridHistogram {
  /** Finite range the cells divide; the same for every shard of a split. */
  min: number;
  max: number;
  /** Cell index (0..GRID_CELLS−1) → count (or weight). */
  cells: Map<number, number>;
}

export function cellWidth(g: { min: number; max: number }): number {
  return (g.max - g.min) / GRID_CELLS;
}

/** Cell index of finite `x` as a DuckDB expression (values at max fall in the last cell). */
export function sqlCell(x: string, min: number, max: number): string {
  if (!(max > min)) return '0';
  const scale = GRID_CELLS / (max - min);
  return `least(${GRID_CELLS - 1}, greatest(0, CAST(floor((${x} - (${min})) * ${scale}) AS INTEGER)))`;
}

export function mergeGrids(a: GridHistogram, b: GridHistogram): GridHistogram {
  if (a.min !== b.min || a.max !== b.max) throw new Error(`grid histograms over different ranges cannot be merged ([${a.min}, ${a.max}] vs [${b.min}, ${b.max}])`);
  const cells = new Map(a.cells);
  for (const [i, c] of b.cells) addCount(cells, i, c);
  return { min: a.min, max: a.max, cells };
}

/** Counts of `n` equal-width buckets over the grid's range (exact when GRID_CELLS is a multiple of n). */
export function gridBucketCounts(g: GridHistogram, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const [i, c] of g.cells) counts[Math.min(n - 1, Math.floor((i * n) / GRID_CELLS))] += c;
  return counts;
}

/**
 * Quantile estimates (rank q·total), interpolating linearly inside the cell that holds the rank. For
 * integer values in cells at most 1 wide, a cell holds a single integer: the smallest one ≥ its low edge.
 */
export function gridQuantiles(g: GridHistogram, fractions: number[], integral = false): number[] {
  const cells = [...g.cells.entries()].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  const total = cells.reduce((t, [, c]) => t + c, 0);
  const w = cellWidth(g);
  return fractions.map((q) => {
    if (total === 0) return NaN;
    if (q <= 0) return g.min;
    if (q >= 1) return g.max;
    const rank = q * total;
    let seen = 0;
    for (const [i, c] of cells) {
      if (seen + c >= rank) return integral && w <= 1 ? Math.ceil(g.min + i * w - 1e-9) : g.min + (i + (rank - seen) / c) * w;
      seen += c;
    }
    return g.max;
  });
}
