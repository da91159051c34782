// Data sizes and link speeds as people write them (5TB, 1.5TiB, 100Mbps, 10MB/s), parsed and printed for the
// transfer commands. Decimal prefixes (KB, MB, GB, TB, PB; kbps, Mbps, Gbps) are powers of 1000, as disk and
// network vendors use them; binary prefixes (KiB, MiB, GiB, TiB, PiB) are powers of 1024.

import { UserError } from '../core/errors';

const PREFIX_POWER: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };
const NUMBER = '(\\d+(?:\\.\\d+)?|\\.\\d+)';
// Prefix letters are case-insensitive; in a bandwidth the case of the b is not: b = bits, B = bytes.
const SIZE = new RegExp(`^${NUMBER}\\s*([kmgtp]?)(i?)b$`, 'i');
const BANDWIDTH = new RegExp(`^${NUMBER}\\s*([kKmMgGtTpP]?)(i?)(bps|bit/s|b/s|Bps|B/s)$`);

function scale(prefix: string, binary: string): number {
  const power = PREFIX_POWER[prefix.toLowerCase()];
  return (binary ? 1024 : 1000) ** power;
}

/** Bytes in a size such as 500GB, 5 TB, 1.5TiB or 42B; a one-line UserError naming `flag` otherwise. */
export function parseSize(text: string, flag = '--size'): number {
  const m = SIZE.exec(text.trim());
  // "5iB" (binary marker without a prefix) is not a unit.
  if (!m || (m[3] && !m[2])) {
    throw new UserError(`${flag} ${JSON.stringify(text)}: expected a number and a unit, e.g. 500GB, 5TB or 1.5TiB`);
  }
  const bytes = Number(m[1]) * scale(m[2], m[3]);
  if (!(bytes > 0)) throw new UserError(`${flag} ${JSON.stringify(text)}: must be greater than zero`);
  return bytes;
}

/** Bits per second in a link speed such as 100Mbps, 1Gbps, 10MB/s or 50MiB/s. */
export function parseBandwidth(text: string, flag = '--bandwidth'): number {
  const m = BANDWIDTH.exec(text.trim());
  if (!m || (m[3] && !m[2])) {
    throw new UserError(`${flag} ${JSON.stringify(text)}: expected a number and a unit, e.g. 100Mbps, 1Gbps or 10MB/s (b = bits, B = bytes)`);
  }
  const perSecond = Number(m[1]) * scale(m[2], m[3]);
  const bitsPerSecond = m[4].startsWith('B') ? perSecond * 8 : perSecond;
  if (!(bitsPerSecond > 0)) throw new UserError(`${flag} ${JSON.stringify(text)}: must be greater than zero`);
  return bitsPerSecond;
}

/** Bytes with a decimal prefix and up to four significant digits: 999 B, 1.5 GB, 999.9 GB, 61 TB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (i < units.length - 1 && Math.abs(bytes) >= 1000 ** (i + 1)) i++;
  return `${i === 0 ? Math.round(bytes) : Number((bytes / 1000 ** i).toPrecision(4))} ${units[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatBitRate(bitsPerSecond: number): string {
  const units = ['bps', 'kbps', 'Mbps', 'Gbps', 'Tbps'];
  let i = 0;
  while (i < units.length - 1 && bitsPerSecond >= 1000 ** (i + 1)) i++;
  return `${Number((bitsPerSecond / 1000 ** i).toPrecision(3))} ${units[i]}`;
}

/**
 * A duration for estimates that may run to months: up to three units from the largest of days, hours,
 * minutes, seconds ("12d 8h 3m", "7d 0h 17m", "3h 5m", "42s"). runner/progress's formatDuration is for run
 * times of seconds to minutes.
 */
export function formatLongDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds));
  const first = DURATION_UNITS.findIndex(([size]) => rest >= size);
  if (first < 0) return '0s';
  const out: string[] = [];
  for (const [size, unit] of DURATION_UNITS.slice(first, first + 3)) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    out.push(`${n}${unit}`);
  }
  // "7d 0h 17m" keeps its inner zero; "7d 0h 0m" is just "7d".
  while (out.length > 1 && out[out.length - 1].startsWith('0')) out.pop();
  return out.join(' ');
}

const DURATION_UNITS: [number, string][] = [
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'm'],
  [1, 's'],
];
