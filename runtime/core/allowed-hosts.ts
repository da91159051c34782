// The Host header check `mlp ui` and `mlp serve` share, against DNS rebinding: a web page on
// attacker.example whose name is made to resolve to 127.0.0.1 (or a cluster address) reaches the server
// with `Host: attacker.example` and reads the answers as same-origin. A server therefore answers only
// for names it serves:
// - IP literals (127.0.0.1, 10.1.2.3, [::1]) — a browser sends one only when the page itself was loaded
//   from that address, so no name can be rebound; this keeps Kubernetes probes (Host: the pod IP) working;
// - localhost and *.localhost (RFC 6761: never resolved by DNS);
// - the address the server is bound to, when it is a name;
// - the names of --allowed-hosts: `name` exactly, `.example.com` for example.com and every subdomain,
//   `*` for any Host (a proxy in front checks it).
// The port is not part of the check. A request without a Host header (HTTP/1.0) is not a browser's and is
// answered; Node itself refuses HTTP/1.1 requests without one.

import * as net from 'net';
import { UserError } from './errors';

/** Status and one-line message of a refused Host; generic, so nothing of the request is echoed. */
export const HOST_REFUSED_STATUS = 403;
export const HOST_REFUSED_MESSAGE = 'this server does not answer for the Host this request names (see --allowed-hosts)';

/** A host name as it may be listed: letters, digits, '-', '_' and dots; a leading dot for a whole domain. */
const NAME = /^\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** The `--allowed-hosts` value: comma-separated names, `.domain` suffixes or `*`; a UserError naming a bad entry. */
export function parseAllowedHosts(text: string | undefined, flag = '--allowed-hosts'): string[] {
  if (text === undefined) return [];
  const entries = text.split(',').map((e) => e.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean);
  for (const entry of entries) {
    if (entry === '*' || NAME.test(entry) || net.isIP(entry) || net.isIPv6(entry.replace(/^\[|\]$/g, ''))) continue;
    throw new UserError(`${flag}: ${JSON.stringify(entry)} is not a host name, a .domain, an IP address or *; list names without scheme or port, comma-separated`);
  }
  return entries;
}

/** The name part of a Host header value (lower case, no port, no brackets, no trailing dot). */
function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  // A malformed bracket (no closing one) stays as it is: not an IP, so refused.
  if (value.startsWith('[')) return value.indexOf(']') < 0 ? value : value.slice(1, value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  // A bare IPv6 address (not valid in a Host header, but unambiguous) has several colons.
  const name = colon >= 0 && value.indexOf(':') === colon ? value.slice(0, colon) : value;
  return name.replace(/\.$/, '');
}

/**
 * A predicate over Host header values for a server bound to `boundHost` with the extra names of
 * parseAllowedHosts. Built once per server: it runs for every request.
 */
export function hostCheck(boundHost: string, allowed: string[]): (header: string | undefined) => boolean {
  if (allowed.includes('*')) return () => true;
  const exact = new Set(['localhost', hostName(boundHost)]);
  const suffixes: string[] = [];
  for (const entry of allowed) {
    if (entry.startsWith('.')) {
      suffixes.push(entry);
      exact.add(entry.slice(1));
    } else exact.add(hostName(entry));
  }
  return (header) => {
    if (header === undefined) return true;
    const name = hostName(header);
    if (exact.has(name) || name.endsWith('.localhost') || net.isIP(name) !== 0) return true;
    return suffixes.some((s) => name.endsWith(s));
  };
}
