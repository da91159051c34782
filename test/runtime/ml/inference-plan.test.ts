// The inference plan against tfjs: models built from every layer the plan knows (dense with each activation,
// dropout, concatenate, add, activation, the one-hot embedding with ids in and out of range) must give
// model.predict's outputs to float rounding for batches of 1 to 64 rows; a model with a layer it does not
// know, a shared layer, two outputs or too much arithmetic per row gets no plan (tfjs predicts it).

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runtime/ml/backend';
import { compileInferencePlan, MAX_MACS_PER_ROW } from '../../../runtime/ml/inference-plan';
import type { PackedInput } from '../../../runtime/ml/model-inputs';
import { OneHotEmbedding } from '../../../runtime/ml/one-hot-embedding';

beforeAll(async () => {
  await selectBackend();
});

/** A seeded uniform draw in [lo, hi). */
function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 4294967296);
  };
}

/** Sets every weight of the model to seeded random values (embeddings start at zero otherwise). */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const u = rng(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => u(-1, 1)), w.shape)));
}

/** A wide & deep style model: ids → embeddings, floats → dense stack, deep logits + wide part → head. */
function wideDeep(head: string, units: number, hidden: string[]): tf.LayersModel {
  const ids = tf.input({ shape: [1], dtype: 'int32' });
  const ids2 = tf.input({ shape: [1], dtype: 'int32' });
  const floats = tf.input({ shape: [3] });
  const embedded = new OneHotEmbedding({ inputDim: 5, outputDim: 4 }).apply(ids) as tf.SymbolicTensor;
  const embedded2 = new OneHotEmbedding({ inputDim: 3, outputDim: 2 }).apply(ids2) as tf.SymbolicTensor;
  let x = tf.layers.concatenate().apply([floats, embedded, embedded2]) as tf.SymbolicTensor;
  for (const activation of hidden) {
    x = tf.layers.dense({ units: 6, activation: activation as 'relu' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  }
  const logits = tf.layers.dense({ units }).apply(x) as tf.SymbolicTensor;
  const wide = new OneHotEmbedding({ inputDim: 5, outputDim: units, initScale: 0 }).apply(ids) as tf.SymbolicTensor;
  const summed = tf.layers.add().apply([logits, wide]) as tf.SymbolicTensor;
  const out = tf.layers.activation({ activation: head as 'softmax' }).apply(summed) as tf.SymbolicTensor;
  return tf.model({ inputs: [ids, ids2, floats], outputs: out });
}

/** Inputs for n rows: ids including out-of-range ones (-1 and past the vocabulary), floats with zeros. */
function inputs(n: number, seed: number): PackedInput[] {
  const u = rng(seed);
  const ids = Int32Array.from({ length: n }, (_, r) => (r % 7 === 3 ? -1 : r % 7 === 5 ? 9 : Math.floor(u(0, 5))));
  const ids2 = Int32Array.from({ length: n }, () => Math.floor(u(0, 3)));
  const floats = Float32Array.from({ length: n * 3 }, (_, i) => (i % 5 === 0 ? 0 : u(-3, 3)));
  return [ids, ids2, floats];
}

function tfjsPredict(model: tf.LayersModel, packed: PackedInput[], n: number): Float32Array {
  return tf.tidy(() => {
    const xs = model.inputs.map((t, i) => tf.tensor2d(packed[i], [n, t.shape[1]!], t.dtype as 'int32' | 'float32'));
    return (model.predict(xs) as tf.Tensor).dataSync() as Float32Array;
  });
}

test.each([
  ['softmax', 3, ['relu', 'tanh']],
  ['sigmoid', 1, ['relu']],
  ['linear', 1, ['sigmoid', 'linear']],
])('a model with a %s head over %i units gives model.predict outputs', (head, units, hidden) => {
  const model = wideDeep(head, units, hidden);
  randomizeWeights(model, units * 31 + hidden.length);
  const plan = compileInferencePlan(model);
  expect(plan).toBeDefined();
  expect(plan!.macsPerRow).toBeGreaterThan(0);
  for (const n of [1, 7, 64]) {
    const packed = inputs(n, n);
    const expected = tfjsPredict(model, packed, n);
    const got = plan!.run(packed, n);
    expect(got).toBeInstanceOf(Float32Array);
    expect(got).toHaveLength(n * units);
    got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-5));
  }
  // The plan copied the weights: disposing the model does not change its answers.
  const packed = inputs(5, 99);
  const before = Array.from(plan!.run(packed, 5));
  model.dispose();
  expect(Array.from(plan!.run(packed, 5))).toEqual(before);
});

test('a model with a layer the plan does not know gets no plan', () => {
  const x = tf.input({ shape: [4] });
  const normalized = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  expect(compileInferencePlan(tf.model({ inputs: x, outputs: tf.layers.dense({ units: 2 }).apply(normalized) as tf.SymbolicTensor }))).toBeUndefined();
  // An activation the plan does not implement.
  expect(compileInferencePlan(tf.model({ inputs: x, outputs: tf.layers.dense({ units: 2, activation: 'elu' }).apply(x) as tf.SymbolicTensor }))).toBeUndefined();
});

test('shared layers, two outputs and large models get no plan', () => {
  const a = tf.input({ shape: [4] });
  const b = tf.input({ shape: [4] });
  const shared = tf.layers.dense({ units: 4 });
  const sum = tf.layers.add().apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  expect(compileInferencePlan(tf.model({ inputs: [a, b], outputs: sum }))).toBeUndefined();

  const two = tf.model({ inputs: a, outputs: [tf.layers.dense({ units: 1 }).apply(a) as tf.SymbolicTensor, tf.layers.dense({ units: 2 }).apply(a) as tf.SymbolicTensor] });
  expect(compileInferencePlan(two)).toBeUndefined();

  const width = Math.ceil(Math.sqrt(MAX_MACS_PER_ROW)) + 1;
  const wide = tf.input({ shape: [width] });
  expect(compileInferencePlan(tf.model({ inputs: wide, outputs: tf.layers.dense({ units: width }).apply(wide) as tf.SymbolicTensor }))).toBeUndefined();
});
