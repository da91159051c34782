// Who `mlp ui` answers: requests naming a Host it serves (runtime/core/allowed-hosts.ts, against DNS
// rebinding) and, with --auth-token-file, carrying the token (runtime/core/bearer-token.ts, as `mlp serve`
// checks it). A browser cannot add an Authorization header to page loads, so it gets the token the way
// Jupyter does: the URL with `?token=<token>` once, answered by a redirect to the same URL without it that
// sets an HttpOnly cookie, which the page's own requests then carry. Scripts send `Authorization: Bearer`.

import type * as http from 'http';
import { HOST_REFUSED_MESSAGE, HOST_REFUSED_STATUS, hostCheck } from '../core/allowed-hosts';
import { bearerOf, tokenCheck } from '../core/bearer-token';

export const TOKEN_PARAM = 'token';

export interface UiAccessOptions {
  /** The address the server is bound to. */
  host: string;
  /** Extra Host names (parseAllowedHosts). */
  allowedHosts: string[];
  authToken?: string;
}

/** What to do with a request: answer it, refuse it, or redirect it (the token moved from the URL to a cookie). */
export type AccessDecision =
  | { kind: 'answer' }
  | { kind: 'refuse'; status: number; message: string; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string; headers: Record<string, string> };

const ANSWER: AccessDecision = { kind: 'answer' };
const MISSING_TOKEN = `missing or wrong token: open this address with ?${TOKEN_PARAM}=<the content of mlp ui's --auth-token-file> once, or send Authorization: Bearer <token>`;

/** The value of cookie `name` in a Cookie header. */
function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The access rule of one UI server; `port` is asked for when needed (the cookie is per port: cookies ignore ports, two UIs on one host must not share one). */
export function uiAccess(opts: UiAccessOptions, port: () => number): (req: http.IncomingMessage, url: URL) => AccessDecision {
  const hostAllowed = hostCheck(opts.host, opts.allowedHosts);
  const isToken = opts.authToken === undefined ? undefined : tokenCheck(opts.authToken);
  return (req, url) => {
    if (!hostAllowed(req.headers.host)) return { kind: 'refuse', status: HOST_REFUSED_STATUS, message: HOST_REFUSED_MESSAGE };
    if (!isToken) return ANSWER;
    const cookie = `mlp-ui-token-${port()}`;
    const fromUrl = url.searchParams.get(TOKEN_PARAM);
    if (fromUrl !== null && isToken(fromUrl)) {
      const clean = new URL(url);
      clean.searchParams.delete(TOKEN_PARAM);
      return {
        kind: 'redirect',
        location: clean.pathname + clean.search,
        // HttpOnly: the page's script never sees it. SameSite=Lax, not Strict: a link from elsewhere (a chat,
        // a terminal) must still log in, and the UI is read-only, so a cross-site navigation changes nothing.
        headers: { 'set-cookie': `${cookie}=${encodeURIComponent(opts.authToken!)}; Path=/; HttpOnly; SameSite=Lax` },
      };
    }
    if (fromUrl === null && (isToken(bearerOf(req.headers.authorization)) || isToken(cookieOf(req.headers.cookie, cookie)))) return ANSWER;
    return { kind: 'refuse', status: 401, message: MISSING_TOKEN, headers: { 'www-authenticate': 'Bearer' } };
  };
}
