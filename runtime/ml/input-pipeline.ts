// The training input pipeline, as the "faster input pipelines" advice asks: Parquet streamed in batches by
// a worker thread (decode + shuffle buffer + transform run in parallel with training), a bounded prefetch
// queue, and deterministic order per (seed, epoch) so a resumed run can skip exactly the batches it saw.
// The data set is never held in memory.

import { Worker } from 'worker_threads';
import { UserError } from '../core/errors';
import { ownModuleEntry } from '../core/own-module-entry';
import type { TransformGraph } from '../transform/graph';
import type { FromWorker, InputWorkerConfig, ToWorker } from './input-worker';
import type { PackedInput } from './model-inputs';
import type { Signature } from './signature';

export interface Batch {
  size: number;
  inputs: PackedInput[];
  labels: Float32Array;
}

export interface EpochStats {
  rows: number;
  droppedLabels: number;
}

export interface InputPipelineOptions {
  files: string[];
  graph: TransformGraph;
  signature: Signature;
  batchSize: number;
  /** @default 0 - no shuffling (evaluation order) */
  shuffleBuffer?: number;
  /** @default 0 */
  seed?: number;
  /** Batches prepared ahead of the consumer. @default 4 */
  prefetch?: number;
}

/** Starts the worker; in a source checkout it transpiles the TypeScript worker on load. */
function startWorker(config: InputWorkerConfig): Worker {
  const { file, preload } = ownModuleEntry(__dirname, 'input-worker');
  // Absolute paths: an eval'd worker resolves bare names from the working directory, not from this package.
  const boot = `${preload ? `require(${JSON.stringify(preload)});` : ''}require(${JSON.stringify(file)});`;
  return new Worker(boot, { eval: true, workerData: config });
}

/** A reusable stream of batches over the same files; call epoch(n) for each pass and close() at the end. */
export class InputPipeline {
  private readonly worker: Worker;
  private readonly queue: FromWorker[] = [];
  private waiting: ((m: FromWorker) => void) | undefined;
  private failure: Error | undefined;
  private readonly prefetch: number;

  constructor(opts: InputPipelineOptions) {
    if (opts.files.length === 0) throw new UserError('input pipeline: no Parquet files to read');
    this.prefetch = opts.prefetch ?? 4;
    this.worker = startWorker({
      files: opts.files,
      graph: opts.graph,
      signature: opts.signature,
      batchSize: opts.batchSize,
      shuffleBuffer: opts.shuffleBuffer ?? 0,
      seed: opts.seed ?? 0,
    });
    this.worker.on('message', (m: FromWorker) => this.deliver(m));
    this.worker.on('error', (err) => this.deliver({ type: 'error', message: err.message }));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.deliver({ type: 'error', message: `input worker exited with code ${code}` });
    });
  }

  private deliver(m: FromWorker): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(m);
    } else this.queue.push(m);
  }

  private next(): Promise<FromWorker> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The batches of one epoch, skipping the first `skipBatches` (already trained on before a resume). */
  async *epoch(epoch: number, skipBatches = 0): AsyncGenerator<Batch, EpochStats> {
    if (this.failure) throw this.failure;
    this.worker.postMessage({ type: 'epoch', epoch, skipBatches } satisfies ToWorker);
    this.worker.postMessage({ type: 'credit', n: this.prefetch } satisfies ToWorker);
    for (;;) {
      const m = await this.next();
      if (m.type === 'error') throw (this.failure = new UserError(`training input: ${m.message}`));
      if (m.type === 'end') return { rows: m.rows, droppedLabels: m.droppedLabels };
      // One credit back per batch taken keeps `prefetch` batches in flight.
      this.worker.postMessage({ type: 'credit', n: 1 } satisfies ToWorker);
      yield { size: m.size, inputs: m.inputs, labels: m.labels };
    }
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    await this.worker.terminate();
  }
}
