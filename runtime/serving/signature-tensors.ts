// The tensors a model's signature is exposed as by both APIs: one [batch] input per raw feature (or
// [batch, k] for a feature tensor input of an ONNX model) and the
// outputs predictRows gives (probabilities [batch, k], class_ids [batch, 1], classes [batch, 1], or
// predictions [batch, 1]), with element types each API names in its own words (DT_STRING / BYTES, ...).

import type { Prediction } from '../ml/serving-bundle';
import type { RawType, Signature } from '../ml/signature';

export interface TensorSpec {
  name: string;
  type: RawType;
  /** -1 is the batch dimension. */
  shape: number[];
}

export function inputTensors(signature: Signature): TensorSpec[] {
  return signature.inputs.map((i) => ({ name: i.name, type: i.dtype, shape: i.width !== undefined && i.width > 1 ? [-1, i.width] : [-1] }));
}

// Built once per loaded signature: the predict APIs read them on every request.
const OUTPUTS = new WeakMap<Signature, readonly TensorSpec[]>();

export function outputTensors(signature: Signature): readonly TensorSpec[] {
  let outputs = OUTPUTS.get(signature);
  if (outputs) return outputs;
  if (signature.task === 'regression') outputs = [{ name: 'predictions', type: 'float', shape: [-1, 1] }];
  else {
    // predictRows gives a binary model both probabilities (negative, positive), like a multiclass one.
    const k = signature.task === 'binary' ? 2 : signature.label.classes!.length;
    outputs = [
      { name: 'probabilities', type: 'float', shape: [-1, k] },
      { name: 'class_ids', type: 'int', shape: [-1, 1] },
      { name: 'classes', type: 'string', shape: [-1, 1] },
    ];
  }
  OUTPUTS.set(signature, outputs);
  return outputs;
}

/** One output's values for each row (each a list: [k] probabilities, [id], [class], [value]). */
export function outputColumn(predictions: Prediction[], name: string): (number | string)[][] {
  return predictions.map((p) => (p as unknown as Record<string, (number | string)[]>)[name]);
}

/** Whether any output value is NaN or ±Infinity (the reply is then written with TF Serving's bare tokens). */
export function hasNonFinite(predictions: Prediction[]): boolean {
  for (const p of predictions) {
    const values = 'predictions' in p ? p.predictions : p.probabilities;
    for (const v of values) if (!Number.isFinite(v)) return true;
  }
  return false;
}
