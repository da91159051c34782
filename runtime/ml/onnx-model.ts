// ONNX models (model.onnx: how PyTorch, scikit-learn, TensorFlow, XGBoost and LightGBM models leave their
// framework; Triton's and KServe's <base>/<version>/model.onnx layout), predicted with onnxruntime-node on the
// execution providers of onnx-execution-providers.ts (CPU unless MLP_ONNX_EXECUTION_PROVIDERS names cuda).
// The serving signature is read from the graph: every graph input is a raw input the caller sends — a
// [batch] or [batch, 1] tensor per feature (as skl2onnx and torch exports take tabular data) or one
// [batch, k] feature tensor — and the graph's float output gives the predictions: class probabilities
// [batch, k] (or P(positive) [batch] / [batch, 1] for a binary model) or a regression value. What a graph
// cannot say is read from the model's metadata_props, which the exporting trainer sets: mlp.task (binary,
// multiclass, regression), mlp.label_key, mlp.classes (a JSON list of class names) and mlp.output (which
// output to read when several fit). A [batch] / [batch, 1] float input may be missing in a request or an
// example: it is NaN, ONNX's missing value; every other input is required. Without metadata a [batch, k ≥ 2]
// output is a multiclass model with classes "0".."k-1" and a [batch] / [batch, 1] output a regression. No
// transform runs in front of an ONNX model: its preprocessing is part of the graph.

import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../core/errors';
import type { RawRow } from '../transform/apply';
import { onnxExecutionProviders, providerLoadError, type OnnxExecutionProvider } from './onnx-execution-providers';
import { ONNX_FRAMEWORK, ONNX_MODEL_FILE, SIGNATURE_FILE, SIGNATURE_FORMAT, SIGNATURE_VERSION, type RawInput, type RawType, type Signature, type Task } from './signature';

// onnxruntime writes its own log to stderr (a failing CUDA provider prints a multi-line error before the
// exception): the exceptions carry what went wrong, and loadOnnxModel turns them into one-line errors.
ort.env.logLevel = 'fatal';

type ElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool';
const RAW_TYPES: Record<ElementType, RawType> = { float32: 'float', float64: 'float', int64: 'int', int32: 'int', string: 'string', bool: 'int' };

interface GraphInput {
  name: string;
  type: ElementType;
  /** Rank of the tensor: 1 for [batch], 2 for [batch, width]. */
  rank: 1 | 2;
  width: number;
}

const isFloat = (input: GraphInput) => input.type === 'float32' || input.type === 'float64';

/** How the read output's values become predictions. */
type OutputReading = { name: string; kind: 'probabilities'; k: number } | { name: string; kind: 'positive' } | { name: string; kind: 'value' };

export interface OnnxModel {
  session: ort.InferenceSession;
  inputs: GraphInput[];
  output: OutputReading;
  dispose(): void;
}

/** The model's metadata_props (ModelProto field 14: repeated {key = 1, value = 2}), read from the protobuf bytes. */
export function onnxMetadataProps(bytes: Uint8Array, where: string): Record<string, string> {
  const props: Record<string, string> = {};
  let pos = 0;
  const varint = (end: number): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (pos >= end) throw new UserError(`${where} is not an ONNX model (truncated protobuf)`);
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  };
  const fields = (end: number, onBytes: (field: number, start: number, stop: number) => void) => {
    while (pos < end) {
      const tag = varint(end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === 0) varint(end);
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const len = varint(end);
        const start = pos;
        pos += len;
        if (pos > end) throw new UserError(`${where} is not an ONNX model (truncated protobuf)`);
        onBytes(field, start, pos);
      } else throw new UserError(`${where} is not an ONNX model (protobuf wire type ${wire})`);
    }
  };
  const text = (start: number, stop: number) => Buffer.from(bytes.buffer, bytes.byteOffset + start, stop - start).toString('utf8');
  fields(bytes.length, (field, start, stop) => {
    if (field !== 14) return;
    const after = pos;
    pos = start;
    let key = '';
    let value = '';
    fields(stop, (f, s, e) => {
      if (f === 1) key = text(s, e);
      else if (f === 2) value = text(s, e);
    });
    pos = after;
    props[key] = value;
  });
  return props;
}

