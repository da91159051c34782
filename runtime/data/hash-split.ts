// Deterministic hash splitting of records into named splits, computed inside DuckDB with standard digests (MD5,
// SHA-256: DuckDB's own hash() is not documented as stable). The assignment of a record depends only on its values
// (never on file order, shard count, thread count, machine or DuckDB version), so it is the same on every run and
// can be recomputed outside this codebase (Python: hashlib):
//
//   whole record (default):
//     key    = the value texts of the columns in ascending order of their names (by UTF-8 bytes), joined by U+001F,
//              a missing value written as U+001E
//     digest = int(md5(utf8(key)).hexdigest(), 16)                                  (all 128 bits)
//     split  = the first split (in the configured order) whose cumulative bucket count c satisfies
//              digest * sum(hash_buckets) < c * 2^128, i.e. digest / 2^128 < c / sum(hash_buckets)
//   partition feature (TFX's formula):
//     key    = the feature's value text (missing → '')
//     bucket = int(sha256(utf8(key)).hexdigest(), 16) % sum(hash_buckets)
//     split  = the first split (in the configured order) whose cumulative bucket count exceeds bucket
//
// Value text: STRING as is; INT in decimal ("-12"); FLOAT as C's printf("%.17g") (Python: '%.17g' % x;
// "39.100000000000001", "3", "1e+20", "nan", "inf", "-inf"), which round-trips every double.
// Example: {b: "x y", a: 3, c: missing} → key "3\x1fx y\x1f\x1e".
//
// The whole-record rule is the cheap one, as every row pays it: one pass of string building and a 128-bit digest,
// placed by comparing its hex text with each split's threshold ceil(c * 2^128 / total) written as 32 hex digits
// (lowercase hex of equal length orders like the numbers), so no digit is parsed; the proportions are exact to
// 2^-128. It replaced (ExampleGen version 4) int(hexdigest[:16], 16) % total, whose parsing cost about a tenth of
// the run, which replaced sha256 over length-prefixed values (version 2), about three times as costly per row.
// The partition feature keeps all 256 bits, reduced as four 64-bit limbs: sum((limb_i % n) * (2^(64*(3-i)) % n)) % n,
// exact in UBIGINT for n < 2^31.

import { sqlIdent, sqlString } from './duckdb';
import type { FeatureType } from './feature-types';

export interface HashBucketSplit {
  name: string;
  buckets: number;
}

export interface TypedColumn {
  name: string;
  type: FeatureType;
}

/** SQL: the text of a typed column's value (NULL stays NULL), per the rules above. */
export function valueTextSql(column: TypedColumn): string {
  const c = sqlIdent(column.name);
  if (column.type === 'FLOAT') return `printf('%.17g', ${c})`;
  if (column.type === 'INT') return `CAST(${c} AS VARCHAR)`;
  return c;
}

/** Columns in canonical order: ascending by UTF-8 bytes of the name. */
export function canonicalOrder(columns: TypedColumn[]): TypedColumn[] {
  return [...columns].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** What a row is hashed on: the whole record (these columns) or one partition feature. */
export type SplitKey = { record: TypedColumn[] } | { feature: TypedColumn };

/** SQL: the whole-record key string defined in the module comment. */
export function recordKeySql(columns: TypedColumn[]): string {
  return `concat_ws(chr(31), ${canonicalOrder(columns).map((c) => `coalesce(${valueTextSql(c)}, chr(30))`).join(', ')})`;
}

/** SQL over a VARCHAR hex digest of 64 digits `hex`: int(hex, 16) % total. */
function hexBucketSql(hex: string, total: number): string {
  const n = BigInt(total);
  const terms = [0, 1, 2, 3].map((i) => {
    const weight = (1n << BigInt(64 * (3 - i))) % n;
    return `(('0x' || substr(${hex}, ${1 + 16 * i}, 16))::UBIGINT % ${n}) * ${weight}`;
  });
  return `((${terms.join(' + ')}) % ${n})::BIGINT`;
}

/** The whole-record rule's threshold of each split but the last: ceil(c * 2^128 / total) as 32 hex digits. */
export function digestThresholds(splits: HashBucketSplit[]): string[] {
  const total = BigInt(splits.reduce((s, x) => s + x.buckets, 0));
  let cumulative = 0n;
  return splits.slice(0, -1).map((s) => {
    cumulative += BigInt(s.buckets);
    return (((cumulative << 128n) + total - 1n) / total).toString(16).padStart(32, '0');
  });
}

/**
 * SQL: `fromSql`'s rows with a `__split` column naming each row's split (the key is hashed once per row). A single
 * split needs no hash.
 */
export function withHashSplitSql(fromSql: string, key: SplitKey, splits: HashBucketSplit[]): string {
  if (splits.length === 1) return `SELECT *, ${sqlString(splits[0].name)} AS __split FROM (${fromSql})`;
  const total = splits.reduce((s, x) => s + x.buckets, 0);
  if (!Number.isInteger(total) || total < 1 || total >= 2 ** 31) throw new Error(`hash bucket total must be an integer in [1, 2^31), got ${total}`);
  const last = sqlString(splits[splits.length - 1].name);
  // The digest is computed once, in an inner query, then compared (record) or read four times (feature).
  if ('record' in key) {
    const arms = digestThresholds(splits).map((t, i) => `WHEN __digest < '${t}' THEN ${sqlString(splits[i].name)}`);
    const digested = `SELECT *, md5(${recordKeySql(key.record)}) AS __digest FROM (${fromSql})`;
    return `SELECT * EXCLUDE (__digest), CASE ${arms.join(' ')} ELSE ${last} END AS __split FROM (${digested})`;
  }
  let cumulative = 0;
  const arms = splits.slice(0, -1).map((s) => `WHEN __bucket < ${(cumulative += s.buckets)} THEN ${sqlString(s.name)}`);
  const bucketed =
    `SELECT * EXCLUDE (__digest), ${hexBucketSql('__digest', total)} AS __bucket ` +
    `FROM (SELECT *, sha256(coalesce(${valueTextSql(key.feature)}, '')) AS __digest FROM (${fromSql}))`;
  return `SELECT * EXCLUDE (__bucket), CASE ${arms.join(' ')} ELSE ${last} END AS __split FROM (${bucketed})`;
}
