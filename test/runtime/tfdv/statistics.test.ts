// StatisticsGen's computation on real data (penguins with missing values, flights): TFDV field names in
// the proto3 JSON mapping, values checked against DuckDB's exact aggregates, weighted statistics, and
// shards merged == one pass.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sqlString } from '../../../runtime/data/duckdb';
import { ALPHA } from '../../../runtime/tfdv/quantile-sketch';
import { buildDatasetStatistics } from '../../../runtime/tfdv/build-statistics';
import { accumulateShards, generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import { GRID_CELLS } from '../../../runtime/tfdv/grid-histogram';
import { parquetSource } from '../../../runtime/tfdv/column-plans';
import { parquetRanges } from '../../../runtime/tfdv/parquet-ranges';
import { FLIGHTS, PENGUINS, feature, sql, writeParquet } from './helpers';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'tfdv-stats-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const penguins = `SELECT * FROM read_json(${sqlString(PENGUINS)})`;

describe('statistics of penguins (real data with missing values)', () => {
  let stats: Awaited<ReturnType<typeof generateStatistics>>;
  beforeAll(async () => {
    stats = await generateStatistics('train', [await writeParquet(path.join(dir, 'penguins.parquet'), penguins)]);
  });

  it('uses the proto3 JSON names of statistics.proto (lowerCamelCase, enums as names, int64 as strings)', () => {
    expect(stats.numExamples).toBe('344');
    const beak = feature(stats, 'Beak Length (mm)');
    expect(beak.type).toBe('FLOAT');
    expect(Object.keys(beak.numStats!)).toEqual(expect.arrayContaining(['commonStats', 'mean', 'stdDev', 'numZeros', 'min', 'median', 'max', 'histograms']));
    expect(beak.numStats!.commonStats.numNonMissing).toBe('342');
    expect(beak.numStats!.commonStats.numMissing).toBe('2');
    expect(beak.numStats!.histograms.map((h) => h.type)).toEqual(['STANDARD', 'QUANTILES']);
    expect(beak.numStats!.histograms[1].buckets).toHaveLength(10);
    expect(typeof beak.numStats!.histograms[1].numNan).toBe('string');
    const species = feature(stats, 'Species');
    expect(species.type).toBe('STRING');
    expect(species.stringStats!.topValues[0]).toEqual({ value: 'Adelie', frequency: 152 });
    expect(species.stringStats!.unique).toBe('3');
    expect(species.stringStats!.rankHistogram.buckets[0]).toEqual({ lowRank: '0', highRank: '0', label: 'Adelie', sampleCount: 152 });
    expect(feature(stats, 'Body Mass (g)').type).toBe('INT');
  });

  it('matches DuckDB exact aggregates; the median is within the sketch bound', async () => {
    const [exact] = await sql(`SELECT avg("Beak Length (mm)") m, stddev_pop("Beak Length (mm)") s, min("Beak Length (mm)") lo, max("Beak Length (mm)") hi,
      quantile_disc("Beak Length (mm)", 0.5) med, count(Sex) sex, avg(strlen(Sex)) len FROM (${penguins})`);
    const beak = feature(stats, 'Beak Length (mm)').numStats!;
    expect(beak.mean).toBeCloseTo(Number(exact.m), 10);
    expect(beak.stdDev).toBeCloseTo(Number(exact.s), 10);
    expect(beak.min).toBe(Number(exact.lo));
    expect(beak.max).toBe(Number(exact.hi));
    // Bound: min(one grid cell, ALPHA·|median|) around the order statistic (0.5 rank either way).
    const cell = (Number(exact.hi) - Number(exact.lo)) / GRID_CELLS;
    expect(Math.abs(beak.median - Number(exact.med))).toBeLessThanOrEqual(Math.min(cell, ALPHA * Number(exact.med)) + 0.1);
    const sex = feature(stats, 'Sex');
    expect(sex.stringStats!.commonStats.numMissing).toBe(String(344 - Number(exact.sex)));
    expect(sex.stringStats!.avgLength).toBeCloseTo(Number(exact.len), 10);
    expect(sex.stringStats!.topValues.map((t) => t.value)).toEqual(['MALE', 'FEMALE', '.']);
    const counts = beak.histograms[0].buckets.reduce((t, b) => t + b.sampleCount, 0);
    expect(counts).toBe(342);
  });
});

describe('shards merged == one pass', () => {
  it('gives the same statistics from 4 part files in 4 shards as from 1 shard', async () => {
    const months = [1, 2, 3, 4];
    const files = await Promise.all(
      months.map((m) => writeParquet(path.join(dir, 'flights', `part-${m}.parquet`), `SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = ${m} LIMIT 50000`)),
    );
    const sharded = await accumulateShards(files.map((f) => [f]));
    const single = await accumulateShards([files]);
    for (const [name, one] of single.features) {
      const many = sharded.features.get(name)!;
      expect(many.nonMissing).toBe(one.nonMissing);
      if (one.numeric) {
        // Exactly equal: counts, min/max, quantile sketch and grid (the same split-wide range in every shard).
        expect(many.numeric!.sketch).toEqual(one.numeric.sketch);
        expect(many.numeric!.grid).toEqual(one.numeric.grid);
        expect([many.numeric!.min, many.numeric!.max, many.numeric!.zeros]).toEqual([one.numeric.min, one.numeric.max, one.numeric.zeros]);
        // Moments: equal up to floating-point rounding of the parallel update.
        expect(many.numeric!.moments.mean).toBeCloseTo(one.numeric.moments.mean, 9);
        expect(many.numeric!.moments.m2 / one.numeric.moments.m2).toBeCloseTo(1, 9);
      } else {
        // ~300 airports: below the value-count capacity, so the counts are exact.
        expect(many.string!.values.floor).toBe(0);
        expect(many.string!.values.counts).toEqual(one.string!.values.counts);
        expect(many.string!.distinct).toEqual(one.string!.distinct);
      }
    }
    // The grid ranges came from the Parquet row-group statistics and matched the exact ranges.
    const guessed = await parquetRanges(files, parquetSource(files));
    expect([...guessed.keys()].sort()).toEqual(['date', 'delay', 'distance']);
    for (const [name, range] of guessed) expect(range).toEqual({ min: single.features.get(name)!.numeric!.finiteMin, max: single.features.get(name)!.numeric!.finiteMax });
    const a = buildDatasetStatistics('x', sharded);
    const b = buildDatasetStatistics('x', single);
    expect(feature(a, 'delay').numStats!.histograms).toEqual(feature(b, 'delay').numStats!.histograms);
    expect(feature(a, 'origin').stringStats!.topValues).toEqual(feature(b, 'origin').stringStats!.topValues);
  });
});

describe('weighted statistics', () => {
  it('adds weighted common, numeric and string stats when a weight feature is set', async () => {
    const file = await writeParquet(
      path.join(dir, 'weighted.parquet'),
      `SELECT * FROM (VALUES (1.0, 'a', 1.0), (3.0, 'b', 3.0), (NULL, 'b', 2.0)) t(x, s, w)`,
    );
    const stats = await generateStatistics('train', [file], { weightFeature: 'w' });
    expect(stats.weightedNumExamples).toBe(6);
    const x = feature(stats, 'x').numStats!;
    expect(x.mean).toBe(2);
    expect(x.weightedNumericStats!.mean).toBeCloseTo((1 * 1 + 3 * 3) / 4, 12);
    expect(x.weightedNumericStats!.stdDev).toBeCloseTo(Math.sqrt((1 * (1 - 2.5) ** 2 + 3 * (3 - 2.5) ** 2) / 4), 12);
    expect(x.commonStats.weightedCommonStats).toEqual({ numNonMissing: 4, numMissing: 2, avgNumValues: 1, totNumValues: 4 });
    const s = feature(stats, 's').stringStats!;
    expect(s.weightedStringStats!.topValues).toEqual([
      { value: 'b', frequency: 5 },
      { value: 'a', frequency: 1 },
    ]);
  });
});

describe('special values and column kinds', () => {
  it('counts NaN, ±Infinity and zeros apart; lists give value counts; dates become INT epoch seconds', async () => {
    const file = await writeParquet(
      path.join(dir, 'special.parquet'),
      `SELECT * FROM (VALUES
        (0.0, [1, 2], DATE '2024-01-01'), ('NaN'::DOUBLE, [3], DATE '2024-01-02'), ('Infinity'::DOUBLE, [], NULL), (2.0, NULL, DATE '2024-01-03')
      ) t(x, l, d)`,
    );
    const stats = await generateStatistics('train', [file]);
    const x = feature(stats, 'x').numStats!;
    expect(x.numZeros).toBe('1');
    expect(x.histograms[0].numNan).toBe('1');
    expect(x.max).toBe('Infinity');
    expect(x.mean).toBe(1);
    const l = feature(stats, 'l');
    expect(l.type).toBe('INT');
    expect(l.numStats!.commonStats).toMatchObject({ numNonMissing: '3', minNumValues: '0', maxNumValues: '2', totNumValues: '3' });
    expect(l.numStats!.max).toBe(3);
    // Exact quantiles of the value counts 0, 1, 2 (one example each).
    const counts = l.numStats!.commonStats.numValuesHistogram!.buckets;
    expect([counts[0].lowValue, counts[4].highValue, counts[9].highValue]).toEqual([0, 1, 2]);
    // Infinity leaves the Parquet statistics without a max: the range then comes from the summary scan.
    expect([...(await parquetRanges([file], parquetSource([file]))).keys()].sort()).toEqual(['d']);
    expect(x.histograms[0].buckets.map((b) => b.sampleCount)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const d = feature(stats, 'd');
    expect(d.type).toBe('INT');
    expect(d.numStats!.min).toBe(Date.UTC(2024, 0, 1) / 1000);
  });
});