function graphInput(meta: ort.InferenceSession.ValueMetadata, where: string): GraphInput {
  if (!meta.isTensor) throw new UserError(`${where}: input "${meta.name}" is not a tensor; only tensor inputs can be served`);
  const type = meta.type as ElementType;
  if (!(type in RAW_TYPES)) throw new UserError(`${where}: input "${meta.name}" has element type ${meta.type}; served inputs are float, double, int32, int64, bool or string`);
  const [, width, ...rest] = meta.shape;
  if (meta.shape.length === 1) return { name: meta.name, type, rank: 1, width: 1 };
  if (meta.shape.length === 2 && typeof width === 'number' && width >= 1 && rest.length === 0) return { name: meta.name, type, rank: 2, width };
  throw new UserError(`${where}: input "${meta.name}" has shape [${meta.shape.join(', ')}]; served inputs are [batch] or [batch, k] with a fixed k`);
}

const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression'];

/** The output to read and what it means, from metadata_props where given, else from the outputs' shapes. */
function readOutput(session: ort.InferenceSession, props: Record<string, string>, where: string): { task: Task; classes?: string[]; output: OutputReading } {
  const task = props['mlp.task'] as Task | undefined;
  if (task !== undefined && !TASKS.includes(task)) throw new UserError(`${where}: metadata mlp.task is ${JSON.stringify(task)}; expected one of ${TASKS.join(', ')}`);
  let classes: string[] | undefined;
  if (props['mlp.classes'] !== undefined) {
    try {
      classes = JSON.parse(props['mlp.classes']) as string[];
    } catch {
      classes = undefined;
    }
    if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) {
      throw new UserError(`${where}: metadata mlp.classes must be a JSON list of at least two class names, got ${props['mlp.classes']}`);
    }
  }
  // Float outputs of shape [batch], [batch, 1] or [batch, k]; integer outputs (e.g. a predicted label) are not read.
  const candidates = session.outputMetadata.filter(
    (o): o is ort.InferenceSession.TensorValueMetadata => o.isTensor && (o.type === 'float32' || o.type === 'float64') && (o.shape.length === 1 || (o.shape.length === 2 && typeof o.shape[1] === 'number')),
  );
  const named = props['mlp.output'];
  const pool = named !== undefined ? candidates.filter((o) => o.name === named) : candidates;
  const describeOutputs = () => session.outputMetadata.map((o) => `"${o.name}" ${o.isTensor ? `${o.type}[${o.shape.join(', ')}]` : 'non-tensor'}`).join(', ');
  if (named !== undefined && pool.length === 0) throw new UserError(`${where}: metadata mlp.output names "${named}", which is not a float [batch] or [batch, k] output; the outputs are ${describeOutputs()}`);
  if (pool.length !== 1) {
    throw new UserError(`${where}: cannot tell which output holds the predictions (${pool.length === 0 ? 'no' : pool.length} float [batch] or [batch, k] outputs among ${describeOutputs()}); set metadata_props mlp.output`);
  }
  const out = pool[0];
  const width = out.shape.length === 1 ? 1 : (out.shape[1] as number);
  const resolvedTask: Task = task ?? (width >= 2 ? 'multiclass' : 'regression');
  if (resolvedTask === 'regression') {
    if (width !== 1) throw new UserError(`${where}: a regression model's output "${out.name}" must be [batch] or [batch, 1], not [${out.shape.join(', ')}]`);
    return { task: resolvedTask, output: { name: out.name, kind: 'value' } };
  }
  if (resolvedTask === 'binary' && width === 1) {
    return { task: resolvedTask, classes: classes ?? ['0', '1'], output: { name: out.name, kind: 'positive' } };
  }
  const names = classes ?? Array.from({ length: width }, (_, i) => String(i));
  if (names.length !== width) throw new UserError(`${where}: output "${out.name}" has ${width} columns but metadata mlp.classes names ${names.length} classes`);
  if (resolvedTask === 'binary' && width !== 2) throw new UserError(`${where}: a binary model's output "${out.name}" must be [batch], [batch, 1] or [batch, 2], not [${out.shape.join(', ')}]`);
  return { task: resolvedTask, classes: names, output: { name: out.name, kind: 'probabilities', k: width } };
}

/**
 * Loads dir/model.onnx on the given execution providers (default: MLP_ONNX_EXECUTION_PROVIDERS, else cpu); the
 * signature is the graph's inputs and the meaning of its output (see the top of this file).
 */
