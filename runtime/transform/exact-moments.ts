// Exact, mergeable sums of doubles for the analyzers' means and standard deviations: DuckDB splits every value
// x into an exponent group e and an integer m with x = m·2^(e−60) exactly (|m| < 2^62), and sums m and the
// three 31-bit pieces of m² as 128-bit integers per group. Integer sums do not depend on the order or the
// grouping of the rows, so shards merged give exactly the sums of one pass, and the mean and population
// standard deviation are computed from them once, correctly rounded: the same doubles for any shard count (a
// floating-point avg() or Welford merge would differ in the last bits between shardings).

import { UserError } from '../core/errors';

/** The sums of one exponent group: Σm and Σm² as its pieces (m² = a²·2^62 + ab·2^32 + b², a = |m|>>31, b = |m| mod 2^31). */
export interface ExponentSums {
  e: number;
  s: bigint;
  a2: bigint;
  ab: bigint;
  b2: bigint;
}

/** Exact sums of the finite values of a column: their count (zeros included) and the per-exponent sums of the non-zero ones. */
export interface ExactSums {
  n: number;
  groups: ExponentSums[];
}

/** Extra bits of m past the 53 of a double's significand: slack for log2's rounding near powers of two. */
const SHIFT = 60;

/**
 * SQL for the per-group columns over a DOUBLE expression `x` (finite, non-zero rows only): `e`, and `m` as a
 * BIGINT. floor(log2|x|) may be off by one near powers of two; m = x·2^(60−e) is then still an integer below
 * 2^62. The scaling is two multiplications by powers of two (each exact) so that no factor overflows.
 */
export function exponentSql(x: string): string {
  return `CAST(floor(log2(abs(${x}))) AS INTEGER)`;
}
export function mantissaSql(x: string, e: string): string {
  return `(${x} * pow(2.0, (${SHIFT} - ${e}) // 2) * pow(2.0, (${SHIFT} - ${e}) - (${SHIFT} - ${e}) // 2))`;
}

/** The aggregate SQL over grouped rows with columns e and m (a DOUBLE holding an integer): the ExponentSums columns. */
export function groupSumsSql(m: string): string {
  const im = `CAST(${m} AS BIGINT)`;
  const a = `(abs(${im}) >> 31)`;
  const b = `(abs(${im}) & 2147483647)`;
  return [
    `sum(${im}::HUGEINT) AS s`,
    `sum((${a} * ${a})::HUGEINT) AS a2`,
    `sum((${a} * ${b})::HUGEINT) AS ab`,
    `sum((${b} * ${b})::HUGEINT) AS b2`,
    // m must be an integer below 2^62 for the sums to be exact: counted, and checked by sumsOfRows.
    `count(*) FILTER (WHERE ${m} <> trunc(${m}) OR abs(${m}) >= 4611686018427387904) AS inexact`,
  ].join(', ');
}

/** ExactSums from the grouped query's rows (columns e, s, a2, ab, b2, inexact) and the count of finite values. */
export function sumsOfRows(n: number, rows: Record<string, unknown>[], what: string): ExactSums {
  const groups = rows.map((r) => {
    if (Number(r.inexact) !== 0) throw new Error(`${what}: ${String(r.inexact)} values of exponent ${String(r.e)} did not scale to exact integers`);
    return { e: Number(r.e), s: BigInt(r.s as bigint), a2: BigInt(r.a2 as bigint), ab: BigInt(r.ab as bigint), b2: BigInt(r.b2 as bigint) };
  });
  return { n, groups: groups.sort((x, y) => x.e - y.e) };
}

export function mergeSums(a: ExactSums, b: ExactSums): ExactSums {
  const byE = new Map<number, ExponentSums>(a.groups.map((g) => [g.e, { ...g }]));
  for (const g of b.groups) {
    const t = byE.get(g.e);
    if (!t) byE.set(g.e, { ...g });
    else byE.set(g.e, { e: g.e, s: t.s + g.s, a2: t.a2 + g.a2, ab: t.ab + g.ab, b2: t.b2 + g.b2 });
  }
  return { n: a.n + b.n, groups: [...byE.values()].sort((x, y) => x.e - y.e) };
}

