// The serving signature of a model bundle (signature.json): which raw features a caller sends (with types and
// whether they are required), how the transform's outputs feed the model's input tensors, what the label is
// and what the outputs mean. Written by the trainer from the schema and the transform graph; read by every
// place that predicts (evaluation, batch inference, infra validation, the model server).

import { UserError } from '../core/errors';
import type { TransformGraph } from '../transform/graph';
import { stringDomainOf, type Schema } from '../tfdv/schema-proto';

export const SIGNATURE_FILE = 'signature.json';
/** The file of a Model artifact (or model version folder) holding an ONNX model instead of a tfjs bundle (onnx-model.ts). */
export const ONNX_MODEL_FILE = 'model.onnx';
/** The framework recorded on such a Model artifact and in its signature. */
export const ONNX_FRAMEWORK = 'onnx';
export const SIGNATURE_FORMAT = 'mlp.signature';
export const SIGNATURE_VERSION = 1;

export type Task = 'binary' | 'multiclass' | 'regression';
export type RawType = 'string' | 'int' | 'float';

export interface RawInput {
  name: string;
  dtype: RawType;
  /** Required when the schema says every example has it; missing optional features take the transform's fill value. */
  required: boolean;
  /** Values per example when the input is one feature tensor [batch, width] (an ONNX model's); absent: one value. */
  width?: number;
}

/** One input tensor of the model: an int32 id column (embedded) or the float32 columns side by side. */
export interface ModelInput {
  name: string;
  dtype: 'int32' | 'float32';
  /** Transform outputs in this tensor, in column order. */
  columns: string[];
  /** For int32 ids: ids are in [0, cardinality). */
  cardinality?: number;
}

export interface Signature {
  format: typeof SIGNATURE_FORMAT;
  version: typeof SIGNATURE_VERSION;
  /** What predicts: absent for the tfjs bundle the Trainer writes; 'onnx' for a signature read from an ONNX graph (onnx-model.ts). */
  framework?: typeof ONNX_FRAMEWORK;
  task: Task;
  inputs: RawInput[];
  modelInputs: ModelInput[];
  label: { key: string; classes?: string[] };
  /** Output names per row: probabilities, class_ids, classes (classification) or predictions (regression). */
  outputs: string[];
}

/** Name of the one model input holding every float32 transform output. */
export const NUMERIC_INPUT = 'numeric_features';

const RAW_TYPE: Record<string, RawType> = { BYTES: 'string', INT: 'int', FLOAT: 'float' };

/** Builds the signature of a model trained on `graph` outputs with `labelKey` as its label. */
export function buildSignature(args: { graph: TransformGraph; schema: Schema; task: Task; labelKey: string; classes?: string[] }): Signature {
  const { graph, schema, task, labelKey } = args;
  const features = graph.outputs.filter((o) => !o.inputs.includes(labelKey));
  if (features.length === 0) throw new UserError(`transform graph has no outputs besides the label "${labelKey}": nothing to train on`);
  const rawNames = [...new Set(features.flatMap((o) => o.inputs))];
  const inputs = rawNames.map((name): RawInput => {
    const f = schema.feature?.find((x) => x.name === name);
    if (!f) throw new UserError(`transform graph reads feature "${name}", which the schema does not have`);
    return { name, dtype: RAW_TYPE[f.type] ?? 'string', required: (f.presence?.minFraction ?? 0) >= 1 };
  });
  const modelInputs: ModelInput[] = features
    .filter((o) => o.dtype === 'int32')
    .map((o) => ({ name: o.name, dtype: 'int32', columns: [o.name], cardinality: o.cardinality }));
  const floats = features.filter((o) => o.dtype === 'float32').map((o) => o.name);
  if (floats.length > 0) modelInputs.push({ name: NUMERIC_INPUT, dtype: 'float32', columns: floats });
  for (const m of modelInputs) {
    if (m.dtype === 'int32' && !(m.cardinality && m.cardinality > 0)) {
      throw new UserError(`transform output "${m.name}" has no known cardinality: give a vocabulary num_oov_buckets ≥ 1 or use hash buckets`);
    }
  }
  if (task !== 'regression' && !(args.classes && args.classes.length >= 2)) {
    throw new UserError(`a ${task} model needs at least two label classes for "${labelKey}"`);
  }
  return {
    format: SIGNATURE_FORMAT,
    version: SIGNATURE_VERSION,
    task,
    inputs,
    modelInputs,
    label: task === 'regression' ? { key: labelKey } : { key: labelKey, classes: args.classes },
    outputs: task === 'regression' ? ['predictions'] : ['probabilities', 'class_ids', 'classes'],
  };
}

export function checkSignature(value: unknown, where: string): Signature {
  const s = value as Partial<Signature> | null;
  if (!s || s.format !== SIGNATURE_FORMAT || !Array.isArray(s.inputs) || !Array.isArray(s.modelInputs)) {
    throw new UserError(`${where} is not a model signature (format ${SIGNATURE_FORMAT})`);
  }
  if (s.version !== SIGNATURE_VERSION) throw new UserError(`${where} is signature version ${s.version}; this runtime reads version ${SIGNATURE_VERSION}`);
  // Every signature the Trainer writes says whether each input is required (the schema's min_fraction 1). A
  // signature written without it (by hand, or by another tool) cannot tell which features training always
  // had, so all of them are required: a missing one is refused rather than filled.
  const inputs = s.inputs.map((i: Partial<RawInput> | null, k) => {
    if (!i || typeof i.name !== 'string') throw new UserError(`${where}: inputs[${k}] is not a raw input {name, dtype, required}`);
    if (i.required !== undefined && typeof i.required !== 'boolean') throw new UserError(`${where}: inputs[${k}] ("${i.name}") has "required" ${JSON.stringify(i.required)}; expected true or false`);
    return { ...i, required: i.required ?? true } as RawInput;
  });
  return { ...s, inputs } as Signature;
}

/** Label classes for a classification task: the schema's string domain of the label, else 0..n-1 / 0,1. */
export function labelClasses(schema: Schema, labelKey: string, task: Task): string[] | undefined {
  if (task === 'regression') return undefined;
  const f = schema.feature?.find((x) => x.name === labelKey);
  if (!f) throw new UserError(`label "${labelKey}" is not a feature of the schema`);
  const domain = stringDomainOf(schema, f)?.value;
  if (domain && domain.length > 0) return [...domain];
  if (task === 'binary') return ['0', '1'];
  const max = Number(f.intDomain?.max);
  if (f.type === 'INT' && Number.isFinite(max)) return Array.from({ length: max + 1 }, (_, i) => String(i));
  throw new UserError(`label "${labelKey}" has no string domain or integer range in the schema: cannot tell its classes`);
}
