// Test helper: an HTTP proxy in front of the GCS emulator that misbehaves on request, so upload retries,
// checksum verification and per-file failures can be tested against the real API. Each rule applies to the
// requests it matches (by method, URL and body), for its first `times` matches.

import type { AddressInfo } from 'net';
import * as http from 'http';

export interface FaultRule {
  /** Matches a request by its method, URL and complete body. */
  match(req: { method: string; url: string; body: Buffer }): boolean;
  /** Answer with this status and a GCS-style JSON error instead of forwarding. */
  status?: number;
  /** Forward, but with the body rewritten (same length, so Content-Length stays right). */
  rewrite?(body: Buffer): Buffer;
  /** How many matching requests to affect (default: all). */
  times?: number;
}

export interface FaultProxy {
  /** Base URL to use as apiEndpoint / STORAGE_EMULATOR_HOST. */
  host: string;
  rules: FaultRule[];
  /** Requests answered or altered by a rule so far. */
  hits: number;
  close(): Promise<void>;
}

/** Upload requests (simple, multipart and resumable) go to /upload/storage/v1/...; others do not. */
export const isUpload = (req: { url: string }) => req.url.startsWith('/upload/');

/** A matcher for uploads of the object whose name ends with /file (the name travels in the query string). */
export const uploadOf = (file: string) => (req: { url: string }) =>
  isUpload(req) && !!new URL(req.url, 'http://proxy').searchParams.get('name')?.endsWith(`/${file}`);

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const proxy: FaultProxy = { host: '', rules: [], hits: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Buffer = Buffer.concat(chunks);
      const rule = proxy.rules.find((r) => (r.times ?? Infinity) > 0 && r.match({ method: req.method!, url: req.url!, body }));
      if (rule) {
        proxy.hits++;
        if (rule.times !== undefined) rule.times--;
        if (rule.status) {
          const message = rule.status >= 500 ? 'backend unavailable' : 'caller does not have storage.objects.create access';
          res.writeHead(rule.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: rule.status, message } }));
          return;
        }
        if (rule.rewrite) body = rule.rewrite(body);
      }
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return proxy;
}
