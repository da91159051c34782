// The model server's Prometheus metrics (served at /metrics): requests by model, version, API and status
// code, request latency, batch sizes, batch queue depth, model load events, static-table hits and misses
// (the hit rate is hits / (hits + misses)) and :feedback rewards by version, plus Node's process metrics.
// Each server has its own registry, so several servers in one process (tests) keep separate counts.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ModelEvent = 'loaded' | 'load_failed' | 'unloaded';

/** The batch queue of one loaded model version. */
export interface QueueDepth {
  model: string;
  version: number;
  /** Batches waiting for a batch thread (the newest may still be taking rows). */
  batches: number;
  rows: number;
}

export class ServerMetrics {
  readonly registry = new Registry();

  /** Requests by model, version, API and code; counted per request in plain numbers, added here at each scrape. */
  readonly requests: Counter<'model' | 'version' | 'api' | 'code'>;

  readonly latency = new RequestLatency(
    'mlp_serving_request_duration_seconds',
    'Time from request to response, by served model and API',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );

  readonly batchSize = new Histogram({
    name: 'mlp_serving_batch_size',
    help: 'Rows predicted together in one batch, by model',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  /** Read at each scrape (watchQueues). */
  private queueDepths: () => QueueDepth[] = () => [];

  readonly queuedBatches = new Gauge({
    name: 'mlp_serving_batch_queue_batches',
    help: 'Batches waiting in the batch queue, by model and version (max_enqueued_batches bounds it; at the bound requests get 503)',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
    collect: () => this.setQueueGauges(),
  });

  readonly queuedRows = new Gauge({
    name: 'mlp_serving_batch_queue_rows',
    help: 'Rows waiting in the batch queue (not yet predicting), by model and version',
    labelNames: ['model', 'version'] as const,
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

  // The per-request series: counts since the last scrape, by label combination (a string key built per
  // request is cheaper than prom-client's label validation and hashing, which cost a microsecond or two per
  // request with a counter and a histogram).
  private readonly requestSeries = new Map<string, { labels: Record<'model' | 'version' | 'api' | 'code', string>; pending: number; latency: LatencySeries }>();

  constructor() {
    const series = this.requestSeries;
    this.requests = new Counter({
      name: 'mlp_serving_requests_total',
      help: 'HTTP requests answered, by served model ("" when none), version, API and status code',
      labelNames: ['model', 'version', 'api', 'code'] as const,
      registers: [this.registry],
      collect() {
        for (const s of series.values()) {
          if (s.pending > 0) this.inc(s.labels, s.pending);
          s.pending = 0;
        }
      },
    });
    // prom-client's Registry reads a metric's name, help, type, get() and reset(); its types only list its own classes.
    this.registry.registerMetric(this.latency as unknown as Histogram);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts an answered request and observes its latency. */
  requestAnswered(model: string, version: string, api: string, status: number, seconds: number): void {
    const key = `${model}\u0000${version}\u0000${api}\u0000${status}`;
    let s = this.requestSeries.get(key);
    if (!s) {
      s = { labels: { model, version, api, code: String(status) }, pending: 0, latency: this.latency.series(model, api) };
      this.requestSeries.set(key, s);
    }
    s.pending++;
    s.latency.observe(seconds);
  }

  /** Where the batch queue gauges are read from at each scrape. */
  watchQueues(depths: () => QueueDepth[]): void {
    this.queueDepths = depths;
  }

  // Series of versions no longer loaded go (reset) rather than staying at their last value.
  private setQueueGauges(): void {
    this.queuedBatches.reset();
    this.queuedRows.reset();
    for (const q of this.queueDepths()) {
      const labels = { model: q.model, version: String(q.version) };
      this.queuedBatches.set(labels, q.batches);
      this.queuedRows.set(labels, q.rows);
    }
  }

  modelEvent(model: string, version: number, event: ModelEvent): void {
    this.modelEvents.inc({ model, version: String(version), event });
  }
}

/** One (model, api) series of the latency histogram: counts per bucket (not cumulative), sum and count. */
class LatencySeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly model: string,
    readonly api: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    // Above the last bound only +Inf (count) holds it.
    for (let i = 0; i < this.bounds.length; i++) {
      if (seconds <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/**
 * The request latency histogram, in Prometheus's histogram exposition (cumulative le buckets, +Inf, _sum,
 * _count) as prom-client's Histogram writes it, kept in typed arrays: observed on every request without
 * prom-client's per-call label validation and hashing.
 */
export class RequestLatency {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  /** The series of a model and API (created at first use). */
  series(model: string, api: string): LatencySeries {
    const key = `${model}\u0000${api}`;
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = new LatencySeries(model, api, this.bounds)));
    return s;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ labels: { le, model: s.model, api: s.api }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', model: s.model, api: s.api }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { model: s.model, api: s.api }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { model: s.model, api: s.api }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every series (the request counters hold on to them). */
  reset(): void {
    for (const s of this.all.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
