// The analyzers' mergeable state (analyze.ts, exact-moments.ts, value-quantiles.ts): means and standard
// deviations from exact integer sums are the correctly rounded values (checked against exact rational arithmetic
// here) and the same for any sharding, where DuckDB's floating-point avg() is not even right; bucketize
// boundaries from exact value counts are DuckDB's quantile_cont, and past the exact limit the sketch is the same
// for any sharding and within its documented error (ALPHA relative to the order statistic at rank ⌊q·(n−1)⌋);
// the accumulator survives its JSON form; infinite values are refused.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { shardRowsSql } from '../../../runtime/data/shard-rows';
import { accumulate, accumulatorFromJson, accumulatorToJson, analyze, filesSource, finishAnalysis, mergeAccumulators, type AnalysisAccumulator } from '../../../runtime/transform/analyze';
import { exactMean, exactStdDev } from '../../../runtime/transform/exact-moments';
import { TransformSpec } from '../../../runtime/transform/spec';
import { valueQuantiles } from '../../../runtime/transform/value-quantiles';
import { ALPHA } from '../../../runtime/tfdv/quantile-sketch';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-exact-analysis-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

let files = 0;
async function parquet(selectSql: string): Promise<string> {
  const file = path.join(dir, `t${++files}.parquet`);
  await (await duckdb()).run(`COPY (${selectSql}) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 500)`);
  return file;
}

async function values(file: string, column: string): Promise<number[]> {
  return (await (await duckdb()).runAndReadAll(`SELECT ${column} AS v FROM read_parquet(${sqlString(file)})`)).getRowObjectsJS().map((r) => r.v as number);
}

/** Accumulators of `shards` shards of the file, merged in order. */
async function shardedAccumulator(spec: TransformSpec, file: string, shards: number, limit?: number): Promise<AnalysisAccumulator> {
  const accs: AnalysisAccumulator[] = [];
  for (let index = 0; index < shards; index++) {
    const { sql } = await shardRowsSql(await duckdb(), [file], { index, count: shards });
    accs.push(await accumulate(spec, sql, limit));
  }
  return mergeAccumulators(accs, limit);
}

/** x = m·2^e exactly (finite x). */
function exactParts(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = exp === 0 ? frac : frac | (1n << 52n);
  return { m: bits >> 63n ? -m : m, e: (exp === 0 ? 1 : exp) - 1075 };
}
/** x·2^1074 as an integer (every double is a multiple of 2^−1074). */
const scaled = (x: number) => {
  const { m, e } = exactParts(x);
  return m << BigInt(e + 1074);
};
/** Half the gap to the next double above |r|, times 2^1074. */
const halfUlpScaled = (r: number) => {
  const { e } = exactParts(Math.abs(r));
  return 1n << BigInt(Math.max(e, -1074) + 1074 - 1);
};

/** r is num/den correctly rounded: |r·den − num| ≤ ½ulp(r)·den (num, den scaled alike). */
function expectRoundedRatio(r: number, num: bigint, den: bigint): void {
  const err = scaled(r) * den - num;
  expect((err < 0n ? -err : err) <= halfUlpScaled(r) * den).toBe(true);
}

test('means and standard deviations are correctly rounded from exact sums, where DuckDB avg() is not', async () => {
  const file = await parquet(`SELECT * FROM (VALUES (1e16), (1.0), (1.0), (1.0), (1.0), (-1e16)) t(x)`);
  const [{ a }] = (await (await duckdb()).runAndReadAll(`SELECT avg(x) AS a FROM read_parquet(${sqlString(file)})`)).getRowObjectsJS();
  expect(a).toBe(0); // the floating-point sum loses the four ones
  const graph = await analyze(TransformSpec.parse([{ kind: 'z_score', feature: 'x' }]), [file]);
  expect(graph.outputs[0].analyzer).toMatchObject({ mean: 4 / 6 });

  // 1…5 scaled by powers of two, far beyond where squares fit a double: mean 3·s, std √2·s.
  for (const s of [1, 2 ** -1000, 2 ** 1000]) {
    const f = await parquet(`SELECT range * ${s.toExponential(20)}::DOUBLE AS x FROM range(1, 6)`);
    const acc = await accumulate(TransformSpec.parse([{ kind: 'z_score', feature: 'x' }]), filesSource([f]));
    expect(finishAnalysis(TransformSpec.parse([{ kind: 'z_score', feature: 'x' }]), acc).outputs[0].analyzer).toMatchObject({ mean: 3 * s, stdDev: Math.SQRT2 * s });
  }
});

test('mixed magnitudes and signs: mean and std exact-rounded, the same doubles for 1, 2, 3 and 7 shards', async () => {
  // 3000 values from ±1e−300 to ±1e300, some repeated, some missing.
  const file = await parquet(
    `SELECT CASE WHEN i % 19 = 0 THEN NULL ELSE ((hash(i) % 2000003)::DOUBLE - 1000001) * pow(10.0, (hash(i * 7) % 601)::INTEGER - 300) END AS x FROM range(3000) t(i)`,
  );
  const spec = TransformSpec.parse([{ kind: 'z_score', feature: 'x' }]);
  const xs = (await values(file, 'x')).filter((v) => v !== null);
  const n = BigInt(xs.length);
  const s1 = xs.reduce((t, x) => t + scaled(x), 0n);
  const s2 = xs.reduce((t, x) => t + scaled(x) ** 2n, 0n);
  const whole = await accumulate(spec, filesSource([file]));
  const acc = whole.outputs[0];
  if (acc.kind !== 'numeric') throw new Error('numeric accumulator expected');
  const mean = exactMean(acc.sums)!;
  const std = exactStdDev(acc.sums)!;
  expectRoundedRatio(mean, s1, n);
  // std² = (n·Σx² − (Σx)²)/n² (scaled by 2^2148): |std| within ½ulp means (std−h)² ≤ var ≤ (std+h)².
  const varNum = n * s2 - s1 * s1;
  const lo = scaled(std) - halfUlpScaled(std);
  const hi = scaled(std) + halfUlpScaled(std);
  expect(lo * lo * n * n <= varNum && varNum <= hi * hi * n * n).toBe(true);
  for (const shards of [1, 2, 3, 7]) {
    const merged = await shardedAccumulator(spec, file, shards);
    expect(merged).toEqual(whole);
    expect(finishAnalysis(spec, merged)).toEqual(finishAnalysis(spec, whole));
  }
});

