// Saves and loads a tfjs LayersModel as files in TensorFlow.js's own layout (model.json + weights.bin, what
// tfjs-node's file:// handler writes), without tfjs-node: the wasm/cpu backends have no file IO of their own.
// Loading checks the files and names the broken one, so a corrupt model is a one-line error, not a stack.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors';
// Registers the custom layers our models use, so any model file can be deserialized.
import './one-hot-embedding';

export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  format?: string;
  generatedBy?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Writes the model's topology and weights into dir (created if needed). */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: ModelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      await fs.promises.writeFile(path.join(dir, WEIGHTS_FILE), Buffer.from(weights));
      await fs.promises.writeFile(path.join(dir, MODEL_JSON_FILE), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** Reads model.json and weights.bin from dir and checks they belong together; errors name the file at fault. */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonFile = path.join(dir, MODEL_JSON_FILE);
  let json: ModelJson;
  try {
    json = JSON.parse(await fs.promises.readFile(jsonFile, 'utf8')) as ModelJson;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`model file ${jsonFile} ${e.code === 'ENOENT' ? 'is missing' : `is not valid JSON (${e.message.split('\n')[0]})`}`);
  }
  if (!json || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`model file ${jsonFile} is not a TensorFlow.js layers model (no modelTopology / weightsManifest)`);
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers: Buffer[] = [];
  const weightFiles = json.weightsManifest.flatMap((g) => g.paths).map((p) => path.join(dir, p));
  for (const file of weightFiles) {
    try {
      buffers.push(await fs.promises.readFile(file));
    } catch {
      throw new UserError(`weights file ${file} named by ${jsonFile} is missing`);
    }
  }
  const data = Buffer.concat(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
  if (data.length !== expected) {
    throw new UserError(`weights file ${weightFiles.join(', ')} (named by ${jsonFile}) is ${data.length} bytes but the manifest needs ${expected}: the model files are corrupt or truncated`);
  }
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format, generatedBy: json.generatedBy };
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' || dtype === 'uint8' ? 1 : dtype === 'float16' ? 2 : 4;
}

/** Loads a LayersModel saved by saveModelFiles (or tfjs-node's file:// handler). */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const artifacts = await readModelArtifacts(dir);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new UserError(`model ${path.join(dir, MODEL_JSON_FILE)} cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
}
