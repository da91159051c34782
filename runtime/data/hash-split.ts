// Deterministic hash splitting of records into named splits, computed inside DuckDB. The assignment of a record
// depends only on its values (never on file order, shard count, thread count or machine), so it is the same on
// every run and can be recomputed outside this codebase:
//
//   key    = the partition feature's value as text (missing → ''), or the canonical serialization of the whole record
//   bucket = int(sha256(utf8(key)).hexdigest(), 16) % sum(hash_buckets)
//   split  = the first split (in the configured order) whose cumulative bucket count exceeds bucket
//
// Canonical record serialization: the columns in ascending order of their names (by UTF-8 bytes), each written as
// `-` when missing, else `<n>:<text>` where <text> is the value as text and <n> its length in UTF-8 bytes; the parts
// are concatenated without separators (the length prefixes make it unambiguous). Value text: STRING as is; INT in
// decimal ("-12"); FLOAT as C's printf("%.17g") (Python: '%.17g' % x; "39.100000000000001", "3", "1e+20", "nan",
// "inf", "-inf"), which round-trips every double. The same text rule applies to a partition feature.
// Example: {b: "x y", a: 3, c: missing} → "1:3" + "3:x y" + "-" = key "1:33:x y-".
//
// In SQL the 256-bit number is reduced modulo n as four 64-bit limbs: sum((limb_i % n) * (2^(64*(3-i)) % n)) % n,
// exact in UBIGINT for n < 2^31 (128-bit arithmetic would be several times slower in DuckDB).

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

/** SQL: `fromSql`'s rows plus `__key`, the key string defined in the module comment. */
export function withKeySql(fromSql: string, key: SplitKey): string {
  if ('feature' in key) return `SELECT *, coalesce(${valueTextSql(key.feature)}, '') AS __key FROM (${fromSql})`;
  // Each value's text is computed once in an inner query, then length-prefixed and concatenated.
  const ordered = canonicalOrder(key.record);
  const texts = ordered.map((c, i) => `${valueTextSql(c)} AS __text_${i}`);
  const parts = ordered.map((_, i) => `CASE WHEN __text_${i} IS NULL THEN '-' ELSE strlen(__text_${i})::VARCHAR || ':' || __text_${i} END`);
  return (
    `SELECT * EXCLUDE (${ordered.map((_, i) => `__text_${i}`).join(', ')}), concat(${parts.join(', ')}) AS __key ` +
    `FROM (SELECT *, ${texts.join(', ')} FROM (${fromSql}))`
  );
}

/** SQL over a VARCHAR hex digest `hex`: int(hex, 16) % total. */
export function hexBucketSql(hex: string, total: number): string {
  if (!Number.isInteger(total) || total < 1 || total >= 2 ** 31) throw new Error(`hash bucket total must be an integer in [1, 2^31), got ${total}`);
  const n = BigInt(total);
  const terms = [0, 1, 2, 3].map((i) => {
    const weight = (1n << BigInt(64 * (3 - i))) % n;
    return `(('0x' || substr(${hex}, ${1 + 16 * i}, 16))::UBIGINT % ${n}) * ${weight}`;
  });
  return `((${terms.join(' + ')}) % ${n})::BIGINT`;
}

/**
 * SQL: `fromSql`'s rows with a `__split` column naming each row's split (the key is hashed once per row). A single
 * split needs no hash.
 */
export function withHashSplitSql(fromSql: string, key: SplitKey, splits: HashBucketSplit[]): string {
  if (splits.length === 1) return `SELECT *, ${sqlString(splits[0].name)} AS __split FROM (${fromSql})`;
  const total = splits.reduce((s, x) => s + x.buckets, 0);
  let cumulative = 0;
  const arms = splits.slice(0, -1).map((s) => `WHEN __bucket < ${(cumulative += s.buckets)} THEN ${sqlString(s.name)}`);
  const last = sqlString(splits[splits.length - 1].name);
  return (
    `SELECT * EXCLUDE (__sha256, __bucket), CASE ${arms.join(' ')} ELSE ${last} END AS __split FROM (` +
    `SELECT *, ${hexBucketSql('__sha256', total)} AS __bucket FROM (SELECT * EXCLUDE (__key), sha256(__key) AS __sha256 FROM (${withKeySql(fromSql, key)})))`
  );
}
