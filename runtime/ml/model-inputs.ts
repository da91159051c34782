// Turns transformed feature columns into the model's input tensors, and raw labels into training targets.
// The training input pipeline and every prediction path (evaluation, batch inference, the model server) go
// through these same functions after applyTransform, so a raw example becomes identical tensors everywhere.

import * as tf from '@tensorflow/tfjs';
import type { TransformedColumns } from '../transform/apply';
import type { ModelInput, Signature } from './signature';

export type PackedInput = Int32Array | Float32Array;

/** One typed array per model input, in signature order: int32 id columns as they are, floats row-major [n, k]. */
export function packModelInputs(modelInputs: ModelInput[], columns: TransformedColumns, n: number): PackedInput[] {
  return modelInputs.map((m) => {
    if (m.dtype === 'int32') return new Int32Array(columns[m.columns[0]].subarray(0, n));
    const k = m.columns.length;
    const out = new Float32Array(n * k);
    for (let j = 0; j < k; j++) {
      const col = columns[m.columns[j]];
      for (let r = 0; r < n; r++) out[r * k + j] = col[r];
    }
    return out;
  });
}

/** Tensors for model.predict / trainOnBatch from packed inputs. The caller disposes them. */
export function toTensors(modelInputs: ModelInput[], packed: PackedInput[], n: number): tf.Tensor[] {
  return modelInputs.map((m, i) => tf.tensor2d(packed[i], [n, m.dtype === 'int32' ? 1 : m.columns.length], m.dtype));
}

/**
 * A raw label as the training target: the class index (classification) or the value (regression); undefined
 * when missing or not one of the classes, so the example is left out of training and evaluation.
 */
export function encodeLabel(signature: Signature, value: unknown): number | undefined {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return undefined;
  if (signature.task === 'regression') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  const token = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  const index = signature.label.classes!.indexOf(token);
  return index >= 0 ? index : undefined;
}
