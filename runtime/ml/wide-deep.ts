// The bundled tabular model: wide & deep in tfjs layers. Every id input (vocabulary, bucket, hash, cross) is
// embedded for the deep tower and also gets a linear "wide" weight per class; the float inputs join the
// deep tower as they are. Sized by hyperparameters, seeded so a fixed seed trains the same model.

import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { OneHotEmbedding } from './one-hot-embedding';
import type { Signature } from './signature';

export const WideDeepHyperparameters = z.object({
  learning_rate: z.number().positive().max(10).default(0.01).describe('Adam learning rate'),
  hidden_units: z
    .union([z.array(z.number().int().positive()), z.string().regex(/^\d+(,\d+)*$/, 'a comma-separated list of layer sizes, e.g. "64,32"')])
    .default([32, 16])
    .transform((v) => (typeof v === 'string' ? v.split(',').map(Number) : v))
    .describe('Units per hidden layer of the deep tower, e.g. [64, 32] or "64,32" (a tuner\'s discrete value)'),
  embedding_dim: z.number().int().min(0).default(0).describe('Embedding width; 0 picks min(16, ceil(6·cardinality^¼)) per feature'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('Dropout rate after each hidden layer'),
  batch_size: z.number().int().min(1).max(65536).default(32).describe('Examples per training step'),
  epochs: z.number().int().min(1).max(10000).default(20).describe('Passes over the train split (early stopping may end sooner)'),
  wide: z.boolean().default(true).describe('Add the linear (wide) part over the id features'),
  seed: z.number().int().default(42).describe('Seed of initialization, dropout and shuffling'),
});
export type WideDeepHyperparameters = z.output<typeof WideDeepHyperparameters>;

/** Output units: one logit for binary and regression, one per class for multi-class. */
export function outputUnits(signature: Signature): number {
  return signature.task === 'multiclass' ? signature.label.classes!.length : 1;
}

export function buildWideDeep(signature: Signature, hp: WideDeepHyperparameters): tf.LayersModel {
  const units = outputUnits(signature);
  let seed = hp.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const inputs = signature.modelInputs.map((m) =>
    tf.input({ name: m.name, shape: [m.dtype === 'int32' ? 1 : m.columns.length], dtype: m.dtype }),
  );
  const deepParts: tf.SymbolicTensor[] = [];
  const wideParts: tf.SymbolicTensor[] = [];
  signature.modelInputs.forEach((m, i) => {
    if (m.dtype === 'float32') {
      deepParts.push(inputs[i]);
      return;
    }
    const dim = hp.embedding_dim || Math.min(16, Math.ceil(6 * Math.pow(m.cardinality!, 0.25)));
    const emb = new OneHotEmbedding({ name: `embed_${m.name}`, inputDim: m.cardinality!, outputDim: dim, seed: seed++ });
    deepParts.push(emb.apply(inputs[i]) as tf.SymbolicTensor);
    if (hp.wide) {
      const linear = new OneHotEmbedding({ name: `wide_${m.name}`, inputDim: m.cardinality!, outputDim: units, initScale: 0 });
      wideParts.push(linear.apply(inputs[i]) as tf.SymbolicTensor);
    }
  });
  let x = deepParts.length > 1 ? (tf.layers.concatenate().apply(deepParts) as tf.SymbolicTensor) : deepParts[0];
  hp.hidden_units.forEach((u, i) => {
    x = tf.layers.dense({ name: `hidden_${i}`, units: u, activation: 'relu', kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
    if (hp.dropout > 0) x = tf.layers.dropout({ rate: hp.dropout, seed: seed++ }).apply(x) as tf.SymbolicTensor;
  });
  let logits = tf.layers.dense({ name: 'deep_logits', units, kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  if (wideParts.length > 0) logits = tf.layers.add({ name: 'wide_and_deep' }).apply([logits, ...wideParts]) as tf.SymbolicTensor;
  const activation = signature.task === 'binary' ? 'sigmoid' : signature.task === 'multiclass' ? 'softmax' : 'linear';
  const output = tf.layers.activation({ name: 'output', activation }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: output, name: 'wide_deep' });
}

/** Compiles with Adam and the task's loss. */
export function compileFor(model: tf.LayersModel, signature: Signature, learningRate: number): void {
  const loss = signature.task === 'binary' ? 'binaryCrossentropy' : signature.task === 'multiclass' ? 'sparseCategoricalCrossentropy' : 'meanSquaredError';
  model.compile({ optimizer: tf.train.adam(learningRate), loss });
}
