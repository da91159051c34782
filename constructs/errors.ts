// Construction-time validation errors shared by every construct: one message format that names the construct and says what to change.
import { Construct } from 'constructs';

/** Thrown when construct props are invalid; the message names the construct path, the problem and the fix. */
export class ConstructValidationError extends Error {
  constructor(kind: string, scope: Construct, problem: string) {
    super(`${kind} '${scope.node.path}': ${problem}`);
    this.name = 'ConstructValidationError';
  }
}

/** Label keys/values as GCP accepts them: lowercase letters, digits, '-', '_' (keys start with a letter), at most 63 chars. */
export function validateGcpLabels(kind: string, scope: Construct, labels: { readonly [key: string]: string } | undefined): void {
  if (!labels) return;
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(key)) {
      throw new ConstructValidationError(kind, scope, `label key '${key}' is invalid; use lowercase letters, digits, '-' or '_', starting with a letter (max 63 chars).`);
    }
    if (!/^[a-z0-9_-]{0,63}$/.test(value)) {
      throw new ConstructValidationError(kind, scope, `label '${key}' has invalid value '${value}'; use lowercase letters, digits, '-' or '_' (max 63 chars).`);
    }
  }
}

/** Parses an IPv4 CIDR; returns undefined when it is not one. */
export function parseCidr(cidr: string): { readonly address: number; readonly prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  return { address, prefix };
}

/** True when two IPv4 CIDRs overlap. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (!pa || !pb) return false;
  const prefix = Math.min(pa.prefix, pb.prefix);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return ((pa.address & mask) >>> 0) === ((pb.address & mask) >>> 0);
}

/** True when `zone` (e.g. us-central1-a) lies in `region` (us-central1). */
export function zoneInRegion(zone: string, region: string): boolean {
  return zone.startsWith(`${region}-`) && /^[a-z]$/.test(zone.slice(region.length + 1));
}
