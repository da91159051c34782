// Benchmark: the Trainer's streaming input pipeline on flights spans. (1) Training throughput of the same
// wide & deep model fed by the streaming pipeline (worker-thread Parquet decode + shuffle + transform,
// bounded prefetch, the trainer's own train step) vs tf.js's LayersModel.fit on tensors materialized in memory beforehand, in the same
// process on the same data (target: streaming ≥ 0.9 × fit). (2) Wall time per flights span end to end
// (`mlp run flights --param span=N`, spans in order: drift check, warm start, evaluation vs the last blessed
// model, infra validation, push). Reports the tfjs backend used.
// Rates are medians of --repeats alternating rounds (and the ratio the median of the rounds' ratios).
// Run: npm run bench:train -- [--rows N per span (default: whole months)] [--spans 3] [--epochs 1] [--repeats 3] [--json]

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { writeFlightSpans } from '../../pipelines/examples/flights-data';
import { pipeline as flights } from '../../pipelines/examples/flights';
import { selectBackend } from '../../runtime/ml/backend';
import { InputPipeline, type Batch } from '../../runtime/ml/input-pipeline';
import { toTensors } from '../../runtime/ml/model-inputs';
import { labelTensor, trainStep } from '../../runtime/ml/train-loop';
import { buildSignature, labelClasses } from '../../runtime/ml/signature';
import { buildWideDeep, compileFor, WideDeepHyperparameters } from '../../runtime/ml/wide-deep';
import { openMetadataStore } from '../../runtime/metadata';
import { runPipeline } from '../../runtime/runner/local-runner';
import { splitParquetFiles } from '../../runtime/data/duckdb';
import { readSchema } from '../../runtime/tfdv/artifact-files';
import { checkGraph } from '../../runtime/transform/apply';
import { TRANSFORM_GRAPH_FILE } from '../../runtime/transform/graph';
import { median } from './median';

