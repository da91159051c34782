// Worker thread of the training input pipeline: streams an Examples split's Parquet files with DuckDB,
// shuffles through a bounded buffer, applies the transform graph and packs batches into transferable typed
// arrays, while the main thread trains. It sends a batch only against a credit from the consumer (bounded
// prefetch), so memory stays at buffer + prefetch whatever the data size.

import { parentPort, workerData } from 'worker_threads';
import { duckdb, sqlIdent, sqlStringList } from '../data/duckdb';
import { applyTransform, type RawRow } from '../transform/apply';
import type { TransformGraph } from '../transform/graph';
import { encodeLabel, packModelInputs } from './model-inputs';
import { createRng, shuffleInPlace } from '../core/prng';
import type { Signature } from './signature';

export interface InputWorkerConfig {
  files: string[];
  graph: TransformGraph;
  signature: Signature;
  batchSize: number;
  /** Rows held for shuffling; 0 reads in file order (evaluation). */
  shuffleBuffer: number;
  seed: number;
}

export type ToWorker = { type: 'epoch'; epoch: number; skipBatches: number } | { type: 'credit'; n: number } | { type: 'stop' };
export type FromWorker =
  | { type: 'batch'; size: number; inputs: (Int32Array | Float32Array)[]; labels: Float32Array }
  | { type: 'end'; rows: number; droppedLabels: number }
  | { type: 'error'; message: string };

const config = workerData as InputWorkerConfig;
const port = parentPort!;
let credits = 0;
let wake: (() => void) | undefined;
let stopped = false;

port.on('message', (m: ToWorker) => {
  if (m.type === 'credit') credits += m.n;
  else if (m.type === 'stop') stopped = true;
  else {
    // Credits belong to one epoch: the consumer grants a fresh prefetch window with each epoch.
    credits = 0;
    void runEpoch(m.epoch, m.skipBatches).catch((err: Error) => port.postMessage({ type: 'error', message: err.message.split('\n')[0] } satisfies FromWorker));
  }
  wake?.();
});

async function waitForCredit(): Promise<void> {
  while (credits <= 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
}

async function runEpoch(epoch: number, skipBatches: number): Promise<void> {
  const { signature, graph, batchSize, shuffleBuffer } = config;
  const rng = createRng(config.seed * 1000003 + epoch);
  const files = [...config.files];
  if (shuffleBuffer > 0) shuffleInPlace(files, rng);
  const columns = [...signature.inputs.map((i) => i.name), signature.label.key];
  const conn = await duckdb();
  // One decode thread: the main thread trains on the other core, and DuckDB's default (all cores) would
  // compete with it for no gain at training speeds.
  await conn.run('SET threads TO 1');
  const result = await conn.stream(`SELECT ${[...new Set(columns)].map(sqlIdent).join(', ')} FROM read_parquet(${sqlStringList(files)})`);

  let batch: RawRow[] = [];
  let labels: number[] = [];
  let batchIndex = 0;
  let rows = 0;
  let droppedLabels = 0;
  const buffer: { row: RawRow; label: number }[] = [];

  const emit = async (row: RawRow, label: number): Promise<void> => {
    batch.push(row);
    labels.push(label);
    if (batch.length === batchSize) await flush();
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    // Batches before the resume point are read (to keep the shuffle order) but not transformed or sent.
    if (batchIndex++ >= skipBatches) {
      await waitForCredit();
      if (stopped) return;
      const n = batch.length;
      const inputs = packModelInputs(signature.modelInputs, applyTransform(graph, batch), n);
      const y = Float32Array.from(labels);
      port.postMessage({ type: 'batch', size: n, inputs, labels: y } satisfies FromWorker, [...inputs.map((a) => a.buffer as ArrayBuffer), y.buffer as ArrayBuffer]);
    }
    batch = [];
    labels = [];
  };

  for await (const chunk of result.yieldRowObjectJs()) {
    for (const row of chunk as RawRow[]) {
      if (stopped) return;
      const label = encodeLabel(signature, row[signature.label.key]);
      if (label === undefined) {
        droppedLabels++;
        continue;
      }
      rows++;
      if (shuffleBuffer <= 0) {
        await emit(row, label);
      } else if (buffer.length < shuffleBuffer) {
        buffer.push({ row, label });
      } else {
        const i = Math.floor(rng() * buffer.length);
        const out = buffer[i];
        buffer[i] = { row, label };
        await emit(out.row, out.label);
      }
    }
  }
  shuffleInPlace(buffer, rng);
  for (const b of buffer) await emit(b.row, b.label);
  await flush();
  conn.closeSync();
  port.postMessage({ type: 'end', rows, droppedLabels } satisfies FromWorker);
}
