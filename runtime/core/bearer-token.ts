// The shared secret `mlp serve --auth-token-file` and `mlp ui --auth-token-file` ask for. Candidates are
// compared by their SHA-256 digests with timingSafeEqual: digests have equal length, so the comparison
// takes the same time whatever the candidate.

import { createHash, timingSafeEqual } from 'crypto';

const digestOf = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

/** A predicate: is this candidate the token? Built once per server (the token's digest is kept, not recomputed). */
export function tokenCheck(token: string): (candidate: string | undefined) => boolean {
  const digest = digestOf(token);
  return (candidate) => candidate !== undefined && timingSafeEqual(digestOf(candidate), digest);
}
