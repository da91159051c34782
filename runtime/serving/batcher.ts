// Dynamic batching for one model version, with TensorFlow Serving's knobs: requests are queued as rows and
// predicted together in batches of up to max_batch_size rows. A batch that is not full waits up to
// batch_timeout_micros for more rows (0: it goes as soon as a batch slot is free, taking whatever arrived
// meanwhile); at most num_batch_threads batches are predicted at once; when max_enqueued_batches batches
// already wait, a request that needs another batch is refused at once (503) instead of queueing without
// bound. A request larger than max_batch_size is split over several batches (TF Serving's large batch
// splitting) and answered when all of its parts are; one that needs more batches than the queue can ever
// hold is refused with 413 (a retry could never succeed). tfjs predicts synchronously on the event loop, so
// batches of one process run one after another whatever num_batch_threads says; the knob bounds batches in
// flight for prediction functions that do yield.

import { RequestError } from './request-error';

export interface BatchingOptions {
  maxBatchSize: number;
  batchTimeoutMicros: number;
  numBatchThreads: number;
  maxEnqueuedBatches: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 256, batchTimeoutMicros: 0, numBatchThreads: 1, maxEnqueuedBatches: 100 };

interface Task<I, O> {
  items: I[];
  results: O[];
  /** Parts not yet predicted. */
  pending: number;
  failed: boolean;
  resolve(results: O[]): void;
  reject(err: unknown): void;
}

/** The rows [start, end) of a task that ride in one batch. */
interface Part<I, O> {
  task: Task<I, O>;
  start: number;
  end: number;
}

interface Batch<I, O> {
  parts: Part<I, O>[];
  size: number;
  /** Closed batches take no more rows and go as soon as a thread is free. */
  closed: boolean;
  timer?: NodeJS.Timeout;
}

export class Batcher<I, O> {
  private readonly queue: Batch<I, O>[] = [];
  private running = 0;
  private dispatchScheduled = false;
  private closing = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param run predicts one batch (one output per item, in order)
   * @param name names the queue in the 503 message
   * @param onBatch told the size of every batch run (for metrics)
   */
  constructor(
    private readonly opts: BatchingOptions,
    private readonly run: (items: I[]) => O[] | Promise<O[]>,
    private readonly name: string,
    private readonly onBatch: (size: number) => void = () => undefined,
  ) {}

  /**
   * Queues the items; resolves with their outputs in order, or rejects with a RequestError: 503 when the
   * queue is full now, 413 when the items need more batches than it can ever hold.
   */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    const max = this.opts.maxBatchSize;
    const limit = this.opts.maxEnqueuedBatches * max;
    if (items.length > limit) {
      return Promise.reject(
        new RequestError(413, `a request of ${items.length} rows is larger than ${this.name} takes: at most ${limit} rows (max_enqueued_batches ${this.opts.maxEnqueuedBatches} × max_batch_size ${max}); split it`),
      );
    }
    const last = this.queue[this.queue.length - 1];
    const open = last && !last.closed ? last : undefined;
    const room = open ? max - open.size : 0;
    const newBatches = Math.ceil(Math.max(0, items.length - room) / max);
    if (newBatches > 0 && this.queue.length + newBatches > this.opts.maxEnqueuedBatches) {
      return Promise.reject(new RequestError(503, `the batch queue of ${this.name} is full (${this.queue.length} batches waiting); retry later`));
    }
    return new Promise<O[]>((resolve, reject) => {
      const task: Task<I, O> = { items, results: new Array(items.length), pending: 0, failed: false, resolve, reject };
      let start = 0;
      let batch = open;
      while (start < items.length) {
        if (!batch || batch.closed) batch = this.newBatch();
        const end = Math.min(items.length, start + max - batch.size);
        batch.parts.push({ task, start, end });
        batch.size += end - start;
        task.pending++;
        if (batch.size >= max) this.closeBatch(batch);
        start = end;
      }
      this.scheduleDispatch();
    });
  }

  /** Batches waiting for a batch thread (the newest may still be filling) and the rows in them. */
  depth(): { batches: number; rows: number } {
    let rows = 0;
    for (const b of this.queue) rows += b.size;
    return { batches: this.queue.length, rows };
  }

  /** Stops waiting for more rows, predicts everything queued, and resolves once idle. Used before unloading. */
  close(): Promise<void> {
    this.closing = true;
    for (const b of this.queue) this.closeBatch(b);
    this.scheduleDispatch();
    return this.isIdle() ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private newBatch(): Batch<I, O> {
    const batch: Batch<I, O> = { parts: [], size: 0, closed: this.closing };
    if (!batch.closed && this.opts.batchTimeoutMicros > 0) {
      batch.timer = setTimeout(() => {
        batch.closed = true;
        this.scheduleDispatch();
      }, this.opts.batchTimeoutMicros / 1000);
    }
    this.queue.push(batch);
    return batch;
  }

  private closeBatch(batch: Batch<I, O>): void {
    batch.closed = true;
    clearTimeout(batch.timer);
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.running === 0;
  }

  // Dispatch runs on a later turn of the event loop, so rows of requests arriving together share a batch
  // and a long queue does not hold up I/O: each turn starts at most num_batch_threads batches.
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.opts.numBatchThreads && this.queue.length > 0) {
      const head = this.queue[0];
      // Only the newest batch can be open; with a timeout it waits for the timer (or for filling up).
      if (!head.closed && this.opts.batchTimeoutMicros > 0) break;
      this.queue.shift();
      this.closeBatch(head);
      void this.runBatch(head);
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async runBatch(batch: Batch<I, O>): Promise<void> {
    this.running++;
    try {
      const items: I[] = [];
      for (const p of batch.parts) for (let i = p.start; i < p.end; i++) items.push(p.task.items[i]);
      const outputs = await this.run(items);
      this.onBatch(items.length);
      let at = 0;
      for (const p of batch.parts) {
        for (let i = p.start; i < p.end; i++) p.task.results[i] = outputs[at++];
        if (--p.task.pending === 0 && !p.task.failed) p.task.resolve(p.task.results);
      }
    } catch (err) {
      for (const p of batch.parts) {
        if (!p.task.failed) p.task.reject(err);
        p.task.failed = true;
      }
    } finally {
      this.running--;
      this.scheduleDispatch();
    }
  }
}
