// A faithful JSON form of StatisticsGen's accumulators (accumulators.ts), for sharded steps' partial states:
// Maps (sketch buckets, grid cells, value counts), the distinct sketch's 64-bit hashes (bigint) and the
// non-finite numbers an empty or infinite-valued column holds (±Infinity, NaN) survive the round trip, which
// plain JSON.stringify would turn into {}, a TypeError and null.

const MAP = '$map';
const BIG = '$big';
const NUM = '$num';

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Map) return { [MAP]: [...value.entries()] };
  if (typeof value === 'bigint') return { [BIG]: value.toString() };
  if (typeof value === 'number' && !Number.isFinite(value)) return { [NUM]: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const v = (value as Record<string, unknown>)[keys[0]];
  if (keys[0] === MAP) return new Map(v as [unknown, unknown][]);
  if (keys[0] === BIG) return BigInt(v as string);
  if (keys[0] === NUM) return Number(v);
  return value;
}

/** JSON text of a value holding Maps, bigints and non-finite numbers. */
export function toTaggedJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** The value toTaggedJson wrote. */
export function fromTaggedJson<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