export async function loadOnnxModel(dir: string, executionProviders: OnnxExecutionProvider[] = onnxExecutionProviders()): Promise<{ model: OnnxModel; signature: Signature }> {
  const file = path.join(dir, ONNX_MODEL_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch {
    throw new UserError(`model file ${file} is missing`);
  }
  const props = onnxMetadataProps(bytes, file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders });
  } catch (err) {
    throw providerLoadError((err as Error).message, executionProviders, file) ?? new UserError(`model ${file} cannot be loaded by onnxruntime: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const inputs = session.inputMetadata.map((m) => graphInput(m, file));
    const { task, classes, output } = readOutput(session, props, file);
    const labelKey = props['mlp.label_key'] ?? '';
    const signature: Signature = {
      format: SIGNATURE_FORMAT,
      version: SIGNATURE_VERSION,
      framework: ONNX_FRAMEWORK,
      task,
      // A missing float is NaN, ONNX's missing value (what skl2onnx's imputers read); other types must be given.
      inputs: inputs.map((i): RawInput => ({ name: i.name, dtype: RAW_TYPES[i.type], required: !isFloat(i) || i.width > 1, ...(i.width > 1 ? { width: i.width } : {}) })),
      modelInputs: [],
      label: task === 'regression' ? { key: labelKey } : { key: labelKey, classes },
      outputs: task === 'regression' ? ['predictions'] : ['probabilities', 'class_ids', 'classes'],
    };
    const model: OnnxModel = { session, inputs, output, dispose: () => void session.release().catch(() => undefined) };
    return { model, signature };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** The signature of dir/model.onnx (the model is loaded to read it, and released). */
export async function onnxSignature(dir: string): Promise<Signature> {
  const { model, signature } = await loadOnnxModel(dir);
  await model.session.release();
  return signature;
}

/** Whether a model folder holds an ONNX model: model.onnx and no signature.json (which a tfjs bundle has). */
export async function isOnnxModelDir(dir: string): Promise<boolean> {
  const exists = (file: string) => fs.promises.access(path.join(dir, file)).then(() => true, () => false);
  return (await exists(ONNX_MODEL_FILE)) && !(await exists(SIGNATURE_FILE));
}

/** A row of zeros (empty strings for string inputs) to run the graph once before it answers requests. */
export function warmUpRow(model: OnnxModel): RawRow {
  const zero = (i: GraphInput) => (i.type === 'string' ? '' : 0);
  return Object.fromEntries(model.inputs.map((i) => [i.name, i.width === 1 ? zero(i) : new Array(i.width).fill(zero(i))]));
}

/** A missing or non-numeric value where the graph needs a number: NaN for floats (the graph decides), an error otherwise. */
function numberAt(input: GraphInput, value: unknown, row: number): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'boolean' ? Number(value) : value;
  if (typeof n === 'number' && (isFloat(input) || Number.isInteger(n))) return n;
  if ((n === null || n === undefined) && isFloat(input)) return NaN;
  throw new UserError(`row ${row}: ONNX input "${input.name}" (${input.type}) needs ${input.type.startsWith('float') ? 'a number' : 'an integer'}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
}

/** One tensor per graph input from raw rows: a value per row, or a list of `width` values for a [batch, k] input. */
function inputTensor(input: GraphInput, rows: RawRow[]): ort.Tensor {
  const n = rows.length;
  const dims = input.rank === 1 ? [n] : [n, input.width];
  const values: unknown[] = new Array(n * input.width);
  for (let r = 0; r < n; r++) {
    const v = rows[r][input.name];
    if (input.width === 1) values[r] = Array.isArray(v) && v.length === 1 ? v[0] : v;
    else {
      if (!Array.isArray(v) || v.length !== input.width) throw new UserError(`row ${r}: ONNX input "${input.name}" takes a list of ${input.width} values per example`);
      for (let j = 0; j < input.width; j++) values[r * input.width + j] = v[j];
    }
  }
  if (input.type === 'string') {
    const strings = values.map((v, i) => {
      if (typeof v !== 'string') throw new UserError(`row ${Math.floor(i / input.width)}: ONNX input "${input.name}" (string) needs a string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
      return v;
    });
    return new ort.Tensor('string', strings, dims);
  }
  const numbers = values.map((v, i) => numberAt(input, v, Math.floor(i / input.width)));
  switch (input.type) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(numbers), dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(numbers), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(numbers), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(numbers, (x) => BigInt(x)), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(numbers, (x) => (x ? 1 : 0)), dims);
  }
}

/** Runs the graph on raw rows; the read output's values, row-major ([n] or [n, k]). */
export async function runOnnx(model: OnnxModel, rows: RawRow[]): Promise<ArrayLike<number>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.inputs) feeds[input.name] = inputTensor(input, rows);
  const result = await model.session.run(feeds, [model.output.name]);
  const out = result[model.output.name];
  const per = model.output.kind === 'probabilities' ? model.output.k : 1;
  if (out.data.length !== rows.length * per) {
    throw new UserError(`ONNX output "${model.output.name}" has ${out.data.length} values (dims [${out.dims.join(', ')}]) for ${rows.length} rows; expected ${rows.length * per}`);
  }
  return out.data as Float32Array | Float64Array;
}
