// Training checkpoints in a folder or gs:// prefix: ckpt-<step>/ holds the model files, the optimizer's
// state and the loop's state; checkpoint.json, written last, names the newest complete one (TF's
// "checkpoint" file), so a trainer killed while writing resumes from the previous one. Two are kept.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../core/launcher';
import { joinUri, localPathOf, storageFor } from '../storage';
import { loadModelFiles, saveModelFiles } from './model-files';

const POINTER_FILE = 'checkpoint.json';
const OPTIMIZER_FILE = 'optimizer.bin';
const OPTIMIZER_SPECS = 'optimizer.json';
const STATE_FILE = 'state.json';
const KEEP = 2;

export interface Restored<S> {
  step: number;
  state: S;
}

async function writePointer(uri: string, text: string): Promise<void> {
  const local = localPathOf(uri);
  if (local) await writeFileAtomic(local, text);
  else await storageFor(uri).writeFile(uri, text); // a GCS object appears whole or not at all
}

/** Saves model weights, optimizer state and the loop state as the checkpoint at `step`. */
export async function saveCheckpoint(base: string, step: number, model: tf.LayersModel, state: unknown): Promise<void> {
  const storage = storageFor(base);
  const name = `ckpt-${step}`;
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ckpt-'));
  try {
    await saveModelFiles(model, tmp);
    const named = await model.optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
    await fs.promises.writeFile(path.join(tmp, OPTIMIZER_FILE), Buffer.from(tf.io.CompositeArrayBuffer.join(data)));
    await fs.promises.writeFile(path.join(tmp, OPTIMIZER_SPECS), JSON.stringify(specs));
    await fs.promises.writeFile(path.join(tmp, STATE_FILE), JSON.stringify({ step, state }));
    for (const f of await fs.promises.readdir(tmp)) {
      await storage.writeFile(joinUri(base, name, f), await fs.promises.readFile(path.join(tmp, f)));
    }
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
  await writePointer(joinUri(base, POINTER_FILE), JSON.stringify({ latest: name, step }));
  const old = (await listCheckpoints(base)).filter((s) => s !== step).sort((a, b) => b - a).slice(KEEP - 1);
  for (const s of old) await storage.delete(joinUri(base, `ckpt-${s}`), { recursive: true });
}

async function listCheckpoints(base: string): Promise<number[]> {
  const steps = new Set<number>();
  for (const e of await storageFor(base).list(base)) {
    const m = /\/ckpt-(\d+)\//.exec(e.uri.slice(base.replace(/\/+$/, '').length));
    if (m) steps.add(Number(m[1]));
  }
  return [...steps];
}

/**
 * Restores the newest complete checkpoint into a compiled model (weights and optimizer state) and returns
 * the saved loop state, or undefined when there is none.
 */
export async function restoreCheckpoint<S>(base: string, model: tf.LayersModel): Promise<Restored<S> | undefined> {
  const storage = storageFor(base);
  const pointer = joinUri(base, POINTER_FILE);
  if (!(await storage.exists(pointer))) return undefined;
  const { latest } = JSON.parse((await storage.readFile(pointer)).toString('utf8')) as { latest: string };
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ckpt-'));
  try {
    await storage.downloadTree(joinUri(base, latest), tmp);
    const saved = await loadModelFiles(tmp);
    model.setWeights(saved.getWeights());
    saved.dispose();
    const specs = JSON.parse(await fs.promises.readFile(path.join(tmp, OPTIMIZER_SPECS), 'utf8')) as tf.io.WeightsManifestEntry[];
    const buf = await fs.promises.readFile(path.join(tmp, OPTIMIZER_FILE));
    const tensors = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, specs);
    await model.optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tensors[s.name] })));
    const { step, state } = JSON.parse(await fs.promises.readFile(path.join(tmp, STATE_FILE), 'utf8')) as { step: number; state: S };
    return { step, state };
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/** Removes every checkpoint under base (after a successful run, so a later run starts fresh). */
export async function clearCheckpoints(base: string): Promise<void> {
  await storageFor(base).delete(base, { recursive: true });
}
