// The model server's Prometheus metrics (served at /metrics): requests by model, version, API and status
// code, request latency, batch sizes, model load events, static-table hits and misses (the hit rate is
// hits / (hits + misses)) and :feedback rewards by version, plus Node's process metrics. Each server has
// its own registry, so several servers in one process (tests) keep separate counts.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ModelEvent = 'loaded' | 'load_failed' | 'unloaded';

export class ServerMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'mlp_serving_requests_total',
    help: 'HTTP requests answered, by served model ("" when none), version, API and status code',
    labelNames: ['model', 'version', 'api', 'code'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'mlp_serving_request_duration_seconds',
    help: 'Time from request to response, by served model and API',
    labelNames: ['model', 'api'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'mlp_serving_batch_size',
    help: 'Rows predicted together in one batch, by model',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly modelEvents = new Counter({
    name: 'mlp_serving_model_load_events_total',
    help: 'Model version loads, failed loads and unloads',
    labelNames: ['model', 'version', 'event'] as const,
    registers: [this.registry],
  });

  readonly staticHits = new Counter({
    name: 'mlp_serving_static_table_hits_total',
    help: 'Request instances answered from the static prediction table, by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly staticMisses = new Counter({
    name: 'mlp_serving_static_table_misses_total',
    help: 'Request instances of a model with a static table that the model answered (key absent or not in the table)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly feedback = new Counter({
    name: 'mlp_serving_feedback_total',
    help: 'Rewards received through :feedback, by model and the version that answered the request',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  readonly rewards = new Counter({
    name: 'mlp_serving_feedback_reward_sum',
    help: 'Sum of the rewards received through :feedback, by model and version (mean = sum / mlp_serving_feedback_total)',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  // The labelled series of the per-request metrics, looked up once per label combination: prom-client hashes
  // the label object on every call otherwise, which is a measurable part of answering a request.
  private readonly requestSeries = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();

  /** Counts an answered request and observes its latency. */
  requestAnswered(model: string, version: string, api: string, status: number, seconds: number): void {
    const key = `${model}\u0000${version}\u0000${api}\u0000${status}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = { count: this.requests.labels({ model, version, api, code: String(status) }), latency: this.latency.labels({ model, api }) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  modelEvent(model: string, version: number, event: ModelEvent): void {
    this.modelEvents.inc({ model, version: String(version), event });
  }
}
