// The mergeable building blocks and their error bounds: the logarithmic quantile sketch (SQL keys equal
// the JS keys; quantiles within ALPHA relative error), the grid histogram (within one cell), bounded value
// counts (merged counts are lower bounds, off by at most the sum of floors), the distinct-count sketch
// (exact below K) and the parallel moments update.

import fc from 'fast-check';
import { distinctFromHashes, estimateDistinct, K, mergeDistinct } from '../../../runtime/tfdv/distinct-sketch';
import { cellWidth, gridBucketCounts, gridQuantiles, GRID_CELLS, mergeGrids } from '../../../runtime/tfdv/grid-histogram';
import { mergeMoments, NO_MOMENTS, stdDev, type Moments } from '../../../runtime/tfdv/moments';
import { ALPHA, addCount, mergeSketches, sketchKey, sketchQuantiles, sqlKey, type QuantileSketch } from '../../../runtime/tfdv/quantile-sketch';
import { mergeValueCounts, truncateValueCounts, type ValueCounts } from '../../../runtime/tfdv/value-counts';
import { sql } from './helpers';

const exactQuantile = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))];

it('computes the same sketch keys in DuckDB as in JS', async () => {
  const values = [1, -1, 0, 1e-310, 2.5, -2.5, 123456.789, -1e300, 1e300, 0.001, 7];
  const rows = await sql(`SELECT x, ${sqlKey('x')} AS k FROM (SELECT unnest([${values.map((v) => `${v}::DOUBLE`).join(', ')}]) AS x)`);
  expect(rows.map((r) => Number(r.k))).toEqual(values.map(sketchKey));
});

it('reports quantiles within ALPHA relative error, and merging sketches equals one sketch', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.nat(), (values, cut) => {
      const whole: QuantileSketch = new Map();
      const a: QuantileSketch = new Map();
      const b: QuantileSketch = new Map();
      values.forEach((v, i) => {
        addCount(whole, sketchKey(v), 1);
        addCount(i < cut % (values.length + 1) ? a : b, sketchKey(v), 1);
      });
      expect(mergeSketches(a, b)).toEqual(whole);
      const sorted = [...values].sort((x, y) => x - y);
      const qs = [0.1, 0.25, 0.5, 0.75, 0.9];
      const est = sketchQuantiles(whole, qs, sorted[0], sorted[sorted.length - 1]);
      qs.forEach((q, i) => {
        const exact = exactQuantile(sorted, q);
        // Values below 1e-300 in magnitude share the zero bucket.
        expect(Math.abs(est[i] - exact)).toBeLessThanOrEqual(ALPHA * Math.abs(exact) + 1e-300 + 1e-9 * Math.abs(exact));
      });
    }),
    { numRuns: 200 },
  );
});

it('grid histograms give exact 10-bucket counts and quantiles within one cell; merging adds cells', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => 2000 + ((i * 7919) % 10_000) / 100);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const grid = { min, max, cells: new Map<number, number>() };
  const half = { min, max, cells: new Map<number, number>() };
  const other = { min, max, cells: new Map<number, number>() };
  values.forEach((v, i) => {
    const cell = Math.min(GRID_CELLS - 1, Math.floor(((v - min) * GRID_CELLS) / (max - min)));
    for (const g of [grid, i % 2 ? half : other]) g.cells.set(cell, (g.cells.get(cell) ?? 0) + 1);
  });
  expect(mergeGrids(half, other)).toEqual(grid);
  const width = (max - min) / 10;
  expect(gridBucketCounts(grid, 10)).toEqual(Array.from({ length: 10 }, (_, b) => values.filter((v) => Math.min(9, Math.floor((v - min) / width)) === b).length));
  const sorted = [...values].sort((x, y) => x - y);
  for (const q of [0.01, 0.5, 0.99]) expect(Math.abs(gridQuantiles(grid, [q])[0] - exactQuantile(sorted, q))).toBeLessThanOrEqual(cellWidth(grid));
  // Relative error would be useless here (values near 2000, spread 100): ALPHA·2000 = 20 > one cell (0.1).
  expect(cellWidth(grid)).toBeLessThan(ALPHA * min);
  expect(() => mergeGrids(grid, { ...grid, max: max + 1 })).toThrow('different ranges');
});

it('merges bounded value counts with lower-bound counts off by at most the sum of floors', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 200 }), { minLength: 1, maxLength: 5 }), (shards) => {
      const capacity = 8;
      const exact = new Map<string, number>();
      const summaries: ValueCounts[] = shards.map((values) => {
        const counts = new Map<string, number>();
        for (const v of values) {
          counts.set(`v${v}`, (counts.get(`v${v}`) ?? 0) + 1);
          exact.set(`v${v}`, (exact.get(`v${v}`) ?? 0) + 1);
        }
        return truncateValueCounts({ counts, floor: 0 }, capacity);
      });
      const merged = summaries.reduce((a, b) => truncateValueCounts(mergeValueCounts(a, b), capacity));
      for (const [v, c] of merged.counts) {
        expect(c).toBeLessThanOrEqual(exact.get(v)!);
        expect(exact.get(v)! - c).toBeLessThanOrEqual(merged.floor);
      }
      // A value left out never had more than the floor.
      for (const [v, c] of exact) if (!merged.counts.has(v)) expect(c).toBeLessThanOrEqual(merged.floor);
      if (exact.size <= capacity) expect(merged).toEqual({ counts: exact, floor: 0 });
    }),
  );
});

it('counts distinct values exactly below K and estimates within 5% above', async () => {
  const [small] = await sql(`SELECT min(hash(i), ${K}) AS h FROM range(1000) t(i)`);
  expect(estimateDistinct(distinctFromHashes(small.h as string[]))).toBe(1000);
  const [a] = await sql(`SELECT min(hash(i), ${K}) AS h FROM range(0, 60000) t(i)`);
  const [b] = await sql(`SELECT min(hash(i), ${K}) AS h FROM range(40000, 100000) t(i)`);
  const merged = mergeDistinct(distinctFromHashes(a.h as string[]), distinctFromHashes(b.h as string[]));
  expect(Math.abs(estimateDistinct(merged) - 100_000) / 100_000).toBeLessThan(0.05);
});

it('merges moments in any split to the one-pass mean and population std dev', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 100 }), fc.nat(), (values, cut) => {
      const of = (xs: number[]): Moments => xs.reduce((m, x) => mergeMoments(m, { n: 1, mean: x, m2: 0 }), NO_MOMENTS);
      const k = cut % values.length;
      const merged = mergeMoments(of(values.slice(0, k)), of(values.slice(k)));
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
      expect(merged.mean).toBeCloseTo(mean, 6);
      expect(stdDev(merged)).toBeCloseTo(sd, 6);
    }),
  );
});