test('exact value counts give DuckDB quantile_cont boundaries, ties included', async () => {
  const file = await parquet(`SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE round((hash(i) % 1000) / 37.0, 1) END AS x FROM range(3000) t(i)`);
  for (const k of [2, 3, 4, 7, 10]) {
    const fractions = Array.from({ length: k - 1 }, (_, i) => (i + 1) / k);
    const [{ q }] = (await (await duckdb()).runAndReadAll(
      `SELECT quantile_cont(x, [${fractions.map((f) => `'${f}'::DOUBLE`).join(', ')}]) AS q FROM read_parquet(${sqlString(file)})`,
    )).getRowObjectsJS() as { q: number[] }[];
    const acc = (await accumulate(TransformSpec.parse([{ kind: 'bucketize', feature: 'x', num_buckets: k }]), filesSource([file]))).outputs[0];
    if (acc.kind !== 'numeric' || !acc.values || !('exact' in acc.values)) throw new Error('exact value counts expected');
    expect(valueQuantiles(acc.values, fractions, acc.min!, acc.max!)).toEqual(q);
  }
});

test('past the exact limit the boundaries come from the sketch: the same for any sharding, within ALPHA of the order statistic', async () => {
  // 2000 distinct values, limit 1200: one pass builds the sketch in SQL; two or more shards stay exact each and
  // collapse to the sketch in the merge, with the keys DuckDB computed.
  const file = await parquet(`SELECT (i * 7919 % 2000 - 500) * 1.37 AS x FROM range(3000) t(i)`);
  const spec = TransformSpec.parse([{ kind: 'bucketize', feature: 'x', num_buckets: 10 }]);
  const fractions = Array.from({ length: 9 }, (_, i) => (i + 1) / 10);
  const sorted = (await values(file, 'x')).sort((a, b) => a - b);
  const quantilesOf = (acc: AnalysisAccumulator) => {
    const o = acc.outputs[0];
    if (o.kind !== 'numeric' || !o.values) throw new Error('value counts expected');
    expect('sketch' in o.values).toBe(true);
    return valueQuantiles(o.values, fractions, o.min!, o.max!);
  };
  const whole = quantilesOf(await shardedAccumulator(spec, file, 1, 1200));
  fractions.forEach((q, i) => {
    const exact = sorted[Math.floor(q * (sorted.length - 1))];
    expect(Math.abs(whole[i] - exact)).toBeLessThanOrEqual(ALPHA * Math.abs(exact));
  });
  for (const shards of [2, 3, 7]) expect(quantilesOf(await shardedAccumulator(spec, file, shards, 1200))).toEqual(whole);
});

test('the accumulator survives its JSON form; accumulators of other columns do not merge', async () => {
  const file = await parquet(
    `SELECT ['a', 'b', NULL, ''][1 + i % 4] AS s, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5 END AS x, i % 2 = 0 AS flag, DATE '2024-01-01' + i::INTEGER AS d FROM range(400) t(i)`,
  );
  const spec = TransformSpec.parse([
    { kind: 'vocabulary', feature: 's' },
    { kind: 'z_score', feature: 'x' },
    { kind: 'bucketize', feature: 'd', num_buckets: 3 },
    { kind: 'identity', feature: 'flag' },
    { kind: 'hash', feature: 's', hash_buckets: 3 },
  ]);
  const acc = await accumulate(spec, filesSource([file]));
  const back = accumulatorFromJson(JSON.parse(JSON.stringify(accumulatorToJson(acc))), 'acc.json');
  expect(back).toEqual(acc);
  expect(finishAnalysis(spec, back)).toEqual(finishAnalysis(spec, acc));

  const json = accumulatorToJson(acc) as { outputs: { sums?: { groups: { s: string }[] } }[] };
  json.outputs[1].sums!.groups[0].s = '1.5';
  expect(() => accumulatorFromJson(json, 'acc.json')).toThrow('acc.json output 1: sums.s is not an integer string');
  expect(() => accumulatorFromJson({ examples: 'x' }, 'acc.json')).toThrow('acc.json: not a Transform analysis accumulator');

  const other = await accumulate(TransformSpec.parse([{ kind: 'vocabulary', feature: 'x' }, ...spec.slice(1)]), filesSource([file]));
  expect(() => mergeAccumulators([acc, other])).toThrow(/Transform merge: accumulator 1 is of other transforms or column types than accumulator 0/);
});

test('infinite values are refused naming the transform, not turned into an infinite mean', async () => {
  const file = await parquet(`SELECT * FROM (VALUES (1.0), ('inf'::DOUBLE), (2.0), ('-inf'::DOUBLE)) t(x)`);
  await expect(analyze(TransformSpec.parse([{ kind: 'min_max', feature: 'x' }]), [file])).rejects.toThrow(
    'Transform: min_max of x: the training split has 2 infinite values; the analyzers need finite numbers',
  );
});