/** JSON form (bigints as decimal strings) and back; `where` names the file in errors. */
export function sumsToJson(s: ExactSums): unknown {
  return { n: s.n, groups: s.groups.map((g) => ({ e: g.e, s: String(g.s), a2: String(g.a2), ab: String(g.ab), b2: String(g.b2) })) };
}
export function sumsFromJson(v: unknown, where: string): ExactSums {
  const o = v as { n?: unknown; groups?: unknown };
  if (!o || typeof o.n !== 'number' || !Array.isArray(o.groups)) throw new UserError(`${where}: not exact sums (n and groups expected)`);
  const big = (x: unknown, f: string) => {
    if (typeof x !== 'string' || !/^-?\d+$/.test(x)) throw new UserError(`${where}: sums.${f} is not an integer string`);
    return BigInt(x);
  };
  return {
    n: o.n,
    groups: (o.groups as Record<string, unknown>[]).map((g) => ({ e: Number(g.e), s: big(g.s, 's'), a2: big(g.a2, 'a2'), ab: big(g.ab, 'ab'), b2: big(g.b2, 'b2') })),
  };
}

/** x·2^k without overflow or underflow of the factor (exact unless the result is subnormal or out of range). */
function scale2(x: number, k: number): number {
  let v = x;
  let r = k;
  while (r > 1000) { v *= 2 ** 1000; r -= 1000; }
  while (r < -1000) { v *= 2 ** -1000; r += 1000; }
  return v * 2 ** r;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** a / (b·2^−k) for k < 0, a·2^k / b otherwise, truncated, with its lowest bit set when inexact (sticky). */
function stickyQuotient(a: bigint, b: bigint, k: number): bigint {
  const num = k >= 0 ? a << BigInt(k) : a;
  const den = k >= 0 ? b : b << BigInt(-k);
  const q = num / den;
  return q * den === num ? q : q | 1n;
}

/** num/den·2^exp, correctly rounded (num may be negative, den > 0). */
function roundRatio(num: bigint, den: bigint, exp: number): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const abs = neg ? -num : num;
  // A quotient of about 64 bits (so Number() neither overflows nor loses more than the rounding); its lowest bit
  // is sticky, so Number() rounds once, correctly.
  const k = 64 + bitLength(den) - bitLength(abs);
  const v = scale2(Number(stickyQuotient(abs, den, k)), exp - k);
  return neg ? -v : v;
}

function isqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(bitLength(x) / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}

/** sqrt(num/den)·2^exp, correctly rounded (num ≥ 0, den > 0). */
function roundSqrtRatio(num: bigint, den: bigint, exp: number): number {
  if (num === 0n) return 0;
  // num·4^k/den of about 128 bits, so its integer square root has about 64; the lowest bit is sticky.
  const k = Math.ceil((128 + bitLength(den) - bitLength(num)) / 2);
  const z = stickyQuotient(num, den, 2 * k);
  let r = isqrt(z);
  if (r * r !== z) r |= 1n;
  return scale2(Number(r), exp - k);
}

/** Σx and Σx² as integers T1, T2 with Σx = T1·2^base and Σx² = T2·2^(2·base). */
function integerSums(s: ExactSums): { t1: bigint; t2: bigint; base: number } {
  const base = s.groups.length ? s.groups[0].e - SHIFT : 0;
  let t1 = 0n;
  let t2 = 0n;
  for (const g of s.groups) {
    const d = BigInt(g.e - SHIFT - base);
    t1 += g.s << d;
    t2 += ((g.a2 << 62n) + (g.ab << 32n) + g.b2) << (2n * d);
  }
  return { t1, t2, base };
}

/** The mean, correctly rounded; undefined when there are no values. */
export function exactMean(s: ExactSums): number | undefined {
  if (s.n === 0) return undefined;
  const { t1, base } = integerSums(s);
  return roundRatio(t1, BigInt(s.n), base);
}

/** The population standard deviation sqrt(Σ(x−mean)²/n), correctly rounded; undefined when there are no values. */
export function exactStdDev(s: ExactSums): number | undefined {
  if (s.n === 0) return undefined;
  const { t1, t2, base } = integerSums(s);
  const n = BigInt(s.n);
  // Σ(x−mean)²/n = (n·Σx² − (Σx)²)/n², never negative in exact arithmetic.
  return roundSqrtRatio(n * t2 - t1 * t1, n * n, base);
}
