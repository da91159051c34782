// The one string hash used wherever values are hashed into buckets (hash and cross features, vocabulary OOV
// buckets): the first 8 bytes of SHA-256 of the UTF-8 string, as an unsigned big-endian integer, modulo the
// bucket count. tf.Transform uses FarmHash Fingerprint64; ours is documented and stable across machines.

import { createHash } from 'crypto';

export function hashToBucket(value: string, buckets: number): number {
  const digest = createHash('sha256').update(value, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(buckets));
}
