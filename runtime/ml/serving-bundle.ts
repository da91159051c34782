// The Model artifact is a serving bundle: the tfjs LayersModel (model.json + weights.bin), the transform graph
// it was trained behind (transform_graph.json) and its signature (signature.json), in one folder that the
// Pusher copies to <base>/<version>/ — or an ONNX model (model.onnx, whose signature is read from its graph:
// onnx-model.ts). loadServingBundle + predictRows are the one loading and prediction path shared by the
// Evaluator, BulkInferrer, InfraValidator and the model server, for both frameworks. A small tfjs model is
// predicted through its inference plan (inference-plan.ts: the same function without tfjs's per-kernel
// overhead); MLP_INFERENCE=tfjs predicts every tfjs model with tfjs instead.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors';
import { applyTransform, checkGraph, type RawRow } from '../transform/apply';
import { TRANSFORM_GRAPH_FILE, type TransformGraph } from '../transform/graph';
import { compileInferencePlan, type InferencePlan } from './inference-plan';
import { isOnnxModelDir, loadOnnxModel, runOnnx, type OnnxModel } from './onnx-model';
import { loadModelFiles, saveModelFiles } from './model-files';
import { packModelInputs, toTensors } from './model-inputs';
import { checkSignature, SIGNATURE_FILE, type Signature } from './signature';

export interface TfjsBundle {
  framework: 'tfjs';
  dir: string;
  model: tf.LayersModel;
  graph: TransformGraph;
  signature: Signature;
  /** Set when the model is small and made of layers the plan knows (and MLP_INFERENCE is not tfjs). */
  plan?: InferencePlan;
}

/** An ONNX model: its preprocessing is inside the graph, so there is no transform graph. */
export interface OnnxBundle {
  framework: 'onnx';
  dir: string;
  model: OnnxModel;
  graph?: undefined;
  signature: Signature;
}

export type ServingBundle = TfjsBundle | OnnxBundle;

/** The class id and name of a row whose scores are NaN: no class is chosen. */
export const NO_CLASS_ID = -1;
export const NO_CLASS = '';

/** One prediction per row: class probabilities, ids and names (NO_CLASS_ID / NO_CLASS when a score is NaN), or the regression value. */
export type Prediction =
  | { probabilities: number[]; class_ids: [number]; classes: [string] }
  | { predictions: [number] };

export async function writeServingBundle(dir: string, model: tf.LayersModel, graph: TransformGraph, signature: Signature): Promise<void> {
  await saveModelFiles(model, dir);
  await fs.promises.writeFile(path.join(dir, TRANSFORM_GRAPH_FILE), JSON.stringify(graph));
  await fs.promises.writeFile(path.join(dir, SIGNATURE_FILE), JSON.stringify(signature, null, 2));
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new UserError(`model bundle file ${file} is missing`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`model bundle file ${file} is not valid JSON (${(err as Error).message})`);
  }
}

/** Loads a bundle folder (model.onnx without signature.json: an ONNX model); every problem is a UserError naming the file. */
export async function loadServingBundle(dir: string): Promise<ServingBundle> {
  if (await isOnnxModelDir(dir)) return { framework: 'onnx', dir, ...(await loadOnnxModel(dir)) };
  const signature = checkSignature(await readJsonFile(path.join(dir, SIGNATURE_FILE)), path.join(dir, SIGNATURE_FILE));
  const graph = checkGraph(await readJsonFile(path.join(dir, TRANSFORM_GRAPH_FILE)), path.join(dir, TRANSFORM_GRAPH_FILE));
  const model = await loadModelFiles(dir);
  // tfjs makes layer names unique per process, so inputs are compared by order, shape and type.
  const shapes = model.inputs.map((i) => `${i.dtype}[${i.shape.slice(1).join(',')}]`);
  const expected = signature.modelInputs.map((m) => `${m.dtype}[${m.dtype === 'int32' ? 1 : m.columns.length}]`);
  if (shapes.join(' ') !== expected.join(' ')) {
    throw new UserError(`model ${dir} has inputs ${shapes.join(' ')} but its signature declares ${expected.join(' ')} (${signature.modelInputs.map((m) => m.name).join(', ')})`);
  }
  const plan = process.env.MLP_INFERENCE === 'tfjs' ? undefined : compileInferencePlan(model);
  return { framework: 'tfjs', dir, model, graph, signature, plan };
}

/** Raw model outputs [n, units] for rows of raw features (transform applied here, as in training). */
export function predictScores(bundle: TfjsBundle, rows: RawRow[]): Float32Array {
  const n = rows.length;
  const packed = packModelInputs(bundle.signature.modelInputs, applyTransform(bundle.graph, rows), n);
  if (bundle.plan) return bundle.plan.run(packed, n);
  return tf.tidy(() => {
    const out = bundle.model.predict(toTensors(bundle.signature.modelInputs, packed, n)) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

/** Predictions for raw rows, in the signature's output names. */
export async function predictRows(bundle: ServingBundle, rows: RawRow[]): Promise<Prediction[]> {
  if (rows.length === 0) return [];
  const { task, label } = bundle.signature;
  let scores: ArrayLike<number>;
  // Scores per row: 1 (P(positive) of a binary model, or a regression value) or k class probabilities.
  let k = 1;
  if (bundle.framework === 'onnx') {
    scores = await runOnnx(bundle.model, rows);
    if (bundle.model.output.kind === 'probabilities') k = bundle.model.output.k;
  } else {
    scores = predictScores(bundle, rows);
    if (task === 'multiclass') k = label.classes!.length;
  }
  if (task === 'regression') return Array.from(scores, (v) => ({ predictions: [v] as [number] }));
  const classes = label.classes!;
  const predictions: Prediction[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    let probabilities: number[];
    if (k === 1) probabilities = [1 - scores[r], scores[r]];
    else {
      // Copied by index: Array.from over a subarray view is several times slower (this runs per served row).
      probabilities = new Array(k);
      for (let c = 0; c < k; c++) probabilities[c] = scores[r * k + c];
    }
    // NaN scores (from an infinite input) rank nothing: such a row gets no class rather than class 0.
    let best = Number.isNaN(probabilities[0]) ? NO_CLASS_ID : 0;
    for (let c = 1; c < probabilities.length && best !== NO_CLASS_ID; c++) {
      if (Number.isNaN(probabilities[c])) best = NO_CLASS_ID;
      else if (probabilities[c] > probabilities[best]) best = c;
    }
    predictions[r] = best === NO_CLASS_ID ? { probabilities, class_ids: [NO_CLASS_ID], classes: [NO_CLASS] } : { probabilities, class_ids: [best], classes: [classes[best]] };
  }
  return predictions;
}
