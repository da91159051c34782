// A GET to a server on loopback with exactly the Host header given (fetch() will not set Host or Cookie;
// Node's client replaces an empty Host unless told not to): for the Host checks of mlp ui and mlp serve.

import * as http from 'http';

export interface HostAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET `urlPath` from 127.0.0.1:`port`; `headers.host` defaults to 127.0.0.1:`port`. */
export function getWithHost(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, setHost: false, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
