// The per-request metrics are kept in plain numbers and handed to prom-client at scrape time; a scrape must
// read exactly what prom-client's own Counter and Histogram would show for the same requests.

import { Counter, Histogram, Registry } from 'prom-client';
import { createRng } from '../../../runtime/core/prng';
import { ServerMetrics } from '../../../runtime/serving/metrics';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The exposition lines of the named metrics (HELP, TYPE and samples), in order. */
function linesOf(text: string, prefixes: string[]): string[] {
  return text.split('\n').filter((l) => prefixes.some((p) => l.startsWith(p) || l.startsWith(`# HELP ${p}`) || l.startsWith(`# TYPE ${p}`)));
}

test('request counts and latencies scrape as prom-client Counter and Histogram show them, across scrapes', async () => {
  const metrics = new ServerMetrics();
  const reference = new Registry();
  const requests = new Counter({ name: 'mlp_serving_requests_total', help: 'HTTP requests answered, by served model ("" when none), version, API and status code', labelNames: ['model', 'version', 'api', 'code'], registers: [reference] });
  const latency = new Histogram({ name: 'mlp_serving_request_duration_seconds', help: 'Time from request to response, by served model and API', labelNames: ['model', 'api'], buckets: BUCKETS, registers: [reference] });
  const random = createRng(7);
  const answer = (n: number) => {
    for (let i = 0; i < n; i++) {
      const model = ['penguins', 'flights', ''][Math.floor(random() * 3)];
      const api = ['predict', 'status', 'infer'][Math.floor(random() * 3)];
      const version = model === '' ? '' : String(1 + Math.floor(random() * 2));
      const status = [200, 200, 400, 404, 503][Math.floor(random() * 5)];
      // Latencies over every bucket, on the bounds themselves and above the last one.
      const seconds = random() < 0.1 ? BUCKETS[Math.floor(random() * BUCKETS.length)] : 10 ** (random() * 5.5 - 4);
      metrics.requestAnswered(model, version, api, status, seconds);
      requests.inc({ model, version, api, code: String(status) });
      latency.observe({ model, api }, seconds);
    }
  };
  const prefixes = ['mlp_serving_requests_total', 'mlp_serving_request_duration_seconds'];
  answer(2000);
  const first = linesOf(await metrics.registry.metrics(), prefixes);
  expect(first).toEqual(linesOf(await reference.metrics(), prefixes));
  expect(first.filter((l) => l.startsWith('mlp_serving_request_duration_seconds_bucket{le="+Inf"')).length).toBe(9);
  // Counts go on adding up after a scrape, and a scrape with no new requests changes nothing.
  answer(500);
  expect(linesOf(await metrics.registry.metrics(), prefixes)).toEqual(linesOf(await reference.metrics(), prefixes));
  expect(linesOf(await metrics.registry.metrics(), prefixes)).toEqual(linesOf(await reference.metrics(), prefixes));
});