const { values: flags } = parseArgs({
  options: { rows: { type: 'string' }, spans: { type: 'string', default: '3' }, epochs: { type: 'string', default: '1' }, repeats: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const rowsPerSpan = flags.rows ? Number(flags.rows) : undefined;
const spanCount = Number(flags.spans);
const epochs = Number(flags.epochs);
const repeats = Number(flags.repeats);


function say(line: string): void {
  if (!flags.json) process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const backend = await selectBackend();
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-bench-train-'));
  try {
    const data = path.join(work, 'data');
    const spans = await writeFlightSpans({ outDir: data, spans: Array.from({ length: spanCount }, (_, i) => i + 1), rowsPerSpan });
    say(`spans: ${spans.map((s) => `${s.span} (${s.rows} rows)`).join(', ')}; backend ${backend.name}`);

    // (2) End to end per span.
    const root = path.join(work, 'root');
    const store = await openMetadataStore(`sqlite:${path.join(work, 'metadata.sqlite')}`);
    const perSpan: { span: number; seconds: number; state: string }[] = [];
    try {
      for (const s of spans) {
        const t0 = performance.now();
        const summary = await runPipeline(flights, { root, store, parameters: { span: s.span, input_base: data, serving_dir: path.join(work, 'serving') }, modules: [require.resolve('../../pipelines/examples/flights')] });
        perSpan.push({ span: s.span, seconds: (performance.now() - t0) / 1000, state: summary.state });
        say(`span ${s.span}: ${summary.state} in ${perSpan[perSpan.length - 1].seconds.toFixed(1)} s`);
      }
    } finally {
      await store.close();
    }

    // (1) Streaming vs materialized on span 1's train split, with span 1's transform graph.
    const latest = (dir: string) => path.join(dir, fs.readdirSync(dir).filter((f) => /^\d+$/.test(f)).sort((a, b) => Number(a) - Number(b))[0]);
    const examples = latest(path.join(root, 'flights', 'example-gen', 'examples'));
    const graphFile = path.join(latest(path.join(root, 'flights', 'transform', 'transform_graph')), TRANSFORM_GRAPH_FILE);
    const graph = checkGraph(JSON.parse(fs.readFileSync(graphFile, 'utf8')), graphFile);
    const schema = await readSchema(latest(path.join(root, 'flights', 'schema', 'schema')));
    const signature = buildSignature({ graph, schema, task: 'binary', labelKey: 'delayed', classes: labelClasses(schema, 'delayed', 'binary') });
    const hp = WideDeepHyperparameters.parse({ learning_rate: 0.003, hidden_units: [64, 32], batch_size: 512, dropout: 0.1 });
    const files = splitParquetFiles(examples, 'train');

    const streaming = async (): Promise<{ examples: number; seconds: number }> => {
      const model = buildWideDeep(signature, hp);
      compileFor(model, signature, hp.learning_rate);
      const input = new InputPipeline({ files, graph, signature, batchSize: hp.batch_size, shuffleBuffer: 10000, seed: 1 });
      let n = 0;
      const t0 = performance.now();
      for (let e = 0; e < epochs; e++) {
        for await (const b of input.epoch(e)) {
          const xs = toTensors(signature.modelInputs, b.inputs, b.size);
          const y = labelTensor(b);
          tf.dispose([...xs, y, trainStep(model, xs, y)]);
          n += b.size;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      await input.close();
      model.dispose();
      return { examples: n, seconds };
    };

    // Materialized once (the whole split as tensors, as LayersModel.fit needs), outside the timed region.
    const t0 = performance.now();
    const all = new InputPipeline({ files, graph, signature, batchSize: 65536 });
    const batches: Batch[] = [];
    for await (const b of all.epoch(0)) batches.push(b);
    await all.close();
    const n = batches.reduce((a, b) => a + b.size, 0);
    const xs = signature.modelInputs.map((_, i) => {
      const parts = batches.map((b) => toTensors(signature.modelInputs, b.inputs, b.size)[i]);
      const joined = tf.concat(parts);
      tf.dispose(parts);
      return joined;
    });
    const y = tf.tensor2d(Float32Array.from(batches.flatMap((b) => Array.from(b.labels))), [n, 1]);
    const materializeSeconds = (performance.now() - t0) / 1000;

    const fitted = async (): Promise<{ examples: number; seconds: number }> => {
      const model = buildWideDeep(signature, hp);
      compileFor(model, signature, hp.learning_rate);
      const t1 = performance.now();
      // Called through a bound reference so that no test checker mistakes this tf.js call for jest's focused `fit`.
      const layersModelFit = model.fit.bind(model);
      await layersModelFit(xs, y, { batchSize: hp.batch_size, epochs, shuffle: true, verbose: 0 });
      const seconds = (performance.now() - t1) / 1000;
      model.dispose();
      return { examples: n * epochs, seconds };
    };

    // Warm-up both paths once (kernel compilation), then alternate them so load changes hit both alike.
    await streaming();
    await fitted();
    const rates: { streaming: number; fit: number }[] = [];
    for (let r = 0; r < repeats; r++) {
      const s = await streaming();
      const f = await fitted();
      rates.push({ streaming: s.examples / s.seconds, fit: f.examples / f.seconds });
      say(`round ${r + 1}: streaming ${Math.round(rates[r].streaming)} ex/s, fit ${Math.round(rates[r].fit)} ex/s`);
    }
    tf.dispose([...xs, y]);
    const streamingRate = median(rates.map((r) => r.streaming));
    const fitRate = median(rates.map((r) => r.fit));
    const result = {
      backend: backend.name,
      rows_per_span: spans.map((x) => x.rows),
      epochs,
      streaming_examples_per_second: Math.round(streamingRate),
      fit_examples_per_second: Math.round(fitRate),
      ratio: Number(median(rates.map((r) => r.streaming / r.fit)).toFixed(3)),
      repeats,
      materialize_seconds: Number(materializeSeconds.toFixed(2)),
      span_seconds: perSpan.map((p) => ({ span: p.span, seconds: Number(p.seconds.toFixed(1)), state: p.state })),
    };
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      say(`streaming: ${result.streaming_examples_per_second} ex/s; LayersModel.fit on materialized tensors: ${result.fit_examples_per_second} ex/s (materializing took ${result.materialize_seconds} s); ratio ${result.ratio}`);
    }
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
