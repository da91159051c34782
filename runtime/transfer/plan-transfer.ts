// `mlp data plan-transfer`: how long moving a data set to Cloud Storage takes over a given link and which
// transfer option fits (parallel upload, Storage Transfer Service, Transfer Appliance), with the reason.
//
// Estimate: seconds = size_bytes × 8 / (bandwidth_bits_per_second × efficiency). Sizes and speeds use the
// prefixes the user wrote (TB = 10^12 bytes, TiB = 2^40 bytes, Mbps = 10^6 bit/s; see units.ts). The
// efficiency (default 0.75) is the share of the nominal link rate a long transfer sustains (protocol overhead,
// TCP, other traffic); it makes 1 TB over 100 Mbps ≈ 30 h, in line with Google's published transfer-time table.
//
// Rules (thresholds in decimal units), checked in this order:
//  1. source onprem and (size ≥ 60 TB, or size ≥ 1 TB over ≤ 10 Mbps, or the estimate > 7 days)
//     → Transfer Appliance (ship the data; the network would take too long).
//  2. source s3 / azure (another cloud) or gcs (bucket to bucket) → Storage Transfer Service (managed,
//     server-side; no appliance can be shipped to another cloud, so rule 1 does not apply to them).
//  3. source onprem, size ≥ 1 TB → Storage Transfer Service with on-premises agents (agent pool).
//  4. source onprem, size < 1 TB (rule 1 did not fire, so the link is fast enough) → parallel upload
//     (`mlp data upload` / `gcloud storage cp -r`, `gsutil -m cp -r`).

import { UserError } from '../core/errors';
import { formatBitRate, formatBytes, formatLongDuration } from './units';

export const SOURCES = ['onprem', 's3', 'azure', 'gcs'] as const;
export type TransferSource = (typeof SOURCES)[number];
export type TransferOption = 'parallel-upload' | 'storage-transfer-service' | 'transfer-appliance';

export const TB = 1e12;
/** Data sets from this size go on a Transfer Appliance. */
export const APPLIANCE_MIN_BYTES = 60 * TB;
/** At or above this size, on-premises data is "large": STS agents, or an appliance over a slow link. */
export const LARGE_BYTES = 1 * TB;
/** A link this fast or slower is too slow for large data sets. */
export const SLOW_LINK_BITS_PER_SECOND = 10e6;
/** An online transfer longer than this is not worth it: ship the data instead. */
export const MAX_ONLINE_SECONDS = 7 * 86_400;
export const DEFAULT_EFFICIENCY = 0.75;

export interface TransferPlanInput {
  bytes: number;
  bitsPerSecond: number;
  source: TransferSource;
  /** Share of the nominal bandwidth sustained, in (0, 1]. */
  efficiency?: number;
}

export interface TransferPlan {
  source: TransferSource;
  bytes: number;
  bitsPerSecond: number;
  efficiency: number;
  /** Estimated duration of an online transfer at bitsPerSecond × efficiency. */
  estimatedSeconds: number;
  estimated: string;
  recommendation: TransferOption;
  /** Human-readable name of the recommendation, e.g. "Storage Transfer Service (agent-based)". */
  option: string;
  reason: string;
}

export function parseSource(text: string): TransferSource {
  if ((SOURCES as readonly string[]).includes(text)) return text as TransferSource;
  throw new UserError(`--source ${JSON.stringify(text)}: expected one of ${SOURCES.join(', ')}`);
}

export function planTransfer(input: TransferPlanInput): TransferPlan {
  const efficiency = input.efficiency ?? DEFAULT_EFFICIENCY;
  const { bytes, bitsPerSecond, source } = input;
  const estimatedSeconds = (bytes * 8) / (bitsPerSecond * efficiency);
  const estimated = formatLongDuration(estimatedSeconds);
  const size = formatBytes(bytes);
  const link = formatBitRate(bitsPerSecond);
  const pick = (recommendation: TransferOption, option: string, reason: string): TransferPlan => ({
    source,
    bytes,
    bitsPerSecond,
    efficiency,
    estimatedSeconds,
    estimated,
    recommendation,
    option,
    reason,
  });

  if (source === 'onprem') {
    const appliance = (reason: string) => pick('transfer-appliance', 'Transfer Appliance', reason);
    if (bytes >= APPLIANCE_MIN_BYTES) return appliance(`${size} is at least 60 TB: shipping an appliance beats the network (online: ${estimated})`);
    if (bytes >= LARGE_BYTES && bitsPerSecond <= SLOW_LINK_BITS_PER_SECOND) {
      return appliance(`${size} is at least 1 TB and the link (${link}) is 10 Mbps or slower (online: ${estimated})`);
    }
    if (estimatedSeconds > MAX_ONLINE_SECONDS) return appliance(`the online transfer would take ${estimated}, more than a week`);
    if (bytes >= LARGE_BYTES) {
      return pick(
        'storage-transfer-service',
        'Storage Transfer Service (agent-based, on-premises agent pool)',
        `${size} from on-premises is at least 1 TB: managed agents give parallelism, retries, scheduling and verification (online: ${estimated})`,
      );
    }
    return pick(
      'parallel-upload',
      'parallel upload (mlp data upload, gcloud storage cp -r, gsutil -m cp -r)',
      `${size} from on-premises is under 1 TB and ${link} moves it in ${estimated}`,
    );
  }
  const from = source === 'gcs' ? 'bucket to bucket within Cloud Storage' : `from another cloud (${source === 's3' ? 'Amazon S3' : 'Azure Blob Storage'})`;
  return pick(
    'storage-transfer-service',
    'Storage Transfer Service',
    `${from}: a managed, server-side transfer with no agents to run (at ${link}: ${estimated})`,
  );
}

/** The plan as the few lines `mlp data plan-transfer` prints. */
export function formatPlan(plan: TransferPlan): string {
  return [
    `data:        ${formatBytes(plan.bytes)} from ${plan.source}`,
    `link:        ${formatBitRate(plan.bitsPerSecond)} at ${Math.round(plan.efficiency * 100)}% efficiency`,
    `estimated:   ${plan.estimated} online`,
    `recommended: ${plan.option}`,
    `why:         ${plan.reason}`,
  ].join('\n') + '\n';
}
